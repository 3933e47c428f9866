package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 1 << 20

// timeLayout is the wire format of every timestamp the simulator writes: UTC
// with milliseconds, such as 2026-02-14T10:30:00.000Z.
const timeLayout = "2006-01-02T15:04:05.000Z"

// stamp is a time written in [timeLayout]. A nil *stamp is written as null.
type stamp time.Time

// MarshalJSON writes the time in UTC with milliseconds.
func (s stamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + formatTime(time.Time(s)) + `"`), nil
}

// formatTime writes t in [timeLayout].
func formatTime(t time.Time) string {
	return t.UTC().Format(timeLayout)
}

// stampPtr returns the stamp of t, or nil when t is nil.
func stampPtr(t *time.Time) *stamp {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// strOrNil returns nil for "" and a pointer to s otherwise.
func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// emptyIfNil returns list, or an empty list when it is nil, so that JSON
// arrays are written as [] instead of null.
func emptyIfNil[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// envelope is the success body {"data": ...}.
type envelope struct {
	Data any `json:"data"`
}

// errorBody is the contract's Error object.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the inner object of [errorBody].
type errorDetail struct {
	Message string `json:"message"`
	Code    string `json:"code"`
}

// encodeJSON returns v as JSON without HTML escaping, ending in a newline.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every value written here is built from plain types; a failure
		// is a programming error, reported as a 500 body.
		return encodeJSON(errorBody{Error: errorDetail{
			Message: "encode response: " + err.Error(), Code: codeInternal,
		}})
	}
	return buf.Bytes()
}

// writeRaw writes an already encoded JSON body.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeJSON writes v as the JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeRaw(w, status, encodeJSON(v))
}

// writeError writes e in the contract's Error shape with its extra headers.
func writeError(w http.ResponseWriter, e *apiError) {
	for k, vs := range e.header {
		w.Header()[k] = vs
	}
	writeJSON(w, e.status, errorBody{Error: errorDetail{Message: e.message, Code: e.code}})
}

// readBody reads the request body within [maxBodyBytes].
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, newError(http.StatusRequestEntityTooLarge, codeRequestTooLarge,
				"Request body exceeds %d bytes; send a smaller JSON object", maxBodyBytes)
		}
		return nil, badRequest(codeInvalidJSON, "Request body could not be read: %v", err)
	}
	return body, nil
}

// decodeObject parses body as a JSON object. An empty body is an error
// unless optional is set, in which case it is an empty object.
func decodeObject(body []byte, optional bool) (jsonObject, *apiError) {
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return jsonObject{}, nil
		}
		return nil, badRequest(codeInvalidJSON, "Request body is empty; send a JSON object")
	}
	var obj jsonObject
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, badRequest(codeInvalidJSON,
			"Request body is not a valid JSON object: %s", describeJSONError(err))
	}
	return obj, nil
}

// describeJSONError returns a short reason for a JSON decoding failure.
func describeJSONError(err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "the body is null"
	case errors.As(err, &syntaxErr):
		return "syntax error at byte " + itoa(int(syntaxErr.Offset))
	case errors.As(err, &typeErr):
		return "the body is a JSON " + typeErr.Value + ", not an object"
	default:
		return strings.TrimPrefix(err.Error(), "json: ")
	}
}
