package upstream

import (
	"bytes"
	"encoding/json"
	"testing"
)

// envelopeCases are upstream bodies with the data value that encoding/json
// finds in them, or found false where dataMember leaves the body to
// encoding/json.
var envelopeCases = []struct {
	name  string
	body  string
	data  string
	found bool
}{
	{"object", `{"data":{"id":"ses_1"}}`, `{"id":"ses_1"}`, true},
	{"spaces", " \n{ \"data\" :\t[1, 2] }\r\n", `[1, 2]`, true},
	{"other members", `{"meta":{"a":[1,{"b":"}"}]},"data":"x","n":-1.5e3}`, `"x"`, true},
	{"escaped quotes in data", `{"data":{"s":"a\"}\\"}}`, `{"s":"a\"}\\"}`, true},
	{"null data", `{"data":null}`, `null`, true},
	{"scalar data", `{"data":true}`, `true`, true},
	{"repeated data keeps last", `{"data":1,"data":2}`, `2`, true},
	{"key in other case", `{"Data":3}`, `3`, true},
	{"no data", `{"error":{"code":"X"}}`, ``, true},
	{"empty object", `{}`, ``, true},
	{"not an object", `[{"data":1}]`, ``, false},
	{"escaped key", `{"d\u0061ta":1}`, ``, false},
	{"invalid other member", `{"meta":tru,"data":1}`, ``, false},
	{"trailing bytes", `{"data":1} x`, ``, false},
	{"missing colon", `{"data" 1}`, ``, false},
	{"unterminated", `{"data":{"a":1}`, ``, false},
	{"empty body", ``, ``, false},
}

func TestDataMember(t *testing.T) {
	t.Parallel()
	for _, tc := range envelopeCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, found := dataMember([]byte(tc.body))
			if found != tc.found {
				t.Fatalf("found = %v, want %v", found, tc.found)
			}
			if string(data) != tc.data {
				t.Errorf("data = %q, want %q", data, tc.data)
			}
			if !found {
				return
			}
			want, err := decodeEnvelope([]byte(tc.body))
			if err != nil {
				t.Fatalf("encoding/json rejects a body that dataMember reads: %v", err)
			}
			if !bytes.Equal(data, want) {
				t.Errorf("data = %q, encoding/json finds %q", data, want)
			}
		})
	}
}

// FuzzDataMember checks that dataMember agrees with encoding/json whenever
// it reads a body whose data value is valid JSON.
func FuzzDataMember(f *testing.F) {
	for _, tc := range envelopeCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		data, found := dataMember(body)
		if !found || (data != nil && !json.Valid(data)) {
			return
		}
		want, err := decodeEnvelope(body)
		if err != nil {
			t.Fatalf("encoding/json rejects %q, which dataMember reads: %v", body, err)
		}
		if !bytes.Equal(data, want) {
			t.Fatalf("data of %q = %q, encoding/json finds %q", body, data, want)
		}
	})
}
