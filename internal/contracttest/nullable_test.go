package contracttest

import (
	"strings"
	"testing"

	"github.com/pb33f/go-yaml"
)

// rewrite runs rewriteNullable on a YAML document and returns it as YAML.
func rewrite(t *testing.T, doc string) string {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	rewriteNullable(&root)
	out, err := yaml.Marshal(&root)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// decode parses YAML into generic values.
func decode(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRewriteNullable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{
			name: "scalar type",
			in:   "type: string\nnullable: true\n",
			want: "type: [string, \"null\"]\n",
		},
		{
			name: "type list",
			in:   "type: [string, integer]\nnullable: true\n",
			want: "type: [string, integer, \"null\"]\n",
		},
		{
			name: "enum gets null",
			in:   "type: string\nnullable: true\nenum: [a, b]\n",
			want: "type: [string, \"null\"]\nenum: [a, b, null]\n",
		},
		{
			name: "enum with null kept",
			in:   "type: string\nnullable: true\nenum: [a, null]\n",
			want: "type: [string, \"null\"]\nenum: [a, null]\n",
		},
		{
			name: "no type",
			in:   "nullable: true\n$ref: '#/components/schemas/X'\n",
			want: "anyOf: [{$ref: '#/components/schemas/X'}, {type: \"null\"}]\n",
		},
		{
			name: "false only removed",
			in:   "type: string\nnullable: false\n",
			want: "type: string\n",
		},
		{
			name: "property named nullable",
			in:   "properties:\n  nullable:\n    type: boolean\n",
			want: "properties:\n  nullable:\n    type: boolean\n",
		},
		{
			name: "examples untouched",
			in:   "type: object\nexample:\n  nullable: true\n",
			want: "type: object\nexample:\n  nullable: true\n",
		},
		{
			name: "nested",
			in:   "type: object\nproperties:\n  a:\n    type: integer\n    nullable: true\n",
			want: "type: object\nproperties:\n  a:\n    type: [integer, \"null\"]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := rewrite(t, tt.in)
			if !equalYAML(t, got, tt.want) {
				t.Errorf("rewrite of\n%s\ngot\n%s\nwant\n%s", tt.in, got, tt.want)
			}
		})
	}
}

// equalYAML compares two YAML documents by value.
func equalYAML(t *testing.T, a, b string) bool {
	t.Helper()
	return strings.TrimSpace(yamlString(t, decode(t, a))) == strings.TrimSpace(yamlString(t, decode(t, b)))
}

// yamlString encodes v in a canonical form.
func yamlString(t *testing.T, v any) string {
	t.Helper()
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// miniContract is a small OpenAPI 3.1 document that uses nullable: true.
const miniContract = `openapi: "3.1.0"
info: {title: mini, version: "1"}
servers:
  - url: https://api.example.test/v1
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [name, note]
                properties:
                  name: {type: string}
                  note: {type: string, nullable: true}
                  size: {type: integer, nullable: true}
`

func TestParseContractNullable(t *testing.T) {
	t.Parallel()
	c, err := parseContract([]byte(miniContract))
	if err != nil {
		t.Fatalf("parseContract: %v", err)
	}
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{"null accepted", `{"name":"a","note":null,"size":null}`, ""},
		{"values accepted", `{"name":"a","note":"n","size":3}`, ""},
		{"null rejected where not nullable", `{"name":null,"note":"n"}`, "/name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, res, body := exchange(t, "GET", "/v1/things/t1", 200, tt.body)
			errs := c.checkResponse(req, res, []byte(body))
			switch {
			case tt.wantErr == "" && len(errs) > 0:
				t.Errorf("got errors %q, want none", errs)
			case tt.wantErr != "" && (len(errs) == 0 || !strings.Contains(errs[0], tt.wantErr)):
				t.Errorf("got errors %q, want one naming %s", errs, tt.wantErr)
			}
		})
	}
}
