package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

var errNotProto = errors.New("request is not a protobuf message")

// credentialInterceptor puts the effective API key in the call's context:
// the caller's bearer token when it sends one, else the gateway's default
// key when one is configured. Without either the call fails unauthenticated
// before reaching the upstream. The key never appears in an error. It also
// handles the REST face's key checks (see [withKeyCheck]).
type credentialInterceptor struct {
	defaultKey string
	// checked remembers the keys that key checks found valid.
	// NOTE: the validation interceptor's [keyVerifier] has a memory of its
	// own, so a valid key can be verified once for each in 5 minutes.
	checked keyMemory
}

var _ connect.Interceptor = (*credentialInterceptor)(nil)

func (c *credentialInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		key, err := c.keyFor(req.Header())
		if err != nil {
			return nil, err
		}
		ctx = upstream.WithAPIKey(ctx, key)
		procedure := req.Spec().Procedure
		if isKeyCheck(ctx) && procedure == groundcamv1connect.AuthServiceVerifyApiKeyProcedure {
			return c.checkKey(ctx, next, req)
		}
		return next(ctx, req)
	}
}

// keyCheckKey is the context key that marks a key check.
type keyCheckKey struct{}

// withKeyCheck marks an in-process VerifyApiKey call as a key check, which
// the REST face makes before it rejects a request that it could not read or
// route. The credential interceptor then returns only key errors: its own
// 401 for a missing or malformed key, or the upstream's 401, 403, 404 or
// 429. Context values never cross the network, so only in-process calls
// can be key checks.
func withKeyCheck(ctx context.Context) context.Context {
	return context.WithValue(ctx, keyCheckKey{}, true)
}

// isKeyCheck reports whether ctx is the context of a key check.
func isKeyCheck(ctx context.Context) bool {
	marked, _ := ctx.Value(keyCheckKey{}).(bool)
	return marked
}

// checkKey handles a key check. The VerifyApiKey call continues down the
// chain to the upstream unless the key was found valid in the last 5
// minutes, and its other errors, such as an unreachable upstream, become an
// empty response.
func (c *credentialInterceptor) checkKey(
	ctx context.Context,
	next connect.UnaryFunc,
	req connect.AnyRequest,
) (connect.AnyResponse, error) {
	err := c.checked.check(ctx, func(ctx context.Context) error {
		_, err := next(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&groundcamv1.VerifyApiKeyResponse{}), nil
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
