package jsonmap

import (
	"fmt"
	"strconv"
	"strings"
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

	// Integer part: an optional minus, then 0 or digits without a leading 0.
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

	// Optional fraction and exponent, each with at least one digit.
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
