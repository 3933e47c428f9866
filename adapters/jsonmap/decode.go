package jsonmap

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// decoder reads JSON into messages according to their plans.
type decoder struct {
	scanner
	strict bool
	// spare holds emptied field buffers of finished objects (see
	// [decoder.object]) for the next objects to reuse.
	spare [][]byte
	// setEach sets every field through protoreflect, without the binary
	// buffer. Tests set it to compare the two ways.
	setEach bool
}

func newDecoder(data []byte, strict bool) *decoder {
	d := &decoder{scanner: scanner{data: data}, strict: strict}
	d.path = d.pathBuf[:0]
	return d
}

// top reads the top-level value into m. Top-level null leaves m empty,
// except that a google.protobuf.Value becomes a JSON null value.
func (d *decoder) top(p *messagePlan, m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		if p.shape == shapeValue {
			setNullValue(m)
		}
	} else if err := d.message(p, m); err != nil {
		return err
	}
	return d.finish()
}

// message reads a JSON value other than null into m.
func (d *decoder) message(p *messagePlan, m protoreflect.Message) error {
	if p.err != nil {
		return p.err
	}
	switch p.shape {
	case shapeUnwrap:
		return d.unwrap(p, m)
	case shapeTimestamp:
		return d.timestamp(m)
	case shapeStruct:
		return d.structObject(m)
	case shapeValue:
		return d.dynamicValue(m)
	case shapeListValue:
		return d.listValue(m)
	case shapeWrapper:
		return d.field(p.single, m)
	}
	return d.object(p, m)
}

// object reads a JSON object into the fields of m and of its inline fields.
//
// Singular scalar fields of m itself are written to a buffer in the binary
// encoding and merged into m once, at the end of the object. Setting them
// one by one through protoreflect costs reflection and two allocations per
// string, which made up much of the decoding of a large response.
func (d *decoder) object(p *messagePlan, m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return d.typeError("an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if done, err := d.empty('}'); done || err != nil {
		return err
	}
	var seen keySet
	fields := d.takeBuffer()
	for more := true; more; {
		if err := d.member(p, m, &seen, &fields); err != nil {
			return err
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		// AllowPartial: required fields are not checked here, as they are
		// not when fields are set one by one.
		opts := proto.UnmarshalOptions{Merge: true, AllowPartial: true}
		if err := opts.Unmarshal(fields, m.Interface()); err != nil {
			return fmt.Errorf("jsonmap: merging the scalar fields read into %s failed: %w", p.desc.FullName(), err)
		}
	}
	d.spare = append(d.spare, fields[:0])
	return nil
}

// takeBuffer returns an empty field buffer, reusing one of a finished
// object when there is one.
func (d *decoder) takeBuffer() []byte {
	n := len(d.spare)
	if n == 0 {
		return nil
	}
	b := d.spare[n-1]
	d.spare = d.spare[:n-1]
	return b
}

// member reads one key-value pair of an object. A singular scalar field of
// m is appended to fields in the binary encoding, and any other field is
// set in its message.
func (d *decoder) member(p *messagePlan, m protoreflect.Message, seen *keySet, fields *[]byte) error {
	keyStart := d.pos
	key, err := d.readStringBytes()
	if err != nil {
		return err
	}
	if err := d.consume(':', "':' after the key"); err != nil {
		return err
	}
	t := p.keys[string(key)]
	if t == nil {
		return d.unknownKey(p, string(key))
	}
	if !seen.add(t.index, len(p.keys)) {
		d.pos = keyStart
		return d.errorf("duplicate key %s", quoteValue(t.field.name))
	}
	d.pushKey(t.field.name)
	if len(t.inline) == 0 && !d.setEach && encodable(t.field) {
		if err := d.encodedField(t.field, fields); err != nil {
			return err
		}
		d.pop()
		return nil
	}
	target := m
	for _, fd := range t.inline {
		target = target.Mutable(fd).Message()
	}
	if err := d.field(t.field, target); err != nil {
		return err
	}
	d.pop()
	return nil
}

// encodable reports whether a field's value can be appended in the binary
// encoding: a singular scalar outside any oneof but a proto3 optional
// field's. Members of other oneofs stay on the reflection path, because
// checkOneof reads which member is set.
func encodable(f *fieldPlan) bool {
	if f.fd.IsList() || f.fd.IsMap() || f.value.msg != nil {
		return false
	}
	od := f.fd.ContainingOneof()
	return od == nil || od.IsSynthetic()
}

// encodedField reads the value of a singular scalar field and appends the
// field in the binary encoding to fields. JSON null leaves the field unset.
func (d *decoder) encodedField(f *fieldPlan, fields *[]byte) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		return d.literal("null")
	}
	if f.value.kind == protoreflect.StringKind {
		// The text goes straight into the buffer, without a string copy.
		text, err := d.readStringBytes()
		if err != nil {
			return err
		}
		*fields = protowire.AppendTag(*fields, f.fd.Number(), protowire.BytesType)
		*fields = protowire.AppendBytes(*fields, text)
		return nil
	}
	v, err := d.scalar(f.value)
	if err != nil {
		return err
	}
	*fields = appendScalar(*fields, f.fd, v)
	return nil
}

func (d *decoder) unknownKey(p *messagePlan, key string) error {
	d.pushKey(key)
	if d.strict {
		return d.errorf("unknown field: %s has no field with the JSON name %s",
			p.desc.FullName(), quoteValue(key))
	}
	if err := d.skipValue(); err != nil {
		return err
	}
	d.pop()
	return nil
}

// field reads the value of one field into m. JSON null leaves the field
// unset, except in the cases that fieldNull handles.
func (d *decoder) field(f *fieldPlan, m protoreflect.Message) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return err
		}
		return d.fieldNull(f, m)
	}
	if err := d.checkOneof(f, m); err != nil {
		return err
	}
	switch {
	case f.fd.IsList():
		return d.list(f.value, m.Mutable(f.fd).List())
	case f.fd.IsMap():
		return d.mapObject(f, m.Mutable(f.fd).Map())
	case f.value.msg != nil:
		return d.message(f.value.msg, m.Mutable(f.fd).Message())
	}
	v, err := d.scalar(f.value)
	if err != nil {
		return err
	}
	m.Set(f.fd, v)
	return nil
}

// fieldNull applies JSON null to a field. A google.protobuf.Value field
// becomes a null value, and an unwrap field whose inner field tracks
// presence becomes a set, empty message. Every other field stays unset.
func (d *decoder) fieldNull(f *fieldPlan, m protoreflect.Message) error {
	if f.fd.IsList() || f.fd.IsMap() || !nullIsValue(f.value) {
		return nil
	}
	if err := d.checkOneof(f, m); err != nil {
		return err
	}
	inner := m.Mutable(f.fd).Message()
	if f.value.msg.shape == shapeValue {
		setNullValue(inner)
	}
	return nil
}

// nullIsValue reports whether JSON null is a value of the type rather than
// its absence.
func nullIsValue(vp valuePlan) bool {
	if vp.msg == nil || vp.msg.err != nil {
		return false
	}
	return vp.msg.shape == shapeValue || vp.msg.shape == shapeUnwrap && vp.msg.nullIsEmpty
}

// checkOneof rejects a second member of one oneof in the same object.
func (d *decoder) checkOneof(f *fieldPlan, m protoreflect.Message) error {
	od := f.fd.ContainingOneof()
	if od == nil || od.IsSynthetic() {
		return nil
	}
	if set := m.WhichOneof(od); set != nil && set != f.fd {
		return d.errorf("%s and %s are members of oneof %s: give only one",
			set.JSONName(), f.fd.JSONName(), od.Name())
	}
	return nil
}

// list reads a JSON array into a list field.
func (d *decoder) list(vp valuePlan, l protoreflect.List) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '[' {
		return d.typeError("an array")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if done, err := d.empty(']'); done || err != nil {
		return err
	}
	for i, more := 0, true; more; i++ {
		d.pushIndex(i)
		v, err := d.item(vp, l.NewElement)
		if err != nil {
			return err
		}
		l.Append(v)
		d.pop()
		if more, err = d.next(']'); err != nil {
			return err
		}
	}
	return nil
}

// item reads one list item or map value. newMessage makes the empty message
// that a message-typed item is read into.
func (d *decoder) item(vp valuePlan, newMessage func() protoreflect.Value) (protoreflect.Value, error) {
	c, err := d.peek()
	if err != nil {
		return protoreflect.Value{}, err
	}
	if vp.msg == nil {
		if c == 'n' {
			return protoreflect.Value{}, d.typeError(describeKind(vp))
		}
		return d.scalar(vp)
	}
	v := newMessage()
	if c != 'n' {
		return v, d.message(vp.msg, v.Message())
	}
	if !nullIsValue(vp) {
		return v, d.typeError(describeKind(vp))
	}
	if err := d.literal("null"); err != nil {
		return v, err
	}
	if vp.msg.shape == shapeValue {
		setNullValue(v.Message())
	}
	return v, nil
}

// mapObject reads a JSON object into a map field.
func (d *decoder) mapObject(f *fieldPlan, mp protoreflect.Map) error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return d.typeError("an object")
	}
	if err := d.enter(); err != nil {
		return err
	}
	if done, err := d.empty('}'); done || err != nil {
		return err
	}
	for more := true; more; {
		if err := d.mapEntry(f, mp); err != nil {
			return err
		}
		if more, err = d.next('}'); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) mapEntry(f *fieldPlan, mp protoreflect.Map) error {
	keyStart := d.pos
	text, err := d.readString()
	if err != nil {
		return err
	}
	key, ok := parseMapKey(f.fd.MapKey().Kind(), text)
	if !ok {
		d.pos = keyStart
		return d.errorf("invalid map key %s: expected %s", quoteValue(text),
			describeKind(valuePlan{kind: f.fd.MapKey().Kind()}))
	}
	if mp.Has(key) {
		d.pos = keyStart
		return d.errorf("duplicate key %s", quoteValue(text))
	}
	if err := d.consume(':', "':' after the key"); err != nil {
		return err
	}
	d.pushKey(text)
	v, err := d.item(f.value, mp.NewValue)
	if err != nil {
		return err
	}
	mp.Set(key, v)
	d.pop()
	return nil
}

// unwrap reads the single JSON value of an unwrap message other than null.
// For a oneof, the first member that takes the JSON type of the value gets it.
func (d *decoder) unwrap(p *messagePlan, m protoreflect.Message) error {
	if p.single != nil {
		return d.field(p.single, m)
	}
	c, err := d.peek()
	if err != nil {
		return err
	}
	for _, f := range p.members {
		if accepts(f.value, c) {
			return d.field(f, m)
		}
	}
	return d.typeError(describeMembers(p.members))
}

// keySet records the keys of one object that were read, by key index.
type keySet struct {
	small uint64
	large map[int]struct{}
}

// add records key index i of n and reports whether it was new.
func (s *keySet) add(i, n int) bool {
	if n <= 64 {
		bit := uint64(1) << uint(i)
		if s.small&bit != 0 {
			return false
		}
		s.small |= bit
		return true
	}
	if s.large == nil {
		s.large = make(map[int]struct{})
	}
	if _, ok := s.large[i]; ok {
		return false
	}
	s.large[i] = struct{}{}
	return true
}
