// Package testutil contains helpers that tests of several packages share:
// a [LockedBuffer] for logs that concurrent goroutines write, JSON log
// decoding, HTTP round trips that fail the test on a transport error, and a
// throwaway redis-server on 127.0.0.1.
//
// It is for tests only. Production code must not import it, and it imports
// nothing but the standard library, so that the simulator's tests may use it
// too.
package testutil
