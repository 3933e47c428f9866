package jsonmap

import (
	"bytes"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/groundcam/groundcam-gateway/internal/contracttest"
)

// fuzzTestMessages are the test file's messages that the fuzz tests decode
// into besides the API messages.
var fuzzTestMessages = []string{
	"Ints", "Floats", "Texts", "Enums", "Maps", "Wrappers", "Dynamic", "Presence", "Node",
	"Outer", "Unwraps", "HasBad",
}

// fuzzTypes returns the message types the fuzz tests pick from: every
// groundcam.v1 message in name order, then the test messages.
func fuzzTypes(t testing.TB) []protoreflect.MessageDescriptor {
	t.Helper()
	var types []protoreflect.MessageDescriptor
	protoregistry.GlobalFiles.RangeFilesByPackage("groundcam.v1",
		func(fd protoreflect.FileDescriptor) bool {
			for i := range fd.Messages().Len() {
				types = append(types, fd.Messages().Get(i))
			}
			return true
		})
	slices.SortFunc(types, func(a, b protoreflect.MessageDescriptor) int {
		return strings.Compare(string(a.FullName()), string(b.FullName()))
	})
	for _, name := range fuzzTestMessages {
		types = append(types, newTestMessage(t, name).Descriptor())
	}
	return types
}

func newMessageOf(md protoreflect.MessageDescriptor) proto.Message {
	if mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName()); err == nil &&
		mt.Descriptor() == md {
		return mt.New().Interface()
	}
	return dynamicpb.NewMessage(md)
}

func typeIndex(types []protoreflect.MessageDescriptor, md protoreflect.MessageDescriptor) uint16 {
	return uint16(slices.Index(types, md))
}

// fuzzSeeds are JSON inputs for the fuzz tests, one for each of
// fuzzTestMessages.
var fuzzSeeds = []string{
	`{"i32":1,"i64":-9007199254740993,"u64":18446744073709551615}`,
	`{"fl":0.1,"db":1e-7}`,
	`{"s":"\u00e9\ud83d\ude00","by":"AP8=","b":true,"url_ttl":"x"}`,
	`{"color":"red","nullableColor":null,"colors":["dark_blue"],"optColor":"red"}`,
	`{"byNumber":{"10":"a"},"byFlag":{"true":1},"nodes":{"n":{"child":{}}},"labels":{"a":""}}`,
	`{"wrappedInt":null,"wrappedString":"","wrappedBool":true,"wrappedDouble":1.5}`,
	`{"any":{"a":[1,null,"s",true,{"b":{}}]},"list":[],"object":null,"values":[null]}`,
	`{"optI64":0,"optS":null,"text":"t","at":"2026-02-14T12:30:00.5+02:00","node":{},"tags":[]}`,
	`{"child":{"child":{"name":"x"}}}`,
	`{"deep":null,"mid":"m","own":1}`,
	`{"color":"red","note":null,"values":["s",1,false,null],"tags":[],"metadata":{"k":2},"node":null}`,
	`{"good":"g","bad":"x"}`,
}

// FuzzUnmarshal checks that no input panics and that whatever decodes
// encodes again, to the same bytes after a second decode.
func FuzzUnmarshal(f *testing.F) {
	types := fuzzTypes(f)
	if contracttest.Available() {
		for _, ex := range loadContractExamples(f) {
			if ex.field == nil {
				f.Add(typeIndex(types, ex.message), ex.json)
				continue
			}
			if md := ex.field.Message(); md != nil && !ex.field.IsList() {
				f.Add(typeIndex(types, md), ex.json)
			}
		}
	}
	for i, seed := range fuzzSeeds {
		name := fuzzTestMessages[i]
		f.Add(typeIndex(types, newTestMessage(f, name).Descriptor()), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, kind uint16, data []byte) {
		md := types[int(kind)%len(types)]
		first := newMessageOf(md)
		if err := Unmarshal(data, first); err != nil {
			return
		}
		encoded, err := Marshal(first)
		if err != nil {
			t.Fatalf("%s: Marshal after Unmarshal(%q): %v", md.FullName(), data, err)
		}
		second := newMessageOf(md)
		if err := Unmarshal(encoded, second); err != nil {
			t.Fatalf("%s: Unmarshal of own output %s: %v", md.FullName(), encoded, err)
		}
		again, err := Marshal(second)
		if err != nil {
			t.Fatalf("%s: second Marshal: %v", md.FullName(), err)
		}
		if !bytes.Equal(again, encoded) {
			t.Fatalf("%s: encoding is not stable\nfirst:  %s\nsecond: %s", md.FullName(), encoded, again)
		}
	})
}

// FuzzUnmarshalSetEach checks that appending scalar fields in the binary
// encoding and merging them gives the same message, and the same error, as
// setting every field through protoreflect.
func FuzzUnmarshalSetEach(f *testing.F) {
	types := fuzzTypes(f)
	for i, seed := range fuzzSeeds {
		name := fuzzTestMessages[i]
		f.Add(typeIndex(types, newTestMessage(f, name).Descriptor()), []byte(seed))
	}
	f.Fuzz(func(t *testing.T, kind uint16, data []byte) {
		md := types[int(kind)%len(types)]
		encoded, setEach := newMessageOf(md), newMessageOf(md)
		errEncoded := newDecoder(data, false).top(planFor(md), encoded.ProtoReflect())
		d := newDecoder(data, false)
		d.setEach = true
		errSetEach := d.top(planFor(md), setEach.ProtoReflect())
		if fmt.Sprint(errEncoded) != fmt.Sprint(errSetEach) {
			t.Fatalf("%s: Unmarshal(%q) errors differ:\nbuffered: %v\nset each: %v", md.FullName(), data, errEncoded, errSetEach)
		}
		if errEncoded == nil && !proto.Equal(encoded, setEach) {
			t.Fatalf("%s: Unmarshal(%q) messages differ:\nbuffered: %v\nset each: %v", md.FullName(), data, encoded, setEach)
		}
	})
}

// FuzzDecodeQuery checks that no query string panics and that whatever
// decodes encodes again, to the same parameters after a second decode.
func FuzzDecodeQuery(f *testing.F) {
	types := fuzzTypes(f)
	if contracttest.Available() {
		for _, seed := range contractQuerySeeds(f) {
			f.Add(typeIndex(types, seed.message), seed.query)
		}
	}
	for i, seed := range []string{
		"i32=-1&u64=18446744073709551615&sf64=5",
		"fl=0.5&db=1e%2B21",
		"s=a+b&by=%2Fw%3D%3D&b=true&url_ttl=r",
		"color=red&colors=dark_blue&colors=red",
		"byNumber.5=a&byFlag.true=1&colorByName.x.y=red&nodes.n.name=x",
		"wrappedInt=5&wrappedString=",
		"any=1",
		"optS=s&number=3&at=2026-02-14T10:30:00.000Z&node.child.name=y&tags=a&tags=b",
		"child.child.name=x",
		"deep=d&mid=m&own=1",
		"color=red&note=n&values=s&tags=a&metadata.k=2&notes.a=v",
		"good=g&bad=x",
	} {
		name := fuzzTestMessages[i]
		f.Add(typeIndex(types, newTestMessage(f, name).Descriptor()), seed)
	}
	f.Fuzz(func(t *testing.T, kind uint16, query string) {
		values, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		md := types[int(kind)%len(types)]
		first := newMessageOf(md)
		if err := DecodeQuery(values, first); err != nil {
			return
		}
		encoded, err := EncodeQuery(first, nil)
		if err != nil {
			t.Fatalf("%s: EncodeQuery after DecodeQuery(%q): %v", md.FullName(), query, err)
		}
		second := newMessageOf(md)
		if err := DecodeQuery(encoded, second); err != nil {
			t.Fatalf("%s: DecodeQuery of own output %q: %v", md.FullName(), encoded.Encode(), err)
		}
		again, err := EncodeQuery(second, nil)
		if err != nil {
			t.Fatalf("%s: second EncodeQuery: %v", md.FullName(), err)
		}
		if again.Encode() != encoded.Encode() {
			t.Fatalf("%s: query encoding is not stable\nfirst:  %s\nsecond: %s",
				md.FullName(), encoded.Encode(), again.Encode())
		}
	})
}

// querySeed is a query string built from the contract's parameter examples.
type querySeed struct {
	message protoreflect.MessageDescriptor
	query   string
}

// contractQuerySeeds builds one query string per operation from the
// examples of its query parameters. The metadata.* filter becomes
// metadata.department.
func contractQuerySeeds(t testing.TB) []querySeed {
	t.Helper()
	doc := contracttest.Document(t)
	methods := methodsByOperation()
	var seeds []querySeed
	for id, op := range contractOperations(doc) {
		md, ok := methods[id]
		if !ok {
			continue
		}
		values := url.Values{}
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			param, _ := p.(map[string]any)
			name, _ := param["name"].(string)
			example, ok := param["example"]
			if param["in"] != "query" || !ok {
				continue
			}
			values.Add(strings.Replace(name, "*", "department", 1), fmt.Sprint(example))
		}
		if len(values) > 0 {
			seeds = append(seeds, querySeed{message: md.Input(), query: values.Encode()})
		}
	}
	return seeds
}

// TestContractQueryExamples checks that the query parameter examples of
// each operation decode into its request and encode back.
func TestContractQueryExamples(t *testing.T) {
	t.Parallel()
	seeds := contractQuerySeeds(t)
	if len(seeds) == 0 {
		t.Fatal("the contract has no query parameter examples")
	}
	for _, seed := range seeds {
		t.Run(string(seed.message.Name()), func(t *testing.T) {
			t.Parallel()
			values, err := url.ParseQuery(seed.query)
			if err != nil {
				t.Fatalf("parse query %q: %v", seed.query, err)
			}
			m := newMessageOf(seed.message)
			if err := DecodeQuery(values, m); err != nil {
				t.Fatalf("DecodeQuery(%s): %v", seed.query, err)
			}
			encoded, err := EncodeQuery(m, nil)
			if err != nil {
				t.Fatalf("EncodeQuery: %v", err)
			}
			for name := range values {
				if _, ok := encoded[name]; !ok {
					t.Errorf("EncodeQuery dropped parameter %q: got %s", name, encoded.Encode())
				}
			}
		})
	}
}
