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

// Limits of the keyVerifier's memory of valid keys.
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
// and returns the upstream's error when there is one. Keys found valid are remembered, by hash, for 5 minutes, so a
// client that keeps sending bad requests costs at most one upstream call
// per key in that time. It is safe for concurrent use.
type keyVerifier struct {
	upstream Upstream
	now      func() time.Time

	mu    sync.Mutex
	valid map[string]time.Time // tenant hash to expiry
}

// newKeyVerifier returns a verifier that calls up.
func newKeyVerifier(up Upstream) *keyVerifier {
	return &keyVerifier{upstream: up, now: time.Now, valid: make(map[string]time.Time)}
}

// check returns the upstream's error for the context's key. It returns nil
// when the key is valid or the verification failed for another reason, for
// example an unreachable upstream, so that the validation error is returned.
func (k *keyVerifier) check(ctx context.Context) error {
	tenant, ok := upstream.Tenant(ctx)
	if !ok || k.remembered(tenant) {
		return nil
	}
	_, err := k.upstream.Call(ctx, verifyMethod, &groundcamv1.VerifyApiKeyRequest{}, &groundcamv1.VerifyApiKeyResponse{})
	if err == nil {
		k.remember(tenant)
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

func (k *keyVerifier) remembered(tenant string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	expiry, ok := k.valid[tenant]
	return ok && k.now().Before(expiry)
}

func (k *keyVerifier) remember(tenant string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.valid) >= maxVerifiedKeys {
		clear(k.valid)
	}
	k.valid[tenant] = k.now().Add(verifiedKeyTTL)
}
