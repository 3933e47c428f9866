package jsonmap

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON tokens from a byte slice and tracks the JSON path of
// the value being read, for error messages.
type scanner struct {
	data  []byte
	pos   int
	depth int
	path  []pathSegment
	// pathBuf backs path for the usual nesting, so that tracking the path
	// does not allocate.
	pathBuf [8]pathSegment
	// scratch holds the unescaped text of the last string that had escapes.
	scratch []byte
}

// pathSegment is one step of a JSON path: an object key or an array index.
type pathSegment struct {
	key   string
	index int
}

func (s *scanner) pushKey(key string) { s.path = append(s.path, pathSegment{key: key, index: -1}) }
func (s *scanner) pushIndex(i int)    { s.path = append(s.path, pathSegment{index: i}) }
func (s *scanner) pop()               { s.path = s.path[:len(s.path)-1] }

// pathString formats the current path, such as "sessions[2].metadata.x".
func (s *scanner) pathString() string {
	var sb strings.Builder
	for _, seg := range s.path {
		if seg.index >= 0 {
			sb.WriteByte('[')
			sb.WriteString(strconv.Itoa(seg.index))
			sb.WriteByte(']')
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(seg.key)
	}
	return sb.String()
}

func (s *scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Path: s.pathString(), Offset: s.pos, Reason: fmt.Sprintf(format, args...)}
}

// typeError reports a value of the wrong JSON type at the current position.
func (s *scanner) typeError(expected string) error {
	return s.errorf("expected %s, got %s", expected, s.describeNext())
}

// describeNext names the JSON type of the value that starts at s.pos.
func (s *scanner) describeNext() string {
	if s.pos >= len(s.data) {
		return "the end of the input"
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || c >= '0' && c <= '9':
		return "a number"
	default:
		return fmt.Sprintf("the character %q", rune(c))
	}
}

// skipSpace skips JSON whitespace.
func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte without consuming it.
func (s *scanner) peek() (byte, error) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0, s.errorf("unexpected end of input")
	}
	return s.data[s.pos], nil
}

// consume skips whitespace and consumes the byte c, which must come next.
func (s *scanner) consume(c byte, expected string) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.errorf("expected %s, got %s", expected, s.describeNext())
	}
	s.pos++
	return nil
}

// enter consumes the opening bracket of an object or array and counts the
// nesting depth.
func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.errorf("input nests deeper than %d objects and arrays", maxDepth)
	}
	s.pos++ // the caller has peeked the bracket
	return nil
}

// next consumes the comma between two items or the closing bracket. It
// returns true when the object or array goes on.
func (s *scanner) next(closing byte) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case ',':
		s.pos++
		return true, nil
	case closing:
		s.pos++
		s.depth--
		return false, nil
	}
	return false, s.errorf("expected ',' or '%c', got %s", closing, s.describeNext())
}

// empty consumes the closing bracket right after an opening one and reports
// whether there was one.
func (s *scanner) empty(closing byte) (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	if c == closing {
		s.pos++
		s.depth--
		return true, nil
	}
	return false, nil
}

// literal consumes the word true, false or null.
func (s *scanner) literal(word string) error {
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return nil
	}
	return s.errorf("invalid literal: expected %s", word)
}

// readBool consumes true or false.
func (s *scanner) readBool() (bool, error) {
	c, err := s.peek()
	if err != nil {
		return false, err
	}
	switch c {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, s.typeError("a boolean")
}

// readNumber consumes a number and returns its text, checked against the
// JSON number grammar.
func (s *scanner) readNumber() ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c != '-' && (c < '0' || c > '9') {
		return nil, s.typeError("a number")
	}
	start := s.pos
	d := s.data
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = skipDigits(d, i)
	default:
		s.pos = i
		return nil, s.errorf("invalid number: a digit must follow '-'")
	}
	if i < len(d) && d[i] == '.' {
		if i+1 >= len(d) || d[i+1] < '0' || d[i+1] > '9' {
			s.pos = i
			return nil, s.errorf("invalid number: a digit must follow '.'")
		}
		i = skipDigits(d, i+1)
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.errorf("invalid number: a digit must follow the exponent")
		}
		i = skipDigits(d, i)
	}
	s.pos = i
	return d[start:i], nil
}

func skipDigits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// readString consumes a string and returns a copy of its text.
func (s *scanner) readString() (string, error) {
	b, err := s.readStringBytes()
	return string(b), err
}

// readStringBytes consumes a string and returns its unescaped text. The
// slice is valid until the next read.
func (s *scanner) readStringBytes() ([]byte, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, s.typeError("a string")
	}
	start := s.pos + 1
	for i := start; i < len(s.data); {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			return s.data[start:i], nil
		case c == '\\':
			s.scratch = append(s.scratch[:0], s.data[start:i]...)
			return s.readEscaped(i)
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character %q in string: escape it", rune(c))
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return nil, s.errorf("invalid UTF-8 in string")
			}
			i += size
		default:
			i++
		}
	}
	s.pos = len(s.data)
	return nil, s.errorf("unexpected end of input in string")
}

// readEscaped continues a string from its first backslash at i, unescaping
// into s.scratch.
func (s *scanner) readEscaped(i int) ([]byte, error) {
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return s.scratch, nil
		case c == '\\':
			next, err := s.unescape(i)
			if err != nil {
				return nil, err
			}
			i = next
		case c < 0x20:
			s.pos = i
			return nil, s.errorf("control character %q in string: escape it", rune(c))
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return nil, s.errorf("invalid UTF-8 in string")
			}
			s.scratch = append(s.scratch, s.data[i:i+size]...)
			i += size
		default:
			s.scratch = append(s.scratch, c)
			i++
		}
	}
	s.pos = len(s.data)
	return nil, s.errorf("unexpected end of input in string")
}

// unescape appends the character of the escape sequence at i to s.scratch
// and returns the position after it.
func (s *scanner) unescape(i int) (int, error) {
	if i+1 >= len(s.data) {
		s.pos = len(s.data)
		return 0, s.errorf("unexpected end of input in string")
	}
	switch c := s.data[i+1]; c {
	case '"', '\\', '/':
		s.scratch = append(s.scratch, c)
	case 'b':
		s.scratch = append(s.scratch, '\b')
	case 'f':
		s.scratch = append(s.scratch, '\f')
	case 'n':
		s.scratch = append(s.scratch, '\n')
	case 'r':
		s.scratch = append(s.scratch, '\r')
	case 't':
		s.scratch = append(s.scratch, '\t')
	case 'u':
		return s.unescapeUnicode(i)
	default:
		s.pos = i
		return 0, s.errorf("invalid escape sequence \\%c in string", c)
	}
	return i + 2, nil
}

// unescapeUnicode decodes \uXXXX at i, joining a surrogate pair when a low
// surrogate follows. A lone surrogate becomes U+FFFD.
func (s *scanner) unescapeUnicode(i int) (int, error) {
	r, ok := hex4(s.data, i+2)
	if !ok {
		s.pos = i
		return 0, s.errorf("invalid \\u escape in string: use four hex digits")
	}
	i += 6
	if utf16.IsSurrogate(r) {
		low, ok := rune(0), false
		if i+1 < len(s.data) && s.data[i] == '\\' && s.data[i+1] == 'u' {
			low, ok = hex4(s.data, i+2)
		}
		if decoded := utf16.DecodeRune(r, low); ok && decoded != utf8.RuneError {
			r = decoded
			i += 6
		} else {
			r = utf8.RuneError
		}
	}
	s.scratch = utf8.AppendRune(s.scratch, r)
	return i, nil
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipValue consumes one value of any type, such as the value of an
// unknown key, checking its syntax and depth.
func (s *scanner) skipValue() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return s.skipObject()
	case '[':
		return s.skipArray()
	case '"':
		_, err = s.readStringBytes()
	case 't':
		err = s.literal("true")
	case 'f':
		err = s.literal("false")
	case 'n':
		err = s.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err = s.readNumber()
	default:
		err = s.typeError("a JSON value")
	}
	return err
}

func (s *scanner) skipObject() error {
	if err := s.enter(); err != nil {
		return err
	}
	if done, err := s.empty('}'); done || err != nil {
		return err
	}
	for more := true; more; {
		if _, err := s.readStringBytes(); err != nil {
			return err
		}
		if err := s.consume(':', "':'"); err != nil {
			return err
		}
		if err := s.skipValue(); err != nil {
			return err
		}
		var err error
		if more, err = s.next('}'); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) skipArray() error {
	if err := s.enter(); err != nil {
		return err
	}
	if done, err := s.empty(']'); done || err != nil {
		return err
	}
	for more := true; more; {
		if err := s.skipValue(); err != nil {
			return err
		}
		var err error
		if more, err = s.next(']'); err != nil {
			return err
		}
	}
	return nil
}

// finish checks that only whitespace follows the top-level value.
func (s *scanner) finish() error {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.errorf("unexpected data after the top-level value")
	}
	return nil
}
