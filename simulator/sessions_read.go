package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Page sizes and screenshot URL lifetimes.
const (
	defaultPageLimit = 20
	maxPageLimit     = 100
	defaultURLTTL    = 3600
	minURLTTL        = 60
	maxURLTTL        = 86400
)

// paginationJSON is the pagination object of list responses.
type paginationJSON struct {
	Limit      int     `json:"limit"`
	HasMore    bool    `json:"hasMore"`
	NextCursor *string `json:"nextCursor"`
}

// listFilter holds the query parameters that session and appointment lists
// share.
type listFilter struct {
	status, agentID, crmID string
	metadata               map[string]string
	limit                  int
	startAfter             string
}

// parseListFilter reads status, agentId, crmId, metadata.*, limit and
// startAfter.
func parseListFilter(q url.Values, statuses []string) (listFilter, *apiError) {
	f := listFilter{
		status: q.Get("status"), agentID: q.Get("agentId"), crmID: q.Get("crmId"),
		startAfter: q.Get("startAfter"), limit: defaultPageLimit, metadata: map[string]string{},
	}
	if q.Has("status") {
		if err := oneOf("status", f.status, statuses); err != nil {
			return f, err
		}
	}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxPageLimit {
			return f, invalidField("limit must be an integer between 1 and %d, got %q",
				maxPageLimit, q.Get("limit"))
		}
		f.limit = n
	}
	for name, values := range q {
		key, isMeta := strings.CutPrefix(name, "metadata.")
		if !isMeta {
			continue
		}
		if key == "" {
			return f, invalidField("metadata filters need a key, as in metadata.department=support")
		}
		f.metadata[key] = values[0]
	}
	return f, nil
}

// matchesMetadata reports whether meta has every filtered key with the
// filtered value, compared as strings.
func (f listFilter) matchesMetadata(meta map[string]any) bool {
	for key, want := range f.metadata {
		v, found := meta[key]
		if !found || metadataString(v) != want {
			return false
		}
	}
	return true
}

// optionalTime reads an optional timestamp query parameter.
func optionalTime(q url.Values, name string) (*time.Time, *apiError) {
	if !q.Has(name) {
		return nil, nil
	}
	t, err := parseTimestamp(name, q.Get(name))
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// inRange reports whether t is within the optional inclusive bounds.
func inRange(t time.Time, after, before *time.Time) bool {
	return (after == nil || !t.Before(*after)) && (before == nil || !t.After(*before))
}

// sortSessions orders sessions newest first by createdAt, or by updatedAt,
// with the creation order breaking ties.
func sortSessions(list []*session, byUpdated bool) {
	slices.SortFunc(list, func(a, b *session) int {
		return compareNewest(sessionTime(a, byUpdated), a.seq, sessionTime(b, byUpdated), b.seq)
	})
}

// sessionTime returns the sort time of a session.
func sessionTime(s *session, byUpdated bool) time.Time {
	if byUpdated {
		return s.updatedAt
	}
	return s.createdAt
}

// compareNewest orders by time, then sequence, both descending.
func compareNewest(ta time.Time, sa int64, tb time.Time, sb int64) int {
	if c := tb.Compare(ta); c != 0 {
		return c
	}
	switch {
	case sa > sb:
		return -1
	case sa < sb:
		return 1
	}
	return 0
}

// pageAfter returns the page of sorted items that follow the cursor item
// and the pagination object. after(i) reports whether items[i] sorts after
// the cursor; it is nil for the first page.
func pageAfter[T any](items []T, after func(i int) bool, limit int, idOf func(T) string) ([]T, paginationJSON) {
	start := 0
	if after != nil {
		start = len(items)
		for i := range items {
			if after(i) {
				start = i
				break
			}
		}
	}
	items = items[start:]
	page := paginationJSON{Limit: limit}
	if len(items) > limit {
		items = items[:limit]
		page.HasMore = true
		page.NextCursor = ptr(idOf(items[len(items)-1]))
	}
	return items, page
}

// invalidCursor returns the 400 of a startAfter that names no object.
func invalidCursor(cursor, kind string) *apiError {
	return badRequest(codeInvalidCursor,
		"startAfter %q is not %s of this organization; pass the nextCursor of the previous page",
		cursor, kind)
}

// listSessions serves GET /sessions.
func (s *Server) listSessions(c *call) (reply, *apiError) {
	f, err := parseListFilter(c.query, sessionStatuses)
	if err != nil {
		return reply{}, err
	}
	createdAfter, err := optionalTime(c.query, "createdAfter")
	if err != nil {
		return reply{}, err
	}
	createdBefore, err := optionalTime(c.query, "createdBefore")
	if err != nil {
		return reply{}, err
	}
	updatedAfter, err := optionalTime(c.query, "updatedAfter")
	if err != nil {
		return reply{}, err
	}
	if updatedAfter != nil && (createdAfter != nil || createdBefore != nil) {
		return reply{}, badRequest(codeInvalidFilterCombo,
			"updatedAfter cannot be combined with createdAfter or createdBefore; send one or the other")
	}
	byUpdated := updatedAfter != nil

	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		var list []*session
		for _, sess := range o.sessions {
			if sessionMatches(sess, f) && inRange(sess.createdAt, createdAfter, createdBefore) &&
				inRange(sess.updatedAt, updatedAfter, nil) {
				list = append(list, sess)
			}
		}
		sortSessions(list, byUpdated)

		var after func(int) bool
		if f.startAfter != "" {
			cursor := st.session(o, f.startAfter)
			if cursor == nil {
				return reply{}, invalidCursor(f.startAfter, "a session")
			}
			after = func(i int) bool {
				return compareNewest(sessionTime(list[i], byUpdated), list[i].seq,
					sessionTime(cursor, byUpdated), cursor.seq) > 0
			}
		}
		page, pagination := pageAfter(list, after, f.limit, func(s *session) string { return s.id })
		items := make([]sessionListItemJSON, 0, len(page))
		for _, sess := range page {
			items = append(items, sess.toListItem())
		}
		return ok(http.StatusOK, map[string]any{"sessions": items, "pagination": pagination})
	})
}

// sessionMatches applies the shared list filters to a session.
func sessionMatches(sess *session, f listFilter) bool {
	return (f.status == "" || sess.status == f.status) &&
		(f.agentID == "" || sess.agentID == f.agentID) &&
		(f.crmID == "" || (sess.crmID != nil && *sess.crmID == f.crmID)) &&
		f.matchesMetadata(sess.metadata)
}

// sessionNotFound is the 404 of an unknown session id.
func sessionNotFound() *apiError { return notFound("Session not found") }

// withSession runs f on the request's session under the state lock.
func (s *Server) withSession(c *call, f func(st *state, o *org, sess *session) (reply, *apiError)) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		sess := st.session(o, c.id)
		if sess == nil {
			return reply{}, sessionNotFound()
		}
		return f(st, o, sess)
	})
}

// getSession serves GET /sessions/{id}.
func (s *Server) getSession(c *call) (reply, *apiError) {
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		return ok(http.StatusOK, sess.toJSON())
	})
}

// listScreenshots serves GET /sessions/{id}/screenshots with download URLs
// valid for url_ttl seconds.
func (s *Server) listScreenshots(c *call) (reply, *apiError) {
	ttl := defaultURLTTL
	if c.query.Has("url_ttl") {
		n, err := strconv.Atoi(c.query.Get("url_ttl"))
		if err != nil || n < minURLTTL || n > maxURLTTL {
			return reply{}, invalidField("url_ttl must be an integer between %d and %d seconds, got %q",
				minURLTTL, maxURLTTL, c.query.Get("url_ttl"))
		}
		ttl = n
	}
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		expires := s.now().Add(time.Duration(ttl) * time.Second).Unix()
		shots := make([]screenshotJSON, 0, len(sess.screenshots))
		for _, shot := range sess.screenshots {
			shots = append(shots, screenshotJSON{
				ID: shot.id, URL: s.screenshotURL(sess.id, shot.id, expires),
				Timestamp: stamp(shot.takenAt), Location: shot.location,
				Tags: slices.Clone(emptyIfNil(shot.tags)),
			})
		}
		return ok(http.StatusOK, map[string]any{"screenshots": shots})
	})
}

// screenshotURL returns a signed download link that expires at the unix
// time expires.
func (s *Server) screenshotURL(sessionID, shotID string, expires int64) string {
	exp := strconv.FormatInt(expires, 10)
	sum := sha256.Sum256([]byte(strconv.FormatUint(s.seed, 10) + "|" + sessionID + "|" + shotID + "|" + exp))
	return screenshotBaseURL + url.PathEscape(sessionID) + "/" + url.PathEscape(shotID) +
		"?exp=" + exp + "&sig=" + hex.EncodeToString(sum[:16])
}

// listRecordings serves GET /sessions/{id}/recordings.
func (s *Server) listRecordings(c *call) (reply, *apiError) {
	return s.withSession(c, func(st *state, o *org, sess *session) (reply, *apiError) {
		recs := make([]recordingJSON, 0, len(sess.recordings))
		for _, rec := range sess.recordings {
			recs = append(recs, recordingJSON{
				ID: rec.id, URL: rec.url(), Duration: rec.duration, Size: rec.size,
				CreatedAt: stamp(rec.createdAt),
			})
		}
		return ok(http.StatusOK, map[string]any{"recordings": recs})
	})
}
