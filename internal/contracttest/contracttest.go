// Package contracttest checks HTTP exchanges in tests against the GroundCam
// upstream contract, an OpenAPI 3.1 document, with libopenapi-validator.
//
// The contract is found through [ContractPath]: the GROUNDCAM_OPENAPI
// environment variable, else ../shared/upstream/groundcam-openapi.yaml next
// to the repository root. Tests skip when it is missing. Besides the
// validator that [Load] returns, [Document] parses the contract into plain
// values, and [RequestExamples] and [ResponseExamples] list its JSON examples
// for fuzz seeds, which are left out when the contract is missing.
//
// Two adjustments make the document check what the upstream really sends:
//
//   - The contract's server URL ends in /v1 while its paths do not, and real
//     requests go to /v1/.... Every request path is matched both as sent and
//     with the server's base path removed.
//   - The contract marks optional-null fields with nullable: true, an OpenAPI
//     3.0 keyword that has no meaning in OpenAPI 3.1. A plain 3.1 validator
//     ignores it and rejects the nulls the upstream sends, and
//     libopenapi-validator v0.16.3 rejects such schemas when compiling them.
//     Before building the validator, Load rewrites the parsed YAML so that
//     every schema with nullable: true also accepts null, and removes the
//     keyword. The type gets "null" added, an enum gets a null member, and a
//     schema without a type becomes anyOf [schema, null]. The file on disk is
//     not changed.
package contracttest

import (
	"net/http"
	"testing"
)

// EnvContract is the environment variable that names the contract file.
const EnvContract = "GROUNDCAM_OPENAPI"

// Validator checks requests and responses against the contract. It is safe
// for concurrent use by parallel tests.
type Validator struct {
	contract *contract
}

// ContractPath returns the contract's path: $GROUNDCAM_OPENAPI, else
// ../shared/upstream/groundcam-openapi.yaml relative to the repository root
// (the nearest directory above the working directory with a go.mod). It
// skips t when the file does not exist.
func ContractPath(t testing.TB) string {
	t.Helper()
	path, err := contractPath()
	if err != nil {
		t.Skipf("contract not available: %v (set %s to the path of groundcam-openapi.yaml)", err, EnvContract)
	}
	return path
}

// Load returns the validator of the contract at [ContractPath], parsing it
// once per process. It skips t when the contract is missing and fails t when
// it cannot be parsed.
func Load(t testing.TB) *Validator {
	t.Helper()
	path := ContractPath(t)
	c, err := loadCached(path)
	if err != nil {
		t.Fatalf("load contract %s: %v", path, err)
	}
	return &Validator{contract: c}
}

// Response reports through t.Errorf every way res, with the already read
// body, breaks the contract of the operation req matched: an undeclared
// status, a wrong content type, a body that does not match the schema. Each
// message names the method, path and status and the failing JSON pointer.
func (v *Validator) Response(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	for _, msg := range v.contract.checkResponse(req, res, body) {
		t.Errorf("%s", msg)
	}
}

// Request reports through t.Errorf every way req, with the given body,
// breaks the contract: an unknown path or method, invalid parameters, or a
// body that does not match the schema.
func (v *Validator) Request(t testing.TB, req *http.Request, body []byte) {
	t.Helper()
	for _, msg := range v.contract.checkRequest(req, body) {
		t.Errorf("%s", msg)
	}
}

// Operation returns the operationId of the contract operation that method
// and the concrete path match, for example "getSession" for
// GET /v1/sessions/Xk9mPq2rT4wZ. The path has no query string, and may
// include the server's /v1 base path or not.
func (v *Validator) Operation(method, path string) (operationID string, ok bool) {
	op, ok := v.contract.find(method, path)
	if !ok {
		return "", false
	}
	return op.id, true
}
