// Package fault injects faults into any [http.Handler]: latency, injected
// error responses, connection resets, hanging requests, truncated, malformed
// and slowly sent bodies. Rules are added in Go or through a small JSON
// control API, and matched against each request in the order they were added.
//
// Put [Injector.Middleware] outermost, directly under the server, because
// Reset, Hang and Truncate abort the connection or stream, and a wrapping
// handler that recovers panics or buffers the response would hide that.
// Mount [Injector.Handler] outside the middleware, because a rule whose path
// matches the control API's would otherwise delay or break its own removal.
package fault

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Injector contains the active fault rules. It is safe for concurrent use.
type Injector struct {
	mu     sync.Mutex
	rules  []Rule // in the order added
	lastID int

	closeOnce sync.Once
	closed    chan struct{}
}

// New returns an injector without rules.
func New() *Injector {
	return &Injector{closed: make(chan struct{})}
}

// Add validates r and appends it to the rules. It returns the rule's ID, or
// an error that names the invalid field. The method is matched in upper case.
func (i *Injector) Add(r Rule) (id string, err error) {
	r.Method = strings.ToUpper(r.Method)
	if err := r.validate(); err != nil {
		return "", fmt.Errorf("add fault rule: %w", err)
	}
	r.Header = maps.Clone(r.Header)

	i.mu.Lock()
	defer i.mu.Unlock()
	i.lastID++
	r.ID = "fault-" + strconv.Itoa(i.lastID)
	i.rules = append(i.rules, r)
	return r.ID, nil
}

// Remove deletes the rule with the given ID and reports whether it existed.
func (i *Injector) Remove(id string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, r := range i.rules {
		if r.ID == id {
			i.rules = append(i.rules[:n], i.rules[n+1:]...)
			return true
		}
	}
	return false
}

// Clear deletes every rule.
func (i *Injector) Clear() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = nil
}

// Rules returns a copy of the active rules in matching order. Times is the
// remaining count of a counted rule.
func (i *Injector) Rules() []Rule {
	i.mu.Lock()
	defer i.mu.Unlock()
	rules := make([]Rule, len(i.rules))
	for n, r := range i.rules {
		r.Header = maps.Clone(r.Header)
		rules[n] = r
	}
	return rules
}

// Close releases hanging requests and ends the pauses of Latency and
// SlowBody. Rules stay active, but Hang rules no longer block. Close is
// idempotent.
func (i *Injector) Close() {
	i.closeOnce.Do(func() { close(i.closed) })
}

// take returns the first rule that matches req and uses up one of its
// Times, removing it when none remain.
func (i *Injector) take(req *http.Request) (Rule, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n := range i.rules {
		r := &i.rules[n]
		if !r.matches(req) {
			continue
		}
		matched := *r
		if r.Times > 0 {
			r.Times--
			if r.Times == 0 {
				i.rules = append(i.rules[:n], i.rules[n+1:]...)
			}
		}
		return matched, true
	}
	return Rule{}, false
}
