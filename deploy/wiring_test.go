package deploy

import (
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// gatewayVariables is every GATEWAY_ and GROUNDCAM_ variable the gateway
// reads. The pod must set exactly these, so a misspelled name fails.
var gatewayVariables = []string{
	"GATEWAY_ADMIN_ADDR",
	"GATEWAY_DRAIN_DELAY",
	"GATEWAY_LISTEN_ADDR",
	"GATEWAY_LOG_LEVEL",
	"GATEWAY_REDIS_URL",
	"GATEWAY_SHUTDOWN_TIMEOUT",
	"GATEWAY_TRUST_TRACEPARENT",
	"GATEWAY_UPSTREAM_TIMEOUT",
	"GROUNDCAM_API_KEY",
	"GROUNDCAM_UPSTREAM_URL",
}

// secretVariables must come from the Secret, never from the ConfigMap.
var secretVariables = []string{"GATEWAY_REDIS_URL", "GROUNDCAM_API_KEY"}

// otelVariables is the subset of the OpenTelemetry SDK environment
// variables (specification 1.x) that the pod may set.
var otelVariables = []string{
	"OTEL_BSP_EXPORT_TIMEOUT",
	"OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
	"OTEL_BSP_MAX_QUEUE_SIZE",
	"OTEL_BSP_SCHEDULE_DELAY",
	"OTEL_EXPORTER_OTLP_COMPRESSION",
	"OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL",
	"OTEL_EXPORTER_OTLP_TIMEOUT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
	"OTEL_LOGS_EXPORTER",
	"OTEL_METRICS_EXPORTER",
	"OTEL_PROPAGATORS",
	"OTEL_RESOURCE_ATTRIBUTES",
	"OTEL_SDK_DISABLED",
	"OTEL_SERVICE_NAME",
	"OTEL_TRACES_EXPORTER",
	"OTEL_TRACES_SAMPLER",
	"OTEL_TRACES_SAMPLER_ARG",
}

// mustConfigMap returns the ConfigMap that the gateway container loads.
func mustConfigMap(t *testing.T) *corev1.ConfigMap {
	t.Helper()
	set := mustLoad(t)
	_, container := mustGateway(t)
	if len(container.EnvFrom) != 1 || container.EnvFrom[0].ConfigMapRef == nil {
		t.Fatal("container must load exactly one ConfigMap through envFrom")
	}
	source := container.EnvFrom[0]
	if source.Prefix != "" {
		t.Errorf("envFrom prefix = %q, want none", source.Prefix)
	}
	// The gateway must not start without GROUNDCAM_UPSTREAM_URL.
	if ref := source.ConfigMapRef; ref.Optional != nil && *ref.Optional {
		t.Error("envFrom configMapRef must not be optional")
	}
	for _, configMap := range set.configMaps {
		if configMap.Name == source.ConfigMapRef.Name {
			return configMap
		}
	}
	t.Fatalf("envFrom names ConfigMap %q, which no manifest defines", source.ConfigMapRef.Name)
	return nil
}

// mustDuration parses a Go duration from the ConfigMap.
func mustDuration(t *testing.T, configMap *corev1.ConfigMap, key string) time.Duration {
	t.Helper()
	value, ok := configMap.Data[key]
	if !ok {
		t.Fatalf("ConfigMap %s has no key %s", configMap.Name, key)
	}
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		t.Fatalf("ConfigMap %s: %s = %q, want a positive Go duration such as 5s",
			configMap.Name, key, value)
	}
	return d
}

func TestEnvironmentNames(t *testing.T) {
	t.Parallel()
	_, container := mustGateway(t)
	configMap := mustConfigMap(t)

	var names []string
	for key := range configMap.Data {
		names = append(names, key)
	}
	for _, env := range container.Env {
		if _, ok := configMap.Data[env.Name]; ok {
			t.Errorf("%s is set both in env and in the ConfigMap", env.Name)
		}
		names = append(names, env.Name)
	}
	if len(configMap.BinaryData) > 0 {
		t.Error("ConfigMap binaryData is not loaded as environment: use data")
	}

	var gatewayNames []string
	for _, name := range names {
		switch {
		case strings.HasPrefix(name, "GATEWAY_"), strings.HasPrefix(name, "GROUNDCAM_"):
			gatewayNames = append(gatewayNames, name)
		case !slices.Contains(otelVariables, name):
			t.Errorf("environment variable %s is neither a gateway nor a known OTEL_ variable", name)
		}
	}
	slices.Sort(gatewayNames)
	if !slices.Equal(gatewayNames, gatewayVariables) {
		t.Errorf("gateway variables = %v, want exactly %v", gatewayNames, gatewayVariables)
	}
}

func TestSecretsComeFromSecret(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	_, container := mustGateway(t)
	secrets := map[string]*corev1.Secret{}
	for _, secret := range set.secrets {
		secrets[secret.Name] = secret
	}

	for _, env := range container.Env {
		// Settings that are not secret belong in the ConfigMap.
		if env.ValueFrom == nil || env.ValueFrom.SecretKeyRef == nil {
			t.Errorf("env %s must use secretKeyRef", env.Name)
			continue
		}
		ref := env.ValueFrom.SecretKeyRef
		if !slices.Contains(secretVariables, env.Name) {
			t.Errorf("env %s reads a Secret but is not a secret setting", env.Name)
		}
		// The gateway runs without either value, so a missing key must not
		// stop the pod from starting.
		if ref.Optional == nil || !*ref.Optional {
			t.Errorf("env %s: secretKeyRef must be optional", env.Name)
		}
		secret, ok := secrets[ref.Name]
		if !ok {
			t.Errorf("env %s names Secret %q, which no manifest defines", env.Name, ref.Name)
			continue
		}
		_, inData := secret.Data[ref.Key]
		_, inStringData := secret.StringData[ref.Key]
		if !inData && !inStringData {
			t.Errorf("env %s names key %q, which Secret %s lacks", env.Name, ref.Key, secret.Name)
		}
	}
}

func TestConfigMapValues(t *testing.T) {
	t.Parallel()
	_, container := mustGateway(t)
	configMap := mustConfigMap(t)
	data := configMap.Data

	// An empty upstream URL starts the embedded simulator.
	upstream, err := url.Parse(data["GROUNDCAM_UPSTREAM_URL"])
	if err != nil || upstream.Scheme != "https" || upstream.Host == "" {
		t.Errorf("GROUNDCAM_UPSTREAM_URL = %q, want an https URL", data["GROUNDCAM_UPSTREAM_URL"])
	}

	listeners := []struct{ key, portName string }{
		{"GATEWAY_LISTEN_ADDR", grpcPortName},
		{"GATEWAY_ADMIN_ADDR", metricsPortName},
	}
	for _, listener := range listeners {
		host, port, err := net.SplitHostPort(data[listener.key])
		if err != nil {
			t.Errorf("%s = %q: %v", listener.key, data[listener.key], err)
			continue
		}
		// Probes and the sidecar connect to the pod IP, not to loopback.
		if host != "" && host != "0.0.0.0" && host != "::" {
			t.Errorf("%s host = %q, want all interfaces (0.0.0.0)", listener.key, host)
		}
		want := mustContainerPort(t, container, listener.portName)
		if port != strconv.Itoa(int(want)) {
			t.Errorf("%s port = %s, want container port %s (%d)",
				listener.key, port, listener.portName, want)
		}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(data["GATEWAY_LOG_LEVEL"])); err != nil {
		t.Errorf("GATEWAY_LOG_LEVEL = %q, want debug, info, warn or error: %v",
			data["GATEWAY_LOG_LEVEL"], err)
	}
}

func TestGracefulDrainFitsGracePeriod(t *testing.T) {
	t.Parallel()
	deployment, container := mustGateway(t)
	configMap := mustConfigMap(t)
	drain := mustDuration(t, configMap, "GATEWAY_DRAIN_DELAY")
	shutdown := mustDuration(t, configMap, "GATEWAY_SHUTDOWN_TIMEOUT")

	seconds := deployment.Spec.Template.Spec.TerminationGracePeriodSeconds
	if seconds == nil {
		t.Fatal("terminationGracePeriodSeconds must be set")
	}
	grace := time.Duration(*seconds) * time.Second
	if grace <= drain+shutdown {
		t.Errorf("terminationGracePeriodSeconds %v must exceed drain delay %v + shutdown timeout %v",
			grace, drain, shutdown)
	}

	// The health service reports NOT_SERVING from SIGTERM on, so a liveness
	// probe that could fail within the grace period would restart a pod
	// that is still finishing calls. The first failure can come right after
	// SIGTERM, and each further one a period later.
	if probe := container.LivenessProbe; probe != nil {
		failures := max(probe.FailureThreshold, 1)
		window := time.Duration(probe.PeriodSeconds*(failures-1)) * time.Second
		if window <= grace {
			t.Errorf("liveness probe can fail within %v of SIGTERM, want longer than the "+
				"grace period %v: raise failureThreshold or periodSeconds", window, grace)
		}
	}
}

func TestPrometheusAnnotations(t *testing.T) {
	t.Parallel()
	deployment, container := mustGateway(t)
	annotations := deployment.Spec.Template.Annotations
	want := map[string]string{
		"prometheus.io/scrape": "true",
		"prometheus.io/port":   strconv.Itoa(int(mustContainerPort(t, container, metricsPortName))),
		"prometheus.io/path":   "/metrics",
	}
	for key, value := range want {
		if annotations[key] != value {
			t.Errorf("pod annotation %s = %q, want %q", key, annotations[key], value)
		}
	}
}

func TestServiceTargetsNamedPorts(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	deployment, container := mustGateway(t)
	podLabels := labels.Set(deployment.Spec.Template.Labels)

	wantAppProtocol := map[string]string{
		grpcPortName:    "kubernetes.io/h2c",
		metricsPortName: "http",
	}
	for _, service := range set.services {
		if service.Spec.Type != "" && service.Spec.Type != corev1.ServiceTypeClusterIP {
			t.Errorf("Service %s type = %s, want ClusterIP", service.Name, service.Spec.Type)
		}
		selector := labels.SelectorFromSet(service.Spec.Selector)
		if selector.Empty() || !selector.Matches(podLabels) {
			t.Errorf("Service %s selector %s does not match pod labels %v",
				service.Name, selector, podLabels)
		}

		var names []string
		for _, port := range service.Spec.Ports {
			names = append(names, port.Name)
			target := port.TargetPort
			if target.Type != intstr.String || target.StrVal != port.Name {
				t.Errorf("Service port %s must target the container port by the name %q, got %s",
					port.Name, port.Name, target.String())
			} else {
				mustContainerPort(t, container, target.StrVal)
			}

			appProtocol := ""
			if port.AppProtocol != nil {
				appProtocol = *port.AppProtocol
			}
			if appProtocol != wantAppProtocol[port.Name] {
				t.Errorf("Service port %s appProtocol = %q, want %q",
					port.Name, appProtocol, wantAppProtocol[port.Name])
			}
		}
		if !slices.Contains(names, grpcPortName) || !slices.Contains(names, metricsPortName) {
			t.Errorf("Service %s ports = %v, want %s and %s",
				service.Name, names, grpcPortName, metricsPortName)
		}
	}
}

func TestDisruptionBudget(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	deployment, _ := mustGateway(t)
	replicas := int(*deployment.Spec.Replicas)

	for _, budget := range set.budgets {
		selector, err := metav1.LabelSelectorAsSelector(budget.Spec.Selector)
		if err != nil {
			t.Fatalf("PodDisruptionBudget %s: invalid selector: %v", budget.Name, err)
		}
		if selector.Empty() || !selector.Matches(labels.Set(deployment.Spec.Template.Labels)) {
			t.Errorf("PodDisruptionBudget %s selector %s does not match the pod labels",
				budget.Name, selector)
		}

		// A drain must be able to evict one pod and leave at least two.
		minAvailable, maxUnavailable := budget.Spec.MinAvailable, budget.Spec.MaxUnavailable
		if (minAvailable == nil) == (maxUnavailable == nil) {
			t.Fatalf("PodDisruptionBudget %s must set one of minAvailable and maxUnavailable",
				budget.Name)
		}
		var evictable int
		if maxUnavailable != nil {
			evictable, err = intstr.GetScaledValueFromIntOrPercent(maxUnavailable, replicas, true)
		} else {
			var available int
			available, err = intstr.GetScaledValueFromIntOrPercent(minAvailable, replicas, true)
			evictable = replicas - available
		}
		if err != nil {
			t.Fatalf("PodDisruptionBudget %s: %v", budget.Name, err)
		}
		if evictable < 1 || replicas-evictable < 2 {
			t.Errorf("PodDisruptionBudget %s allows %d of %d pods to be evicted, want 1 or more "+
				"while 2 stay", budget.Name, evictable, replicas)
		}
	}
}

func TestServiceAccountHasNoToken(t *testing.T) {
	t.Parallel()
	set := mustLoad(t)
	deployment, _ := mustGateway(t)
	pod := deployment.Spec.Template.Spec

	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod automountServiceAccountToken must be false")
	}
	for _, account := range set.serviceAccounts {
		if account.Name != pod.ServiceAccountName {
			continue
		}
		if account.AutomountServiceAccountToken == nil || *account.AutomountServiceAccountToken {
			t.Errorf("ServiceAccount %s automountServiceAccountToken must be false", account.Name)
		}
		return
	}
	t.Errorf("serviceAccountName %q names no ServiceAccount manifest", pod.ServiceAccountName)
}
