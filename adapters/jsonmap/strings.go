package jsonmap

import (
	"unicode/utf16"
	"unicode/utf8"
)

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
