// Package telemetry sets up the gateway's OpenTelemetry tracing and metrics,
// its structured logger, and the instrumented [http.RoundTripper] used for
// calls to the GroundCam upstream.
//
// [Setup] builds the tracer and meter providers. Exporters are chosen by the
// standard OTEL_* environment variables, and metrics are always served for
// Prometheus scraping by [Telemetry.AdminHandler]. [NewLogger] writes JSON
// records that carry the trace_id and span_id of the context's span.
// [NewTransport] wraps a transport so that every upstream request gets a
// client span named by its route template and a sample of the
// http.client.request.duration histogram.
//
// Telemetry hygiene: spans and metrics carry only attributes from a fixed
// allow-list. The transport never records a URL path, a query string, a
// request or response body, or a header whose name [IsSafeHeader] rejects,
// because upstream URLs carry ids and query strings can carry phone numbers.
package telemetry
