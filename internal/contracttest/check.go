package contracttest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	valerrors "github.com/pb33f/libopenapi-validator/errors"
)

// find returns the operation that method and a concrete path match. The
// path is tried without the server's base path first, then as given. A
// template with more literal segments wins over one with more parameters, so
// /sessions/bulk matches before /sessions/{id}.
func (c *contract) find(method, path string) (operation, bool) {
	method = strings.ToUpper(method)
	for _, candidate := range c.candidatePaths(path) {
		segments := strings.Split(strings.Trim(candidate, "/"), "/")
		best, bestScore := -1, -1
		for i := range c.ops {
			op := &c.ops[i]
			if op.method != method {
				continue
			}
			if score, ok := matchSegments(op.segments, segments); ok && score > bestScore {
				best, bestScore = i, score
			}
		}
		if best >= 0 {
			return c.ops[best], true
		}
	}
	return operation{}, false
}

// candidatePaths returns path without the base path (when it has it) and
// path itself.
func (c *contract) candidatePaths(path string) []string {
	if c.basePath != "" {
		if rest, ok := strings.CutPrefix(path, c.basePath); ok && (rest == "" || rest[0] == '/') {
			return []string{"/" + strings.TrimPrefix(rest, "/"), path}
		}
	}
	return []string{path}
}

// matchSegments reports whether the request segments fit the template and
// scores the match by its number of literal segments.
func matchSegments(template, request []string) (int, bool) {
	if len(template) != len(request) {
		return 0, false
	}
	score := 0
	for i, part := range template {
		switch {
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			if request[i] == "" {
				return 0, false
			}
		case part == request[i]:
			score++
		default:
			return 0, false
		}
	}
	return score, true
}

// checkResponse returns one message per contract violation of res.
func (c *contract) checkResponse(req *http.Request, res *http.Response, body []byte) []string {
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, res.StatusCode)
	op, ok := c.find(req.Method, req.URL.Path)
	if !ok {
		return []string{where + ": no contract operation matches this method and path"}
	}
	where = fmt.Sprintf("%s (%s)", where, op.id)
	if !op.declares(res.StatusCode) {
		return []string{fmt.Sprintf("%s: status %d is not declared for this operation (declared: %s)",
			where, res.StatusCode, strings.Join(op.declared(), ", "))}
	}

	copied := *res
	copied.Body = io.NopCloser(bytes.NewReader(body))
	copied.ContentLength = int64(len(body))
	copied.Request = req
	_, errs := c.validator.ValidateHttpResponse(req, &copied)
	return formatErrors(where, "response", errs)
}

// checkRequest returns one message per contract violation of req.
func (c *contract) checkRequest(req *http.Request, body []byte) []string {
	where := fmt.Sprintf("%s %s", req.Method, req.URL.Path)
	op, ok := c.find(req.Method, req.URL.Path)
	if !ok {
		return []string{where + ": no contract operation matches this method and path"}
	}
	where = fmt.Sprintf("%s (%s)", where, op.id)

	copied := req.Clone(req.Context())
	copied.Body = io.NopCloser(bytes.NewReader(body))
	copied.ContentLength = int64(len(body))
	_, errs := c.validator.ValidateHttpRequestSync(copied)
	return formatErrors(where, "request", errs)
}

// declares reports whether the operation lists status, exactly, as a range
// such as 4XX, or through a default response.
func (op *operation) declares(status int) bool {
	code := strconv.Itoa(status)
	return op.statuses[code] || op.statuses[code[:1]+"XX"] || op.fallback
}

// declared returns the operation's status codes in ascending order.
func (op *operation) declared() []string {
	codes := make([]string, 0, len(op.statuses)+1)
	for code := range op.statuses {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	if op.fallback {
		codes = append(codes, "default")
	}
	return codes
}

// formatErrors turns validator errors into messages that name where the
// exchange failed and, for schema failures, the JSON pointer of the value.
func formatErrors(where, part string, errs []*valerrors.ValidationError) []string {
	var msgs []string
	for _, err := range errs {
		if len(err.SchemaValidationErrors) == 0 {
			msgs = append(msgs, fmt.Sprintf("%s: %s: %s", where, err.Message, err.Reason))
			continue
		}
		for _, failure := range err.SchemaValidationErrors {
			msgs = append(msgs, fmt.Sprintf("%s: %s body at %s: %s (schema %s)",
				where, part, pointer(failure.InstancePath), failure.Reason, failure.KeywordLocation))
		}
	}
	return msgs
}

// pointer joins path segments into a JSON pointer (RFC 6901), "" being the root.
func pointer(segments []string) string {
	if len(segments) == 0 {
		return `"" (the root)`
	}
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		s = strings.ReplaceAll(s, "~", "~0")
		b.WriteString(strings.ReplaceAll(s, "/", "~1"))
	}
	return b.String()
}
