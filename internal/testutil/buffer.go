package testutil

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// LockedBuffer is a [bytes.Buffer] guarded by a mutex, so that a logger
// used by many goroutines can write to it while the test reads it. The zero
// value is an empty buffer ready to use.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p to the buffer.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns a copy of everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// LogRecords decodes logs, the output of a [log/slog.JSONHandler] with one
// record a line, and returns the records whose "msg" is msg, or every
// record when msg is "". Blank lines are skipped. It fails tb on a line
// that is not a JSON object.
func LogRecords(tb testing.TB, logs, msg string) []map[string]any {
	tb.Helper()
	var records []map[string]any
	for _, line := range strings.Split(logs, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var record map[string]any
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if msg == "" || record["msg"] == msg {
			records = append(records, record)
		}
	}
	return records
}
