package fault

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// DefaultChunkSize is the body chunk size of a SlowBody rule that sets no ChunkSize.
const DefaultChunkSize = 64

// Rule describes one fault: which requests it matches and what happens to
// them. The effects compose. Latency delays the request first. Then Reset or
// Hang end it, or Truncate, Malformed and SlowBody shape the response, which
// is the injected Status response if set, else the wrapped handler's.
type Rule struct {
	// ID identifies the rule once added; Add assigns it and ignores any given value.
	ID string `json:"id,omitempty"`
	// Method is the HTTP method to match; "" matches any method.
	Method string `json:"method,omitempty"`
	// Path is the exact path to match, or a prefix ending in "*", for
	// example "/v1/sessions/*", which matches every path starting with "/v1/sessions/".
	Path string `json:"path"`
	// Times is how many more matching requests the rule applies to; the rule
	// is removed when it reaches 0. A rule added with 0 applies until removed.
	Times int `json:"times,omitempty"`
	// Latency delays matching requests before any other effect.
	// Its JSON form is "latencyMs", in milliseconds.
	Latency time.Duration `json:"-"`
	// Status is the status of the response sent to matching requests instead
	// of calling the wrapped handler, for example 503, or 429 with a
	// Retry-After header.
	Status int `json:"status,omitempty"`
	// Body is the body of the Status response.
	Body string `json:"body,omitempty"`
	// Header contains the headers of the Status response.
	Header map[string]string `json:"header,omitempty"`
	// Reset closes the connection without a response. On HTTP/2, where the
	// connection cannot be taken over, it resets the stream instead.
	Reset bool `json:"reset,omitempty"`
	// Hang sends no response: the request ends when the client goes away or the
	// injector closes, and then the connection or stream is aborted.
	Hang bool `json:"hang,omitempty"`
	// Truncate sends the response's headers, with the full Content-Length,
	// and only the first Truncate body bytes, then aborts the connection. An
	// HTTP/1 client then reads io.ErrUnexpectedEOF, and an HTTP/2 client a
	// stream reset. A body no longer than Truncate is sent whole. Its JSON
	// form is "truncateAfter".
	Truncate int `json:"truncateAfter,omitempty"`
	// Malformed replaces the response body with invalid JSON and keeps the
	// status and the other headers.
	Malformed bool `json:"malformed,omitempty"`
	// SlowBody pauses between body chunks of ChunkSize bytes.
	// Its JSON form is "slowBodyMs", in milliseconds.
	SlowBody time.Duration `json:"-"`
	// ChunkSize is the chunk size of SlowBody; 0 means [DefaultChunkSize].
	ChunkSize int `json:"chunkSize,omitempty"`
}

// ruleAlias has Rule's fields without its methods, for the JSON methods.
type ruleAlias Rule

// ruleJSON is the JSON form of Rule, with durations in milliseconds.
type ruleJSON struct {
	ruleAlias
	LatencyMS  int64 `json:"latencyMs,omitempty"`
	SlowBodyMS int64 `json:"slowBodyMs,omitempty"`
}

// MarshalJSON writes the rule with Latency and SlowBody as "latencyMs" and
// "slowBodyMs" in milliseconds.
func (r Rule) MarshalJSON() ([]byte, error) {
	return json.Marshal(ruleJSON{
		ruleAlias:  ruleAlias(r),
		LatencyMS:  r.Latency.Milliseconds(),
		SlowBodyMS: r.SlowBody.Milliseconds(),
	})
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var wire ruleJSON
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*r = wire.rule()
	return nil
}

// rule converts the JSON form back to a Rule.
func (wire *ruleJSON) rule() Rule {
	r := Rule(wire.ruleAlias)
	r.Latency = time.Duration(wire.LatencyMS) * time.Millisecond
	r.SlowBody = time.Duration(wire.SlowBodyMS) * time.Millisecond
	return r
}

// validate returns an error naming the first invalid field of r, using the
// JSON field names.
func (r *Rule) validate() error {
	if err := r.validateMatch(); err != nil {
		return err
	}
	if err := r.validateResponse(); err != nil {
		return err
	}
	return r.validateEffects()
}

// validateMatch checks the fields that select requests.
func (r *Rule) validateMatch() error {
	if r.Method != "" && !httpguts.ValidHeaderFieldName(r.Method) {
		return fmt.Errorf("invalid method %q: use an HTTP method such as GET, or leave it empty to match any", r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return fmt.Errorf("invalid path %q: use an absolute path such as /v1/sessions, or a prefix such as /v1/sessions/*", r.Path)
	}
	if strings.Contains(strings.TrimSuffix(r.Path, "*"), "*") {
		return fmt.Errorf("invalid path %q: \"*\" is allowed only as the last character", r.Path)
	}
	if r.Times < 0 {
		return fmt.Errorf("invalid times %d: use a positive count, or 0 to apply until removed", r.Times)
	}
	return nil
}

// validateResponse checks the fields of the injected response.
func (r *Rule) validateResponse() error {
	if r.Status != 0 && (r.Status < 200 || r.Status > 599) {
		return fmt.Errorf("invalid status %d: use a status from 200 to 599", r.Status)
	}
	if r.Status == 0 && (r.Body != "" || len(r.Header) > 0) {
		return errors.New("invalid rule: body and header need a status for the response")
	}
	for name, value := range r.Header {
		if !httpguts.ValidHeaderFieldName(name) {
			return fmt.Errorf("invalid header name %q", name)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return fmt.Errorf("invalid value of header %q: it contains a control character", name)
		}
	}
	return nil
}

// validateEffects checks durations, sizes and effects that cannot combine.
func (r *Rule) validateEffects() error {
	switch {
	case r.Latency < 0:
		return fmt.Errorf("invalid latencyMs %d: use 0 or more", r.Latency.Milliseconds())
	case r.SlowBody < 0:
		return fmt.Errorf("invalid slowBodyMs %d: use 0 or more", r.SlowBody.Milliseconds())
	case r.Truncate < 0:
		return fmt.Errorf("invalid truncateAfter %d: use 0 or more bytes", r.Truncate)
	case r.ChunkSize < 0:
		return fmt.Errorf("invalid chunkSize %d: use 0 for the default or a positive size", r.ChunkSize)
	case r.ChunkSize > 0 && r.SlowBody == 0:
		return errors.New("invalid rule: chunkSize needs slowBodyMs")
	case r.Reset && r.Hang:
		return errors.New("invalid rule: reset and hang cannot be combined")
	case (r.Reset || r.Hang) && r.shapesResponse():
		return errors.New("invalid rule: reset and hang send no response, so they cannot be combined " +
			"with status, truncateAfter, malformed or slowBodyMs")
	case r.Truncate > 0 && r.Malformed:
		return errors.New("invalid rule: truncateAfter and malformed cannot be combined")
	case !r.Reset && !r.Hang && !r.shapesResponse() && r.Latency == 0:
		return errors.New("invalid rule: set at least one effect (latencyMs, status, reset, hang, " +
			"truncateAfter, malformed or slowBodyMs)")
	}
	return nil
}

// shapesResponse reports whether r changes the response that is sent.
func (r *Rule) shapesResponse() bool {
	return r.Status != 0 || r.Truncate > 0 || r.Malformed || r.SlowBody > 0
}

// matches reports whether r applies to req.
func (r *Rule) matches(req *http.Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	if prefix, ok := strings.CutSuffix(r.Path, "*"); ok {
		return strings.HasPrefix(req.URL.Path, prefix)
	}
	return req.URL.Path == r.Path
}
