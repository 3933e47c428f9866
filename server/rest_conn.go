package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
)

// inProcessConn is the grpc.ClientConnInterface behind the REST face's
// generated clients. Each call is a Connect unary request with a binary
// proto body, served in memory by the Connect handler, so REST calls pass
// the same interceptors as every other face. It is safe for concurrent use.
//
// A connect.Client over an in-memory HTTP client would also work, but it
// needs one generic client per procedure and buffers the messages again.
// Building the request here takes less code and fewer allocations per call.
type inProcessConn struct {
	handler http.Handler
	logger  *slog.Logger
}

var _ grpc.ClientConnInterface = (*inProcessConn)(nil)

// Headers of the Connect unary protocol that are not call metadata.
var connectProtocolHeaders = map[string]bool{
	"Content-Type":             true,
	"Content-Length":           true,
	"Content-Encoding":         true,
	"Accept-Encoding":          true,
	"Connect-Accept-Encoding":  true,
	"Connect-Content-Encoding": true,
	"Connect-Protocol-Version": true,
	"Connect-Timeout-Ms":       true,
	"Vary":                     true,
	"Date":                     true,
}

// Invoke sends one unary call, method being the gRPC path such as
// "/groundcam.v1.SessionService/GetSession". The response headers and
// trailers go to the grpc.Header and grpc.Trailer options of opts. A failed
// call returns a *connect.Error with the handler's code, message, details
// and headers.
func (c *inProcessConn) Invoke(
	ctx context.Context,
	method string,
	args, reply any,
	opts ...grpc.CallOption,
) error {
	if call, ok := restCallFrom(ctx); ok {
		call.invoked = true
	}
	in, inOK := args.(proto.Message)
	out, outOK := reply.(proto.Message)
	if !inOK || !outOK {
		return internalError(method, "request %T or reply %T is not a proto message", args, reply)
	}
	body, err := proto.Marshal(in)
	if err != nil {
		return internalError(method, "encode request: %w", err)
	}
	req, err := newConnectRequest(ctx, method, body)
	if err != nil {
		return err
	}

	res := &memoryResponse{header: make(http.Header)}
	if err := c.serve(res, req); err != nil {
		return err
	}

	header, trailer := splitConnectHeaders(res.header)
	setCallMetadata(opts, header, trailer)
	if res.status != http.StatusOK {
		return c.callError(ctx, method, res, header, trailer)
	}
	if err := proto.Unmarshal(res.body.Bytes(), out); err != nil {
		c.logger.ErrorContext(ctx, "decode in-process response", "procedure", method, "error", err)
		return internalError(method, "decode response: %w", err)
	}
	return nil
}

// callError returns the error of a failed call, with the response's
// headers and trailers as its metadata.
func (c *inProcessConn) callError(
	ctx context.Context,
	method string,
	res *memoryResponse,
	header, trailer metadata.MD,
) *connect.Error {
	cerr, ok := decodeConnectError(res)
	if !ok {
		c.logger.ErrorContext(ctx, "in-process call failed without a Connect error body",
			"procedure", method, "http_status", res.status)
		cerr = connect.NewError(codeForHTTPStatus(res.status), fmt.Errorf(
			"in-process call %s failed with HTTP %d and no Connect error body", method, res.status))
	}
	for _, md := range []metadata.MD{header, trailer} {
		for key, values := range md {
			cerr.Meta()[http.CanonicalHeaderKey(key)] = values
		}
	}
	return cerr
}

// internalError returns an internal error of the call to method.
func internalError(method, format string, args ...any) *connect.Error {
	return connect.NewError(connect.CodeInternal, fmt.Errorf("in-process call %s: "+format,
		append([]any{method}, args...)...))
}

// serve runs the handler. A panic that the handler's own recovery did not
// catch, such as one in an outer interceptor, becomes an internal error
// instead of dropping the REST client's connection.
func (c *inProcessConn) serve(res *memoryResponse, req *http.Request) (err error) {
	defer func() {
		value := recover()
		if value == nil {
			return
		}
		if value == http.ErrAbortHandler {
			panic(value)
		}
		c.logger.ErrorContext(req.Context(), "in-process call panicked",
			"procedure", req.URL.Path, "panic", value, "stack", string(debug.Stack()))
		err = connect.NewError(connect.CodeInternal,
			errors.New("internal error: the gateway failed while handling the call"))
	}()
	c.handler.ServeHTTP(res, req)
	res.WriteHeader(http.StatusOK) // a handler that wrote nothing means 200
	return nil
}

// NewStream fails: the gateway has no streaming RPCs.
func (c *inProcessConn) NewStream(
	context.Context,
	*grpc.StreamDesc,
	string,
	...grpc.CallOption,
) (grpc.ClientStream, error) {
	return nil, connect.NewError(connect.CodeUnimplemented,
		errors.New("streaming calls are not supported in process"))
}

// newConnectRequest builds the Connect unary request of a call: the
// outgoing metadata that grpc-gateway put in ctx becomes request headers,
// and the deadline becomes Connect-Timeout-Ms.
func newConnectRequest(ctx context.Context, method string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, method, bytes.NewReader(body))
	if err != nil {
		return nil, internalError(method, "build request: %w", err)
	}
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		for key, values := range md {
			// grpc-gateway derives these two from the REST request. The
			// Connect request carries the client's address in RemoteAddr.
			if key == "x-forwarded-for" || key == "x-forwarded-host" {
				continue
			}
			name := http.CanonicalHeaderKey(key)
			if !connectProtocolHeaders[name] {
				req.Header[name] = append(req.Header[name], values...)
			}
		}
	}
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Connect-Protocol-Version", "1")
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline).Milliseconds()
		if left <= 0 {
			return nil, connect.NewError(connect.CodeDeadlineExceeded,
				fmt.Errorf("in-process call %s: the deadline passed before the call started", method))
		}
		req.Header.Set("Connect-Timeout-Ms", strconv.FormatInt(left, 10))
	}
	if call, ok := restCallFrom(ctx); ok {
		req.RemoteAddr = call.remoteAddr
		req.Host = call.host
	}
	return req, nil
}

// splitConnectHeaders separates the call metadata of a Connect unary
// response into headers and trailers, which the protocol sends as headers
// with a "Trailer-" prefix.
func splitConnectHeaders(h http.Header) (header, trailer metadata.MD) {
	header, trailer = metadata.MD{}, metadata.MD{}
	for name, values := range h {
		if connectProtocolHeaders[name] {
			continue
		}
		if rest, ok := strings.CutPrefix(name, "Trailer-"); ok {
			trailer[strings.ToLower(rest)] = values
			continue
		}
		header[strings.ToLower(name)] = values
	}
	return header, trailer
}

// setCallMetadata stores the response metadata where the grpc.Header and
// grpc.Trailer call options point.
func setCallMetadata(opts []grpc.CallOption, header, trailer metadata.MD) {
	for _, opt := range opts {
		switch o := opt.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = trailer
		}
	}
}

// connectWireError is the JSON body of a Connect unary error.
type connectWireError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"details"`
}

// decodeConnectError rebuilds the error of a failed Connect unary response.
// Details whose type is registered are decoded into their messages, others
// are kept as google.protobuf.Any. It reports false when the body is not a
// Connect error.
func decodeConnectError(res *memoryResponse) (*connect.Error, bool) {
	var wire connectWireError
	if json.Unmarshal(res.body.Bytes(), &wire) != nil || wire.Code == "" {
		return nil, false
	}
	var code connect.Code
	if code.UnmarshalText([]byte(wire.Code)) != nil {
		code = connect.CodeUnknown
	}
	cerr := connect.NewError(code, errors.New(wire.Message))
	for _, d := range wire.Details {
		if detail, ok := decodeErrorDetail(d.Type, d.Value); ok {
			cerr.AddDetail(detail)
		}
	}
	return cerr, true
}

// decodeErrorDetail decodes one error detail from its type name and its
// base64 value.
func decodeErrorDetail(typeName, value string) (*connect.ErrorDetail, bool) {
	raw, err := connect.DecodeBinaryHeader(value)
	if err != nil {
		return nil, false
	}
	var msg proto.Message = &anypb.Any{TypeUrl: "type.googleapis.com/" + typeName, Value: raw}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(typeName))
	if err == nil {
		inner := mt.New().Interface()
		if proto.Unmarshal(raw, inner) == nil {
			msg = inner
		}
	}
	detail, err := connect.NewErrorDetail(msg)
	return detail, err == nil
}

// codeForHTTPStatus maps the HTTP status of a response without a Connect
// error body, as the Connect protocol specifies for clients.
func codeForHTTPStatus(status int) connect.Code {
	switch status {
	case http.StatusBadRequest:
		return connect.CodeInternal
	case http.StatusUnauthorized:
		return connect.CodeUnauthenticated
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusNotFound:
		return connect.CodeUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return connect.CodeUnavailable
	}
	return connect.CodeUnknown
}

// memoryResponse is an http.ResponseWriter that keeps the response in
// memory.
type memoryResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var (
	_ http.ResponseWriter = (*memoryResponse)(nil)
	_ http.Flusher        = (*memoryResponse)(nil)
)

// Header returns the response headers.
func (m *memoryResponse) Header() http.Header { return m.header }

// WriteHeader records the first status written.
func (m *memoryResponse) WriteHeader(status int) {
	if m.status == 0 {
		m.status = status
	}
}

// Write appends to the body, with status 200 unless one was written.
func (m *memoryResponse) Write(p []byte) (int, error) {
	m.WriteHeader(http.StatusOK)
	return m.body.Write(p)
}

// Flush does nothing: the response is read once the handler returns.
func (m *memoryResponse) Flush() {}
