package upstream

import (
	"bytes"
	"encoding/json"
	"strings"
)

// dataMember returns the raw value of the "data" member of an upstream
// response body, {"data": ...}, and whether it found one. It reads the
// body once without validating the data value, which the JSON mapping
// decoder validates as it decodes it. Decoding the envelope with
// encoding/json instead scans the whole body twice, which cost a third of
// the decoding of a 20-session page.
//
// It reports false, so that the caller decodes the body with
// encoding/json, for anything but a plain object: a body that is not an
// object, a key with an escape sequence, an invalid member other than
// "data", or bytes after the object. Like encoding/json, it matches the
// key without regard to case and keeps the last of repeated members.
func dataMember(body []byte) (json.RawMessage, bool) {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return nil, false
	}
	i = skipSpace(body, i+1)
	var data json.RawMessage
	if i < len(body) && body[i] == '}' {
		return nil, skipSpace(body, i+1) == len(body)
	}
	for {
		key, next, ok := readKey(body, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(body, next)
		if i >= len(body) || body[i] != ':' {
			return nil, false
		}
		start := skipSpace(body, i+1)
		end, ok := skipValue(body, start)
		if !ok {
			return nil, false
		}
		// Only the data value that is kept goes unchecked.
		value := body[start:end]
		if strings.EqualFold(key, "data") {
			value, data = data, value
		}
		if value != nil && !json.Valid(value) {
			return nil, false
		}

		i = skipSpace(body, end)
		if i >= len(body) {
			return nil, false
		}
		switch body[i] {
		case ',':
			i = skipSpace(body, i+1)
		case '}':
			if skipSpace(body, i+1) != len(body) {
				return nil, false
			}
			return data, true
		default:
			return nil, false
		}
	}
}

// readKey reads the object key that starts at i, one without escape
// sequences or control characters, and returns it and the index after its
// closing quote.
func readKey(body []byte, i int) (key string, next int, ok bool) {
	if i >= len(body) || body[i] != '"' {
		return "", 0, false
	}
	end := bytes.IndexByte(body[i+1:], '"')
	if end < 0 {
		return "", 0, false
	}
	raw := body[i+1 : i+1+end]
	for _, c := range raw {
		if c == '\\' || c < 0x20 {
			return "", 0, false
		}
	}
	return string(raw), i + 2 + end, true
}

// skipValue returns the index after the JSON value that starts at i. It
// finds the value's end by its brackets and strings and leaves validating
// its content to the caller.
func skipValue(body []byte, i int) (int, bool) {
	if i >= len(body) {
		return 0, false
	}
	switch body[i] {
	case '"':
		return skipString(body, i)
	case '{', '[':
		return skipNested(body, i)
	}
	// A number, true, false or null runs to the next delimiter.
	j := i
	for j < len(body) && !isDelimiter(body[j]) {
		j++
	}
	return j, j > i
}

// skipString returns the index after the string that starts at i.
func skipString(body []byte, i int) (int, bool) {
	for j := i + 1; j < len(body); j++ {
		switch body[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipNested returns the index after the object or array that starts at i.
func skipNested(body []byte, i int) (int, bool) {
	depth := 0
	for j := i; j < len(body); j++ {
		switch body[j] {
		case '"':
			end, ok := skipString(body, j)
			if !ok {
				return 0, false
			}
			j = end - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}
