package fault

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxRuleBytes bounds the body of an add request.
const maxRuleBytes = 64 << 10

// Handler returns the JSON control API of the injector, to be mounted under
// a prefix with [http.StripPrefix], for example:
//
//	mux.Handle("/_sim/faults/", http.StripPrefix("/_sim/faults", inj.Handler()))
//
// Routes, relative to the prefix:
//
//	GET    /      200 {"rules": [Rule, ...]}
//	POST   /      add the Rule in the body: 201 with the rule and its "id"
//	DELETE /      remove every rule: 204
//	DELETE /{id}  remove one rule: 204, or 404 when no rule has that ID
//
// Errors use the upstream's body, {"error": {"message": ..., "code": ...}}.
func (i *Injector) Handler() http.Handler {
	return http.HandlerFunc(i.serveControl)
}

// serveControl routes one control API request.
func (i *Injector) serveControl(w http.ResponseWriter, r *http.Request) {
	id := strings.Trim(r.URL.Path, "/")
	switch {
	case id == "" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string][]Rule{"rules": i.Rules()})
	case id == "" && r.Method == http.MethodPost:
		i.serveAdd(w, r)
	case id == "" && r.Method == http.MethodDelete:
		i.Clear()
		w.WriteHeader(http.StatusNoContent)
	case id != "" && r.Method == http.MethodDelete:
		if !i.Remove(id) {
			writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("no fault rule has id %q", id))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case id == "":
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			r.Method+" is not supported here: use GET, POST or DELETE")
	default:
		w.Header().Set("Allow", "DELETE")
		writeError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
			r.Method+" is not supported on a rule: use DELETE")
	}
}

// serveAdd decodes a Rule from the request body and adds it.
func (i *Injector) serveAdd(w http.ResponseWriter, r *http.Request) {
	rule, err := decodeRule(http.MaxBytesReader(w, r.Body, maxRuleBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	id, err := i.Add(rule)
	if err != nil {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", err.Error())
		return
	}
	rule.ID = id
	rule.Method = strings.ToUpper(rule.Method)
	writeJSON(w, http.StatusCreated, rule)
}

// decodeRule reads exactly one JSON Rule and rejects unknown fields. It
// decodes the wire struct directly because Rule.UnmarshalJSON would not
// inherit DisallowUnknownFields.
func decodeRule(body io.Reader) (Rule, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var wire ruleJSON
	if err := dec.Decode(&wire); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return Rule{}, fmt.Errorf("invalid rule: body is larger than %d bytes", maxRuleBytes)
		}
		return Rule{}, fmt.Errorf("invalid rule JSON: %w", err)
	}
	if dec.More() {
		return Rule{}, errors.New("invalid rule JSON: send one rule object per request")
	}
	return wire.rule(), nil
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError writes the upstream's error body.
func writeError(w http.ResponseWriter, status int, code, message string) {
	type errorBody struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	}
	writeJSON(w, status, map[string]errorBody{"error": {Message: message, Code: code}})
}
