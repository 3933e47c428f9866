package testutil

import (
	"io"
	"net/http"
	"testing"
)

// Do sends req with client and returns the response with its body read and
// closed. It fails tb when the request cannot be sent or the body cannot be
// read, and checks nothing else: any HTTP status is returned.
func Do(tb testing.TB, client *http.Client, req *http.Request) (*http.Response, []byte) {
	tb.Helper()
	res, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("read body of %s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	return res, body
}
