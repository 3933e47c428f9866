package server

import (
	"bytes"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

// requestGate holds the simulator's requests to one path until it is
// opened.
type requestGate struct {
	path    string
	open    chan struct{}
	arrived chan struct{}
}

func newRequestGate(path string) *requestGate {
	return &requestGate{path: path, open: make(chan struct{}), arrived: make(chan struct{}, 1024)}
}

func (g *requestGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == g.path {
			g.arrived <- struct{}{}
			select {
			case <-g.open:
			case <-r.Context().Done():
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// waitForWaiters waits until n goroutines wait in the cache for a shared
// load, for at most 10 seconds. It reads the goroutine stacks, because the
// cache has no hook that reports a caller joining a load.
//
// NOTE: this depends on the name of cache.(*Cache).loadShared. A rename
// makes the test fail here with a message that names it.
func waitForWaiters(t *testing.T, n int) {
	t.Helper()
	const frame = "adapters/cache.(*Cache).loadShared("
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<22)
	for {
		size := runtime.Stack(buf, true)
		waiting := bytes.Count(buf[:size], []byte(frame))
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s only %d of %d callers wait in %s; if the function was renamed, "+
				"update waitForWaiters", waiting, n, frame)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// TestCacheConcurrentColdReadsShareOneCall is not parallel, because
// waitForWaiters counts the goroutines of the whole process.
func TestCacheConcurrentColdReadsShareOneCall(t *testing.T) {
	const callers = 50
	for _, face := range cacheFaces {
		t.Run(string(face), func(t *testing.T) {
			gate := newRequestGate("/v1/organization")
			up := startCacheUpstream(t, gate.wrap)
			g := newCacheGateway(t, up, cacheGatewayConfig{})
			call := callGetOrganization()

			replies := make([]cacheReply, callers)
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() { replies[i] = g.do(t, face, call, up.acme.Key, nil) })
			}
			// Every caller waits for the one load held at the simulator, so
			// none can miss it and start another.
			<-gate.arrived
			waitForWaiters(t, callers)
			close(gate.open)
			wg.Wait()

			checkCalls(t, up, call, 1)
			for i, reply := range replies {
				if reply.failed() {
					t.Errorf("%s: caller %d failed: %s", face, i, reply.failure())
					continue
				}
				if got := reply.header.Get(HeaderCache); got != string(cache.StatusMiss) {
					t.Errorf("%s: caller %d: %s is %q, want %q", face, i, HeaderCache, got, cache.StatusMiss)
				}
				if !reply.sameResponse(replies[0]) {
					t.Errorf("%s: caller %d got a different response:\n%s\nwant\n%s",
						face, i, reply.body, replies[0].body)
				}
			}
		})
	}
}
