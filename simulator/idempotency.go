package simulator

import (
	"net/http"
	"time"
)

// Idempotency limits.
const (
	// idempotencyTTL is how long a completed response is replayed.
	idempotencyTTL = 24 * time.Hour
	// maxIdempotencyRecords bounds the completed responses kept; the
	// oldest are dropped first.
	maxIdempotencyRecords = 10000
	// maxIdempotencyKeyLength bounds the key's length.
	maxIdempotencyKeyLength = 255
)

// idempotencyConflictMessage is the contract's message of a key whose first
// request is still being processed.
const idempotencyConflictMessage = "A request with this idempotency key is currently being processed"

// idemKey scopes an idempotency key to its organization.
type idemKey struct {
	orgID, key string
}

// idemRecord is a reserved key or a stored response.
type idemRecord struct {
	operation string
	done      bool
	status    int
	body      []byte
	storedAt  time.Time
}

// idemQueued is a stored response in completion order.
type idemQueued struct {
	key      idemKey
	storedAt time.Time
}

// idempotencyStore keeps reserved keys and the responses of completed
// requests per organization. The state lock guards it.
type idempotencyStore struct {
	records map[idemKey]*idemRecord
	queue   []idemQueued // completed records, oldest first
}

// newIdempotencyStore returns an empty store.
func newIdempotencyStore() *idempotencyStore {
	return &idempotencyStore{records: map[idemKey]*idemRecord{}}
}

// idempotencyKey reads Idempotency-Key, else X-Idempotency-Key.
func idempotencyKey(r *http.Request) (string, *apiError) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		key = r.Header.Get("X-Idempotency-Key")
	}
	if len(key) > maxIdempotencyKeyLength {
		return "", badRequest(codeInvalidIdempotencyKey,
			"Idempotency-Key is %d characters long; use at most %d", len(key), maxIdempotencyKeyLength)
	}
	return key, nil
}

// begin reserves key for operation. It returns the stored record to replay
// when the key completed within 24 hours, or a 409 when the key is still
// being processed or belongs to another operation.
func (st *idempotencyStore) begin(k idemKey, operation string, now time.Time) (*idemRecord, *apiError) {
	rec := st.records[k]
	if rec != nil && rec.done && !now.Before(rec.storedAt.Add(idempotencyTTL)) {
		delete(st.records, k)
		rec = nil
	}
	switch {
	case rec == nil:
		st.records[k] = &idemRecord{operation: operation}
		return nil, nil
	case !rec.done:
		return nil, conflict(codeIdempotencyConflict, idempotencyConflictMessage)
	case rec.operation != operation:
		return nil, conflict(codeIdempotencyConflict,
			"This idempotency key was already used for %s; send a new key for %s",
			rec.operation, operation)
	}
	return rec, nil
}

// finish stores a successful response for replay, or releases the key of a
// failed request so that the client may retry it.
func (st *idempotencyStore) finish(k idemKey, status int, body []byte, now time.Time) {
	rec := st.records[k]
	if rec == nil || rec.done {
		return
	}
	if status < 200 || status > 299 {
		delete(st.records, k)
		return
	}
	rec.done, rec.status, rec.body, rec.storedAt = true, status, body, now
	st.queue = append(st.queue, idemQueued{key: k, storedAt: now})
	for len(st.queue) > maxIdempotencyRecords {
		st.drop(st.queue[0])
		st.queue = st.queue[1:]
	}
}

// release deletes the reservation of a key whose request was abandoned.
func (st *idempotencyStore) release(k idemKey) {
	if rec := st.records[k]; rec != nil && !rec.done {
		delete(st.records, k)
	}
}

// expire drops the responses stored 24 hours or more before now and returns
// when the next one expires, or the zero time when none is stored.
func (st *idempotencyStore) expire(now time.Time) time.Time {
	for len(st.queue) > 0 && !now.Before(st.queue[0].storedAt.Add(idempotencyTTL)) {
		st.drop(st.queue[0])
		st.queue = st.queue[1:]
	}
	if len(st.queue) == 0 {
		st.queue = nil
		return time.Time{}
	}
	return st.queue[0].storedAt.Add(idempotencyTTL)
}

// drop deletes the queued record unless its key was stored again since.
func (st *idempotencyStore) drop(q idemQueued) {
	if rec := st.records[q.key]; rec != nil && rec.done && rec.storedAt.Equal(q.storedAt) {
		delete(st.records, q.key)
	}
}
