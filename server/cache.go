package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/adapters/telemetry"
	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// Response headers that report how a read was served.
const (
	// HeaderCache is "hit", "miss", "stale" or "bypass".
	HeaderCache = "X-Cache"
	// HeaderAge is the age in seconds of a response served from the cache,
	// as in HTTP's Age header.
	HeaderAge = "Age"
)

// cachedUpstream serves reads from the response cache, following the cache
// policy declared on each RPC, and drops the tenant's affected entries after
// each write. It sits between the handlers and the upstream client, so every
// face shares it.
type cachedUpstream struct {
	next   Upstream
	cache  *cache.Cache
	logger *slog.Logger
}

var _ Upstream = (*cachedUpstream)(nil)

func (c *cachedUpstream) Call(ctx context.Context, method protoreflect.FullName, req, res proto.Message) (*upstream.Result, error) {
	op := operationByName(method)
	tenant, ok := upstream.Tenant(ctx)
	if !ok {
		return c.next.Call(ctx, method, req, res)
	}
	policy := op.GetCache()
	if policy.GetTtlSeconds() == 0 {
		result, err := c.next.Call(ctx, method, req, res)
		if len(op.GetInvalidates()) > 0 && (err == nil || outcomeUnknown(err)) {
			if invErr := c.cache.Invalidate(ctx, tenant, op.GetInvalidates()); invErr != nil {
				c.logger.WarnContext(ctx, "cache invalidation failed", "method", string(method), "error", invErr)
			}
		}
		return result, err
	}
	return c.read(ctx, method, tenant, policy, req, res)
}

// read serves a cacheable read.
func (c *cachedUpstream) read(
	ctx context.Context,
	method protoreflect.FullName,
	tenant string,
	policy *groundcamv1.CachePolicy,
	req, res proto.Message,
) (*upstream.Result, error) {
	key, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	var live *upstream.Result
	result, err := c.cache.Do(ctx, cache.Request{
		Tenant:    tenant,
		Procedure: procedureName(method),
		Key:       key,
		Policy: cache.Policy{
			TTL:          time.Duration(policy.GetTtlSeconds()) * time.Second,
			StaleIfError: time.Duration(policy.GetStaleIfErrorSeconds()) * time.Second,
			Tags:         policy.GetTags(),
		},
		Bypass: noCacheFrom(ctx),
	}, func(ctx context.Context) ([]byte, error) {
		fresh := res.ProtoReflect().New().Interface()
		r, err := c.next.Call(ctx, method, req, fresh)
		if err != nil {
			return nil, err
		}
		live = r
		return proto.Marshal(fresh)
	})
	telemetry.RecordCache(ctx, string(result.Status))
	if err != nil {
		return nil, err
	}
	if err := proto.Unmarshal(result.Value, res); err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("decode cached response: %w", err))
	}

	out := &upstream.Result{Status: http.StatusOK, Header: make(http.Header)}
	if live != nil {
		out.Status, out.Attempts = live.Status, live.Attempts
		for name, values := range live.Header {
			out.Header[name] = values
		}
	}
	out.Header.Set(HeaderCache, string(result.Status))
	if result.Status == cache.StatusHit || result.Status == cache.StatusStale {
		out.Header.Set(HeaderAge, strconv.Itoa(int(result.Age/time.Second)))
	}
	return out, nil
}

// procedureName returns the Connect procedure of a method, such as
// "/groundcam.v1.SessionService/GetSession", the name that the cache's
// metrics carry.
func procedureName(method protoreflect.FullName) string {
	return "/" + string(method.Parent()) + "/" + string(method.Name())
}

// isUpstreamFailure reports errors for which a stale response may be
// served: the upstream was unavailable (a 5xx response, an unreadable body,
// a transport error, an open circuit), rate limited (429 or the gateway's
// load shedding) or too slow, or the call failed with an internal error.
func isUpstreamFailure(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeResourceExhausted, connect.CodeDeadlineExceeded, connect.CodeInternal:
		return true
	}
	return false
}

// outcomeUnknown reports write errors after which the upstream may have
// applied the write anyway, so cached reads must be dropped too.
func outcomeUnknown(err error) bool {
	switch connect.CodeOf(err) {
	case connect.CodeUnavailable, connect.CodeDeadlineExceeded, connect.CodeCanceled, connect.CodeUnknown:
		return true
	}
	return false
}

// operations caches operationByName's results by method name; the set of
// methods is fixed, so it stays small.
var operations sync.Map // protoreflect.FullName → *groundcamv1.Operation

// operationByName returns the operation options of a method; an empty one
// when the method is unknown.
func operationByName(method protoreflect.FullName) *groundcamv1.Operation {
	if op, ok := operations.Load(method); ok {
		return op.(*groundcamv1.Operation)
	}
	op := lookupOperation(method)
	operations.Store(method, op)
	return op
}

func lookupOperation(method protoreflect.FullName) *groundcamv1.Operation {
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(method)
	if err != nil {
		return new(groundcamv1.Operation)
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return new(groundcamv1.Operation)
	}
	return upstream.OperationOf(md)
}

type noCacheKey struct{}

// withNoCache marks ctx when the caller's Cache-Control requests a fresh
// response (no-cache, no-store or max-age=0).
func withNoCache(ctx context.Context, header http.Header) context.Context {
	for _, value := range header.Values("Cache-Control") {
		for _, directive := range strings.Split(value, ",") {
			switch strings.ToLower(strings.TrimSpace(directive)) {
			case "no-cache", "no-store", "max-age=0":
				return context.WithValue(ctx, noCacheKey{}, true)
			}
		}
	}
	return ctx
}

func noCacheFrom(ctx context.Context) bool {
	v, _ := ctx.Value(noCacheKey{}).(bool)
	return v
}

// NewCache returns a response cache over store with the gateway's stale
// rule: stale entries are served only when the upstream was unavailable,
// rate limited or too slow.
func NewCache(store cache.Store, opts ...cache.Option) (*cache.Cache, error) {
	opts = append([]cache.Option{cache.WithStaleError(isUpstreamFailure)}, opts...)
	return cache.New(store, opts...)
}
