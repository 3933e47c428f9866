package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
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
	h := sha256.New()
	writePart(h, []byte(entryDomain))
	writePart(h, []byte(tenant))
	writePart(h, []byte(procedure))
	writePart(h, request)
	return hex.EncodeToString(h.Sum(nil))
}

// counterKeys returns the hex SHA-256 key of the generation counter of each
// (tenant, tag) pair, in the order of tags.
func counterKeys(tenant string, tags []string) []string {
	keys := make([]string, len(tags))
	for i, tag := range tags {
		h := sha256.New()
		writePart(h, []byte(counterDomain))
		writePart(h, []byte(tenant))
		writePart(h, []byte(tag))
		keys[i] = hex.EncodeToString(h.Sum(nil))
	}
	return keys
}

func writePart(h hash.Hash, part []byte) {
	var size [8]byte
	binary.BigEndian.PutUint64(size[:], uint64(len(part)))
	h.Write(size[:])
	h.Write(part)
}

// normalizeTags returns the tags sorted and without duplicates, so entries
// record their generations in one order whatever order a policy lists them
// in. It rejects empty tags.
func normalizeTags(tags []string) ([]string, error) {
	for i, tag := range tags {
		if tag == "" {
			return nil, fmt.Errorf("tag %d is empty; cache tags must be non-empty names such as %q", i, "sessions")
		}
	}
	sorted := slices.Clone(tags)
	slices.Sort(sorted)
	return slices.Compact(sorted), nil
}
