package simulator

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// call is one authenticated API request.
type call struct {
	r     *http.Request
	w     http.ResponseWriter
	key   *apiKey
	org   *org
	id    string // the {id} path parameter
	query url.Values
}

// reply is a successful response.
type reply struct {
	status int
	// data is written as {"data": data} unless raw is set.
	data any
	// raw is an already encoded body, such as an idempotent replay.
	raw    []byte
	header http.Header
}

// ok returns a reply with the status and the data.
func ok(status int, data any) (reply, *apiError) {
	return reply{status: status, data: data}, nil
}

// serveAPI authenticates, rate-limits and dispatches one /v1 request.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	m, _ := r.Context().Value(matchKey{}).(match)
	status, code := 0, ""
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panicked", "route", m.key, "panic", fmt.Sprint(p),
				"stack", string(debug.Stack()))
			writeError(w, newError(http.StatusInternalServerError, codeInternal,
				"The simulator failed on this request; see its log"))
			status, code = http.StatusInternalServerError, codeInternal
		}
		s.log.Debug("request served", "route", m.key, "status", status, "error_code", code,
			"duration_ms", time.Since(start).Milliseconds())
	}()

	s.Sweep()
	status, code = s.dispatch(w, r, m)
}

// dispatch runs the steps of serveAPI and returns the status written and
// the error code, "" on success.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, m match) (int, string) {
	key, o, authErr := s.authenticate(r)
	if authErr != nil {
		s.limiter.unauthenticated(s.clock.Now()).setHeaders(w.Header())
		writeError(w, authErr)
		return authErr.status, authErr.code
	}
	q := s.limiter.take(key.id, s.clock.Now())
	q.setHeaders(w.Header())
	if !q.allowed {
		e := q.exceeded()
		writeError(w, e)
		return e.status, e.code
	}

	var rep reply
	var err *apiError
	switch {
	case m.route == nil:
		err = m.routeError(r.Method, r.URL.Path)
	case o == nil:
		err = newError(http.StatusNotFound, codeOrgNotFound, "Organization not found")
	default:
		c := &call{r: r, w: w, key: key, org: o, id: m.id, query: r.URL.Query()}
		rep, err = m.route.handle(s, c)
	}
	if err != nil {
		writeError(w, err)
		return err.status, err.code
	}
	for k, vs := range rep.header {
		w.Header()[k] = vs
	}
	if rep.raw != nil {
		writeRaw(w, rep.status, rep.raw)
	} else {
		writeJSON(w, rep.status, envelope{Data: rep.data})
	}
	return rep.status, ""
}

// authenticate checks the bearer API key and returns it with its
// organization, which is nil when the organization no longer exists.
func (s *Server) authenticate(r *http.Request) (*apiKey, *org, *apiError) {
	header := r.Header.Get("Authorization")
	if header == "" {
		return nil, nil, newError(http.StatusUnauthorized, codeUnauthorized,
			"Missing API key: send the header Authorization: Bearer gc_live_...")
	}
	scheme, token, found := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !found || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, nil, newError(http.StatusUnauthorized, codeUnauthorized,
			"Authorization header must use the Bearer scheme: Authorization: Bearer gc_live_...")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.st.keys[token]
	switch {
	case key == nil:
		return nil, nil, newError(http.StatusUnauthorized, codeInvalidAPIKey,
			"Invalid API key; check the key in Settings > API of the dashboard")
	case key.revoked:
		return nil, nil, newError(http.StatusUnauthorized, codeAPIKeyRevoked,
			"API key has been revoked; create a new key in Settings > API of the dashboard")
	}
	return key, s.st.orgs[key.orgID], nil
}

// locked runs f under the state lock with the request's organization as it
// is in the current state, which a control reset may have replaced.
func (s *Server) locked(c *call, f func(st *state, o *org) (reply, *apiError)) (reply, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orgs[c.org.id]
	if o == nil {
		return reply{}, newError(http.StatusNotFound, codeOrgNotFound, "Organization not found")
	}
	return f(s.st, o)
}

// logger returns the logger with the request's organization.
func (s *Server) logger(c *call) *slog.Logger {
	return s.log.With("org_id", c.org.id, "key_id", c.key.id)
}
