package upstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sigs.k8s.io/yaml"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	protofiles "github.com/groundcam/groundcam-gateway/proto"
)

// Route is the upstream REST operation behind one RPC, resolved from its
// HTTP rule and its method options.
type Route struct {
	// Method is the RPC's descriptor.
	Method protoreflect.MethodDescriptor
	// HTTPMethod is the upstream's HTTP method, such as "GET".
	HTTPMethod string
	// Template is the path with the /v1 prefix and {field} placeholders,
	// such as "/v1/sessions/{id}". It names the route in spans and metrics.
	Template string
	// Body is "*" when the request fields not bound to the path form the
	// JSON body, and "" when the request has no body.
	Body string
	// ResponseBody is the response field that holds the upstream's "data"
	// value, or nil when the whole response message is that value.
	ResponseBody protoreflect.FieldDescriptor
	// Operation holds the method's operation options; never nil.
	Operation *groundcamv1.Operation

	output     protoreflect.MessageType
	segments   []segment
	pathFields map[protoreflect.FieldNumber]bool
	headers    []headerField
}

// segment is one piece of a path template: a literal or a field reference.
type segment struct {
	literal string
	field   protoreflect.FieldDescriptor
}

// headerField is a request field carried in an HTTP header.
type headerField struct {
	field protoreflect.FieldDescriptor
	name  string
}

// Name returns the route's method and template, such as
// "GET /v1/sessions/{id}", the form used in span names and metric labels.
func (r *Route) Name() string {
	return r.HTTPMethod + " " + r.Template
}

// SuccessStatus returns the HTTP status of a successful upstream response.
func (r *Route) SuccessStatus() int {
	if s := r.Operation.GetSuccessStatus(); s != 0 {
		return int(s)
	}
	return http.StatusOK
}

// Routes maps full method names ("groundcam.v1.SessionService.GetSession")
// to their routes.
type Routes struct {
	byMethod map[protoreflect.FullName]*Route
}

// LoadRoutes parses the embedded HTTP rules and resolves every rule against
// the generated descriptors.
func LoadRoutes() (*Routes, error) {
	return ParseRoutes(protofiles.HTTPRules, protoregistry.GlobalFiles)
}

// ParseRoutes parses a google.api.Service YAML document and resolves its
// HTTP rules against files.
func ParseRoutes(doc []byte, files *protoregistry.Files) (*Routes, error) {
	var service struct {
		HTTP struct {
			Rules []json.RawMessage `json:"rules"`
		} `json:"http"`
	}
	raw, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("parse http rules: %w", err)
	}
	if err := json.Unmarshal(raw, &service); err != nil {
		return nil, fmt.Errorf("parse http rules: %w", err)
	}

	routes := &Routes{byMethod: make(map[protoreflect.FullName]*Route)}
	for i, msg := range service.HTTP.Rules {
		rule := new(annotations.HttpRule)
		if err := protojson.Unmarshal(msg, rule); err != nil {
			return nil, fmt.Errorf("parse http rule %d: %w", i, err)
		}
		route, err := resolveRoute(rule, files)
		if err != nil {
			return nil, fmt.Errorf("http rule %q: %w", rule.GetSelector(), err)
		}
		if _, dup := routes.byMethod[route.Method.FullName()]; dup {
			return nil, fmt.Errorf("http rule %q: duplicate selector", rule.GetSelector())
		}
		routes.byMethod[route.Method.FullName()] = route
	}
	return routes, nil
}

// Lookup returns the route of a method.
func (rs *Routes) Lookup(method protoreflect.FullName) (*Route, bool) {
	r, ok := rs.byMethod[method]
	return r, ok
}

// All returns every route, in no particular order.
func (rs *Routes) All() []*Route {
	out := make([]*Route, 0, len(rs.byMethod))
	for _, r := range rs.byMethod {
		out = append(out, r)
	}
	return out
}

func resolveRoute(rule *annotations.HttpRule, files *protoregistry.Files) (*Route, error) {
	desc, err := files.FindDescriptorByName(protoreflect.FullName(rule.GetSelector()))
	if err != nil {
		return nil, fmt.Errorf("find method: %w", err)
	}
	method, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return nil, fmt.Errorf("selector names a %T, not a method", desc)
	}

	route := &Route{
		Method:     method,
		Body:       rule.GetBody(),
		Operation:  OperationOf(method),
		pathFields: make(map[protoreflect.FieldNumber]bool),
	}
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		route.HTTPMethod, route.Template = http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		route.HTTPMethod, route.Template = http.MethodPost, p.Post
	case *annotations.HttpRule_Patch:
		route.HTTPMethod, route.Template = http.MethodPatch, p.Patch
	case *annotations.HttpRule_Put:
		route.HTTPMethod, route.Template = http.MethodPut, p.Put
	case *annotations.HttpRule_Delete:
		route.HTTPMethod, route.Template = http.MethodDelete, p.Delete
	default:
		return nil, fmt.Errorf("unsupported pattern %T", p)
	}
	if route.Body != "" && route.Body != "*" {
		return nil, fmt.Errorf("body %q: only \"*\" or no body is supported", route.Body)
	}

	if route.output, err = protoregistry.GlobalTypes.FindMessageByName(method.Output().FullName()); err != nil {
		return nil, fmt.Errorf("find response type: %w", err)
	}
	input := method.Input()
	if err := route.parseTemplate(input); err != nil {
		return nil, err
	}
	if name := rule.GetResponseBody(); name != "" {
		fd := method.Output().Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			return nil, fmt.Errorf("response_body %q is not a field of %s", name, method.Output().FullName())
		}
		route.ResponseBody = fd
	}
	fields := input.Fields()
	for i := 0; i < fields.Len(); i++ {
		if name := HeaderName(fields.Get(i)); name != "" {
			route.headers = append(route.headers, headerField{field: fields.Get(i), name: name})
		}
	}
	return route, nil
}

// parseTemplate splits the template into literals and {field} references
// that name top-level scalar fields of the input message.
func (r *Route) parseTemplate(input protoreflect.MessageDescriptor) error {
	rest := r.Template
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			r.segments = append(r.segments, segment{literal: rest})
			break
		}
		if open > 0 {
			r.segments = append(r.segments, segment{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return fmt.Errorf("path %q: unclosed {", r.Template)
		}
		name := rest[open+1 : open+end]
		fd := input.Fields().ByName(protoreflect.Name(name))
		if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
			return fmt.Errorf("path %q: {%s} is not a string field of %s", r.Template, name, input.FullName())
		}
		r.segments = append(r.segments, segment{field: fd})
		r.pathFields[fd.Number()] = true
		rest = rest[open+end+1:]
	}
	return nil
}

// newResponse returns an empty message of the method's response type.
func (r *Route) newResponse() proto.Message {
	return r.output.New().Interface()
}

// OperationOf returns the operation options of a method, or an empty
// Operation when it declares none.
func OperationOf(method protoreflect.MethodDescriptor) *groundcamv1.Operation {
	op, _ := proto.GetExtension(method.Options(), groundcamv1.E_Operation).(*groundcamv1.Operation)
	if op == nil {
		return new(groundcamv1.Operation)
	}
	return op
}

// HeaderName returns the HTTP header that carries a request field, from its
// http_header option, or "" when the field travels in the body or query.
func HeaderName(fd protoreflect.FieldDescriptor) string {
	name, _ := proto.GetExtension(fd.Options(), groundcamv1.E_HttpHeader).(string)
	return name
}
