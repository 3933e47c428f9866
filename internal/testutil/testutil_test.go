package testutil

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB that records Fatalf instead of failing the
// real test; every other method goes to the real test.
type fatalRecorder struct {
	testing.TB
	fatal string
}

func (r *fatalRecorder) Helper() {}

// Fatalf records the message and ends the calling goroutine, as testing.T
// does.
func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runRecorded runs fn with a fatalRecorder in its own goroutine and returns
// the Fatalf message, or "" when fn returned.
func runRecorded(t *testing.T, fn func(tb testing.TB)) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(rec)
	}()
	<-done
	return rec.fatal
}

func TestLockedBufferConcurrentWrites(t *testing.T) {
	t.Parallel()
	var b LockedBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(b.String(), "\n"); got != 800 {
		t.Errorf("lines = %d, want 800", got)
	}
}

func TestLogRecordsFiltersByMessage(t *testing.T) {
	t.Parallel()
	logs := `{"level":"INFO","msg":"rpc call","code":"ok"}

{"level":"ERROR","msg":"handler panicked"}
{"level":"INFO","msg":"rpc call","code":"not_found"}
`
	calls := LogRecords(t, logs, "rpc call")
	if len(calls) != 2 {
		t.Fatalf("records with msg %q = %d, want 2", "rpc call", len(calls))
	}
	if calls[0]["code"] != "ok" || calls[1]["code"] != "not_found" {
		t.Errorf("records = %v, want the two rpc call lines in order", calls)
	}
	if all := LogRecords(t, logs, ""); len(all) != 3 {
		t.Errorf("every record = %d, want 3 (the blank line skipped)", len(all))
	}
	if none := LogRecords(t, "", ""); len(none) != 0 {
		t.Errorf("records of empty logs = %v, want none", none)
	}
}

func TestLogRecordsRejectsNonJSON(t *testing.T) {
	t.Parallel()
	fatal := runRecorded(t, func(tb testing.TB) {
		LogRecords(tb, "{\"msg\":\"a\"}\ntime=now msg=b\n", "")
	})
	if !strings.Contains(fatal, `"time=now msg=b" is not JSON`) {
		t.Errorf("Fatalf message = %q, want it to quote the line that is not JSON", fatal)
	}
}

func TestDoReadsBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI())
	}))
	t.Cleanup(srv.Close)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/x?y=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, body := Do(t, srv.Client(), req)
	if res.StatusCode != http.StatusTeapot {
		t.Errorf("status = %d, want %d", res.StatusCode, http.StatusTeapot)
	}
	if string(body) != "POST /v1/x?y=1" {
		t.Errorf("body = %q, want %q", body, "POST /v1/x?y=1")
	}
}

func TestDoFailsOnRefusedConnection(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+FreeAddr(t)+"/v1/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	fatal := runRecorded(t, func(tb testing.TB) {
		Do(tb, &http.Client{Timeout: 10 * time.Second}, req)
	})
	if !strings.HasPrefix(fatal, "GET /v1/x: ") {
		t.Errorf("Fatalf message = %q, want it to start with the method and path", fatal)
	}
}

func TestFreeAddrRefusesConnections(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("FreeAddr = %q, want an address on 127.0.0.1", addr)
	}
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err == nil {
		_ = conn.Close()
		t.Errorf("dial %s succeeded, want the connection refused", addr)
	}
}

func TestRedisServerStopAndRestart(t *testing.T) {
	t.Parallel()
	s := StartRedis(t, "the testutil tests")
	if !strings.HasPrefix(s.URL(), "redis://"+s.Addr()+"/") {
		t.Errorf("URL = %q, want redis://%s/0", s.URL(), s.Addr())
	}
	if err := pingRedis(s.Addr()); err != nil {
		t.Fatalf("PING after start: %v", err)
	}

	s.Stop()
	if err := pingRedis(s.Addr()); err == nil {
		t.Error("PING after Stop succeeded, want an error")
	}
	if err := s.Signal(syscall.SIGCONT); err == nil {
		t.Error("Signal after Stop: error = nil, want one saying the server is not running")
	}
	s.Stop() // a second Stop does nothing

	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if err := pingRedis(s.Addr()); err != nil {
		t.Errorf("PING after Restart: %v", err)
	}
}

func TestRedisServerSignalPauses(t *testing.T) {
	t.Parallel()
	s := StartRedis(t, "the testutil tests")
	if err := s.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
	if err := pingRedis(s.Addr()); err == nil {
		t.Error("PING to a stopped process succeeded, want a timeout")
	}
	if err := s.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT: %v", err)
	}
	if err := pingRedis(s.Addr()); err != nil {
		t.Errorf("PING after SIGCONT: %v", err)
	}
}
