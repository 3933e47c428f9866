package contracttest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestFillTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template, value, want string
	}{
		{"/sessions", "x", "/sessions"},
		{"/sessions/{id}", "x", "/sessions/x"},
		{"/webhooks/{id}/deliveries/{deliveryId}/retry", "{}", "/webhooks/{}/deliveries/{}/retry"},
		{"/sessions/{id", "x", "/sessions/{id"},
		{"/sessions/}{id}", "x", "/sessions/}{id}"},
		{"", "x", ""},
	}
	for _, tt := range tests {
		if got := FillTemplate(tt.template, tt.value); got != tt.want {
			t.Errorf("FillTemplate(%q, %q) = %q, want %q", tt.template, tt.value, got, tt.want)
		}
	}
}

func TestDocumentHasPaths(t *testing.T) {
	t.Parallel()
	doc := Document(t)
	paths, ok := doc["paths"].(map[string]any)
	if !ok || len(paths) == 0 {
		t.Fatalf("document paths = %v, want a non-empty object", doc["paths"])
	}
	if _, ok := paths["/sessions/{id}"]; !ok {
		t.Error("document has no /sessions/{id} path")
	}
}

func TestExamplesAreJSON(t *testing.T) {
	t.Parallel()
	if !Available() {
		t.Skipf("contract not available: set %s to the path of groundcam-openapi.yaml", EnvContract)
	}
	requests, responses := RequestExamples(t), ResponseExamples(t)
	if len(requests) == 0 || len(responses) == 0 {
		t.Fatalf("examples: %d of requests and %d of responses, want some of each",
			len(requests), len(responses))
	}
	for _, ex := range requests {
		if ex.Status != "" {
			t.Errorf("request example of %s %s has status %q, want none", ex.Method, ex.Path, ex.Status)
		}
	}
	for _, ex := range append(requests, responses...) {
		if !json.Valid(ex.Body) {
			t.Errorf("example of %s %s %s is not JSON: %s", ex.Method, ex.Path, ex.Status, ex.Body)
		}
		if ex.Method != strings.ToUpper(ex.Method) || !strings.HasPrefix(ex.Path, "/") {
			t.Errorf("example place %s %s, want an upper-case method and a path template", ex.Method, ex.Path)
		}
	}
	for i := 1; i < len(responses); i++ {
		a, b := responses[i-1], responses[i]
		if a.Method+" "+a.Path > b.Method+" "+b.Path {
			t.Errorf("response examples are not sorted: %s %s before %s %s", a.Method, a.Path, b.Method, b.Path)
		}
	}
	created := slices.ContainsFunc(responses, func(ex Example) bool {
		return ex.Method == http.MethodPost && ex.Path == "/sessions" && ex.Status == "201"
	})
	if !created {
		t.Error("no response example of POST /sessions with status 201")
	}
}

func TestMissingContract(t *testing.T) {
	t.Setenv(EnvContract, t.TempDir()+"/missing.yaml")
	if Available() {
		t.Error("Available = true for a missing file")
	}
	if got := RequestExamples(t); got != nil {
		t.Errorf("RequestExamples = %d examples, want none", len(got))
	}

	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Document(rec)
		t.Error("Document returned instead of skipping")
	}()
	<-done
	if !strings.Contains(rec.skipped, EnvContract) || !strings.Contains(rec.skipped, "missing.yaml") {
		t.Errorf("skip message %q does not name %s and the file", rec.skipped, EnvContract)
	}
}
