package jsonmap

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decode sets the fields of m from query parameters, keeping the fields it
// already has, such as those taken from the URL path. Parameters are named
// as [QueryOptions.Encode] names them. Decoding is strict: an unknown
// parameter, a value that does not parse, an empty map key or a repeated
// parameter for a field that takes one value is an error of type
// *[QueryError] that names the parameter and states what is accepted.
func (o QueryOptions) Decode(values url.Values, m proto.Message) error {
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return errNilMessage
	}
	p := planFor(rm.Descriptor())
	if p.err != nil {
		return p.err
	}
	if p.shape != shapeObject {
		return fmt.Errorf("%s has no query string form", p.desc.FullName())
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t, err := o.resolve(p, rm, name)
		if err != nil {
			return err
		}
		if err := t.set(name, values[name]); err != nil {
			return err
		}
	}
	return nil
}

// queryTarget is the destination of one query parameter's values: a field
// of a message, or one entry of a map field when hasKey is set.
type queryTarget struct {
	m      protoreflect.Message
	f      *fieldPlan
	key    string
	hasKey bool
}

// resolve finds the field that a parameter name refers to, descending into
// nested messages for dotted names such as "metadata.department".
func (o QueryOptions) resolve(p *messagePlan, m protoreflect.Message, name string) (queryTarget, error) {
	for prefix := ""; ; {
		head, rest, dotted := strings.Cut(name[len(prefix):], ".")
		t := p.keys[head]
		if p.err != nil || p.shape != shapeObject || t == nil || o.Omit != nil && o.Omit(t.field.fd) {
			return queryTarget{}, o.unknownParam(p, prefix, name)
		}
		m = followInline(m, t.inline)
		target, f := unwrapTarget(queryTarget{m: m, f: t.field})
		switch {
		case !dotted && f.fd.IsMap():
			return target, &QueryError{Param: name, Reason: fmt.Sprintf(
				"query parameter %q needs a key: use %s.<key>=<value>", name, name)}
		case !dotted && !f.fd.IsList() && isObject(f.value):
			return target, &QueryError{Param: name, Reason: fmt.Sprintf(
				"query parameter %q needs a field: use %s.<field>=<value>", name, name)}
		case !dotted && !queryParsable(f.value):
			return target, noQueryForm(name)
		case !dotted:
			return target, nil
		case f.fd.IsMap() && rest == "":
			return target, &QueryError{Param: name, Reason: fmt.Sprintf(
				"query parameter %q has an empty key: use %s<key>=<value>", name, name)}
		case f.fd.IsMap() && isObject(f.value):
			// A map of messages takes NAME.KEY.FIELD, so its keys end at a dot.
			key, _, hasField := strings.Cut(rest, ".")
			if !hasField {
				return target, &QueryError{Param: name, Reason: fmt.Sprintf(
					"query parameter %q needs a field: use %s.<field>=<value>", name, name)}
			}
			entry, err := mapEntryMessage(target, name, key)
			if err != nil {
				return target, err
			}
			prefix += head + "." + key + "."
			m, p = entry, f.value.msg
			continue
		case f.fd.IsMap() && !queryParsable(f.value):
			return target, noQueryForm(name)
		case f.fd.IsMap():
			target.key, target.hasKey = rest, true
			return target, nil
		case f.fd.IsList() || !isObject(f.value):
			return target, o.unknownParam(p, prefix, name)
		}
		prefix += head + "."
		m = target.m.Mutable(f.fd).Message()
		p = f.value.msg
	}
}

// queryParsable reports whether one query parameter value can be parsed
// into a value of the plan: a scalar, an enum, a timestamp, a wrapper or an
// (unwrap) message over one of them.
func queryParsable(vp valuePlan) bool {
	if vp.msg == nil {
		return true
	}
	p := vp.msg
	switch {
	case p.err != nil:
		return false
	case p.shape == shapeTimestamp || p.shape == shapeWrapper:
		return true
	case p.shape != shapeUnwrap:
		return false
	case p.single != nil:
		return !p.single.fd.IsList() && !p.single.fd.IsMap() && queryParsable(p.single.value)
	}
	for _, f := range p.members {
		if queryParsable(f.value) {
			return true
		}
	}
	return false
}

func noQueryForm(name string) *QueryError {
	return &QueryError{Param: name, Reason: fmt.Sprintf(
		"query parameter %q refers to a field that has no query string form", name)}
}

// isObject reports whether a value plan is a message written as an object.
func isObject(vp valuePlan) bool {
	return vp.msg != nil && vp.msg.err == nil && vp.msg.shape == shapeObject
}

// mapEntryMessage returns the message value of a map of messages under key,
// adding the entry when it is missing.
func mapEntryMessage(t queryTarget, name, key string) (protoreflect.Message, error) {
	k, ok := parseMapKey(t.f.fd.MapKey().Kind(), key)
	if !ok || key == "" {
		return nil, &QueryError{Param: name, Reason: fmt.Sprintf(
			"invalid key %s in query parameter %q: use %s", quoteValue(key), name,
			describeKind(valuePlan{kind: t.f.fd.MapKey().Kind()}))}
	}
	return t.m.Mutable(t.f.fd).Map().Mutable(k).Message(), nil
}

// unwrapTarget moves a target from an (unwrap) message field with a single
// inner field to that inner field, so that lists and maps inside unwrap
// messages take parameters like plain ones.
func unwrapTarget(t queryTarget) (queryTarget, *fieldPlan) {
	for {
		inner := unwrapStep(t.f)
		if inner == nil {
			return t, t.f
		}
		t = queryTarget{m: t.m.Mutable(t.f.fd).Message(), f: inner}
	}
}

// unwrapStep returns the inner field of a singular (unwrap) message field
// with a single field, or nil for any other field.
func unwrapStep(f *fieldPlan) *fieldPlan {
	if f.fd.IsList() || f.fd.IsMap() || f.value.msg == nil {
		return nil
	}
	p := f.value.msg
	if p.err != nil || p.shape != shapeUnwrap {
		return nil
	}
	return p.single
}

func followInline(m protoreflect.Message, chain []protoreflect.FieldDescriptor) protoreflect.Message {
	for _, fd := range chain {
		m = m.Mutable(fd).Message()
	}
	return m
}

func (o QueryOptions) unknownParam(p *messagePlan, prefix, name string) error {
	accepted := o.paramNames(p, prefix)
	return &QueryError{Param: name, Reason: fmt.Sprintf(
		"unknown query parameter %q: use %s", name, describeAllowed(accepted))}
}

// paramNames lists the parameter names a message takes, with <key> and
// <field> standing for map keys and the fields of nested messages.
func (o QueryOptions) paramNames(p *messagePlan, prefix string) []string {
	var names []string
	if p.err != nil || p.shape != shapeObject {
		return nil
	}
	for _, f := range p.fields {
		if o.Omit != nil && o.Omit(f.fd) {
			continue
		}
		if f.inline {
			names = append(names, o.paramNames(f.value.msg, prefix)...)
			continue
		}
		inner := f
		for next := unwrapStep(inner); next != nil; next = unwrapStep(inner) {
			inner = next
		}
		switch {
		case inner.fd.IsMap():
			names = append(names, prefix+f.name+mapParamSuffix(inner.value))
		case !inner.fd.IsList() && isObject(inner.value):
			names = append(names, prefix+f.name+".<field>")
		default:
			names = append(names, prefix+f.name)
		}
	}
	return names
}

// set parses the values of one parameter into the target.
func (t queryTarget) set(name string, values []string) error {
	f := t.f
	if f.fd.IsList() {
		l := t.m.Mutable(f.fd).List()
		for _, text := range values {
			v, err := parseQueryValue(name, f.value, text, l.NewElement)
			if err != nil {
				return err
			}
			l.Append(v)
		}
		return nil
	}
	if len(values) != 1 {
		return &QueryError{Param: name, Reason: fmt.Sprintf(
			"query parameter %q is given %d times: give it once", name, len(values))}
	}
	if t.hasKey {
		return t.setMapEntry(name, values[0])
	}
	v, err := parseQueryValue(name, f.value, values[0], func() protoreflect.Value {
		return t.m.NewField(f.fd)
	})
	if err != nil {
		return err
	}
	t.m.Set(f.fd, v)
	return nil
}

func (t queryTarget) setMapEntry(name, text string) error {
	f := t.f
	key, ok := parseMapKey(f.fd.MapKey().Kind(), t.key)
	if !ok {
		return &QueryError{Param: name, Reason: fmt.Sprintf(
			"invalid key %s in query parameter %q: use %s", quoteValue(t.key), name,
			describeKind(valuePlan{kind: f.fd.MapKey().Kind()}))}
	}
	mp := t.m.Mutable(f.fd).Map()
	v, err := parseQueryValue(name, f.value, text, mp.NewValue)
	if err != nil {
		return err
	}
	mp.Set(key, v)
	return nil
}

// parseQueryValue parses one parameter value. newMessage makes the empty
// message that a message-typed value is set in.
func parseQueryValue(
	name string,
	vp valuePlan,
	text string,
	newMessage func() protoreflect.Value,
) (protoreflect.Value, error) {
	v, ok := parseQueryText(vp, text, newMessage)
	if !ok {
		return v, invalidQueryValue(name, text, "use "+queryAccepted(vp))
	}
	return v, nil
}

func parseQueryText(
	vp valuePlan,
	text string,
	newMessage func() protoreflect.Value,
) (protoreflect.Value, bool) {
	switch vp.kind {
	case protoreflect.EnumKind:
		n, ok := vp.enum.byWire[text]
		return protoreflect.ValueOfEnum(n), ok
	case protoreflect.BytesKind:
		b, ok := decodeBase64(text)
		return protoreflect.ValueOfBytes(b), ok
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return parseQueryMessage(vp.msg, text, newMessage)
	}
	return parseScalarText(vp.kind, text)
}

// parseQueryMessage parses a value of a message type that has a single
// value: a timestamp, a wrapper or an (unwrap) message over a scalar.
func parseQueryMessage(
	p *messagePlan,
	text string,
	newMessage func() protoreflect.Value,
) (protoreflect.Value, bool) {
	if p.err != nil {
		return protoreflect.Value{}, false
	}
	v := newMessage()
	m := v.Message()
	switch p.shape {
	case shapeTimestamp:
		seconds, nanos, ok := parseTimestamp(text)
		m.Set(fieldOf(m, timestampSeconds), protoreflect.ValueOfInt64(seconds))
		m.Set(fieldOf(m, timestampNanos), protoreflect.ValueOfInt32(nanos))
		return v, ok
	case shapeWrapper:
		return v, setQueryField(p.single, m, text)
	case shapeUnwrap:
		if p.single != nil {
			return v, setQueryField(p.single, m, text)
		}
		for _, f := range p.members {
			if setQueryField(f, m, text) {
				return v, true
			}
		}
	}
	return v, false
}

func setQueryField(f *fieldPlan, m protoreflect.Message, text string) bool {
	if f.fd.IsList() || f.fd.IsMap() {
		return false
	}
	inner, ok := parseQueryText(f.value, text, func() protoreflect.Value { return m.NewField(f.fd) })
	if ok {
		m.Set(f.fd, inner)
	}
	return ok
}

// queryAccepted describes the values a parameter of the value plan takes,
// for error messages.
func queryAccepted(vp valuePlan) string {
	switch vp.kind {
	case protoreflect.BoolKind:
		return "true or false"
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return intRange(32)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return intRange(64)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return uintRange(32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return uintRange(64)
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return "a number such as 1.5"
	case protoreflect.BytesKind:
		return "a base64 string"
	case protoreflect.EnumKind:
		return describeAllowed(vp.enum.wires)
	}
	if vp.msg == nil || vp.msg.err != nil {
		return "a value"
	}
	switch vp.msg.shape {
	case shapeTimestamp:
		return "an RFC 3339 timestamp such as 2026-02-14T10:30:00.000Z"
	case shapeWrapper:
		return queryAccepted(vp.msg.single.value)
	case shapeUnwrap:
		if vp.msg.single != nil {
			return queryAccepted(vp.msg.single.value)
		}
		accepted := make([]string, len(vp.msg.members))
		for i, f := range vp.msg.members {
			accepted[i] = queryAccepted(f.value)
		}
		return strings.Join(accepted, " or ")
	}
	return "a value of " + strconv.Quote(string(vp.msg.desc.FullName()))
}

// mapParamSuffix returns the placeholder that follows a map field's name in
// an error message: ".<key>", or ".<key>.<field>" for a map of messages.
func mapParamSuffix(vp valuePlan) string {
	if isObject(vp) {
		return ".<key>.<field>"
	}
	return ".<key>"
}
