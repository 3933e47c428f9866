package simulator

import (
	"fmt"
	"net"
	"net/http"
)

// loopbackTransport sends webhook deliveries only to loopback hosts, so
// that a simulator in a test or on a developer machine never posts events
// to a URL registered from an example, such as https://mycrm.com/webhooks.
// The host is checked as written, without a DNS lookup.
type loopbackTransport struct {
	next http.RoundTripper
}

var _ http.RoundTripper = loopbackTransport{}

// RoundTrip rejects a request whose host is not localhost or a loopback IP.
func (t loopbackTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Hostname()
	if !isLoopbackHost(host) {
		return nil, fmt.Errorf("webhook host %q is not a loopback address: the simulator delivers only to "+
			"localhost, 127.0.0.0/8 and ::1 unless started with WithWebhookAnyHost", host)
	}
	return t.next.RoundTrip(r)
}

// isLoopbackHost reports whether host is localhost or a loopback IP literal.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// webhookClient returns the client that delivers webhooks: base, or a
// default client, restricted to loopback hosts unless anyHost is set.
func webhookClient(base *http.Client, anyHost bool) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	if anyHost {
		return &c
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.Transport = loopbackTransport{next: next}
	return &c
}
