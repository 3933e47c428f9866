package jsonmap

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"
	"sigs.k8s.io/yaml"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/internal/contracttest"
	apiproto "github.com/groundcam/groundcam-gateway/proto"
)

// contractExample is one JSON example of the contract with the message and
// field it maps to.
type contractExample struct {
	name string
	// message is the request or response type.
	message protoreflect.MessageDescriptor
	// field is the field the JSON is the value of (the HTTP rule's body or
	// response_body), or nil when the JSON is the whole message.
	field protoreflect.FieldDescriptor
	// pathFields are the request fields bound to the URL path.
	pathFields []protoreflect.Name
	json       []byte
}

// newMessage returns an empty message of the example's type.
func (ex contractExample) newMessage() proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(ex.message.FullName())
	if err != nil {
		return dynamicpb.NewMessage(ex.message)
	}
	return mt.New().Interface()
}

// decode reads the example into m.
func (ex contractExample) decode(opts UnmarshalOptions, m proto.Message) error {
	if ex.field != nil {
		return opts.UnmarshalField(ex.json, m, ex.field)
	}
	return opts.Unmarshal(ex.json, m)
}

// encode writes m the way the example is written.
func (ex contractExample) encode(m proto.Message) ([]byte, error) {
	opts := MarshalOptions{Omit: func(fd protoreflect.FieldDescriptor) bool {
		return fd.ContainingMessage() == ex.message && slices.Contains(ex.pathFields, fd.Name())
	}}
	if ex.field != nil {
		return opts.MarshalField(m, ex.field)
	}
	return opts.Marshal(m)
}

// TestContractExamples checks every request and response example of the
// upstream contract: it decodes strictly into its message, and encoding the
// message gives the same JSON value. Timestamps compare after normalizing
// to milliseconds in UTC, and keys the example leaves out may come back
// only with an empty value (null, 0, false, "", [] or {}).
func TestContractExamples(t *testing.T) {
	t.Parallel()
	examples := loadContractExamples(t)
	if len(examples) == 0 {
		t.Fatal("the contract has no request or response examples")
	}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			m := ex.newMessage()
			if err := ex.decode(UnmarshalOptions{Strict: true}, m); err != nil {
				t.Fatalf("decode %s: %v", ex.json, err)
			}
			out, err := ex.encode(m)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			var want, got any
			mustDecodeJSON(t, ex.json, &want)
			mustDecodeJSON(t, out, &got)
			if diff := jsonDiff("", normalizeJSON(want), normalizeJSON(got)); diff != "" {
				t.Errorf("re-encoded JSON differs: %s\n  example: %s\n  encoded: %s", diff, ex.json, out)
			}
		})
	}
}

func mustDecodeJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("parse JSON %s: %v", data, err)
	}
}

var dateTimePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}`)

// normalizeJSON rewrites RFC 3339 strings to the one form the codec writes.
func normalizeJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, item := range v {
			v[k] = normalizeJSON(item)
		}
	case []any:
		for i, item := range v {
			v[i] = normalizeJSON(item)
		}
	case string:
		if !dateTimePattern.MatchString(v) {
			return v
		}
		if b, err := appendTimestampText(v); err == nil {
			return b
		}
	}
	return v
}

func appendTimestampText(s string) (string, error) {
	seconds, nanos, ok := parseTimestamp(s)
	if !ok {
		return "", errors.New("not a timestamp")
	}
	b, err := appendTimestamp(nil, seconds, nanos)
	return string(b), err
}

// jsonDiff describes the first difference between the example want and the
// encoding got, or returns "" when they match.
func jsonDiff(path string, want, got any) string {
	if wantList, ok := want.([]any); ok {
		gotList, ok := got.([]any)
		if !ok || len(gotList) != len(wantList) {
			return fmt.Sprintf("at %q: got %v, want %v", path, got, want)
		}
		for i := range wantList {
			if diff := jsonDiff(fmt.Sprintf("%s[%d]", path, i), wantList[i], gotList[i]); diff != "" {
				return diff
			}
		}
		return ""
	}
	wantObject, ok := want.(map[string]any)
	if !ok {
		if !reflect.DeepEqual(want, got) {
			return fmt.Sprintf("at %q: got %v, want %v", path, got, want)
		}
		return ""
	}
	gotObject, ok := got.(map[string]any)
	if !ok {
		return fmt.Sprintf("at %q: got %v, want an object", path, got)
	}
	for k, w := range wantObject {
		g, present := gotObject[k]
		if !present {
			return fmt.Sprintf("at %q: key %q is missing", path, k)
		}
		if diff := jsonDiff(path+"."+k, w, g); diff != "" {
			return diff
		}
	}
	for k, g := range gotObject {
		if _, present := wantObject[k]; !present && !isEmptyJSON(g) {
			return fmt.Sprintf("at %q: extra key %q with value %v", path, k, g)
		}
	}
	return ""
}

func isEmptyJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// loadContractExamples collects the JSON examples of the contract's request
// bodies and of its responses with a "data" envelope. It skips the test
// when the contract is missing.
func loadContractExamples(t testing.TB) []contractExample {
	t.Helper()
	doc := contracttest.Document(t)
	rules := loadHTTPRules(t)
	methods := methodsByOperation()
	var examples []contractExample
	for id, op := range contractOperations(doc) {
		md, ok := methods[id]
		if !ok {
			t.Errorf("operation %s has no RPC", id)
			continue
		}
		examples = append(examples, operationExamples(t, id, op, md, rules[string(md.FullName())])...)
	}
	return examples
}

// contractOperations yields the operationId and the object of every
// operation in doc that has an operationId, sorted by path, then by method.
func contractOperations(doc map[string]any) iter.Seq2[string, map[string]any] {
	return func(yield func(string, map[string]any) bool) {
		paths, _ := doc["paths"].(map[string]any)
		for _, path := range sortedKeys(paths) {
			ops, _ := paths[path].(map[string]any)
			for _, method := range sortedKeys(ops) {
				op, _ := ops[method].(map[string]any)
				id, _ := op["operationId"].(string)
				if id != "" && !yield(id, op) {
					return
				}
			}
		}
	}
}

func operationExamples(
	t testing.TB,
	id string,
	op map[string]any,
	md protoreflect.MethodDescriptor,
	rule httpRule,
) []contractExample {
	t.Helper()
	var examples []contractExample
	if body, ok := op["requestBody"].(map[string]any); ok {
		request := contractExample{message: md.Input(), pathFields: rule.pathFields()}
		if rule.Body != "*" && rule.Body != "" {
			request.field = md.Input().Fields().ByName(protoreflect.Name(rule.Body))
		}
		for name, value := range jsonExamples(body) {
			ex := request
			ex.name = id + "/request/" + name
			ex.json = mustMarshalJSON(t, value)
			examples = append(examples, ex)
		}
	}
	responses, _ := op["responses"].(map[string]any)
	for _, status := range sortedKeys(responses) {
		response, _ := responses[status].(map[string]any)
		for name, value := range jsonExamples(response) {
			envelope, _ := value.(map[string]any)
			data, ok := envelope["data"]
			if !ok {
				continue
			}
			ex := contractExample{
				name:    id + "/" + status + "/" + name,
				message: md.Output(),
				json:    mustMarshalJSON(t, data),
			}
			if rule.ResponseBody != "" {
				ex.field = md.Output().Fields().ByName(protoreflect.Name(rule.ResponseBody))
			}
			examples = append(examples, ex)
		}
	}
	return examples
}

// jsonExamples returns the application/json examples of a request body or
// response by name.
func jsonExamples(object map[string]any) map[string]any {
	content, _ := object["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	out := make(map[string]any)
	if example, ok := media["example"]; ok {
		out["example"] = example
	}
	named, _ := media["examples"].(map[string]any)
	for name, item := range named {
		if value, ok := item.(map[string]any)["value"]; ok {
			out[name] = value
		}
	}
	return out
}

func mustMarshalJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode example: %v", err)
	}
	return b
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// methodsByOperation indexes the groundcam.v1 RPCs by upstream operation id.
func methodsByOperation() map[string]protoreflect.MethodDescriptor {
	methods := make(map[string]protoreflect.MethodDescriptor)
	protoregistry.GlobalFiles.RangeFilesByPackage("groundcam.v1",
		func(fd protoreflect.FileDescriptor) bool {
			for i := range fd.Services().Len() {
				service := fd.Services().Get(i)
				for j := range service.Methods().Len() {
					md := service.Methods().Get(j)
					op, _ := proto.GetExtension(md.Options(), groundcamv1.E_Operation).(*groundcamv1.Operation)
					if op.GetId() != "" {
						methods[op.GetId()] = md
					}
				}
			}
			return true
		})
	return methods
}

// httpRule is the part of an http.yaml rule that decides the JSON shape.
type httpRule struct {
	Selector     string `json:"selector"`
	Get          string `json:"get"`
	Put          string `json:"put"`
	Post         string `json:"post"`
	Patch        string `json:"patch"`
	Delete       string `json:"delete"`
	Body         string `json:"body"`
	ResponseBody string `json:"response_body"`
}

var pathVariable = regexp.MustCompile(`\{([a-z_.]+)`)

// pathFields returns the request fields named in the rule's path template.
func (r httpRule) pathFields() []protoreflect.Name {
	var names []protoreflect.Name
	for _, path := range []string{r.Get, r.Put, r.Post, r.Patch, r.Delete} {
		for _, match := range pathVariable.FindAllStringSubmatch(path, -1) {
			names = append(names, protoreflect.Name(match[1]))
		}
	}
	return names
}

func loadHTTPRules(t testing.TB) map[string]httpRule {
	t.Helper()
	var service struct {
		HTTP struct {
			Rules []httpRule `json:"rules"`
		} `json:"http"`
	}
	if err := yaml.Unmarshal(apiproto.HTTPRules, &service); err != nil {
		t.Fatalf("parse http.yaml: %v", err)
	}
	rules := make(map[string]httpRule)
	for _, r := range service.HTTP.Rules {
		rules[r.Selector] = r
	}
	return rules
}
