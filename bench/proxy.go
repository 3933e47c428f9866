package bench

import (
	"io"
	"net/http"
)

// newProxy returns the floor of an uncached read: a net/http handler that
// sends each GET to the same path of the upstream stub and copies the
// status, the Content-Type and the body back. Any gateway that calls its
// upstream over HTTP does at least this on a miss. The uncached gateway's
// latency over the proxy's is therefore the cost of the gateway's own work,
// and the proxy's over the direct call's is the cost of the hop.
func newProxy(upstreamURL string) *Server {
	transport := newUpstreamTransport()
	client := &http.Client{Transport: transport}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			http.Error(w, "the proxy forwards GET requests only", http.StatusMethodNotAllowed)
			return
		}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, upstreamURL+r.URL.RequestURI(), nil)
		if err != nil {
			http.Error(w, "building the upstream request failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		res, err := client.Do(req)
		if err != nil {
			http.Error(w, "upstream request failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		w.Header()["Content-Type"] = res.Header["Content-Type"]
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	})
	return &Server{
		Handler: handler,
		closers: []func() error{func() error { transport.CloseIdleConnections(); return nil }},
	}
}
