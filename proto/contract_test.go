package proto

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"sigs.k8s.io/yaml"

	_ "github.com/groundcam/groundcam-gateway/gen/groundcam/v1" // registers the API descriptors
	"github.com/groundcam/groundcam-gateway/internal/contracttest"
)

// apiPackage is the proto package whose services mirror the upstream API.
const apiPackage protoreflect.FullName = "groundcam.v1"

// upstreamOperations is the number of operations in the upstream contract.
const upstreamOperations = 30

// httpRule is one rule of http.yaml.
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

// route returns the rule's HTTP method and path template.
func (r httpRule) route() (method, path string, err error) {
	routes := map[string]string{
		"GET": r.Get, "PUT": r.Put, "POST": r.Post, "PATCH": r.Patch, "DELETE": r.Delete,
	}
	for m, p := range routes {
		if p == "" {
			continue
		}
		if method != "" {
			return "", "", fmt.Errorf("both %s and %s are set", method, m)
		}
		method, path = m, p
	}
	if method == "" {
		return "", "", errors.New("no method is set")
	}
	return method, path, nil
}

// parseHTTPRules parses http.yaml into its rules in file order. Unknown
// keys are errors, so a misspelled response_body cannot pass unnoticed.
func parseHTTPRules(data []byte) ([]httpRule, error) {
	var service struct {
		Type          string `json:"type"`
		ConfigVersion int    `json:"config_version"`
		HTTP          struct {
			Rules []httpRule `json:"rules"`
		} `json:"http"`
	}
	if err := yaml.UnmarshalStrict(data, &service); err != nil {
		return nil, fmt.Errorf("parse http rules: %w", err)
	}
	return service.HTTP.Rules, nil
}

// rulesBySelector indexes the rules of http.yaml by RPC full name.
func rulesBySelector(t *testing.T) map[string]httpRule {
	t.Helper()
	rules, err := parseHTTPRules(HTTPRules)
	if err != nil {
		t.Fatal(err)
	}
	bySelector := make(map[string]httpRule, len(rules))
	for _, r := range rules {
		if _, dup := bySelector[r.Selector]; dup {
			t.Errorf("http.yaml: more than one rule for %s", r.Selector)
		}
		bySelector[r.Selector] = r
	}
	return bySelector
}

// apiMethods returns every RPC of the services in the API package. The RPCs
// of one service keep their declaration order.
func apiMethods() []protoreflect.MethodDescriptor {
	var methods []protoreflect.MethodDescriptor
	collect := func(file protoreflect.FileDescriptor) bool {
		for i := range file.Services().Len() {
			service := file.Services().Get(i)
			for j := range service.Methods().Len() {
				methods = append(methods, service.Methods().Get(j))
			}
		}
		return true
	}
	protoregistry.GlobalFiles.RangeFilesByPackage(apiPackage, collect)
	return methods
}

// TestContractCoverage checks that every upstream operation has exactly one
// RPC, with the same route, parameters, body and response properties.
func TestContractCoverage(t *testing.T) {
	t.Parallel()
	doc := contracttest.Document(t)
	ops, err := contractOperations(doc)
	if err != nil {
		t.Fatalf("list contract operations: %v", err)
	}
	if len(ops) != upstreamOperations {
		t.Errorf("contract has %d operations, want %d", len(ops), upstreamOperations)
	}
	rules := rulesBySelector(t)

	byID := make(map[string][]protoreflect.MethodDescriptor)
	for _, md := range apiMethods() {
		id := operationOf(md).GetId()
		byID[id] = append(byID[id], md)
	}
	known := make(map[string]bool, len(ops))
	for _, op := range ops {
		known[op.id] = true
	}
	for id, mds := range byID {
		if !known[id] {
			t.Errorf("RPC %s has (operation).id %q, which is not in the contract", mds[0].FullName(), id)
		}
	}

	for _, op := range ops {
		t.Run(op.id, func(t *testing.T) {
			t.Parallel()
			mds := byID[op.id]
			if len(mds) != 1 {
				t.Fatalf("%d RPCs have (operation).id %q, want exactly 1", len(mds), op.id)
			}
			rule, ok := rules[string(mds[0].FullName())]
			if !ok {
				t.Fatalf("http.yaml has no rule for %s", mds[0].FullName())
			}
			for _, problem := range checkOperation(doc, op, mds[0], rule) {
				t.Error(problem)
			}
		})
	}
}

// TestHTTPRulesMatchRPCs checks that http.yaml has one rule per RPC and no
// rule for anything else.
func TestHTTPRulesMatchRPCs(t *testing.T) {
	t.Parallel()
	rules := rulesBySelector(t)
	methods := make(map[string]bool)
	for _, md := range apiMethods() {
		name := string(md.FullName())
		methods[name] = true
		rule, ok := rules[name]
		if !ok {
			t.Errorf("http.yaml has no rule for %s", name)
			continue
		}
		if _, _, err := rule.route(); err != nil {
			t.Errorf("http rule %s: %v", name, err)
		}
	}
	for selector := range rules {
		if !methods[selector] {
			t.Errorf("http.yaml rule %s names no RPC", selector)
		}
	}
}

// TestOperationOptions checks the (operation) option of every RPC: an id,
// a 200 or 201 success status, a cache policy on reads only and no
// invalidation on reads.
func TestOperationOptions(t *testing.T) {
	t.Parallel()
	rules := rulesBySelector(t)
	for _, md := range apiMethods() {
		op := operationOf(md)
		if op.GetId() == "" {
			t.Errorf("%s: no (operation).id", md.FullName())
			continue
		}
		if s := op.GetSuccessStatus(); s != 0 && s != 201 {
			t.Errorf("%s: success_status %d, want 0 (200) or 201", md.FullName(), s)
		}
		method, _, err := rules[string(md.FullName())].route()
		if err != nil {
			continue // reported by TestHTTPRulesMatchRPCs
		}
		read := method == "GET"
		switch {
		case read && op.GetCache().GetTtlSeconds() == 0:
			t.Errorf("%s: GET without a cache TTL", md.FullName())
		case read && len(op.GetInvalidates()) > 0:
			t.Errorf("%s: GET invalidates %v", md.FullName(), op.GetInvalidates())
		case !read && op.GetCache() != nil:
			t.Errorf("%s: %s has a cache policy; only reads may be cached", md.FullName(), method)
		}
	}
}

// TestLiteralRoutesWinOverTemplates checks that within a service a literal
// route such as /v1/appointments/available-slots is declared after a
// template that also matches it, such as /v1/appointments/{id}. grpc-gateway
// tries the route registered last first, and registers a service's routes in
// declaration order.
func TestLiteralRoutesWinOverTemplates(t *testing.T) {
	t.Parallel()
	rules := rulesBySelector(t)
	type route struct {
		md           protoreflect.MethodDescriptor
		method, path string
	}
	var routes []route
	for _, md := range apiMethods() {
		method, path, err := rules[string(md.FullName())].route()
		if err == nil {
			routes = append(routes, route{md, method, path})
		}
	}
	for i, declared := range routes {
		for _, before := range routes[:i] {
			if declared.md.Parent() == before.md.Parent() && declared.method == before.method &&
				declared.path != before.path && templateMatches(declared.path, before.path) {
				t.Errorf("%s (%s) must be declared after %s (%s), which would shadow it",
					before.md.FullName(), before.path, declared.md.FullName(), declared.path)
			}
		}
	}
}

// templateMatches reports whether the path template tmpl matches every path
// that path matches, segment by segment, with {x} matching any one segment.
func templateMatches(tmpl, path string) bool {
	ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
	if len(ts) != len(ps) {
		return false
	}
	for i := range ts {
		if !strings.HasPrefix(ts[i], "{") && ts[i] != ps[i] {
			return false
		}
	}
	return true
}
