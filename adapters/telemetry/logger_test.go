package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// logLine decodes the single JSON record in buf.
func logLine(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("log has %d lines, want 1:\n%s", len(lines), buf)
	}
	var record map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &record); err != nil {
		t.Fatalf("decode log line %q: %v", lines[0], err)
	}
	return record
}

func spanContext(t *testing.T) (context.Context, trace.Span) {
	t.Helper()
	rec := newRecorders(t)
	return rec.tracerProvider.Tracer("test").Start(context.Background(), "operation")
}

func TestLoggerAddsTraceIDs(t *testing.T) {
	t.Parallel()
	ctx, span := spanContext(t)
	defer span.End()
	wantTrace := span.SpanContext().TraceID().String()
	wantSpan := span.SpanContext().SpanID().String()

	tests := []struct {
		name  string
		log   func(*slog.Logger)
		group string // the group that must hold "key", if any
	}{
		{
			name: "plain",
			log:  func(l *slog.Logger) { l.InfoContext(ctx, "request done", "key", "v") },
		},
		{
			name: "with attrs",
			log: func(l *slog.Logger) {
				l.With("request_id", "r1").InfoContext(ctx, "request done", "key", "v")
			},
		},
		{
			name:  "with group",
			log:   func(l *slog.Logger) { l.WithGroup("rpc").InfoContext(ctx, "request done", "key", "v") },
			group: "rpc",
		},
		{
			name: "attrs then group",
			log: func(l *slog.Logger) {
				l = l.With("request_id", "r1").WithGroup("rpc").With("procedure", "p")
				l.InfoContext(ctx, "request done", "key", "v")
			},
			group: "rpc",
		},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		tt.log(NewLogger(&buf, slog.LevelInfo))
		record := logLine(t, &buf)

		if got := record[LogKeyTraceID]; got != wantTrace {
			t.Errorf("%s: trace_id = %v, want %s", tt.name, got, wantTrace)
		}
		if got := record[LogKeySpanID]; got != wantSpan {
			t.Errorf("%s: span_id = %v, want %s", tt.name, got, wantSpan)
		}
		holder := record
		if tt.group != "" {
			holder, _ = record[tt.group].(map[string]any)
		}
		if got := holder["key"]; got != "v" {
			t.Errorf("%s: key = %v in %v, want v", tt.name, got, record)
		}
	}
}

func TestLoggerWithoutSpan(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, slog.LevelInfo)

	logger.InfoContext(context.Background(), "started", "listen_addr", "127.0.0.1:8080")

	record := logLine(t, &buf)
	if _, ok := record[LogKeyTraceID]; ok {
		t.Errorf("record without span has trace_id: %v", record)
	}
	if got := record["msg"]; got != "started" {
		t.Errorf("msg = %v, want started", got)
	}
	if got := record["listen_addr"]; got != "127.0.0.1:8080" {
		t.Errorf("listen_addr = %v, want 127.0.0.1:8080", got)
	}
}

func TestLoggerLevel(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := NewLogger(&buf, slog.LevelWarn)

	logger.Info("dropped")
	logger.Warn("kept")

	if got := logLine(t, &buf)["msg"]; got != "kept" {
		t.Errorf("msg = %v, want kept", got)
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    slog.Level
		wantErr bool
	}{
		{in: "debug", want: slog.LevelDebug},
		{in: "INFO", want: slog.LevelInfo},
		{in: " warn ", want: slog.LevelWarn},
		{in: "Warning", want: slog.LevelWarn},
		{in: "error", want: slog.LevelError},
		{in: "info+2", want: slog.LevelInfo + 2},
		{in: "", wantErr: true},
		{in: "verbose", wantErr: true},
		{in: "3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseLevel(%q) = %v, want an error", tt.in, got)
				continue
			}
			msg := err.Error()
			namesValue := strings.Contains(msg, `"`+tt.in+`"`)
			if !namesValue || !strings.Contains(msg, "debug, info, warn or error") {
				t.Errorf("ParseLevel(%q) error %q does not name the value and the choices", tt.in, msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseLevel(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseLevel(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
