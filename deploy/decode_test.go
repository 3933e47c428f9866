package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// manifestPatterns are the files the tests read. kubectl apply -f deploy/
// reads only the top-level ones, so examples/ is checked but never applied.
var manifestPatterns = []string{"*.yaml", "*.yml", "examples/*.yaml", "examples/*.yml"}

// newObject maps each accepted apiVersion and kind to a constructor of its
// Go type. Any other kind in a manifest fails the tests.
var newObject = map[schema.GroupVersionKind]func() metav1.Object{
	appsv1.SchemeGroupVersion.WithKind("Deployment"): func() metav1.Object {
		return new(appsv1.Deployment)
	},
	corev1.SchemeGroupVersion.WithKind("Service"): func() metav1.Object {
		return new(corev1.Service)
	},
	corev1.SchemeGroupVersion.WithKind("ConfigMap"): func() metav1.Object {
		return new(corev1.ConfigMap)
	},
	corev1.SchemeGroupVersion.WithKind("Secret"): func() metav1.Object {
		return new(corev1.Secret)
	},
	corev1.SchemeGroupVersion.WithKind("ServiceAccount"): func() metav1.Object {
		return new(corev1.ServiceAccount)
	},
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"): func() metav1.Object {
		return new(policyv1.PodDisruptionBudget)
	},
}

// manifest is one decoded YAML document and where it came from.
type manifest struct {
	file   string // path relative to deploy/
	object metav1.Object
}

// manifestSet holds every decoded document, grouped by kind.
type manifestSet struct {
	all             []manifest
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	serviceAccounts []*corev1.ServiceAccount
	budgets         []*policyv1.PodDisruptionBudget
}

// loadManifests reads the manifests once for all tests of the package.
var loadManifests = sync.OnceValues(func() (*manifestSet, error) {
	var files []string
	for _, pattern := range manifestPatterns {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", pattern, err)
		}
		files = append(files, matches...)
	}
	if len(files) == 0 {
		return nil, errors.New("no manifests found: expected YAML files in deploy/")
	}

	set := &manifestSet{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		objects, err := decodeManifests(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, object := range objects {
			set.add(manifest{file: file, object: object})
		}
	}
	return set, nil
})

// add appends m to the list of its kind.
func (s *manifestSet) add(m manifest) {
	s.all = append(s.all, m)
	switch object := m.object.(type) {
	case *appsv1.Deployment:
		s.deployments = append(s.deployments, object)
	case *corev1.Service:
		s.services = append(s.services, object)
	case *corev1.ConfigMap:
		s.configMaps = append(s.configMaps, object)
	case *corev1.Secret:
		s.secrets = append(s.secrets, object)
	case *corev1.ServiceAccount:
		s.serviceAccounts = append(s.serviceAccounts, object)
	case *policyv1.PodDisruptionBudget:
		s.budgets = append(s.budgets, object)
	}
}

// decodeManifests splits a YAML stream at its "---" lines and decodes each
// document strictly. Documents that contain only comments are skipped.
func decodeManifests(data []byte) ([]metav1.Object, error) {
	reader := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objects []metav1.Object
	for index := 0; ; index++ {
		document, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", index, err)
		}
		object, err := decodeDocument(document)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", index, err)
		}
		if object != nil {
			objects = append(objects, object)
		}
	}
}

// decodeDocument decodes one YAML document into the Go type of its kind.
// It returns nil for an empty document.
//
// The YAML is converted to JSON without a target type and then decoded with
// sigs.k8s.io/json, which the API server's JSON serializer also uses, so field
// names match case-sensitively and a scalar of the wrong type is an error.
// sigs.k8s.io/yaml.UnmarshalStrict (v1.6.0) accepts "Replicas" for "replicas"
// and turns a YAML number into a string field without an error.
func decodeDocument(document []byte) (metav1.Object, error) {
	// YAMLToJSONStrict rejects duplicate keys.
	data, err := yaml.YAMLToJSONStrict(document)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if string(bytes.TrimSpace(data)) == "null" {
		return nil, nil
	}

	var typeMeta metav1.TypeMeta
	if err := k8sjson.UnmarshalCaseSensitivePreserveInts(data, &typeMeta); err != nil {
		return nil, fmt.Errorf("read apiVersion and kind: %w", err)
	}
	version, err := schema.ParseGroupVersion(typeMeta.APIVersion)
	if err != nil {
		return nil, fmt.Errorf("invalid apiVersion %q: %w", typeMeta.APIVersion, err)
	}
	kind := version.WithKind(typeMeta.Kind)
	newKind, ok := newObject[kind]
	if !ok {
		return nil, fmt.Errorf(
			"unknown kind %q with apiVersion %q: add its Go type to newObject in decode_test.go",
			typeMeta.Kind, typeMeta.APIVersion)
	}

	object := newKind()
	strictErrs, err := k8sjson.UnmarshalStrict(data, object)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", typeMeta.Kind, err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("decode %s: %w", typeMeta.Kind, errors.Join(strictErrs...))
	}
	return object, nil
}

func TestDecodeRejectsInvalidDeployment(t *testing.T) {
	t.Parallel()
	original, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := decodeManifests(original); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}

	tests := []struct {
		name    string
		old     string // text in deployment.yaml to replace
		new     string
		wantErr string // substring of the expected error
	}{
		{"misspelled field", "  replicas: 3\n", "  replicass: 3\n", `unknown field "spec.replicass"`},
		{"field in wrong case", "  replicas: 3\n", "  Replicas: 3\n", `unknown field "spec.Replicas"`},
		{"duplicate field", "  replicas: 3\n", "  replicas: 3\n  replicas: 4\n", "already set"},
		{"string for integer", "containerPort: 8080", `containerPort: "8080"`, "cannot unmarshal string"},
		{"unknown kind", "kind: Deployment", "kind: Deploymnet", `unknown kind "Deploymnet"`},
		{"unknown apiVersion", "apiVersion: apps/v1", "apiVersion: apps/v1beta2", `unknown kind "Deployment"`},
		{"bad document separator", "\nkind: Deployment", "\n--- x\nkind: Deployment", "separator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			changed := strings.Replace(string(original), tt.old, tt.new, 1)
			if changed == string(original) {
				t.Fatalf("deployment.yaml no longer contains %q: update this test case", tt.old)
			}
			_, err := decodeManifests([]byte(changed))
			if err == nil {
				t.Fatalf("decodeManifests accepted the deployment with %q", tt.new)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeSkipsEmptyDocuments(t *testing.T) {
	t.Parallel()
	stream := "# only a comment\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n---\n"
	objects, err := decodeManifests([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) != 1 {
		t.Fatalf("decoded %d objects, want 1", len(objects))
	}
	if name := objects[0].GetName(); name != "a" {
		t.Errorf("name = %q, want %q", name, "a")
	}
}
