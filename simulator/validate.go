package simulator

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Limits of the contract's metadata objects.
const (
	maxMetadataKeys  = 20
	maxMetadataBytes = 4096
)

// Enumerations of the contract.
var (
	sessionModes     = []string{"camera", "screen"}
	sessionStatuses  = []string{"pending", "active", "completed", "expired", "cancelled"}
	languages        = []string{"fr", "en", "es", "de", "it", "pt", "nl", "pl", "ru", "zh"}
	agentRoles       = []string{"owner", "admin", "agent", "viewer"}
	notifyByValues   = []string{"sms", "email", "both"}
	statsPeriods     = []string{"day", "week", "month"}
	slotMinutes      = []int{5, 10, 15, 20}
	appointmentState = []string{"scheduled", "notified", "lobby_created", "completed", "cancelled"}
)

// phonePattern is E.164: a plus sign, a non-zero digit, then 6 to 14 digits.
var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// emailPattern is a deliberately loose address check: one @, no spaces, a dot
// in the domain.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// invalidPhoneMessage is the contract's INVALID_PHONE message.
const invalidPhoneMessage = "Invalid phone format. Use international format (e.g., +33612345678)"

// normalizePhone strips spaces from phone and checks the E.164 format.
func normalizePhone(phone string) (string, *apiError) {
	phone = strings.ReplaceAll(phone, " ", "")
	if !phonePattern.MatchString(phone) {
		return "", badRequest(codeInvalidPhone, invalidPhoneMessage)
	}
	return phone, nil
}

// checkEmail checks the format of an email address field.
func checkEmail(field, email string) *apiError {
	if !emailPattern.MatchString(email) {
		return badRequest(codeInvalidEmail,
			"%s %q is not a valid email address; use a form like jean.dupont@email.com",
			field, email)
	}
	return nil
}

// oneOf checks that value is one of allowed, with the contract's message
// form "role must be one of: owner, admin, agent, viewer".
func oneOf(field, value string, allowed []string) *apiError {
	if slices.Contains(allowed, value) {
		return nil
	}
	return invalidField("%s must be one of: %s", field, strings.Join(allowed, ", "))
}

// oneOfInt is [oneOf] for integer enumerations.
func oneOfInt(field string, value int, allowed []int) *apiError {
	if slices.Contains(allowed, value) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, n := range allowed {
		names[i] = itoa(n)
	}
	return invalidField("%s must be one of: %s", field, strings.Join(names, ", "))
}

// parseMetadata checks a metadata object: flat, at most 20 keys, less than
// 4 KB serialized, string, number or boolean values only. Numbers are kept as
// float64, so 12345 and 12345.0 are the same value.
func parseMetadata(raw json.RawMessage) (map[string]any, *apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, badRequest(codeInvalidMetadata,
			"metadata must be a flat JSON object whose values are strings, numbers or booleans")
	}
	if len(fields) > maxMetadataKeys {
		return nil, badRequest(codeInvalidMetadata,
			"metadata has %d keys; at most %d are allowed", len(fields), maxMetadataKeys)
	}
	meta := make(map[string]any, len(fields))
	for key, value := range fields {
		if key == "" {
			return nil, badRequest(codeInvalidMetadata, "metadata keys must not be empty")
		}
		var v any
		_ = json.Unmarshal(value, &v)
		switch v.(type) {
		case string, float64, bool:
			meta[key] = v
		default:
			return nil, badRequest(codeInvalidMetadata,
				"metadata.%s must be a string, number or boolean, got %s; "+
					"nested objects, arrays and null are not allowed", key, jsonKind(value))
		}
	}
	if size := len(encodeCompact(meta)); size >= maxMetadataBytes {
		return nil, badRequest(codeInvalidMetadata,
			"metadata is %d bytes serialized; it must be less than %d bytes (4 KB)",
			size, maxMetadataBytes)
	}
	return meta, nil
}

// readMetadata reads the optional "metadata" field of o; null is absent.
func readMetadata(o jsonObject) (map[string]any, bool, *apiError) {
	if !o.present("metadata") {
		return nil, false, nil
	}
	meta, err := parseMetadata(o["metadata"])
	return meta, err == nil, err
}

// jsonKind names the JSON type of a raw value.
func jsonKind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 'n':
		return "null"
	}
	return "a JSON value"
}

// encodeCompact returns v as compact JSON.
func encodeCompact(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// metadataString returns a metadata value as the string that query filters
// compare with: strings as they are, numbers in shortest form, booleans as
// true or false.
func metadataString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		if v {
			return "true"
		}
		return "false"
	default:
		return string(encodeCompact(v))
	}
}

// cloneMetadata returns a copy of meta; nil stays nil.
func cloneMetadata(meta map[string]any) map[string]any {
	if meta == nil {
		return nil
	}
	out := make(map[string]any, len(meta))
	for k, v := range meta {
		out[k] = v
	}
	return out
}

// parseTimestamp reads an RFC 3339 timestamp query or body value.
func parseTimestamp(field, value string) (time.Time, *apiError) {
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, invalidField(
			"%s must be an ISO 8601 timestamp such as 2026-03-12T10:30:00.000Z, got %q",
			field, value)
	}
	return t.UTC(), nil
}
