package bench_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/groundcam/groundcam-gateway/bench"
)

// ladder is the stub and one loopback server per rung.
type ladder struct {
	sizes   []*bench.Size
	stub    *bench.Stub
	stubURL string
	servers map[bench.Rung]*bench.Server
	urls    map[bench.Rung]string
}

// startLadder serves the stub and every rung on 127.0.0.1 until the test
// ends.
func startLadder(tb testing.TB) *ladder {
	tb.Helper()
	sizes, err := bench.Sizes()
	if err != nil {
		tb.Fatalf("Sizes: %v", err)
	}
	l := &ladder{
		sizes:   sizes,
		stub:    bench.NewStub(sizes),
		servers: make(map[bench.Rung]*bench.Server),
		urls:    make(map[bench.Rung]string),
	}
	stubSrv := serve(tb, l.stub)
	l.stubURL = stubSrv.URL
	for _, rung := range bench.Rungs() {
		srv, err := bench.NewServer(rung, sizes, l.stubURL)
		if err != nil {
			tb.Fatalf("NewServer(%s): %v", rung, err)
		}
		tb.Cleanup(func() {
			if err := srv.Close(); err != nil {
				tb.Errorf("close %s: %v", rung, err)
			}
		})
		l.servers[rung] = srv
		l.urls[rung] = serve(tb, srv.Handler).URL
	}
	return l
}

// serve serves h until the test ends.
func serve(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := bench.Serve(h)
	tb.Cleanup(srv.Close)
	return srv
}
