package deploy

import (
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Names shared by the manifests.
const (
	gatewayContainer = "gateway"
	grpcPortName     = "grpc"
	metricsPortName  = "metrics"
)

// mustLoad returns the decoded manifests or stops the test.
func mustLoad(t *testing.T) *manifestSet {
	t.Helper()
	set, err := loadManifests()
	if err != nil {
		t.Fatalf("load manifests: %v", err)
	}
	return set
}

// mustGateway returns the only Deployment and its gateway container.
func mustGateway(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	set := mustLoad(t)
	if len(set.deployments) != 1 {
		t.Fatalf("found %d Deployments, want 1", len(set.deployments))
	}
	deployment := set.deployments[0]
	containers := deployment.Spec.Template.Spec.Containers
	if len(containers) != 1 || containers[0].Name != gatewayContainer {
		t.Fatalf("Deployment %s must have exactly one container named %q",
			deployment.Name, gatewayContainer)
	}
	return deployment, &containers[0]
}

// mustContainerPort returns the number of the container port called name.
func mustContainerPort(t *testing.T, container *corev1.Container, name string) int32 {
	t.Helper()
	for _, port := range container.Ports {
		if port.Name == name {
			return port.ContainerPort
		}
	}
	t.Fatalf("container %s has no port named %q", container.Name, name)
	return 0
}

func TestManifestInventory(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	counts := map[string]int{
		"Deployment":          len(set.deployments),
		"Service":             len(set.services),
		"ConfigMap":           len(set.configMaps),
		"Secret":              len(set.secrets),
		"ServiceAccount":      len(set.serviceAccounts),
		"PodDisruptionBudget": len(set.budgets),
	}
	for kind, count := range counts {
		if count != 1 {
			t.Errorf("found %d %s manifests, want 1", count, kind)
		}
	}

	for _, m := range set.all {
		if m.object.GetName() != "groundcam-gateway" {
			t.Errorf("%s: name = %q, want groundcam-gateway", m.file, m.object.GetName())
		}
		// The namespace comes from kubectl apply -n, so one copy fits any.
		if ns := m.object.GetNamespace(); ns != "" {
			t.Errorf("%s: metadata.namespace = %q, want it unset", m.file, ns)
		}
	}
}

func TestSecretIsOnlyAnExample(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	for _, m := range set.all {
		if _, ok := m.object.(*corev1.Secret); ok && filepath.Dir(m.file) != "examples" {
			t.Errorf("%s: a Secret outside deploy/examples/ would overwrite the real one "+
				"on kubectl apply -f deploy/", m.file)
		}
	}
	for _, secret := range set.secrets {
		if len(secret.Data) > 0 {
			t.Errorf("Secret %s: use stringData placeholders, not data", secret.Name)
		}
		for key, value := range secret.StringData {
			if !strings.Contains(value, "REPLACE_ME") {
				t.Errorf("Secret %s: key %s has a value without the REPLACE_ME placeholder",
					secret.Name, key)
			}
		}
	}
}

func TestDeploymentRollout(t *testing.T) {
	t.Parallel()
	deployment, container := mustGateway(t)
	spec := deployment.Spec

	if spec.Replicas == nil || *spec.Replicas < 3 {
		t.Errorf("replicas = %v, want at least 3", spec.Replicas)
	}
	if spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy = %q, want RollingUpdate", spec.Strategy.Type)
	}
	// An unset maxUnavailable defaults to 25%, which is not 0.
	rolling := spec.Strategy.RollingUpdate
	if rolling == nil || rolling.MaxUnavailable == nil {
		t.Error("rollingUpdate.maxUnavailable must be set to 0")
	} else if n, err := intstr.GetScaledValueFromIntOrPercent(
		rolling.MaxUnavailable, 100, true); err != nil || n != 0 {
		t.Errorf("rollingUpdate.maxUnavailable = %s, want 0", rolling.MaxUnavailable)
	}

	selector, err := metav1.LabelSelectorAsSelector(spec.Selector)
	if err != nil {
		t.Fatalf("invalid selector: %v", err)
	}
	if selector.Empty() || !selector.Matches(labels.Set(spec.Template.Labels)) {
		t.Errorf("selector %s does not match pod labels %v", selector, spec.Template.Labels)
	}

	image := container.Image
	lastSegment := image[strings.LastIndex(image, "/")+1:]
	if !strings.ContainsAny(lastSegment, ":@") || strings.HasSuffix(image, ":latest") {
		t.Errorf("image %q must name a version tag or digest, not latest", image)
	}
}

func TestDeploymentSpreadsAcrossNodes(t *testing.T) {
	t.Parallel()
	deployment, _ := mustGateway(t)
	pod := deployment.Spec.Template
	for _, constraint := range pod.Spec.TopologySpreadConstraints {
		if constraint.TopologyKey != corev1.LabelHostname {
			continue
		}
		selector, err := metav1.LabelSelectorAsSelector(constraint.LabelSelector)
		if err != nil {
			t.Fatalf("invalid topology spread selector: %v", err)
		}
		if selector.Empty() || !selector.Matches(labels.Set(pod.Labels)) {
			t.Errorf("hostname spread selector %s does not match pod labels %v",
				selector, pod.Labels)
		}
		return
	}
	t.Errorf("no topologySpreadConstraint with topologyKey %s", corev1.LabelHostname)
}

func TestProbesUseGRPCHealth(t *testing.T) {
	t.Parallel()
	_, container := mustGateway(t)
	grpcPort := mustContainerPort(t, container, grpcPortName)

	probes := map[string]*corev1.Probe{
		"startupProbe":   container.StartupProbe,
		"readinessProbe": container.ReadinessProbe,
		"livenessProbe":  container.LivenessProbe,
	}
	for name, probe := range probes {
		if probe == nil {
			t.Errorf("%s is missing", name)
			continue
		}
		handler := probe.ProbeHandler
		if handler.GRPC == nil {
			t.Errorf("%s must be a grpc probe", name)
			continue
		}
		if handler.HTTPGet != nil || handler.TCPSocket != nil || handler.Exec != nil {
			t.Errorf("%s must use only the grpc handler", name)
		}
		if handler.GRPC.Port != grpcPort {
			t.Errorf("%s port = %d, want the grpc container port %d",
				name, handler.GRPC.Port, grpcPort)
		}
		// The gateway reports health for the whole server under "".
		if service := handler.GRPC.Service; service != nil && *service != "" {
			t.Errorf("%s service = %q, want empty", name, *service)
		}
		if probe.PeriodSeconds == 0 || probe.FailureThreshold == 0 || probe.TimeoutSeconds == 0 {
			t.Errorf("%s must set periodSeconds, timeoutSeconds and failureThreshold", name)
		}
	}
}

func TestResourcesSet(t *testing.T) {
	t.Parallel()
	_, container := mustGateway(t)
	for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		request, hasRequest := container.Resources.Requests[name]
		limit, hasLimit := container.Resources.Limits[name]
		if !hasRequest || request.IsZero() {
			t.Errorf("resources.requests.%s is missing", name)
		}
		if !hasLimit || limit.IsZero() {
			t.Errorf("resources.limits.%s is missing", name)
		}
		if hasRequest && hasLimit && request.Cmp(limit) > 0 {
			t.Errorf("resources.requests.%s %s exceeds its limit %s",
				name, request.String(), limit.String())
		}
	}
}

func TestSecurityContext(t *testing.T) {
	t.Parallel()
	deployment, container := mustGateway(t)
	pod := deployment.Spec.Template.Spec.SecurityContext
	if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot {
		t.Error("pod securityContext.runAsNonRoot must be true")
	}
	if pod == nil || pod.SeccompProfile == nil ||
		pod.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Error("pod securityContext.seccompProfile.type must be RuntimeDefault")
	}
	if pod != nil && pod.RunAsUser != nil && *pod.RunAsUser == 0 {
		t.Error("pod securityContext.runAsUser must not be 0")
	}

	sc := container.SecurityContext
	if sc == nil {
		t.Fatal("container securityContext is missing")
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Error("container securityContext.runAsNonRoot must be true")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("container securityContext.readOnlyRootFilesystem must be true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("container securityContext.allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("container securityContext.privileged must not be true")
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 ||
		sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("container capabilities must drop ALL and add none, got %+v", sc.Capabilities)
	}
}
