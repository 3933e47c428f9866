package simulator

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
)

// jsonObject is a decoded JSON request body whose fields are read with type
// checks, so that each wrong field gets its own clear error.
type jsonObject map[string]json.RawMessage

// has reports whether the field is present, null included.
func (o jsonObject) has(name string) bool {
	_, ok := o[name]
	return ok
}

// isNull reports whether the field is present and null.
func (o jsonObject) isNull(name string) bool {
	raw, ok := o[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// present reports whether the field is present and not null. Optional fields
// that are not nullable treat null as absent.
func (o jsonObject) present(name string) bool {
	return o.has(name) && !o.isNull(name)
}

// str reads a string field; ok is false when it is absent or null.
func (o jsonObject) str(name string) (value string, ok bool, err *apiError) {
	if !o.present(name) {
		return "", false, nil
	}
	if json.Unmarshal(o[name], &value) != nil {
		return "", false, invalidField("%s must be a string", name)
	}
	return value, true, nil
}

// nullableStr reads a string field that may be null to clear it. set
// reports whether the field is present; value is nil for null.
func (o jsonObject) nullableStr(name string) (value *string, set bool, err *apiError) {
	if !o.has(name) {
		return nil, false, nil
	}
	if o.isNull(name) {
		return nil, true, nil
	}
	s, _, err := o.str(name)
	if err != nil {
		return nil, false, invalidField("%s must be a string or null", name)
	}
	return &s, true, nil
}

// boolean reads a boolean field.
func (o jsonObject) boolean(name string) (value bool, ok bool, err *apiError) {
	if !o.present(name) {
		return false, false, nil
	}
	if json.Unmarshal(o[name], &value) != nil {
		return false, false, invalidField("%s must be a boolean (true or false)", name)
	}
	return value, true, nil
}

// number reads a numeric field.
func (o jsonObject) number(name string) (value float64, ok bool, err *apiError) {
	if !o.present(name) {
		return 0, false, nil
	}
	if json.Unmarshal(o[name], &value) != nil {
		return 0, false, invalidField("%s must be a number", name)
	}
	return value, true, nil
}

// integer reads a numeric field that must be a whole number.
func (o jsonObject) integer(name string) (value int, ok bool, err *apiError) {
	f, ok, err := o.number(name)
	if err != nil || !ok {
		return 0, ok, err
	}
	if f != math.Trunc(f) || math.Abs(f) > 1e9 {
		return 0, false, invalidField("%s must be an integer, got %s", name, string(o[name]))
	}
	return int(f), true, nil
}

// strList reads an array of strings.
func (o jsonObject) strList(name string) (value []string, ok bool, err *apiError) {
	if !o.present(name) {
		return nil, false, nil
	}
	if json.Unmarshal(o[name], &value) != nil {
		return nil, false, invalidField("%s must be an array of strings", name)
	}
	return emptyIfNil(value), true, nil
}

// object reads a nested JSON object.
func (o jsonObject) object(name string) (value jsonObject, ok bool, err *apiError) {
	if !o.present(name) {
		return nil, false, nil
	}
	if json.Unmarshal(o[name], &value) != nil || value == nil {
		return nil, false, invalidField("%s must be a JSON object", name)
	}
	return value, true, nil
}

// itoa formats an int in base 10.
func itoa(n int) string { return strconv.Itoa(n) }
