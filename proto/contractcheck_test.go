package proto

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// contractOperation is one operation of the upstream OpenAPI contract.
type contractOperation struct {
	id     string
	method string         // upper case, such as "GET"
	path   string         // contract path without the /v1 server prefix
	spec   map[string]any // the operation object
}

// direction selects the presence rules of a message: those of a request,
// whose unset fields are never sent, or those of a response.
type direction int

const (
	request direction = iota
	response
)

// alwaysWritten lists plain fields whose contract properties are not marked
// required. They belong to messages kept as first published (types.proto,
// agents.proto), and every example in the contract writes them: the error
// object's message and code, the pagination block and the agent count.
var alwaysWritten = map[protoreflect.FullName]bool{
	"groundcam.v1.ErrorBody.message":        true,
	"groundcam.v1.ErrorBody.code":           true,
	"groundcam.v1.Pagination.limit":         true,
	"groundcam.v1.Pagination.has_more":      true,
	"groundcam.v1.ListAgentsResponse.total": true,
}

// operationCheck collects the differences between one contract operation and
// the RPC that mirrors it, as readable problems.
type operationCheck struct {
	doc      map[string]any
	problems []string
}

// checkOperation compares an RPC, its (operation) option and its http.yaml
// rule with the contract operation op, and returns every difference found.
func checkOperation(
	doc map[string]any,
	op contractOperation,
	md protoreflect.MethodDescriptor,
	rule httpRule,
) []string {
	c := &operationCheck{doc: doc}
	c.checkRoute(op, rule)
	c.checkSuccessStatus(op, md)
	bound := c.checkParameters(op, md.Input())
	c.checkRequestBody(op, md.Input(), rule, bound)
	c.checkResponse(op, md.Output(), rule)
	return c.problems
}

func (c *operationCheck) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// contractOperations lists the operations of the contract's paths, sorted by
// operationId.
func contractOperations(doc map[string]any) ([]contractOperation, error) {
	var ops []contractOperation
	for path, item := range asMap(doc["paths"]) {
		for method, spec := range asMap(item) {
			switch method {
			case "get", "put", "post", "patch", "delete":
			default:
				continue
			}
			id, _ := asMap(spec)["operationId"].(string)
			if id == "" {
				return nil, fmt.Errorf("%s %s has no operationId", method, path)
			}
			ops = append(ops, contractOperation{
				id:     id,
				method: strings.ToUpper(method),
				path:   path,
				spec:   asMap(spec),
			})
		}
	}
	slices.SortFunc(ops, func(a, b contractOperation) int { return strings.Compare(a.id, b.id) })
	return ops, nil
}

func (c *operationCheck) checkRoute(op contractOperation, rule httpRule) {
	method, path, err := rule.route()
	if err != nil {
		c.addf("http rule %s: %v", rule.Selector, err)
		return
	}
	wantPath := "/v1" + op.path
	if method != op.method || path != wantPath {
		c.addf("route: http.yaml has %s %s, the contract has %s %s", method, path, op.method, wantPath)
	}
	if got, want := pathVariables(path), pathVariables(wantPath); !slices.Equal(got, want) {
		c.addf("route: path parameters %v, the contract has %v", got, want)
	}
}

func (c *operationCheck) checkSuccessStatus(
	op contractOperation,
	md protoreflect.MethodDescriptor,
) {
	codes := successCodes(op.spec)
	if len(codes) != 1 {
		c.addf("responses: %d success statuses %v, want exactly 1", len(codes), codes)
		return
	}
	want, _ := strconv.Atoi(codes[0])
	if want == 200 {
		want = 0
	}
	if got := operationOf(md).GetSuccessStatus(); int(got) != want {
		c.addf("(operation).success_status is %d, want %d for HTTP %s", got, want, codes[0])
	}
}

// checkParameters checks the path, query and header parameters and returns
// the names of the input fields they bind.
func (c *operationCheck) checkParameters(
	op contractOperation,
	in protoreflect.MessageDescriptor,
) map[protoreflect.Name]bool {
	bound := make(map[protoreflect.Name]bool)
	for _, raw := range asSlice(op.spec["parameters"]) {
		param := c.resolve(asMap(raw))
		name, _ := param["name"].(string)
		required := param["required"] == true
		schema := c.resolve(asMap(param["schema"]))
		where := fmt.Sprintf("%s parameter %q", param["in"], name)

		var f protoreflect.FieldDescriptor
		switch param["in"] {
		case "path", "query":
			f = c.queryField(in, name, where)
			if f != nil && !strings.HasSuffix(name, ".*") {
				c.checkValue(schema, f, where, required || param["in"] == "path", request)
			}
		case "header":
			f = headerField(in, name)
			if f == nil {
				c.addf("%s: no field of %s has (http_header) = %q", where, in.FullName(), name)
			} else {
				c.checkValue(schema, f, where, required, request)
			}
		default:
			c.addf("%s: unknown location", where)
		}
		if f != nil {
			bound[f.Name()] = true
		}
	}

	// Without a body every input field must be a parameter, or the upstream
	// client would have nowhere to put it.
	if _, hasBody := op.spec["requestBody"]; !hasBody {
		for _, f := range fieldsOf(in) {
			if !bound[f.Name()] {
				c.addf("request: field %s is no parameter of the operation", f.FullName())
			}
		}
	}
	return bound
}

// queryField finds the field of a path or query parameter by JSON name. A
// "prefix.*" parameter must be a map<string, string> field named prefix.
func (c *operationCheck) queryField(
	in protoreflect.MessageDescriptor,
	name, where string,
) protoreflect.FieldDescriptor {
	prefix, isMap := strings.CutSuffix(name, ".*")
	f := in.Fields().ByJSONName(prefix)
	switch {
	case f == nil:
		c.addf("%s: no field of %s has JSON name %q", where, in.FullName(), prefix)
	case header(f) != "":
		c.addf("%s: field %s is an HTTP header", where, f.FullName())
	case isMap && (!f.IsMap() || f.MapKey().Kind() != protoreflect.StringKind ||
		f.MapValue().Kind() != protoreflect.StringKind):
		c.addf("%s: field %s must be a map<string, string>", where, f.FullName())
	}
	return f
}

func (c *operationCheck) checkRequestBody(
	op contractOperation,
	in protoreflect.MessageDescriptor,
	rule httpRule,
	bound map[protoreflect.Name]bool,
) {
	body, hasBody := op.spec["requestBody"]
	if !hasBody {
		if rule.Body != "" {
			c.addf("request: http.yaml sets body %q but the operation takes no body", rule.Body)
		}
		return
	}
	if rule.Body != "*" {
		c.addf("request: http.yaml sets body %q, want \"*\"", rule.Body)
		return
	}
	schema := c.resolve(jsonSchema(body))
	notInBody := func(f protoreflect.FieldDescriptor) bool { return bound[f.Name()] }
	c.checkObject(schema, in, "request body", request, notInBody)
}

func (c *operationCheck) checkResponse(
	op contractOperation,
	out protoreflect.MessageDescriptor,
	rule httpRule,
) {
	codes := successCodes(op.spec)
	if len(codes) == 0 {
		return
	}
	envelope := c.resolve(jsonSchema(asMap(op.spec["responses"])[codes[0]]))
	data := c.resolve(asMap(asMap(envelope["properties"])["data"]))
	if len(data) == 0 {
		c.addf("response: HTTP %s has no data property", codes[0])
		return
	}

	target := out
	if rule.ResponseBody != "" {
		f := out.Fields().ByName(protoreflect.Name(rule.ResponseBody))
		if f == nil || f.Message() == nil || f.IsList() {
			c.addf("response: response_body %q is no message field of %s", rule.ResponseBody, out.FullName())
			return
		}
		if out.Fields().Len() != 1 {
			c.addf("response: %s has fields besides response_body %q, which the data object would drop",
				out.FullName(), rule.ResponseBody)
		}
		target = f.Message()
	}
	c.checkObject(data, target, "response data", response, nil)
}

// checkObject checks that every property of an object schema has a field of
// msg with that JSON name, and that every field of msg is a property. Fields
// for which skip returns true are not part of the object.
func (c *operationCheck) checkObject(
	schema map[string]any,
	msg protoreflect.MessageDescriptor,
	path string,
	dir direction,
	skip func(protoreflect.FieldDescriptor) bool,
) {
	props := asMap(schema["properties"])
	if props == nil {
		return // a free-form object: any message fits
	}
	required := make(map[string]bool)
	for _, name := range asSlice(schema["required"]) {
		required[fmt.Sprint(name)] = true
	}
	fields := jsonFields(msg)

	for _, name := range slices.Sorted(maps.Keys(props)) {
		f, ok := fields[name]
		if !ok || (skip != nil && skip(f)) {
			c.addf("%s: property %q has no field in %s", path, name, msg.FullName())
			continue
		}
		c.checkValue(asMap(props[name]), f, path+"."+name, required[name], dir)
	}
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if _, ok := props[name]; !ok && (skip == nil || !skip(fields[name])) {
			c.addf("%s: field %s has no property %q in the contract", path, fields[name].FullName(), name)
		}
	}
}

// checkValue checks one property or parameter against its field: presence,
// nullability, type and, for objects and arrays, their own properties.
func (c *operationCheck) checkValue(
	raw map[string]any,
	f protoreflect.FieldDescriptor,
	path string,
	required bool,
	dir direction,
) {
	schema := c.resolve(raw)
	c.checkPresence(schema, f, path, required, dir)

	typ, _ := schema["type"].(string)
	switch {
	case schema["format"] == "date-time":
		if f.Message() == nil || f.Message().FullName() != "google.protobuf.Timestamp" {
			c.addf("%s: date-time field %s must be a google.protobuf.Timestamp", path, f.FullName())
		}
	case typ == "array":
		c.checkArray(schema, f, path, dir)
	case typ == "object" || schema["properties"] != nil:
		c.checkMessage(schema, f, path, dir)
	default:
		c.checkScalar(schema, valueField(f), path)
	}
}

func (c *operationCheck) checkPresence(
	schema map[string]any,
	f protoreflect.FieldDescriptor,
	path string,
	required bool,
	dir direction,
) {
	if f.IsList() || f.IsMap() {
		return
	}
	nullable := schema["nullable"] == true
	wrapper := f.Message() != nil && isUnwrap(f.Message())
	scalar := f.Message() == nil && f.Enum() == nil

	switch {
	case required && f.Message() == nil && f.HasPresence():
		c.addf("%s: required, so field %s must not be optional", path, f.FullName())
	case !required && scalar && !f.HasPresence() && !alwaysWritten[f.FullName()]:
		c.addf("%s: not required, so field %s must be optional", path, f.FullName())
	}
	if dir == request {
		if isNullable(f) {
			c.addf("%s: request field %s must not be (nullable): an unset field would be sent as null",
				path, f.FullName())
		}
		if nullable && !wrapper {
			c.addf("%s: nullable, so field %s needs a three-state wrapper such as NullableString",
				path, f.FullName())
		}
		return
	}
	if nullable && !isNullable(f) && !wrapper {
		c.addf("%s: nullable, so field %s needs [(nullable) = true]", path, f.FullName())
	}
	if !nullable && isNullable(f) {
		c.addf("%s: not nullable, so field %s must not be (nullable)", path, f.FullName())
	}
}

func (c *operationCheck) checkArray(
	schema map[string]any,
	f protoreflect.FieldDescriptor,
	path string,
	dir direction,
) {
	list := f
	if !f.IsList() && f.Message() != nil && isUnwrap(f.Message()) {
		list = valueField(f)
	}
	if !list.IsList() {
		c.addf("%s: array, so field %s must be repeated or a list wrapper", path, f.FullName())
		return
	}
	items := c.resolve(asMap(schema["items"]))
	if asMap(items["properties"]) != nil {
		if list.Message() == nil {
			c.addf("%s[]: object items, so field %s must be a message list", path, list.FullName())
			return
		}
		c.checkObject(items, list.Message(), path+"[]", dir, nil)
		return
	}
	c.checkScalar(items, list, path+"[]")
}

func (c *operationCheck) checkMessage(
	schema map[string]any,
	f protoreflect.FieldDescriptor,
	path string,
	dir direction,
) {
	if f.Message() == nil || f.IsMap() {
		c.addf("%s: object, so field %s must be a message", path, f.FullName())
		return
	}
	if asMap(schema["properties"]) != nil {
		c.checkObject(schema, f.Message(), path, dir, nil)
		return
	}
	// Free-form objects map to Metadata or Struct; an object with neither
	// properties nor additionalProperties (the bulk result's session) may be
	// any message.
	if _, free := schema["additionalProperties"]; free {
		switch f.Message().FullName() {
		case "groundcam.v1.Metadata", "google.protobuf.Struct":
		default:
			c.addf("%s: free-form object, so field %s must be Metadata or google.protobuf.Struct",
				path, f.FullName())
		}
	}
}

// checkScalar checks a string, number, integer or boolean schema, including
// enumerated strings, against a singular or repeated field.
func (c *operationCheck) checkScalar(
	schema map[string]any,
	f protoreflect.FieldDescriptor,
	path string,
) {
	typ, _ := schema["type"].(string)
	kind := f.Kind()
	ok := true
	switch typ {
	case "string":
		ok = kind == protoreflect.StringKind || kind == protoreflect.EnumKind
	case "integer":
		ok = kind == protoreflect.Int32Kind || kind == protoreflect.Int64Kind
	case "number":
		ok = kind == protoreflect.DoubleKind
	case "boolean":
		ok = kind == protoreflect.BoolKind
	}
	if !ok {
		c.addf("%s: %s, but field %s is %s", path, typ, f.FullName(), kind)
		return
	}
	values := asSlice(schema["enum"])
	if len(values) == 0 || typ != "string" {
		return
	}
	if kind != protoreflect.EnumKind {
		c.addf("%s: enumerated string, so field %s must be an enum", path, f.FullName())
		return
	}
	wire := wireValues(f.Enum())
	for _, v := range values {
		if v != nil && !wire[fmt.Sprint(v)] {
			c.addf("%s: enum %s has no value with (wire_value) = %q", path, f.Enum().FullName(), v)
		}
	}
}

// resolve follows $ref and merges the members of allOf into one object
// schema, so callers see a plain schema.
func (c *operationCheck) resolve(schema map[string]any) map[string]any {
	for range 32 {
		ref, ok := schema["$ref"].(string)
		if !ok {
			break
		}
		target := c.lookup(ref)
		if target == nil {
			c.addf("$ref %q: not found in the contract", ref)
			return map[string]any{}
		}
		schema = target
	}
	members := asSlice(schema["allOf"])
	if members == nil {
		return schema
	}
	merged := map[string]any{"type": "object"}
	props := map[string]any{}
	var required []any
	for _, m := range members {
		part := c.resolve(asMap(m))
		maps.Copy(props, asMap(part["properties"]))
		required = append(required, asSlice(part["required"])...)
	}
	merged["properties"] = props
	merged["required"] = required
	return merged
}

// lookup returns the schema that a local reference such as
// "#/components/schemas/Session" points to, or nil.
func (c *operationCheck) lookup(ref string) map[string]any {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	node := c.doc
	for _, part := range strings.Split(pointer, "/") {
		node = asMap(node[part])
		if node == nil {
			return nil
		}
	}
	return node
}

// jsonSchema returns the application/json schema of a request body or
// response object.
func jsonSchema(object any) map[string]any {
	content := asMap(asMap(object)["content"])
	return asMap(asMap(content["application/json"])["schema"])
}

// successCodes returns the 2xx status codes of an operation, sorted.
func successCodes(spec map[string]any) []string {
	var codes []string
	for code := range asMap(spec["responses"]) {
		if strings.HasPrefix(code, "2") {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	return codes
}

// pathVariables returns the {name} segments of a path template.
func pathVariables(path string) []string {
	var names []string
	for _, segment := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(segment, "{"); ok {
			names = append(names, strings.TrimSuffix(name, "}"))
		}
	}
	return names
}

// fieldsOf returns the fields of msg in declaration order.
func fieldsOf(msg protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	fields := make([]protoreflect.FieldDescriptor, msg.Fields().Len())
	for i := range fields {
		fields[i] = msg.Fields().Get(i)
	}
	return fields
}

// jsonFields returns the fields of msg by JSON name. An (inline) field is
// replaced by the fields of its message, the way the JSON mapping writes it.
func jsonFields(msg protoreflect.MessageDescriptor) map[string]protoreflect.FieldDescriptor {
	fields := make(map[string]protoreflect.FieldDescriptor)
	for _, f := range fieldsOf(msg) {
		if f.Message() != nil && proto.GetExtension(f.Options(), groundcamv1.E_Inline).(bool) {
			maps.Copy(fields, jsonFields(f.Message()))
			continue
		}
		fields[f.JSONName()] = f
	}
	return fields
}

// valueField returns the field that carries the value of an (unwrap)
// message field, or f itself for any other field.
func valueField(f protoreflect.FieldDescriptor) protoreflect.FieldDescriptor {
	if f.IsList() || f.Message() == nil || !isUnwrap(f.Message()) || f.Message().Fields().Len() != 1 {
		return f
	}
	return f.Message().Fields().Get(0)
}

// headerField returns the field of msg sent as the HTTP header name, or nil.
func headerField(msg protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	for _, f := range fieldsOf(msg) {
		if strings.EqualFold(header(f), name) {
			return f
		}
	}
	return nil
}

func header(f protoreflect.FieldDescriptor) string {
	return proto.GetExtension(f.Options(), groundcamv1.E_HttpHeader).(string)
}

func isNullable(f protoreflect.FieldDescriptor) bool {
	return proto.GetExtension(f.Options(), groundcamv1.E_Nullable).(bool)
}

func isUnwrap(msg protoreflect.MessageDescriptor) bool {
	return proto.GetExtension(msg.Options(), groundcamv1.E_Unwrap).(bool)
}

// wireValues returns the set of (wire_value) strings of an enum.
func wireValues(enum protoreflect.EnumDescriptor) map[string]bool {
	values := make(map[string]bool)
	for i := range enum.Values().Len() {
		v := proto.GetExtension(enum.Values().Get(i).Options(), groundcamv1.E_WireValue).(string)
		if v != "" {
			values[v] = true
		}
	}
	return values
}

// operationOf returns the (operation) option of an RPC, or nil.
func operationOf(md protoreflect.MethodDescriptor) *groundcamv1.Operation {
	op, _ := proto.GetExtension(md.Options(), groundcamv1.E_Operation).(*groundcamv1.Operation)
	return op
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
