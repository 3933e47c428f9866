package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
)

type apiKeyContextKey struct{}

// WithAPIKey returns a context that carries the API key of the upstream
// calls made on its behalf.
func WithAPIKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, apiKeyContextKey{}, key)
}

// APIKeyFrom returns the API key carried by ctx.
func APIKeyFrom(ctx context.Context) (string, bool) {
	key, ok := ctx.Value(apiKeyContextKey{}).(string)
	return key, ok && key != ""
}

// Tenant returns a stable, irreversible identifier of the API key carried
// by ctx: the hex SHA-256 of the key. Caches key their entries by it so no
// tenant is served another's data and no key is stored.
func Tenant(ctx context.Context) (string, bool) {
	key, ok := APIKeyFrom(ctx)
	if !ok {
		return "", false
	}
	sum := sha256.Sum256([]byte(key))
	var digits [2 * sha256.Size]byte
	hex.Encode(digits[:], sum[:])
	return string(digits[:]), true
}
