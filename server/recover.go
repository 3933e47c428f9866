package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"

	"connectrpc.com/connect"
)

// recoverInterceptor turns a panic in a handler or in any interceptor
// inside it into an internal error, logged once here with its stack. The
// caller sees no detail of it. It runs outermost, so a panic in a
// configured interceptor is caught too, which connect.WithRecover alone
// would miss.
type recoverInterceptor struct {
	logger *slog.Logger
}

var _ connect.Interceptor = (*recoverInterceptor)(nil)

func (r *recoverInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (res connect.AnyResponse, err error) {
		defer func() {
			if value := recover(); value != nil {
				r.logger.ErrorContext(ctx, "handler panicked",
					"procedure", req.Spec().Procedure, "panic", value, "stack", string(debug.Stack()))
				res, err = nil, connect.NewError(connect.CodeInternal,
					errors.New("internal error: the gateway failed while handling the call"))
			}
		}()
		return next(ctx, req)
	}
}

func (r *recoverInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

// WrapStreamingHandler leaves streams alone: the gateway has no streaming
// RPCs of its own, and the reflection stream is connect-go's.
func (r *recoverInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
