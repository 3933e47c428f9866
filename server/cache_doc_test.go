package server

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

var updateCacheDoc = flag.Bool("update-cache-doc", false,
	"rewrite the generated policy tables of docs/caching.md from the protos")

// Markers around the generated part of docs/caching.md.
const (
	cacheDocBegin = "<!-- BEGIN GENERATED: go test ./server -run TestCacheDocMatchesProtos -update-cache-doc -->"
	cacheDocEnd   = "<!-- END GENERATED -->"
)

// cacheDocPath is docs/caching.md, relative to the package directory.
var cacheDocPath = filepath.Join("..", "docs", "caching.md")

// cachedMethod is one RPC with its route and operation options.
type cachedMethod struct {
	route *upstream.Route
	name  string // such as "SessionService.GetSession"
}

// cachedMethods returns every RPC of the gateway's services in declaration
// order.
func cachedMethods(t *testing.T) []cachedMethod {
	t.Helper()
	routes, err := upstream.LoadRoutes()
	if err != nil {
		t.Fatalf("LoadRoutes: %v", err)
	}
	var out []cachedMethod
	for _, service := range serviceNames {
		desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(service))
		if err != nil {
			t.Fatalf("find service %s: %v", service, err)
		}
		sd, ok := desc.(protoreflect.ServiceDescriptor)
		if !ok {
			t.Fatalf("%s is a %T, not a service", service, desc)
		}
		methods := sd.Methods()
		for i := range methods.Len() {
			md := methods.Get(i)
			route, ok := routes.Lookup(md.FullName())
			if !ok {
				t.Fatalf("no HTTP rule for %s", md.FullName())
			}
			out = append(out, cachedMethod{route: route, name: string(md.Parent().Name()) + "." + string(md.Name())})
		}
	}
	return out
}

// cachePolicyTables renders the read and write tables of docs/caching.md.
func cachePolicyTables(methods []cachedMethod) string {
	var b strings.Builder
	b.WriteString("Reads:\n\n")
	b.WriteString("| RPC | REST route | TTL | stale-if-error | tags |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, m := range methods {
		policy := m.route.Operation.GetCache()
		if policy.GetTtlSeconds() == 0 {
			continue
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %s |\n", m.name, m.route.Name(),
			seconds(policy.GetTtlSeconds()), seconds(policy.GetStaleIfErrorSeconds()), codeList(policy.GetTags()))
	}
	b.WriteString("\nWrites:\n\n")
	b.WriteString("| RPC | REST route | invalidates |\n")
	b.WriteString("| --- | --- | --- |\n")
	for _, m := range methods {
		if m.route.Operation.GetCache().GetTtlSeconds() != 0 {
			continue
		}
		invalidates := codeList(m.route.Operation.GetInvalidates())
		if invalidates == "" {
			invalidates = "nothing"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", m.name, m.route.Name(), invalidates)
	}
	return b.String()
}

func seconds(n uint32) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("%d s", n)
}

func codeList(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "`" + v + "`"
	}
	return strings.Join(quoted, ", ")
}

func TestCacheDocMatchesProtos(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(cacheDocPath)
	if err != nil {
		t.Fatalf("read %s: %v", cacheDocPath, err)
	}
	begin := bytes.Index(doc, []byte(cacheDocBegin))
	end := bytes.Index(doc, []byte(cacheDocEnd))
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the markers %q and %q around the policy tables", cacheDocPath, cacheDocBegin, cacheDocEnd)
	}
	start := begin + len(cacheDocBegin)
	want := "\n\n" + cachePolicyTables(cachedMethods(t)) + "\n"

	if *updateCacheDoc {
		updated := slices.Concat(doc[:start], []byte(want), doc[end:])
		if err := os.WriteFile(cacheDocPath, updated, 0o644); err != nil {
			t.Fatalf("write %s: %v", cacheDocPath, err)
		}
		return
	}
	if got := string(doc[start:end]); got != want {
		t.Errorf("the policy tables of %s differ from the protos; run\n"+
			"\tgo test ./server -run TestCacheDocMatchesProtos -update-cache-doc\n"+
			"to rewrite them. The protos give:\n%s", cacheDocPath, want)
	}
}

func TestCachePoliciesConsistent(t *testing.T) {
	t.Parallel()
	methods := cachedMethods(t)
	readTags := map[string]bool{}
	for _, m := range methods {
		policy := m.route.Operation.GetCache()
		isRead := m.route.HTTPMethod == "GET"
		switch {
		case isRead && policy.GetTtlSeconds() == 0:
			t.Errorf("%s is a read without a cache policy; give it a TTL", m.name)
		case !isRead && policy != nil:
			t.Errorf("%s is a %s with a cache policy; writes are never cached", m.name, m.route.HTTPMethod)
		case isRead && len(m.route.Operation.GetInvalidates()) > 0:
			t.Errorf("%s is a read that invalidates tags; only writes invalidate", m.name)
		case isRead && len(policy.GetTags()) == 0:
			t.Errorf("%s has no cache tags, so no write can drop its entries", m.name)
		}
		for _, tag := range policy.GetTags() {
			readTags[tag] = true
		}
	}
	// A tag that no read carries is most likely misspelt, and its
	// invalidation would drop nothing.
	for _, m := range methods {
		for _, tag := range m.route.Operation.GetInvalidates() {
			if !readTags[tag] {
				t.Errorf("%s invalidates %q, which no read's cache policy carries", m.name, tag)
			}
		}
	}
}
