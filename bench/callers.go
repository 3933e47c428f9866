package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// Protocol is the way a client calls a rung.
type Protocol string

// Protocols of the ladder's clients.
const (
	// ProtocolConnect is the Connect protocol with binary proto bodies,
	// over HTTP/1.1.
	ProtocolConnect Protocol = "connect-proto"
	// ProtocolConnectJSON is the Connect protocol with JSON bodies, over
	// HTTP/1.1.
	ProtocolConnectJSON Protocol = "connect-json"
	// ProtocolGRPC is gRPC over HTTP/2 without TLS (h2c).
	ProtocolGRPC Protocol = "grpc"
	// ProtocolRaw is a POST of the binary request to the procedure path,
	// over HTTP/1.1, read whole: the raw rung's client.
	ProtocolRaw Protocol = "raw"
	// ProtocolREST is a GET of the size's REST path, over HTTP/1.1, read
	// whole. The direct upstream call uses it too.
	ProtocolREST Protocol = "rest"
)

// Caller makes one call and returns its error. It is safe for concurrent
// use.
type Caller func(ctx context.Context) error

// Clients holds the HTTP clients that every caller of one run shares, so
// that rungs are called over the same kind of connection pool.
type Clients struct {
	// HTTP1 speaks HTTP/1.1, keeping up to the run's concurrency of idle
	// connections.
	HTTP1 *http.Client
	// H2C speaks HTTP/2 with prior knowledge over cleartext.
	H2C *http.Client
}

// NewClients returns clients for conns concurrent calls.
func NewClients(conns int) *Clients {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	http1 := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	var h2 http.Protocols
	h2.SetUnencryptedHTTP2(true)
	h2c := &http.Transport{
		DialContext:        dialer.DialContext,
		Protocols:          &h2,
		DisableCompression: true,
	}
	return &Clients{
		HTTP1: &http.Client{Transport: http1},
		H2C:   &http.Client{Transport: h2c},
	}
}

// CloseIdleConnections closes the idle connections of both clients.
func (c *Clients) CloseIdleConnections() {
	c.HTTP1.CloseIdleConnections()
	c.H2C.CloseIdleConnections()
}

// NewCaller returns the call of size over protocol to the server at
// baseURL, such as "http://127.0.0.1:8080". Connect clients accept no
// compression, so every rung sends its responses as they are.
func NewCaller(protocol Protocol, size *Size, baseURL string, clients *Clients) (Caller, error) {
	noGzip := connect.WithAcceptCompression("gzip", nil, nil)
	switch protocol {
	case ProtocolConnect:
		return connectCaller(size, clients.HTTP1, baseURL, noGzip)
	case ProtocolConnectJSON:
		return connectCaller(size, clients.HTTP1, baseURL, noGzip, connect.WithProtoJSON())
	case ProtocolGRPC:
		return connectCaller(size, clients.H2C, baseURL, noGzip, connect.WithGRPC())
	case ProtocolRaw:
		return rawCaller(size, clients.HTTP1, baseURL)
	case ProtocolREST:
		return restCaller(size, clients.HTTP1, baseURL), nil
	}
	return nil, fmt.Errorf("unknown protocol %q: use one of %s, %s, %s, %s, %s",
		protocol, ProtocolConnect, ProtocolConnectJSON, ProtocolGRPC, ProtocolRaw, ProtocolREST)
}

// connectCaller returns a Connect client call of the size's procedure.
func connectCaller(size *Size, hc *http.Client, baseURL string, opts ...connect.ClientOption) (Caller, error) {
	url := baseURL + size.Procedure
	switch req := size.Request.(type) {
	case *groundcamv1.ListAgentsRequest:
		return unaryCaller[groundcamv1.ListAgentsRequest, groundcamv1.ListAgentsResponse](hc, url, req, opts), nil
	case *groundcamv1.ListSessionsRequest:
		return unaryCaller[groundcamv1.ListSessionsRequest, groundcamv1.ListSessionsResponse](hc, url, req, opts), nil
	}
	return nil, fmt.Errorf("size %s: no Connect client for %T", size.Name, size.Request)
}

func unaryCaller[Req, Res any](hc *http.Client, url string, req *Req, opts []connect.ClientOption) Caller {
	client := connect.NewClient[Req, Res](hc, url, opts...)
	return func(ctx context.Context) error {
		_, err := client.CallUnary(ctx, connect.NewRequest(req))
		return err
	}
}

// rawCaller returns a POST of the binary request that reads the response
// whole.
func rawCaller(size *Size, hc *http.Client, baseURL string) (Caller, error) {
	body, err := proto.Marshal(size.Request)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", size.Name, err)
	}
	url := baseURL + size.Procedure
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/proto")
		return readWhole(hc, req)
	}, nil
}

// restCaller returns a GET of the size's REST path that reads the response
// whole.
func restCaller(size *Size, hc *http.Client, baseURL string) Caller {
	url := baseURL + size.RESTPath
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		return readWhole(hc, req)
	}
}

// readWhole sends req and reads the body, so the connection is reused. A
// status other than 200 is an error.
func readWhole(hc *http.Client, req *http.Request) error {
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return fmt.Errorf("read %s: %w", req.URL.Path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: HTTP %d", req.Method, req.URL.Path, res.StatusCode)
	}
	return nil
}
