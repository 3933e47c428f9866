package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
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

// Call fills res with the response of method, from the cache when the
// method's policy allows it.
func (c *cachedUpstream) Call(ctx context.Context, method protoreflect.FullName, req, res proto.Message) (*upstream.Result, error) {
	sent, result, err := c.callShared(ctx, method, req, res)
	if err == nil && sent != res {
		proto.Merge(res, sent)
	}
	return result, err
}

// callShared is Call for the handlers. A hit may return the message that
// every hit of its cache entry sends instead of filling res. sent is the
// message to send, res or the shared one, and must not be modified. A nil
// res is allocated only when needed, so a hit allocates no response.
func (c *cachedUpstream) callShared(
	ctx context.Context,
	method protoreflect.FullName,
	req, res proto.Message,
) (sent proto.Message, result *upstream.Result, err error) {
	plan := planOf(method)
	tenant, ok := upstream.Tenant(ctx)
	if ok && plan.policy.TTL > 0 {
		return c.read(ctx, method, plan, tenant, req, res)
	}
	if res == nil {
		if plan.output == nil {
			return nil, nil, connect.NewError(connect.CodeInternal, fmt.Errorf("no response type is registered for %s", method))
		}
		res = plan.output.New().Interface()
	}
	result, err = c.next.Call(ctx, method, req, res)
	if ok && len(plan.invalidates) > 0 && (err == nil || outcomeUnknown(err)) {
		if invErr := c.cache.Invalidate(ctx, tenant, plan.invalidates); invErr != nil {
			c.logger.WarnContext(ctx, "cache invalidation failed", "method", string(method), "error", invErr)
		}
	}
	return res, result, err
}

// read serves a cacheable read.
func (c *cachedUpstream) read(
	ctx context.Context,
	method protoreflect.FullName,
	plan *callPlan,
	tenant string,
	req, res proto.Message,
) (proto.Message, *upstream.Result, error) {
	buf := keyBuffers.Get().(*[]byte)
	defer keyBuffers.Put(buf)
	key, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend((*buf)[:0], req)
	if err != nil {
		return nil, nil, connect.NewError(connect.CodeInternal, err)
	}
	*buf = key

	// The load runs once for all the callers that share it, with the
	// closure of the first of them, so only that caller's load gets the
	// upstream's response.
	load := &readLoad{}
	result, err := c.cache.Do(ctx, cache.Request{
		Tenant:    tenant,
		Procedure: plan.procedure,
		Key:       key,
		Policy:    plan.policy,
		Decode:    plan.decode,
		Bypass:    noCacheFrom(ctx),
	}, func(ctx context.Context) ([]byte, error) {
		msg := plan.output.New().Interface()
		r, err := c.next.Call(ctx, method, req, msg)
		if err != nil {
			return nil, err
		}
		load.result, load.msg = r, msg
		return proto.Marshal(msg)
	})
	telemetry.RecordCache(ctx, string(result.Status))
	if err != nil {
		return nil, nil, err
	}
	sent, err := c.responseOf(result, load.msg, res, plan)
	if err != nil {
		return nil, nil, err
	}
	if result.Status == cache.StatusHit {
		if age := int(result.Age / time.Second); age < len(plan.hits) {
			return sent, plan.hits[age], nil
		}
	}

	out := &upstream.Result{Status: http.StatusOK, Header: make(http.Header, 2)}
	if live := load.result; live != nil {
		out.Status, out.Attempts = live.Status, live.Attempts
		for name, values := range live.Header {
			out.Header[name] = values
		}
	}
	setCacheHeaders(out.Header, result.Status, result.Age)
	return sent, out, nil
}

// setCacheHeaders sets X-Cache to status and, for a stored response, Age
// to age in whole seconds.
func setCacheHeaders(header http.Header, status cache.Status, age time.Duration) {
	header[HeaderCache] = []string{string(status)}
	if status == cache.StatusHit || status == cache.StatusStale {
		header[HeaderAge] = []string{strconv.Itoa(int(age / time.Second))}
	}
}

// readLoad is the upstream result and response of a read's own load.
type readLoad struct {
	result *upstream.Result
	msg    proto.Message
}

// hitResults returns the result of a hit of each age in seconds below ttl,
// built once per RPC, so a hit allocates none. Callers only read results.
func hitResults(ttl time.Duration) []*upstream.Result {
	results := make([]*upstream.Result, int(ttl/time.Second))
	for age := range results {
		results[age] = &upstream.Result{Status: http.StatusOK, Header: make(http.Header, 2)}
		setCacheHeaders(results[age].Header, cache.StatusHit, time.Duration(age)*time.Second)
	}
	return results
}

// responseOf returns the message to send for result: the entry's shared
// message on a hit, the loaded message in the caller whose load ran, else
// result's bytes decoded into res, which is allocated when nil.
func (c *cachedUpstream) responseOf(result cache.Result, fresh, res proto.Message, plan *callPlan) (proto.Message, error) {
	if shared, ok := result.Decoded.(*sharedMessage); ok {
		return shared.msg, nil
	}
	if fresh != nil {
		return fresh, nil
	}
	if res == nil {
		res = plan.output.New().Interface()
	}
	if err := proto.Unmarshal(result.Value, res); err != nil {
		return nil, connect.NewError(connect.CodeInternal, fmt.Errorf("decode cached response: %w", err))
	}
	return res, nil
}

// keyBuffers holds buffers for the cache keys' request encoding, which the
// cache reads only while a read runs.
var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// callPlan is the cache policy, invalidation tags and response type of one
// RPC, read once from its proto options.
type callPlan struct {
	// procedure is the Connect procedure, such as
	// "/groundcam.v1.SessionService/GetSession", the name that the cache's
	// metrics carry.
	procedure   string
	policy      cache.Policy
	invalidates []string
	// output is the RPC's response type; nil when it is unknown, which
	// disables caching.
	output protoreflect.MessageType
	// hits holds the upstream result of a hit by its age in seconds.
	hits []*upstream.Result
	// decode turns a cached response into a [sharedMessage] of the RPC's
	// output type; nil when the type is unknown.
	decode func([]byte) (any, error)
}

// plans caches planOf's results by method name; the set of methods is
// fixed, so it stays small.
var plans sync.Map // protoreflect.FullName → *callPlan

// planOf returns the call plan of a method; one without caching when the
// method or its response type is unknown.
func planOf(method protoreflect.FullName) *callPlan {
	if plan, ok := plans.Load(method); ok {
		return plan.(*callPlan)
	}
	plan := newCallPlan(method)
	plans.Store(method, plan)
	return plan
}

func newCallPlan(method protoreflect.FullName) *callPlan {
	plan := &callPlan{procedure: "/" + string(method.Parent()) + "/" + string(method.Name())}
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(method)
	if err != nil {
		return plan
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return plan
	}
	op := upstream.OperationOf(md)
	policy := op.GetCache()
	plan.invalidates = op.GetInvalidates()

	output, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		return plan
	}
	plan.output = output
	plan.policy = cache.Policy{
		TTL:          time.Duration(policy.GetTtlSeconds()) * time.Second,
		StaleIfError: time.Duration(policy.GetStaleIfErrorSeconds()) * time.Second,
		// Sorted once here, so the cache need not sort them on every read.
		Tags: slices.Compact(slices.Sorted(slices.Values(policy.GetTags()))),
	}
	plan.hits = hitResults(plan.policy.TTL)

	plan.decode = func(wire []byte) (any, error) {
		msg := output.New().Interface()
		if err := proto.Unmarshal(wire, msg); err != nil {
			return nil, err
		}
		return newSharedMessage(msg, wire), nil
	}
	return plan
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
