package fault

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"time"
)

// malformedBody replaces the body of a Malformed response: a JSON object
// that is never closed.
const malformedBody = `{"data": {"injected": "malformed JSON"`

// Middleware returns a handler that applies the first matching rule to each
// request and passes requests that match no rule to next unchanged.
func (i *Injector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, ok := i.take(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		i.apply(w, r, next, rule)
	})
}

// apply runs rule's effects on one request.
func (i *Injector) apply(w http.ResponseWriter, r *http.Request, next http.Handler, rule Rule) {
	if rule.Latency > 0 && !i.pause(r.Context(), rule.Latency) {
		return // the client went away
	}
	switch {
	case rule.Reset:
		resetConnection(w)
		return
	case rule.Hang:
		i.hang(r.Context())
		return
	case !rule.shapesResponse():
		next.ServeHTTP(w, r)
		return
	}

	res := &capturedResponse{header: http.Header{}}
	if rule.Status != 0 {
		res.fill(rule)
	} else {
		next.ServeHTTP(res, r)
	}
	res.WriteHeader(http.StatusOK) // no effect when the handler wrote a status
	i.send(r.Context(), w, rule, res)
}

// pause waits for d, and reports false when ctx ends first. Closing the
// injector ends the pause early and reports true.
func (i *Injector) pause(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-i.closed:
		return true
	case <-ctx.Done():
		return false
	}
}

// hang blocks until the client goes away or the injector closes, then aborts
// the connection or stream without a response.
func (i *Injector) hang(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-i.closed:
	}
	panic(http.ErrAbortHandler)
}

// resetConnection closes the connection without a response. On a TCP
// connection it sets SO_LINGER to 0, so that the client gets a reset instead
// of an orderly close. Where the connection cannot be hijacked (HTTP/2), it
// aborts the stream.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	raw := conn
	if tlsConn, ok := conn.(*tls.Conn); ok {
		raw = tlsConn.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

// send writes res to w as rule shapes it.
func (i *Injector) send(ctx context.Context, w http.ResponseWriter, rule Rule, res *capturedResponse) {
	body := res.body.Bytes()
	if rule.Malformed {
		body = []byte(malformedBody)
	}

	header := w.Header()
	for name, values := range res.header {
		header[name] = values
	}
	header.Del("Transfer-Encoding")
	if rule.Malformed {
		header.Del("Content-Encoding")
	}
	if bodyAllowed(res.status) {
		// The full length, even when Truncate sends less of it.
		header.Set("Content-Length", strconv.Itoa(len(body)))
	} else {
		header.Del("Content-Length")
		body = nil
	}
	w.WriteHeader(res.status)

	truncated := rule.Truncate > 0 && rule.Truncate < len(body)
	if truncated {
		body = body[:rule.Truncate]
	}
	if !i.writeBody(ctx, w, rule, body) {
		return
	}
	if truncated {
		// Put the partial body on the wire, then drop the connection.
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// writeBody writes body at once, or in chunks with SlowBody pauses between
// them. It reports false when the client went away or a write failed.
func (i *Injector) writeBody(ctx context.Context, w http.ResponseWriter, rule Rule, body []byte) bool {
	if rule.SlowBody == 0 {
		_, err := w.Write(body)
		return err == nil
	}
	size := rule.ChunkSize
	if size == 0 {
		size = DefaultChunkSize
	}
	flusher := http.NewResponseController(w)
	for start := 0; start < len(body); start += size {
		if start > 0 && !i.pause(ctx, rule.SlowBody) {
			return false
		}
		end := min(start+size, len(body))
		if _, err := w.Write(body[start:end]); err != nil {
			return false
		}
		if err := flusher.Flush(); err != nil {
			return false
		}
	}
	return true
}

// bodyAllowed reports whether a response with this status may have a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// capturedResponse buffers a whole response, from the wrapped handler or
// from a rule's Status fields, so that it can be reshaped before sending.
type capturedResponse struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

var _ http.ResponseWriter = (*capturedResponse)(nil)

// fill writes rule's injected response into res. A non-empty body without a
// Content-Type header is sent as application/json, like the real API.
func (res *capturedResponse) fill(rule Rule) {
	for name, value := range rule.Header {
		res.header.Set(name, value)
	}
	if rule.Body != "" && res.header.Get("Content-Type") == "" {
		res.header.Set("Content-Type", "application/json")
	}
	res.WriteHeader(rule.Status)
	res.body.WriteString(rule.Body)
}

// Header returns the buffered response's header map.
func (res *capturedResponse) Header() http.Header { return res.header }

// WriteHeader records the status; later calls are ignored, as in net/http.
func (res *capturedResponse) WriteHeader(status int) {
	if res.wroteHeader {
		return
	}
	res.wroteHeader = true
	res.status = status
}

// Write buffers body bytes, recording status 200 first if none was written.
func (res *capturedResponse) Write(b []byte) (int, error) {
	res.WriteHeader(http.StatusOK)
	return res.body.Write(b)
}
