package jsonmap

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// scalar reads one JSON value of a scalar or enum field.
func (d *decoder) scalar(vp valuePlan) (protoreflect.Value, error) {
	c, err := d.peek()
	if err != nil {
		return protoreflect.Value{}, err
	}
	start := d.pos
	switch vp.kind {
	case protoreflect.BoolKind:
		b, err := d.readBool()
		return protoreflect.ValueOfBool(b), err
	case protoreflect.StringKind:
		s, err := d.readString()
		return protoreflect.ValueOfString(s), err
	case protoreflect.BytesKind:
		return d.bytesValue(start)
	case protoreflect.EnumKind:
		return d.enumValue(vp.enum, start)
	}
	if c != '-' && (c < '0' || c > '9') {
		// Numbers in quotes are rejected too rather than guessed at.
		return protoreflect.Value{}, d.typeError(describeKind(vp))
	}
	tok, err := d.readNumber()
	if err != nil {
		return protoreflect.Value{}, err
	}
	v, reason := parseNumber(vp.kind, string(tok))
	if reason != "" {
		d.pos = start
		return protoreflect.Value{}, d.errorf("%s", reason)
	}
	return v, nil
}

func (d *decoder) bytesValue(start int) (protoreflect.Value, error) {
	s, err := d.readString()
	if err != nil {
		return protoreflect.Value{}, err
	}
	b, ok := decodeBase64(s)
	if !ok {
		d.pos = start
		return protoreflect.Value{}, d.errorf("invalid base64 string")
	}
	return protoreflect.ValueOfBytes(b), nil
}

func (d *decoder) enumValue(ep *enumPlan, start int) (protoreflect.Value, error) {
	text, err := d.readStringBytes()
	if err != nil {
		return protoreflect.Value{}, err
	}
	n, ok := ep.byWire[string(text)]
	if !ok {
		d.pos = start
		return protoreflect.Value{}, d.errorf("unknown value %s for %s: use %s",
			quoteValue(string(text)), ep.fullName, describeAllowed(ep.wires))
	}
	return protoreflect.ValueOfEnum(n), nil
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// parseNumber converts the text of a JSON number to a value of a numeric
// kind. It returns a reason instead when the number has a fraction for an
// integer kind or is out of range.
func parseNumber(kind protoreflect.Kind, text string) (protoreflect.Value, string) {
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, reason := parseInt(text, 32)
		return protoreflect.ValueOfInt32(int32(n)), reason
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, reason := parseInt(text, 64)
		return protoreflect.ValueOfInt64(n), reason
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, reason := parseUint(text, 32)
		return protoreflect.ValueOfUint32(uint32(n)), reason
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, reason := parseUint(text, 64)
		return protoreflect.ValueOfUint64(n), reason
	case protoreflect.FloatKind:
		f, reason := parseFloat(text, 32)
		return protoreflect.ValueOfFloat32(float32(f)), reason
	case protoreflect.DoubleKind:
		f, reason := parseFloat(text, 64)
		return protoreflect.ValueOfFloat64(f), reason
	}
	return protoreflect.Value{}, fmt.Sprintf("a number does not fit a %s field", kind)
}

// parseInt parses a signed integer. Besides plain digits it takes a number
// with a zero fraction or an exponent, such as 1.0 or 1e3, when its value is
// a whole number in range.
func parseInt(text string, bitSize int) (int64, string) {
	if isPlainInteger(text) {
		n, err := strconv.ParseInt(text, 10, bitSize)
		if err != nil {
			return 0, outOfRange(text, intRange(bitSize))
		}
		return n, ""
	}
	f, reason := wholeNumber(text)
	if reason != "" {
		return 0, reason
	}
	limit := math.Ldexp(1, bitSize-1)
	if f < -limit || f >= limit {
		return 0, outOfRange(text, intRange(bitSize))
	}
	return int64(f), ""
}

// parseUint parses an unsigned integer the way parseInt parses a signed one.
func parseUint(text string, bitSize int) (uint64, string) {
	if isPlainInteger(text) && text[0] != '-' {
		n, err := strconv.ParseUint(text, 10, bitSize)
		if err != nil {
			return 0, outOfRange(text, uintRange(bitSize))
		}
		return n, ""
	}
	f, reason := wholeNumber(text)
	if reason != "" {
		return 0, reason
	}
	if f < 0 || f >= math.Ldexp(1, bitSize) {
		return 0, outOfRange(text, uintRange(bitSize))
	}
	return uint64(f), ""
}

func wholeNumber(text string) (float64, string) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Sprintf("expected an integer, got %s", cutText(text))
	}
	if f != math.Trunc(f) {
		return 0, fmt.Sprintf("expected an integer, got %s", cutText(text))
	}
	return f, ""
}

// parseFloat parses a floating-point number. Negative zero becomes zero,
// the way encoding writes it.
func parseFloat(text string, bitSize int) (float64, string) {
	f, err := strconv.ParseFloat(text, bitSize)
	if err != nil {
		return 0, outOfRange(text, fmt.Sprintf("a %d-bit floating-point number", bitSize))
	}
	if f == 0 {
		return 0, ""
	}
	return f, ""
}

// isPlainInteger reports whether text is an optional minus sign followed by
// digits only.
func isPlainInteger(text string) bool {
	digits := strings.TrimPrefix(text, "-")
	if digits == "" {
		return false
	}
	for i := range len(digits) {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

func outOfRange(text, accepted string) string {
	return fmt.Sprintf("number %s is out of range for %s", cutText(text), accepted)
}

func intRange(bitSize int) string {
	if bitSize == 32 {
		return "an integer between -2147483648 and 2147483647"
	}
	return "an integer between -9223372036854775808 and 9223372036854775807"
}

func uintRange(bitSize int) string {
	if bitSize == 32 {
		return "an integer between 0 and 4294967295"
	}
	return "an integer between 0 and 18446744073709551615"
}

// parseScalarText converts text such as a map key or a query parameter to a
// value of a bool, numeric or string kind. Booleans are only "true" and
// "false", and numbers follow the JSON number grammar.
func parseScalarText(kind protoreflect.Kind, text string) (protoreflect.Value, bool) {
	switch kind {
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(text), true
	case protoreflect.BoolKind:
		switch text {
		case "true":
			return protoreflect.ValueOfBool(true), true
		case "false":
			return protoreflect.ValueOfBool(false), true
		}
		return protoreflect.Value{}, false
	}
	if !isJSONNumber(text) {
		return protoreflect.Value{}, false
	}
	v, reason := parseNumber(kind, text)
	return v, reason == ""
}

// isJSONNumber reports whether text is exactly one JSON number.
func isJSONNumber(text string) bool {
	if text == "" || text[0] != '-' && (text[0] < '0' || text[0] > '9') {
		return false
	}
	s := scanner{data: []byte(text)}
	if _, err := s.readNumber(); err != nil {
		return false
	}
	return s.pos == len(text)
}

// appendScalar appends field fd with the singular scalar value v to b in
// the binary encoding.
func appendScalar(b []byte, fd protoreflect.FieldDescriptor, v protoreflect.Value) []byte {
	num := fd.Number()
	switch fd.Kind() {
	case protoreflect.BoolKind:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool()))
	case protoreflect.EnumKind:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(int64(v.Enum())))
	case protoreflect.Int32Kind, protoreflect.Int64Kind:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, uint64(v.Int()))
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v.Uint())
	case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, protowire.EncodeZigZag(v.Int()))
	case protoreflect.Fixed32Kind:
		b = protowire.AppendTag(b, num, protowire.Fixed32Type)
		return protowire.AppendFixed32(b, uint32(v.Uint()))
	case protoreflect.Sfixed32Kind:
		b = protowire.AppendTag(b, num, protowire.Fixed32Type)
		return protowire.AppendFixed32(b, uint32(int32(v.Int())))
	case protoreflect.FloatKind:
		b = protowire.AppendTag(b, num, protowire.Fixed32Type)
		return protowire.AppendFixed32(b, math.Float32bits(float32(v.Float())))
	case protoreflect.Fixed64Kind:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, v.Uint())
	case protoreflect.Sfixed64Kind:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, uint64(v.Int()))
	case protoreflect.DoubleKind:
		b = protowire.AppendTag(b, num, protowire.Fixed64Type)
		return protowire.AppendFixed64(b, math.Float64bits(v.Float()))
	case protoreflect.StringKind:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, v.String())
	case protoreflect.BytesKind:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes())
	}
	panic(fmt.Sprintf("jsonmap: field %s of kind %s is not a scalar", fd.FullName(), fd.Kind()))
}
