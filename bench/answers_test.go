package bench_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/bench"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// TestLadderAnswers checks that every case returns the size's response,
// that the cached rungs serve it from the cache and that the uncached one
// calls the stub each time, so the benchmarks measure what they name.
func TestLadderAnswers(t *testing.T) {
	l := startLadder(t)
	clients := bench.NewClients(4)
	t.Cleanup(clients.CloseIdleConnections)
	for _, c := range bench.Ladder(l.sizes) {
		t.Run(c.Name(), func(t *testing.T) {
			url := l.urls[c.Rung]
			call, err := bench.NewCaller(c.Protocol, c.Size, url, clients)
			if err != nil {
				t.Fatalf("NewCaller: %v", err)
			}
			// The first call fills the cache of the cached rungs.
			for range 2 {
				if err := call(context.Background()); err != nil {
					t.Fatalf("call: %v", err)
				}
			}

			before := l.stub.Calls()
			header := checkAnswer(t, c, url, clients)
			called := l.stub.Calls() - before
			switch {
			case c.Rung.Cached():
				if got := header.Get("X-Cache"); got != "hit" {
					t.Errorf("X-Cache = %q, want hit", got)
				}
				if called != 0 {
					t.Errorf("a cached call reached the stub %d times", called)
				}
			case c.Rung == bench.RungMiss || c.Rung == bench.RungProxy:
				if called != 1 {
					t.Errorf("an uncached call reached the stub %d times, want 1", called)
				}
			}
		})
	}
}

// checkAnswer makes one call of c and compares its response with the
// size's. It returns the response headers.
func checkAnswer(t *testing.T, c bench.Case, url string, clients *bench.Clients) http.Header {
	t.Helper()
	switch c.Protocol {
	case bench.ProtocolConnect, bench.ProtocolConnectJSON, bench.ProtocolGRPC:
		msg, header := callConnect(t, c, url, clients)
		if !proto.Equal(msg, c.Size.Response) {
			t.Errorf("response differs from the %s response:\n got %v", c.Size.Name, msg)
		}
		return header
	case bench.ProtocolRaw:
		body, header := fetch(t, clients.HTTP1, http.MethodPost, url+c.Size.Procedure)
		if !bytes.Equal(body, c.Size.ResponseBytes) {
			t.Errorf("raw body has %d bytes, want the %d of the binary response", len(body), len(c.Size.ResponseBytes))
		}
		return header
	}

	body, header := fetch(t, clients.HTTP1, http.MethodGet, url+c.Size.RESTPath)
	if c.Rung != bench.RungVanguard {
		// The REST face writes the upstream's own envelope and mapping.
		if !bytes.Equal(body, c.Size.UpstreamBody) {
			t.Errorf("REST body differs from the upstream body:\n got %s\nwant %s", body, c.Size.UpstreamBody)
		}
		return header
	}
	msg := c.Size.Response.ProtoReflect().New().Interface()
	if err := protojson.Unmarshal(body, msg); err != nil {
		t.Fatalf("decode vanguard body: %v", err)
	}
	if !proto.Equal(msg, c.Size.Response) {
		t.Errorf("vanguard response differs from the %s response:\n got %v", c.Size.Name, msg)
	}
	return header
}

// callConnect calls the case's procedure over its protocol.
func callConnect(t *testing.T, c bench.Case, url string, clients *bench.Clients) (proto.Message, http.Header) {
	t.Helper()
	hc := clients.HTTP1
	var opts []connect.ClientOption
	switch c.Protocol {
	case bench.ProtocolConnectJSON:
		opts = append(opts, connect.WithProtoJSON())
	case bench.ProtocolGRPC:
		hc = clients.H2C
		opts = append(opts, connect.WithGRPC())
	}
	url += c.Size.Procedure
	switch req := c.Size.Request.(type) {
	case *groundcamv1.ListAgentsRequest:
		return unary[groundcamv1.ListAgentsRequest, groundcamv1.ListAgentsResponse](t, hc, url, req, opts)
	case *groundcamv1.ListSessionsRequest:
		return unary[groundcamv1.ListSessionsRequest, groundcamv1.ListSessionsResponse](t, hc, url, req, opts)
	}
	t.Fatalf("no client for %T", c.Size.Request)
	return nil, nil
}

func unary[Req, Res any](
	t *testing.T,
	hc *http.Client,
	url string,
	req *Req,
	opts []connect.ClientOption,
) (proto.Message, http.Header) {
	t.Helper()
	client := connect.NewClient[Req, Res](hc, url, opts...)
	res, err := client.CallUnary(context.Background(), connect.NewRequest(req))
	if err != nil {
		t.Fatalf("call %s: %v", url, err)
	}
	msg, ok := any(res.Msg).(proto.Message)
	if !ok {
		t.Fatalf("response %T is not a proto message", res.Msg)
	}
	return msg, res.Header()
}

// fetch sends a request without a body and returns the 200 response's body
// and headers.
func fetch(t *testing.T, hc *http.Client, method, url string) ([]byte, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/proto")
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, url, res.StatusCode, body)
	}
	return body, res.Header
}
