package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreeAddr returns a host:port address on 127.0.0.1 that nothing listened
// on when it returned. Connections to it are refused until something binds
// it, which another process may do at any time.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(tb)))
}

// freePort returns a TCP port of 127.0.0.1 that the kernel handed out and
// that was released again before freePort returned.
func freePort(tb testing.TB) int {
	tb.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("find a free port: %v", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	if err := listener.Close(); err != nil {
		tb.Fatalf("release port %d: %v", port, err)
	}
	return port
}
