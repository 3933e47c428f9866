package contracttest

import (
	"cmp"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// Example is one application/json example of the contract, of a request
// body or of a response.
type Example struct {
	Method string // upper case, such as "POST"
	Path   string // the contract's path template, such as "/sessions/{id}"
	Status string // the response status, such as "201", or "" for a request body
	Body   []byte // the example value as JSON
}

// RequestExamples returns the JSON examples of every request body in the
// contract, sorted by method, path and body. When the contract file cannot
// be read, it logs why through tb and returns nil, so that a fuzz test
// still runs its own seeds. It fails tb when there is no repository root or
// the file is not valid YAML.
func RequestExamples(tb testing.TB) []Example {
	tb.Helper()
	return readExamples(tb, false)
}

// ResponseExamples returns the JSON examples of every response in the
// contract, sorted by method, path, status and body. It handles a missing
// contract as [RequestExamples] does.
func ResponseExamples(tb testing.TB) []Example {
	tb.Helper()
	return readExamples(tb, true)
}

// FillTemplate replaces every {placeholder} of a path template with value,
// so that FillTemplate("/sessions/{id}/notes", "x") is "/sessions/x/notes".
func FillTemplate(template, value string) string {
	var b strings.Builder
	for rest := template; rest != ""; {
		open := strings.IndexByte(rest, '{')
		end := strings.IndexByte(rest, '}')
		if open < 0 || end < open {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:open] + value)
		rest = rest[end+1:]
	}
	return b.String()
}

// readExamples collects the examples of responses when responses is true,
// else of request bodies.
func readExamples(tb testing.TB, responses bool) []Example {
	tb.Helper()
	path, err := locateContract()
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Logf("no contract examples as seeds: %v (set %s to groundcam-openapi.yaml)", err, EnvContract)
		return nil
	}
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		tb.Fatalf("parse contract %s: %v", path, err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		tb.Fatalf("parse contract %s: %v", path, err)
	}

	var out []Example
	for template, methods := range doc.Paths {
		for method, op := range methods {
			out = append(out, operationExamples(strings.ToUpper(method), template, op, responses)...)
		}
	}
	slices.SortFunc(out, func(a, b Example) int {
		return cmp.Or(
			strings.Compare(a.Method, b.Method),
			strings.Compare(a.Path, b.Path),
			strings.Compare(a.Status, b.Status),
			strings.Compare(string(a.Body), string(b.Body)))
	})
	return out
}

// exampleContent is the content member of a request body or a response.
type exampleContent struct {
	Content map[string]struct {
		Example  json.RawMessage `json:"example"`
		Examples map[string]struct {
			Value json.RawMessage `json:"value"`
		} `json:"examples"`
	} `json:"content"`
}

// operationExamples returns the JSON examples of one operation object.
func operationExamples(method, template string, op json.RawMessage, responses bool) []Example {
	var operation struct {
		RequestBody exampleContent            `json:"requestBody"`
		Responses   map[string]exampleContent `json:"responses"`
	}
	if json.Unmarshal(op, &operation) != nil {
		return nil // path-level parameters or another member that is not an operation
	}
	bodies := map[string]exampleContent{"": operation.RequestBody}
	if responses {
		bodies = operation.Responses
	}
	var out []Example
	for status, c := range bodies {
		media, ok := c.Content["application/json"]
		if !ok {
			continue
		}
		if len(media.Example) > 0 {
			out = append(out, Example{method, template, status, media.Example})
		}
		for _, ex := range media.Examples {
			if len(ex.Value) > 0 {
				out = append(out, Example{method, template, status, ex.Value})
			}
		}
	}
	return out
}
