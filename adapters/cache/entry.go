package cache

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync/atomic"
	"time"
)

// entryVersion is the first byte of every encoded entry. A different value
// makes the entry unreadable, so a format change only costs misses.
const entryVersion = 1

var errBadEntry = errors.New("cache: stored entry is malformed")

// entry is one cached response together with what decides its freshness.
type entry struct {
	storedAt time.Time
	tags     []string // normalized tags of the policy the entry was stored under
	gens     []uint64 // generation of each tag's counter when the load started
	value    []byte
}

// encode lays out an entry as: version byte, stored-at Unix nanoseconds
// (int64), tag count (uvarint), each tag as length (uvarint), bytes and
// generation (uint64), then the value up to the end. Integers are big-endian.
func (e entry) encode() []byte {
	size := 1 + 8 + binary.MaxVarintLen64 + len(e.value)
	for _, tag := range e.tags {
		size += binary.MaxVarintLen64 + len(tag) + 8
	}
	buf := make([]byte, 0, size)
	buf = append(buf, entryVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(e.storedAt.UnixNano()))
	buf = binary.AppendUvarint(buf, uint64(len(e.tags)))
	for i, tag := range e.tags {
		buf = binary.AppendUvarint(buf, uint64(len(tag)))
		buf = append(buf, tag...)
		buf = binary.BigEndian.AppendUint64(buf, e.gens[i])
	}
	return append(buf, e.value...)
}

// decodeEntry reads what encode wrote. The value aliases data.
func decodeEntry(data []byte) (entry, error) {
	if len(data) < 1+8 || data[0] != entryVersion {
		return entry{}, errBadEntry
	}
	e := entry{storedAt: time.Unix(0, int64(binary.BigEndian.Uint64(data[1:9])))}
	rest := data[9:]

	count, n := binary.Uvarint(rest)
	if n <= 0 || count > uint64(len(rest)) {
		return entry{}, errBadEntry
	}
	rest = rest[n:]
	e.tags = make([]string, 0, count)
	e.gens = make([]uint64, 0, count)
	for range count {
		size, n := binary.Uvarint(rest)
		if n <= 0 || size > uint64(len(rest)-n) || uint64(len(rest)-n)-size < 8 {
			return entry{}, errBadEntry
		}
		rest = rest[n:]
		e.tags = append(e.tags, string(rest[:size]))
		e.gens = append(e.gens, binary.BigEndian.Uint64(rest[size:size+8]))
		rest = rest[size+8:]
	}
	e.value = rest
	return e, nil
}

// current reports whether the entry was stored under tags and none of their
// counters has moved since, given the generations read now. A zero
// generation is an absent counter and never matches.
func (e entry) current(tags []string, gens []uint64) bool {
	if !slices.Equal(e.tags, tags) || !slices.Equal(e.gens, gens) {
		return false
	}
	return !slices.Contains(gens, 0)
}

// age returns how long ago the entry was stored. A negative age, from a
// replica whose clock runs ahead, counts as zero.
func (e entry) age(now time.Time) time.Duration {
	return max(now.Sub(e.storedAt), 0)
}

// readEntry is an entry as a lookup found it, with a slot for the value that
// the caller's [Request.Decode] makes of it. A [MemoryStore] reads each
// entry once, when it is stored, and every hit of the entry shares one
// readEntry, so the caller decodes the entry once for all its hits.
type readEntry struct {
	entry
	decoded atomic.Pointer[decodedValue]
}

type decodedValue struct{ v any }

// decode returns decode's result for the entry's value, made once and then
// shared. Two hits that race on the first decode both decode, and the first
// to finish wins. stored is true for that first one only. A failed decode
// is not stored, and nil is returned.
func (e *readEntry) decode(decode func([]byte) (any, error)) (v any, stored bool) {
	if decode == nil {
		return nil, false
	}
	if d := e.decoded.Load(); d != nil {
		return d.v, false
	}
	v, err := decode(e.value)
	if err != nil {
		return nil, false
	}
	if e.decoded.CompareAndSwap(nil, &decodedValue{v: v}) {
		return v, true
	}
	return e.decoded.Load().v, false
}
