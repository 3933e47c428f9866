package bench

import (
	"net/http"
	"net/http/httptest"
)

// Serve serves h on a new port of 127.0.0.1 over HTTP/1.1 and HTTP/2
// without TLS (h2c with prior knowledge), as the gateway command does.
// Close the returned server to stop it.
func Serve(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv.Config.Protocols = &protocols
	srv.Start()
	return srv
}
