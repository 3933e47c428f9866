package cache

import "sync"

// flight is one load that concurrent misses of a key share.
type flight struct {
	done  chan struct{} // closed once value and err are set
	value []byte
	err   error
}

// flightGroup collapses concurrent loads of one key into one flight. Unlike
// golang.org/x/sync/singleflight it hands out the flight itself, so each
// caller can stop waiting when its own context ends while the load goes on
// for the others.
type flightGroup struct {
	mu      sync.Mutex
	flights map[string]*flight

	// onJoin, when set, runs after a caller joined a flight, under the
	// group's lock. Tests use it to learn that every caller is waiting.
	onJoin func(leader bool)
}

// join returns the flight of key and whether the caller is its leader, which
// must start the load and call finish.
func (g *flightGroup) join(key string) (*flight, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()

	f, ok := g.flights[key]
	if !ok {
		if g.flights == nil {
			g.flights = make(map[string]*flight)
		}
		f = &flight{done: make(chan struct{})}
		g.flights[key] = f
	}
	if g.onJoin != nil {
		g.onJoin(!ok)
	}
	return f, !ok
}

// finish records the flight's result, removes it so later callers start a
// new one, and wakes its waiters.
func (g *flightGroup) finish(key string, f *flight, value []byte, err error) {
	g.mu.Lock()
	if g.flights[key] == f {
		delete(g.flights, key)
	}
	g.mu.Unlock()

	f.value, f.err = value, err
	close(f.done)
}
