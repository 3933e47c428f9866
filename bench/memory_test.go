package bench_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/bench"
)

// memoryRequest is a request that is served again and again from memory.
// Handlers may rewrite a request in place (vanguard turns a REST request
// into its RPC's), so reset restores the fields without allocating, and
// building the request costs nothing in the benchmark loop.
type memoryRequest struct {
	r    *http.Request
	body *rewindBody

	// The request as built.
	method string
	url    *url.URL
	urlVal url.URL
	header map[string][]string
	length int64
}

// rewindBody is a request body that can be read again from the start.
type rewindBody struct {
	bytes.Reader
	data []byte
}

// Close does nothing.
func (b *rewindBody) Close() error { return nil }

// newMemoryRequest returns the request of the case's protocol, as the
// case's client sends it.
func newMemoryRequest(tb testing.TB, c bench.Case) *memoryRequest {
	tb.Helper()
	method, path, contentType := http.MethodPost, c.Size.Procedure, ""
	var data []byte
	var err error
	switch c.Protocol {
	case bench.ProtocolConnect, bench.ProtocolRaw:
		contentType = "application/proto"
		data, err = proto.Marshal(c.Size.Request)
	case bench.ProtocolConnectJSON:
		contentType = "application/json"
		data, err = protojson.Marshal(c.Size.Request)
	case bench.ProtocolGRPC:
		contentType = "application/grpc"
		var msg []byte
		msg, err = proto.Marshal(c.Size.Request)
		data = binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
		data = append(data, msg...)
	case bench.ProtocolREST:
		method, path = http.MethodGet, c.Size.RESTPath
	}
	if err != nil {
		tb.Fatalf("encode %s request: %v", c.Size.Name, err)
	}

	u, err := url.ParseRequestURI(path)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	body := &rewindBody{data: data}
	r := &http.Request{
		Method:        method,
		URL:           u,
		RequestURI:    path,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header),
		Body:          body,
		ContentLength: int64(len(data)),
		Host:          "127.0.0.1",
		RemoteAddr:    "127.0.0.1:40000",
	}
	r = r.WithContext(context.Background())
	if method == http.MethodGet {
		r.ContentLength = 0
		r.Header.Set("Accept", "application/json")
	} else {
		r.Header.Set("Content-Type", contentType)
	}
	if c.Protocol == bench.ProtocolConnect || c.Protocol == bench.ProtocolConnectJSON {
		r.Header.Set("Connect-Protocol-Version", "1")
	}
	if c.Protocol == bench.ProtocolGRPC {
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0
		r.Header.Set("Te", "trailers")
	}
	req := &memoryRequest{
		r:      r,
		body:   body,
		method: r.Method,
		url:    r.URL,
		urlVal: *r.URL,
		header: maps.Clone(r.Header),
		length: r.ContentLength,
	}
	req.reset()
	return req
}

// reset restores the request as built and rewinds its body.
func (m *memoryRequest) reset() {
	r := m.r
	r.Method = m.method
	*m.url = m.urlVal
	r.URL = m.url
	clear(r.Header)
	maps.Copy(r.Header, m.header)
	r.ContentLength = m.length
	if m.length > 0 {
		m.body.Reset(m.body.data)
		r.Body = m.body
	} else {
		r.Body = http.NoBody
	}
}

// memoryWriter is an http.ResponseWriter that keeps the last response and
// reuses its header map.
type memoryWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var (
	_ http.ResponseWriter = (*memoryWriter)(nil)
	_ http.Flusher        = (*memoryWriter)(nil)
)

func newMemoryWriter() *memoryWriter {
	return &memoryWriter{header: make(http.Header)}
}

// reset forgets the last response.
func (w *memoryWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

// Header returns the response headers.
func (w *memoryWriter) Header() http.Header { return w.header }

// WriteHeader records the first status.
func (w *memoryWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write appends to the body.
func (w *memoryWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush does nothing.
func (w *memoryWriter) Flush() {}

// serveMemory serves one call and fails unless it answered 200, with a
// gRPC status of 0 for gRPC calls.
func serveMemory(tb testing.TB, h http.Handler, req *memoryRequest, w *memoryWriter) {
	tb.Helper()
	req.reset()
	w.reset()
	h.ServeHTTP(w, req.r)
	if w.status != http.StatusOK {
		tb.Fatalf("%s %s answered HTTP %d: %s", req.r.Method, req.r.URL.Path, w.status, w.body.Bytes())
	}
	if status := w.header.Get(http.TrailerPrefix + "Grpc-Status"); status != "" && status != "0" {
		tb.Fatalf("%s answered gRPC status %s: %s", req.r.URL.Path, status,
			w.header.Get(http.TrailerPrefix+"Grpc-Message"))
	}
}
