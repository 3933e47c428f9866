package telemetry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// The keys that [NewLogger] adds to records logged with a span in context.
const (
	LogKeyTraceID = "trace_id"
	LogKeySpanID  = "span_id"
)

// NewLogger returns a logger that writes one JSON object per record to w,
// dropping records below level. A record logged with a context that carries
// a valid span context (InfoContext and the like) gets the top-level keys
// trace_id and span_id, in the W3C hex form, even inside a group.
func NewLogger(w io.Writer, level slog.Leveler) *slog.Logger {
	base := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(&traceHandler{base: base, current: base})
}

// ParseLevel parses a log level name: debug, info, warn (or warning) or
// error, in any case, optionally with an offset such as "info+2" as
// [slog.Level.UnmarshalText] accepts.
func ParseLevel(s string) (slog.Level, error) {
	name := strings.TrimSpace(s)
	if strings.EqualFold(name, "warning") {
		return slog.LevelWarn, nil
	}

	var level slog.Level
	if name == "" || level.UnmarshalText([]byte(name)) != nil {
		return 0, fmt.Errorf("invalid log level %q: use debug, info, warn or error", s)
	}
	return level, nil
}

// handlerStep is one WithAttrs or WithGroup call, kept so that traceHandler
// can rebuild the chain on top of the trace attributes.
type handlerStep struct {
	group string // set for WithGroup
	attrs []slog.Attr
}

// traceHandler adds trace_id and span_id to records whose context carries a
// span. Attributes added to a record land in the innermost open group, so
// once a group is open the handler rebuilds the chain from base with the
// trace attributes first, which keeps them at the top level.
type traceHandler struct {
	base    slog.Handler // the JSON handler without steps
	current slog.Handler // base with steps applied
	steps   []handlerStep
	grouped bool // some step is a WithGroup
}

var _ slog.Handler = (*traceHandler)(nil)

func (h *traceHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.current.Enabled(ctx, level)
}

func (h *traceHandler) Handle(ctx context.Context, record slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.current.Handle(ctx, record)
	}

	ids := []slog.Attr{
		slog.String(LogKeyTraceID, sc.TraceID().String()),
		slog.String(LogKeySpanID, sc.SpanID().String()),
	}
	if !h.grouped {
		record = record.Clone()
		record.AddAttrs(ids...)
		return h.current.Handle(ctx, record)
	}
	return h.replay(h.base.WithAttrs(ids)).Handle(ctx, record)
}

func (h *traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.with(handlerStep{attrs: attrs}, h.current.WithAttrs(attrs))
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h // slog ignores empty group names
	}
	next := h.with(handlerStep{group: name}, h.current.WithGroup(name))
	next.grouped = true
	return next
}

func (h *traceHandler) with(step handlerStep, current slog.Handler) *traceHandler {
	return &traceHandler{
		base:    h.base,
		current: current,
		steps:   append(h.steps[:len(h.steps):len(h.steps)], step),
		grouped: h.grouped,
	}
}

// replay applies the recorded steps to handler in order.
func (h *traceHandler) replay(handler slog.Handler) slog.Handler {
	for _, step := range h.steps {
		if step.group != "" {
			handler = handler.WithGroup(step.group)
		} else {
			handler = handler.WithAttrs(step.attrs)
		}
	}
	return handler
}
