package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"connectrpc.com/connect"
)

// recoverPanic turns a panic in a handler into an internal error, logged
// once here with its stack; the caller sees no detail of it.
func recoverPanic(logger *slog.Logger) func(context.Context, connect.Spec, http.Header, any) error {
	return func(ctx context.Context, spec connect.Spec, _ http.Header, value any) error {
		logger.ErrorContext(ctx, "handler panicked",
			"procedure", spec.Procedure, "panic", value, "stack", string(debug.Stack()))
		return connect.NewError(connect.CodeInternal, errors.New("internal error: the gateway failed while handling the call"))
	}
}
