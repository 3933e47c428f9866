package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
)

// Domain bytes keep entry keys and counter keys apart even for inputs that
// would otherwise hash the same.
const (
	entryDomain   = "groundcam-cache-entry-v1"
	counterDomain = "groundcam-cache-counter-v1"
)

// entryKey returns the hex SHA-256 of the tenant, the procedure and the
// request bytes. Each part is length-prefixed, so no two different triples
// share an input, and neither the tenant nor the request bytes appear in
// the key.
func entryKey(tenant, procedure string, request []byte) string {
	var buf [keyBufferSize]byte
	input := appendPart(buf[:0], entryDomain)
	input = appendPart(input, tenant)
	input = appendPart(input, procedure)
	input = appendPart(input, request)
	return hashKey(input)
}

// counterKeys returns the hex SHA-256 key of the generation counter of each
// (tenant, tag) pair, in the order of tags.
func counterKeys(tenant string, tags []string) []string {
	keys := make([]string, len(tags))
	for i, tag := range tags {
		var buf [keyBufferSize]byte
		input := appendPart(buf[:0], counterDomain)
		input = appendPart(input, tenant)
		input = appendPart(input, tag)
		keys[i] = hashKey(input)
	}
	return keys
}

// keyBufferSize fits the hash input of most keys on the stack: the domain,
// a 64-byte tenant hash, a procedure name and a small request, each with
// its 8-byte length. Larger inputs grow onto the heap.
const keyBufferSize = 256

// appendPart appends part's length as a big-endian uint64, then part.
func appendPart[T string | []byte](b []byte, part T) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
	return append(b, part...)
}

// hashKey returns the hex SHA-256 of input. Hashing the whole input at once
// keeps the digest and the hex digits off the heap: only the returned
// string is allocated.
func hashKey(input []byte) string {
	sum := sha256.Sum256(input)
	var digits [2 * sha256.Size]byte
	hex.Encode(digits[:], sum[:])
	return string(digits[:])
}

// normalizeTags returns the tags sorted and without duplicates, so entries
// record their generations in one order whatever order a policy lists them
// in. It rejects empty tags. The result may share tags' array, so neither
// may be modified afterwards.
func normalizeTags(tags []string) ([]string, error) {
	for i, tag := range tags {
		if tag == "" {
			return nil, fmt.Errorf("tag %d is empty; cache tags must be non-empty names such as %q", i, "sessions")
		}
	}
	if isSortedSet(tags) {
		return tags, nil
	}
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	return slices.Compact(sorted), nil
}

// isSortedSet reports whether tags are sorted and without duplicates, so
// normalizeTags can return them as they are. The policies declared in the
// protos list their tags that way, so a read copies nothing.
func isSortedSet(tags []string) bool {
	for i := 1; i < len(tags); i++ {
		if tags[i-1] >= tags[i] {
			return false
		}
	}
	return true
}
