// Package server holds the gateway's Connect handlers, its interceptors and
// the REST face's wiring. Handlers speak proto only: each RPC is forwarded
// to its upstream operation through an [Upstream].
package server

import (
	"context"
	"net/http"
	"sync"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// Upstream calls the upstream operation of an RPC. *upstream.Client
// implements it. Callers only read the returned result, which may be
// shared between calls.
type Upstream interface {
	Call(ctx context.Context, method protoreflect.FullName, req, res proto.Message) (*upstream.Result, error)
}

var _ Upstream = (*upstream.Client)(nil)

// forward sends the request of one RPC to its upstream operation and wraps
// the decoded response, with the upstream's rate-limit headers. A cache hit
// may return a response shared by other calls, which nothing after the
// handler modifies.
func forward[Res any, PRes interface {
	*Res
	proto.Message
}, Req any](ctx context.Context, up Upstream, req *connect.Request[Req]) (*connect.Response[Res], error) {
	msg, ok := any(req.Msg).(proto.Message)
	if !ok {
		return nil, connect.NewError(connect.CodeInternal, errNotProto)
	}
	fillHeaderFields(msg, req.Header())
	ctx = withNoCache(ctx, req.Header())

	var (
		sent   proto.Message
		result *upstream.Result
		err    error
	)
	if cached, ok := up.(*cachedUpstream); ok {
		// The cache allocates the response only when a hit has no shared
		// one.
		sent, result, err = cached.callShared(ctx, methodName(req.Spec()), msg, nil)
	} else {
		sent = PRes(new(Res))
		result, err = up.Call(ctx, methodName(req.Spec()), msg, sent)
	}
	noteUpstream(ctx, result, err)
	if err != nil {
		return nil, err
	}
	out := connect.NewResponse((*Res)(sent.(PRes)))
	for name, values := range result.Header {
		out.Header()[name] = values
	}
	return out, nil
}

// methodName returns the full name of the RPC, such as
// "groundcam.v1.SessionService.GetSession".
func methodName(spec connect.Spec) protoreflect.FullName {
	if md, ok := spec.Schema.(protoreflect.MethodDescriptor); ok {
		return md.FullName()
	}
	return ""
}

// headerField is a string request field that the contract binds to an
// HTTP header.
type headerField struct {
	field protoreflect.FieldDescriptor
	name  string
}

// headerFields caches headerFieldsOf's results by message descriptor.
var headerFields sync.Map // protoreflect.MessageDescriptor → []headerField

// headerFieldsOf returns the header-bound string fields of a message type.
func headerFieldsOf(md protoreflect.MessageDescriptor) []headerField {
	if cached, ok := headerFields.Load(md); ok {
		return cached.([]headerField)
	}
	var out []headerField
	fields := md.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if name := upstream.HeaderName(fd); name != "" && fd.Kind() == protoreflect.StringKind {
			out = append(out, headerField{field: fd, name: name})
		}
	}
	headerFields.Store(md, out)
	return out
}

// fillHeaderFields copies request headers into the unset fields that the
// contract binds to a header, such as Idempotency-Key. The X- prefixed
// spelling that the upstream also accepts is read too.
func fillHeaderFields(msg proto.Message, header http.Header) {
	m := msg.ProtoReflect()
	for _, hf := range headerFieldsOf(m.Descriptor()) {
		fd, name := hf.field, hf.name
		if m.Has(fd) {
			continue
		}
		value := header.Get(name)
		if value == "" {
			value = header.Get("X-" + name)
		}
		if value != "" {
			m.Set(fd, protoreflect.ValueOfString(value))
		}
	}
}
