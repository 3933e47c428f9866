package server

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// restQueryParser reads query strings with the upstream's parameter names
// (limit, startAfter, url_ttl, includeDisabled, metadata.<key>, ...) and
// value forms (lowercase enum strings, RFC 3339 timestamps with any
// offset) through jsonmap.DecodeQuery. Like the upstream it ignores
// parameters that the operation does not take and reads the first value of
// a parameter given twice. A value that does not parse is an error whose
// message names the parameter.
type restQueryParser struct{}

var _ runtime.QueryParameterParser = restQueryParser{}

// Parse sets the fields of msg from values. The filter lists the fields
// already bound to the path or the body, which the query cannot change.
func (restQueryParser) Parse(
	msg proto.Message,
	values url.Values,
	filter *utilities.DoubleArray,
) error {
	m := msg.ProtoReflect()
	md := m.Descriptor()
	kept := make(url.Values, len(values))
	var emptyKeys []emptyKeyFilter
	for name, vs := range values {
		fd, ok := queryField(md, name)
		if !ok || len(vs) == 0 || isFiltered(filter, fd) {
			continue
		}
		switch {
		case fd.IsList():
			kept[name] = vs
		case fd.Kind() == protoreflect.BoolKind && vs[0] == "":
			// An empty boolean means its default, false, as the simulated
			// upstream reads it.
			continue
		case fd.IsMap() && name == fd.JSONName()+"." && fd.MapValue().Kind() == protoreflect.StringKind:
			// jsonmap rejects an empty key, which the upstream judges
			// itself, so it is set here and sent on.
			emptyKeys = append(emptyKeys, emptyKeyFilter{field: fd, value: vs[0]})
		default:
			kept[name] = vs[:1]
		}
	}
	if err := jsonmap.DecodeQuery(kept, msg); err != nil {
		return queryError(md, kept, err)
	}
	for _, f := range emptyKeys {
		entries := m.Mutable(f.field).Map()
		entries.Set(protoreflect.ValueOfString("").MapKey(), protoreflect.ValueOfString(f.value))
	}
	return nil
}

// isFiltered reports whether fd is bound to the path or the body.
func isFiltered(filter *utilities.DoubleArray, fd protoreflect.FieldDescriptor) bool {
	return filter != nil && filter.HasCommonPrefix([]string{string(fd.Name())})
}

// emptyKeyFilter is a "metadata.=<value>" parameter: a map entry with an
// empty key.
type emptyKeyFilter struct {
	field protoreflect.FieldDescriptor
	value string
}

// queryField returns the field that a query parameter sets: the field
// whose JSON name is name, or the map field of a "metadata.<key>" name.
// Fields carried in a header are never query parameters, and a map field
// needs a key.
func queryField(
	md protoreflect.MessageDescriptor,
	name string,
) (protoreflect.FieldDescriptor, bool) {
	head, _, dotted := strings.Cut(name, ".")
	fd := md.Fields().ByJSONName(head)
	if fd == nil || dotted != fd.IsMap() {
		return nil, false
	}
	if header, _ := proto.GetExtension(fd.Options(), groundcamv1.E_HttpHeader).(string); header != "" {
		return nil, false
	}
	return fd, true
}

// queryError rewrites a query error in the upstream's words where they are
// known: "role must be one of: owner, admin, agent, viewer" for an enum,
// "includeDisabled must be true or false, got \"maybe\"" for a boolean and
// "createdAfter must be an ISO 8601 timestamp such as ..." for a time.
// Other errors keep jsonmap's message, which names the parameter.
func queryError(md protoreflect.MessageDescriptor, values url.Values, err error) error {
	var qerr *jsonmap.QueryError
	if !errors.As(err, &qerr) {
		return err
	}
	fd, ok := queryField(md, qerr.Param)
	if !ok || fd.IsMap() || fd.IsList() {
		return err
	}
	value := values.Get(qerr.Param)
	switch {
	case fd.Enum() != nil:
		return errors.New(enumMessage(qerr.Param, fd.Enum()))
	case fd.Kind() == protoreflect.BoolKind:
		return fmt.Errorf("%s must be true or false, got %q", qerr.Param, value)
	case fd.Message() != nil && fd.Message().FullName() == "google.protobuf.Timestamp":
		return fmt.Errorf("%s must be an ISO 8601 timestamp such as 2026-03-12T10:30:00.000Z, got %q",
			qerr.Param, value)
	}
	return err
}

// enumMessage returns the contract's message for a value outside an enum,
// "<name> must be one of: <wire values>".
func enumMessage(name string, ed protoreflect.EnumDescriptor) string {
	values := ed.Values()
	wires := make([]string, 0, values.Len())
	for i := 0; i < values.Len(); i++ {
		wire, _ := proto.GetExtension(values.Get(i).Options(), groundcamv1.E_WireValue).(string)
		if wire != "" {
			wires = append(wires, wire)
		}
	}
	return name + " must be one of: " + strings.Join(wires, ", ")
}
