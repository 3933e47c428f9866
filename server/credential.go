package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

var errNotProto = errors.New("request is not a protobuf message")

// credentialInterceptor puts the effective API key in the call's context:
// the caller's bearer token when it sends one, else the gateway's default
// key when one is configured. Without either the call fails unauthenticated
// before reaching the upstream. The key never appears in an error.
type credentialInterceptor struct {
	defaultKey string
}

var _ connect.Interceptor = (*credentialInterceptor)(nil)

func (c *credentialInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		key, err := c.keyFor(req.Header())
		if err != nil {
			return nil, err
		}
		return next(upstream.WithAPIKey(ctx, key), req)
	}
}

func (c *credentialInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (c *credentialInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// keyFor returns the API key of a request with the given headers.
func (c *credentialInterceptor) keyFor(header http.Header) (string, error) {
	auth := header.Get("Authorization")
	if auth == "" {
		// A header sent empty is a malformed credential, not a request
		// for the default key.
		if _, sent := header["Authorization"]; sent {
			return "", upstream.NewError(connect.CodeUnauthenticated, http.StatusUnauthorized, upstream.ReasonUnauthorized,
				"Missing API key: send the header Authorization: Bearer gc_live_...")
		}
		if c.defaultKey == "" {
			return "", upstream.NewError(connect.CodeUnauthenticated, http.StatusUnauthorized, upstream.ReasonUnauthorized,
				"Missing API key: send the header Authorization: Bearer gc_live_...")
		}
		return c.defaultKey, nil
	}
	scheme, token, ok := strings.Cut(auth, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", upstream.NewError(connect.CodeUnauthenticated, http.StatusUnauthorized, upstream.ReasonUnauthorized,
			"Authorization header must use the Bearer scheme: Authorization: Bearer gc_live_...")
	}
	return token, nil
}
