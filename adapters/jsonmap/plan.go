package jsonmap

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// messageShape is the JSON form of a message type.
type messageShape uint8

const (
	shapeObject    messageShape = iota // a JSON object with one key per field
	shapeUnwrap                        // the (unwrap) option: the value of its only field or oneof
	shapeTimestamp                     // google.protobuf.Timestamp: an RFC 3339 string
	shapeStruct                        // google.protobuf.Struct: any JSON object
	shapeValue                         // google.protobuf.Value: any JSON value
	shapeListValue                     // google.protobuf.ListValue: any JSON array
	shapeWrapper                       // google.protobuf.*Value wrappers: the wrapped value
)

// messagePlan is the JSON layout of one message type, computed once from its
// descriptor and options and then shared by every encode and decode.
type messagePlan struct {
	desc  protoreflect.MessageDescriptor
	shape messageShape
	// err is set when the options of the message are inconsistent or its
	// type has no JSON mapping. It is returned when the message is encoded or
	// decoded, so one bad message type does not break unrelated ones.
	err error

	// fields are the fields of an object in declaration order, without
	// http_header fields.
	fields []*fieldPlan
	// keys maps each JSON key of an object to its field, including the keys
	// that inline fields bring in.
	keys map[string]*keyTarget

	// single is the one field of an unwrap message without a oneof, or the
	// value field of a wrapper.
	single *fieldPlan
	// members are the oneof members of an unwrap message over a oneof.
	members []*fieldPlan
	// nullIsEmpty is set on unwrap messages whose inner field tracks
	// presence: decoding JSON null gives a set, empty message.
	nullIsEmpty bool

	// indexState tracks the building of keys, to detect inline cycles.
	indexState indexState
}

// indexState is how far the keys of an object plan are built.
type indexState uint8

const (
	keysPending indexState = iota
	keysBuilding
	keysDone
)

// keyTarget is the field that a JSON key of an object decodes into.
type keyTarget struct {
	// index is unique among the keys of one object and detects duplicates.
	index int
	// inline is the chain of inline message fields, from the enclosing
	// message down, that holds the field; empty for a direct field.
	inline []protoreflect.FieldDescriptor
	field  *fieldPlan
}

// fieldPlan is the JSON layout of one field.
type fieldPlan struct {
	fd   protoreflect.FieldDescriptor
	name string
	// key is the quoted JSON name followed by a colon, ready to append.
	key      []byte
	nullable bool
	inline   bool
	header   bool
	// value describes a singular value, a list element or a map value.
	value valuePlan
}

// valuePlan describes one value of a field: its kind and, for enums and
// messages, their plans.
type valuePlan struct {
	kind protoreflect.Kind
	enum *enumPlan
	msg  *messagePlan
}

// enumPlan maps the numbers of an enum type to their wire_value strings.
type enumPlan struct {
	desc protoreflect.EnumDescriptor
	// names and quoted hold the wire_value of each number, plain and as a
	// JSON string. Numbers without a wire_value are missing.
	names    map[protoreflect.EnumNumber]string
	quoted   map[protoreflect.EnumNumber][]byte
	byWire   map[string]protoreflect.EnumNumber
	wires    []string
	fullName string
}

var (
	// plans caches message plans by descriptor. The key is the descriptor
	// itself rather than its full name, because two descriptors with one
	// name (such as descriptors built at run time) may carry other options.
	plans     sync.Map
	enumPlans sync.Map
	// buildMu serializes plan building so that a cycle of message types is
	// built once and published complete.
	buildMu sync.Mutex
)

// planFor returns the plan of a message type, building and caching it and
// the plans of every message type it refers to on first use.
func planFor(md protoreflect.MessageDescriptor) *messagePlan {
	if p, ok := plans.Load(md); ok {
		return p.(*messagePlan)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := plans.Load(md); ok {
		return p.(*messagePlan)
	}
	b := &planBuilder{built: make(map[protoreflect.MessageDescriptor]*messagePlan)}
	p := b.message(md)

	// Keys are built once every plan has its fields, because an inline field
	// may refer to a message whose plan was still being filled.
	for _, built := range b.built {
		b.index(built)
	}
	for d, built := range b.built {
		plans.Store(d, built)
	}
	return p
}

// planBuilder collects the plans of one build so that cyclic message types
// refer to each other's plans.
type planBuilder struct {
	built map[protoreflect.MessageDescriptor]*messagePlan
}

func (b *planBuilder) message(md protoreflect.MessageDescriptor) *messagePlan {
	if p, ok := plans.Load(md); ok {
		return p.(*messagePlan)
	}
	if p, ok := b.built[md]; ok {
		return p
	}
	p := &messagePlan{desc: md}
	b.built[md] = p

	switch wellKnownShape(md) {
	case shapeTimestamp:
		p.shape = shapeTimestamp
	case shapeStruct:
		p.shape = shapeStruct
	case shapeValue:
		p.shape = shapeValue
	case shapeListValue:
		p.shape = shapeListValue
	case shapeWrapper:
		p.shape = shapeWrapper
		p.single = b.field(md.Fields().ByNumber(1))
	default:
		if reason := unsupportedWellKnown(md); reason != "" {
			p.err = fmt.Errorf("%s %s", md.FullName(), reason)
			return p
		}
		b.fill(p)
	}
	return p
}

// fill lays out an object or unwrap message from its fields and options.
func (b *planBuilder) fill(p *messagePlan) {
	md := p.desc
	fds := md.Fields()
	for i := range fds.Len() {
		f := b.field(fds.Get(i))
		if f.header {
			continue
		}
		p.fields = append(p.fields, f)
	}
	if messageBool(md, groundcamv1.E_Unwrap) {
		p.shape = shapeUnwrap
		if err := p.layOutUnwrap(); err != nil {
			p.err = fmt.Errorf("message %s: (unwrap): %w", md.FullName(), err)
		}
		return
	}
}

// index builds the keys of an object plan after building those of its
// inline fields' plans.
func (b *planBuilder) index(p *messagePlan) {
	if p.err != nil || p.shape != shapeObject || p.indexState != keysPending {
		return
	}
	p.indexState = keysBuilding
	if err := b.indexKeys(p); err != nil {
		p.err = fmt.Errorf("message %s: %w", p.desc.FullName(), err)
	}
	p.indexState = keysDone
}

// layOutUnwrap checks that an unwrap message has one field or one oneof and
// records which.
func (p *messagePlan) layOutUnwrap() error {
	if len(p.fields) == 0 {
		return fmt.Errorf("the message has no field to unwrap")
	}
	od := p.fields[0].fd.ContainingOneof()
	inRealOneof := od != nil && !od.IsSynthetic()
	if len(p.fields) == 1 && !inRealOneof {
		p.single = p.fields[0]
		p.nullIsEmpty = p.single.fd.HasPresence()
		return nil
	}
	if !inRealOneof {
		return fmt.Errorf("the message must have exactly one field or one oneof")
	}
	for _, f := range p.fields {
		if f.fd.ContainingOneof() != od {
			return fmt.Errorf("field %s is outside oneof %s", f.fd.Name(), od.Name())
		}
	}
	p.members = p.fields
	p.nullIsEmpty = true
	return nil
}

// indexKeys fills p.keys from the fields of an object message and from the
// fields of its inline message fields.
func (b *planBuilder) indexKeys(p *messagePlan) error {
	p.keys = make(map[string]*keyTarget, len(p.fields))
	for _, f := range p.fields {
		if !f.inline {
			if err := p.addKey(f.name, &keyTarget{field: f}); err != nil {
				return err
			}
			continue
		}
		inner, err := b.inlinePlan(f)
		if err != nil {
			return err
		}
		for name, t := range inner.keys {
			chain := append([]protoreflect.FieldDescriptor{f.fd}, t.inline...)
			if err := p.addKey(name, &keyTarget{inline: chain, field: t.field}); err != nil {
				return err
			}
		}
	}
	return nil
}

// inlinePlan returns the plan of an inline field's message after checking
// that it can be merged into the enclosing object.
func (b *planBuilder) inlinePlan(f *fieldPlan) (*messagePlan, error) {
	fd := f.fd
	if fd.Kind() != protoreflect.MessageKind || fd.IsList() || fd.IsMap() {
		return nil, fmt.Errorf("field %s: (inline) needs a singular message field", fd.Name())
	}
	inner := f.value.msg
	b.index(inner)
	switch {
	case inner.indexState == keysBuilding:
		return nil, fmt.Errorf("field %s: (inline) forms a cycle", fd.Name())
	case inner.err != nil:
		return nil, fmt.Errorf("field %s: %w", fd.Name(), inner.err)
	case inner.shape != shapeObject:
		return nil, fmt.Errorf("field %s: (inline) needs a message written as an object", fd.Name())
	}
	return inner, nil
}

func (p *messagePlan) addKey(name string, t *keyTarget) error {
	if _, dup := p.keys[name]; dup {
		return fmt.Errorf("two fields have the JSON name %q", name)
	}
	t.index = len(p.keys)
	p.keys[name] = t
	return nil
}

// field builds the plan of one field, reading its options once.
func (b *planBuilder) field(fd protoreflect.FieldDescriptor) *fieldPlan {
	f := &fieldPlan{
		fd:       fd,
		name:     fd.JSONName(),
		nullable: fieldBool(fd, groundcamv1.E_Nullable),
		inline:   fieldBool(fd, groundcamv1.E_Inline),
		header:   fieldString(fd, groundcamv1.E_HttpHeader) != "",
	}
	f.key = appendString(nil, f.name)
	f.key = append(f.key, ':')
	vd := fd
	if fd.IsMap() {
		vd = fd.MapValue()
	}
	f.value = b.value(vd)
	return f
}

func (b *planBuilder) value(fd protoreflect.FieldDescriptor) valuePlan {
	v := valuePlan{kind: fd.Kind()}
	switch fd.Kind() {
	case protoreflect.EnumKind:
		v.enum = enumPlanFor(fd.Enum())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		v.msg = b.message(fd.Message())
	}
	return v
}

// enumPlanFor returns the plan of an enum type, building it on first use.
// The caller holds buildMu.
func enumPlanFor(ed protoreflect.EnumDescriptor) *enumPlan {
	if p, ok := enumPlans.Load(ed); ok {
		return p.(*enumPlan)
	}
	p := &enumPlan{
		desc:     ed,
		names:    make(map[protoreflect.EnumNumber]string),
		quoted:   make(map[protoreflect.EnumNumber][]byte),
		byWire:   make(map[string]protoreflect.EnumNumber),
		fullName: string(ed.FullName()),
	}
	values := ed.Values()
	for i := range values.Len() {
		ev := values.Get(i)
		wire := enumValueString(ev)
		if wire == "" {
			continue
		}
		p.names[ev.Number()] = wire
		p.quoted[ev.Number()] = appendString(nil, wire)
		if _, dup := p.byWire[wire]; dup {
			continue // an alias: the first number with this wire_value decodes
		}
		p.byWire[wire] = ev.Number()
		p.wires = append(p.wires, wire)
	}
	enumPlans.Store(ed, p)
	return p
}

// wellKnownShape returns the shape of the well-known types with a JSON
// mapping, or shapeObject for every other message.
func wellKnownShape(md protoreflect.MessageDescriptor) messageShape {
	switch md.FullName() {
	case "google.protobuf.Timestamp":
		return shapeTimestamp
	case "google.protobuf.Struct":
		return shapeStruct
	case "google.protobuf.Value":
		return shapeValue
	case "google.protobuf.ListValue":
		return shapeListValue
	case "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
		"google.protobuf.Int64Value", "google.protobuf.UInt64Value",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value",
		"google.protobuf.BoolValue", "google.protobuf.StringValue",
		"google.protobuf.BytesValue":
		return shapeWrapper
	}
	return shapeObject
}

// unsupportedWellKnown returns why a well-known type has no mapping here, or
// "" for a type that maps as a plain object.
func unsupportedWellKnown(md protoreflect.MessageDescriptor) string {
	switch md.FullName() {
	case "google.protobuf.Duration":
		return "has no GroundCam JSON mapping: use a number of seconds instead"
	case "google.protobuf.Any", "google.protobuf.FieldMask":
		return "has no GroundCam JSON mapping"
	}
	return ""
}

func fieldBool(fd protoreflect.FieldDescriptor, xt protoreflect.ExtensionType) bool {
	v, _ := proto.GetExtension(fd.Options(), xt).(bool)
	return v
}

func fieldString(fd protoreflect.FieldDescriptor, xt protoreflect.ExtensionType) string {
	v, _ := proto.GetExtension(fd.Options(), xt).(string)
	return v
}

func messageBool(md protoreflect.MessageDescriptor, xt protoreflect.ExtensionType) bool {
	v, _ := proto.GetExtension(md.Options(), xt).(bool)
	return v
}

func enumValueString(ev protoreflect.EnumValueDescriptor) string {
	v, _ := proto.GetExtension(ev.Options(), groundcamv1.E_WireValue).(string)
	return v
}
