package telemetry

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// classifyError returns the error.type value for a failed round trip or
// body read: a short name for the common network failures, otherwise the
// Go type of the innermost error that is not a fmt.Errorf wrapper (such as
// "*net.OpError"). It never returns the error's message, because messages
// from net/http can contain the request URL.
func classifyError(err error) string {
	var netErr net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError

	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns_error"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection_reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_closed"
	case errors.As(err, &certErr), errors.As(err, &recordErr):
		return "tls_error"
	}
	return semconv.ErrorType(err).Value.AsString()
}
