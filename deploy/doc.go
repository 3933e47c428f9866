// Package deploy contains the Kubernetes manifests that run the gateway
// behind a service mesh: deployment.yaml, service.yaml, configmap.yaml,
// pdb.yaml, serviceaccount.yaml and an example Secret in examples/secret.yaml.
//
// The package has no Go API. Its tests decode every manifest strictly into
// the Kubernetes API types (k8s.io/api v0.37.2) and check the settings that
// the gateway relies on, so run them after any change with
// go test ./deploy/...
package deploy
