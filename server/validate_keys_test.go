package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
)

// verifyCounter is a key verification that returns err and counts its
// calls.
type verifyCounter struct {
	err   error
	calls int
}

func (v *verifyCounter) verify(context.Context) error {
	v.calls++
	return v.err
}

func TestKeyMemoryRemembersValidKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 12, 15, 30, 0, 0, time.UTC)
	memory := &keyMemory{now: func() time.Time { return now }}
	ctx := upstream.WithAPIKey(context.Background(), "gc_live_valid")
	valid := &verifyCounter{}

	for range 3 {
		if err := memory.check(ctx, valid.verify); err != nil {
			t.Fatalf("check of a valid key: %v", err)
		}
	}
	if valid.calls != 1 {
		t.Errorf("verifications within the TTL = %d, want 1", valid.calls)
	}

	now = now.Add(verifiedKeyTTL)
	if err := memory.check(ctx, valid.verify); err != nil {
		t.Fatalf("check after the TTL: %v", err)
	}
	if valid.calls != 2 {
		t.Errorf("verifications after the TTL = %d, want 2", valid.calls)
	}
}

func TestKeyMemoryReturnsOnlyKeyErrors(t *testing.T) {
	t.Parallel()
	ctx := upstream.WithAPIKey(context.Background(), "gc_live_other")
	cases := []struct {
		name    string
		err     error
		wantErr bool
	}{
		{"invalid key", upstream.NewError(connect.CodeUnauthenticated, http.StatusUnauthorized,
			"INVALID_API_KEY", "Invalid API key"), true},
		{"organization gone", upstream.NewError(connect.CodeNotFound, http.StatusNotFound,
			"ORG_NOT_FOUND", "Organization not found"), true},
		{"rate limited", upstream.NewError(connect.CodeResourceExhausted, http.StatusTooManyRequests,
			"RATE_LIMITED", "Rate limit exceeded"), true},
		{"upstream unreachable", upstream.NewError(connect.CodeUnavailable, http.StatusBadGateway,
			upstream.ReasonUnavailable, "upstream is unreachable"), false},
		{"error without ErrorInfo", errors.New("in-process call failed"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var memory keyMemory
			failing := &verifyCounter{err: c.err}
			for range 2 {
				err := memory.check(ctx, failing.verify)
				if c.wantErr && !errors.Is(err, c.err) {
					t.Errorf("check = %v, want the verification's error", err)
				}
				if !c.wantErr && err != nil {
					t.Errorf("check = %v, want nil so that the request's own error is returned", err)
				}
			}
			// A key that failed verification is never remembered.
			if failing.calls != 2 {
				t.Errorf("verifications = %d, want 2", failing.calls)
			}
		})
	}
}

func TestKeyMemoryWithoutKey(t *testing.T) {
	t.Parallel()
	var memory keyMemory
	verify := &verifyCounter{}
	if err := memory.check(context.Background(), verify.verify); err != nil {
		t.Errorf("check without a key = %v, want nil", err)
	}
	if verify.calls != 0 {
		t.Errorf("verifications without a key = %d, want 0", verify.calls)
	}
}

func TestKeyMemoryCap(t *testing.T) {
	t.Parallel()
	var memory keyMemory
	for i := range maxVerifiedKeys {
		memory.remember(fmt.Sprintf("tenant-%d", i))
	}
	if !memory.remembered("tenant-0") {
		t.Fatal("the memory lost a key before it was full")
	}
	memory.remember("one-more")
	if memory.remembered("tenant-0") {
		t.Error("a full memory kept its old keys, want them cleared")
	}
	if !memory.remembered("one-more") {
		t.Error("the memory lost the key added when it was full")
	}
}
