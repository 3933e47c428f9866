// Package proto embeds the contract files that the gateway reads at run
// time. The .proto sources themselves reach the binary as the descriptors
// compiled into the generated code under gen/.
package proto

import _ "embed"

// HTTPRules is http.yaml: the google.api.Service document that binds every
// RPC to the upstream's HTTP method, path, request body and response body.
//
//go:embed groundcam/v1/http.yaml
var HTTPRules []byte
