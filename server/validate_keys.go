package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// Limits of the memory of valid keys.
const (
	verifiedKeyTTL  = 5 * time.Minute
	maxVerifiedKeys = 1024
)

// verifyMethod is the RPC that checks a key upstream.
var verifyMethod = groundcamv1.File_groundcam_v1_auth_proto.Services().
	ByName("AuthService").Methods().ByName("VerifyApiKey").FullName()

// keyVerifier keeps the upstream's precedence of key errors over field
// errors. The upstream rejects an invalid or revoked key (401), a key whose
// organization is gone (404) and a key over its rate limit (429) before it
// reads the request. The gateway cannot tell such a key from a good one, so
// before it returns invalid_argument it asks the upstream to verify the key,
// and returns the upstream's error when there is one. It is safe for
// concurrent use.
type keyVerifier struct {
	upstream Upstream
	memory   keyMemory
}

// newKeyVerifier returns a verifier that calls up.
func newKeyVerifier(up Upstream) *keyVerifier {
	return &keyVerifier{upstream: up}
}

// check returns the upstream's error for the context's key, as
// [keyMemory.check] describes.
func (k *keyVerifier) check(ctx context.Context) error {
	return k.memory.check(ctx, func(ctx context.Context) error {
		_, err := k.upstream.Call(ctx, verifyMethod,
			&groundcamv1.VerifyApiKeyRequest{}, &groundcamv1.VerifyApiKeyResponse{})
		return err
	})
}

// keyMemory remembers, by tenant hash, the keys that the upstream found
// valid, for 5 minutes, so a client that keeps sending bad requests costs
// at most one verification per key in that time. The zero value is ready
// to use, and it is safe for concurrent use.
type keyMemory struct {
	// now returns the current time. Nil selects time.Now.
	now func() time.Time

	mu    sync.Mutex
	valid map[string]time.Time // tenant hash to expiry
}

// check returns the upstream's error for the key in ctx, which verify
// fetches, unless the key was found valid in the last 5 minutes. It
// returns nil when there is no key, when the key is valid, and when the
// verification failed for another reason, such as an unreachable
// upstream, so that the caller's own error is returned.
func (m *keyMemory) check(ctx context.Context, verify func(context.Context) error) error {
	tenant, ok := upstream.Tenant(ctx)
	if !ok || m.remembered(tenant) {
		return nil
	}
	err := verify(ctx)
	if err == nil {
		m.remember(tenant)
		return nil
	}
	if keyRejected(err) {
		return err
	}
	return nil
}

// keyRejected reports an upstream error about the key itself.
func keyRejected(err error) bool {
	info, ok := upstream.ErrorInfoOf(err)
	if !ok {
		return false
	}
	status, _ := strconv.Atoi(info.GetMetadata()[upstream.MetaHTTPStatus])
	// The gateway's own errors, such as an open circuit or overload, use
	// other statuses, so these are the upstream's.
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusTooManyRequests:
		return true
	}
	return false
}

func (m *keyMemory) remembered(tenant string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	expiry, ok := m.valid[tenant]
	return ok && m.clock().Before(expiry)
}

func (m *keyMemory) remember(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.valid == nil:
		m.valid = make(map[string]time.Time)
	case len(m.valid) >= maxVerifiedKeys:
		clear(m.valid)
	}
	m.valid[tenant] = m.clock().Add(verifiedKeyTTL)
}

func (m *keyMemory) clock() time.Time {
	if m.now == nil {
		return time.Now()
	}
	return m.now()
}
