package contracttest

import (
	"github.com/pb33f/go-yaml"
)

// rewriteNullable turns every schema with the OpenAPI 3.0 keyword
// nullable: true into its OpenAPI 3.1 equivalent, in place:
//
//   - type: string becomes type: [string, "null"];
//   - a type list gets "null" appended;
//   - an enum gets a null member, because enum is checked besides type;
//   - a schema without type (a $ref or composition) is wrapped as
//     anyOf: [<the schema>, {type: "null"}].
//
// The keyword is removed, because libopenapi-validator rejects it in a 3.1
// document. nullable: false is only removed. Example values are skipped, so
// an example object with a "nullable" key stays as written.
func rewriteNullable(node *yaml.Node) {
	switch node.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, child := range node.Content {
			rewriteNullable(child)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i].Value
			if key == "example" || key == "examples" {
				continue
			}
			rewriteNullable(node.Content[i+1])
		}
		rewriteSchema(node)
	}
}

// rewriteSchema applies the rewrite to one mapping whose nullable value is a
// boolean; other mappings are left alone.
func rewriteSchema(schema *yaml.Node) {
	idx := keyIndex(schema, "nullable")
	if idx < 0 {
		return
	}
	value := schema.Content[idx+1]
	if value.Kind != yaml.ScalarNode || (value.Value != "true" && value.Value != "false") {
		return // a property named "nullable", not the keyword
	}
	schema.Content = append(schema.Content[:idx], schema.Content[idx+2:]...)
	if value.Value != "true" {
		return
	}

	if enum := keyIndex(schema, "enum"); enum >= 0 && schema.Content[enum+1].Kind == yaml.SequenceNode {
		appendNullMember(schema.Content[enum+1])
	}
	typeIdx := keyIndex(schema, "type")
	if typeIdx < 0 {
		wrapAnyOfNull(schema)
		return
	}
	typ := schema.Content[typeIdx+1]
	switch typ.Kind {
	case yaml.ScalarNode:
		schema.Content[typeIdx+1] = &yaml.Node{
			Kind:    yaml.SequenceNode,
			Tag:     "!!seq",
			Style:   yaml.FlowStyle,
			Content: []*yaml.Node{typ, stringNode("null")},
		}
	case yaml.SequenceNode:
		appendNullType(typ)
	}
}

// wrapAnyOfNull replaces the content of schema with
// anyOf: [<its former content>, {type: "null"}].
func wrapAnyOfNull(schema *yaml.Node) {
	inner := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: schema.Content}
	nullSchema := &yaml.Node{
		Kind:    yaml.MappingNode,
		Tag:     "!!map",
		Content: []*yaml.Node{stringNode("type"), stringNode("null")},
	}
	schema.Content = []*yaml.Node{
		stringNode("anyOf"),
		{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{inner, nullSchema}},
	}
}

// appendNullType adds "null" to a type list unless it is there.
func appendNullType(types *yaml.Node) {
	for _, item := range types.Content {
		if item.Value == "null" {
			return
		}
	}
	types.Content = append(types.Content, stringNode("null"))
}

// appendNullMember adds a null member to an enum unless one is there.
func appendNullMember(enum *yaml.Node) {
	for _, item := range enum.Content {
		if item.Kind == yaml.ScalarNode && item.ShortTag() == "!!null" {
			return
		}
	}
	enum.Content = append(enum.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"})
}

// keyIndex returns the index of key in a mapping's Content, or -1.
func keyIndex(mapping *yaml.Node, key string) int {
	for i := 0; i+1 < len(mapping.Content); i += 2 {
		if mapping.Content[i].Value == key {
			return i
		}
	}
	return -1
}

// stringNode returns a double-quoted string scalar.
func stringNode(value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: value}
}
