package jsonmap

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// timestampLayout is the one timestamp form written: UTC with milliseconds.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z since the Unix
// epoch: the range of google.protobuf.Timestamp and of RFC 3339.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Quotes, backslashes and control
// characters are escaped, and invalid UTF-8 bytes are written as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		b = appendEscape(b, c)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

var errNonFinite = errors.New("NaN and infinite numbers have no JSON form")

// appendFloat appends f the way JavaScript's JSON.stringify writes numbers:
// the shortest decimal that reads back as f, with no trailing ".0", and an
// exponent only below 1e-6 or from 1e21 on. Negative zero is written as 0.
func appendFloat(b []byte, f float64, bitSize int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, errNonFinite
	}
	if f == 0 {
		return append(b, '0'), nil
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, format, -1, bitSize)
	if format == 'e' {
		b = trimExponentZero(b, start)
	}
	return b, nil
}

// trimExponentZero turns Go's two-digit exponents such as "1e-07" into
// JavaScript's "1e-7".
func trimExponentZero(b []byte, start int) []byte {
	n := len(b)
	if n-start >= 4 && b[n-4] == 'e' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		return b[:n-1]
	}
	return b
}

// appendTimestamp appends a timestamp as a quoted RFC 3339 string in UTC
// with milliseconds. Digits below the millisecond are dropped.
func appendTimestamp(b []byte, seconds int64, nanos int32) ([]byte, error) {
	if seconds < minTimestampSeconds || seconds > maxTimestampSeconds {
		return b, errors.New("timestamp is outside years 0001 to 9999")
	}
	if nanos < 0 || nanos >= 1e9 {
		return b, errors.New("timestamp nanos are outside 0 to 999999999")
	}
	b = append(b, '"')
	b = time.Unix(seconds, int64(nanos)).UTC().AppendFormat(b, timestampLayout)
	return append(b, '"'), nil
}

// parseTimestamp reads an RFC 3339 timestamp with any offset and returns its
// seconds and nanoseconds since the Unix epoch.
func parseTimestamp(s string) (int64, int32, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, 0, false
	}
	seconds := t.Unix()
	if seconds < minTimestampSeconds || seconds > maxTimestampSeconds {
		return 0, 0, false
	}
	return seconds, int32(t.Nanosecond()), true
}
