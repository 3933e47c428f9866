package jsonmap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxQuotedValue is the maximum number of bytes of an input value that an
// error message quotes. Longer values are cut, so an error never carries a
// large piece of a request or response body.
const maxQuotedValue = 64

// SyntaxError reports JSON that [Unmarshal] rejects: malformed or truncated
// input, a value of the wrong JSON type, a number out of range, an unknown
// enum string or input nested too deeply.
type SyntaxError struct {
	// Path is the JSON path of the offending value, such as
	// "sessions[2].metadata.x"; it is empty for the top-level value.
	Path string
	// Offset is the byte offset into the input at which the problem was found.
	Offset int
	// Reason is the problem found and the expected form.
	Reason string
}

// Error formats the error as "invalid JSON at PATH (offset N): REASON".
func (e *SyntaxError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Reason)
	}
	return fmt.Sprintf("invalid JSON at %s (offset %d): %s", e.Path, e.Offset, e.Reason)
}

// QueryError reports a query string that [DecodeQuery] rejects: an unknown
// parameter, a value that does not parse, or a parameter given more than once
// for a field that takes one value.
type QueryError struct {
	// Param is the query parameter name as given, such as "includeDisabled"
	// or "metadata.department".
	Param string
	// Reason is the problem found and the accepted values.
	Reason string
}

// Error returns the reason, which already names the parameter.
func (e *QueryError) Error() string {
	return e.Reason
}

// invalidQueryValue builds the error for a parameter value that does not
// parse, such as `invalid value "maybe" for query parameter
// "includeDisabled": use true or false`.
func invalidQueryValue(param, value, accepted string) *QueryError {
	return &QueryError{
		Param: param,
		Reason: fmt.Sprintf("invalid value %s for query parameter %q: %s",
			quoteValue(value), param, accepted),
	}
}

// quoteValue quotes an input value for an error message, cut to
// maxQuotedValue bytes on a rune boundary.
func quoteValue(s string) string {
	if len(s) <= maxQuotedValue {
		return strconv.Quote(s)
	}
	cut := maxQuotedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// describeAllowed lists accepted values for an error message, such as
// "one of owner, admin, agent, viewer".
func describeAllowed(values []string) string {
	if len(values) == 0 {
		return "no value is accepted"
	}
	return "one of " + strings.Join(values, ", ")
}

// cutText cuts an input value to maxQuotedValue bytes for an error message,
// without quoting it. It suits values such as numbers that need no quotes.
func cutText(s string) string {
	if len(s) <= maxQuotedValue {
		return s
	}
	cut := maxQuotedValue
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
