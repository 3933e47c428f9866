package simulator

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// ids returns the ids of a list response's items.
func ids(r result, field string) []string {
	var out []string
	for _, item := range list(r.data(), field) {
		out = append(out, str(item.(map[string]any), "id"))
	}
	return out
}

func TestListSessionsPagination(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var created []string
	for i := range 5 {
		h.clock.Advance(time.Second)
		created = append(created, str(h.createSession(map[string]any{"crmId": "PAGE", "sendSms": i%2 == 0}), "id"))
	}
	slices.Reverse(created) // newest first

	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		path := "/v1/sessions?crmId=PAGE&limit=2"
		if cursor != "" {
			path += "&startAfter=" + cursor
		}
		r := h.do("GET", path, h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		seen = append(seen, ids(r, "sessions")...)
		p := obj(r.data(), "pagination")
		if num(p, "limit") != 2 {
			t.Errorf("pagination limit %v, want 2", p["limit"])
		}
		if p["hasMore"] == false {
			if p["nextCursor"] != nil {
				t.Errorf("last page nextCursor %v, want null", p["nextCursor"])
			}
			break
		}
		cursor = str(p, "nextCursor")
		if page > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if !slices.Equal(seen, created) {
		t.Errorf("pages %v, want %v newest first", seen, created)
	}

	// List items carry exactly the SessionListItem fields.
	r := h.do("GET", "/v1/sessions?limit=1", h.acme.Key, nil)
	item := list(r.data(), "sessions")[0].(map[string]any)
	wantFields := []string{"id", "status", "agentId", "agentName", "clientPhone", "clientName", "crmId",
		"ticketUrl", "metadata", "source", "createdAt", "expiresAt", "startedAt", "endedAt", "updatedAt",
		"duration", "clientRating", "screenshotsCount", "recordingsCount"}
	if len(item) != len(wantFields) {
		t.Errorf("list item has %d fields, want %d: %v", len(item), len(wantFields), item)
	}
	for _, f := range wantFields {
		if _, present := item[f]; !present {
			t.Errorf("list item lacks %s", f)
		}
	}
}

func TestListSessionsFilters(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	lucas := h.agentID(h.acme, "Lucas Petit")
	a := str(h.createSession(map[string]any{"crmId": "F-1", "metadata": map[string]any{"team": "blue", "n": 12345, "vip": true}}), "id")
	b := str(h.createSession(map[string]any{"crmId": "F-2", "metadata": map[string]any{"team": "blue", "n": 7}}), "id")
	c := str(h.createSession(map[string]any{"crmId": "F-3", "agentId": lucas, "metadata": map[string]any{"team": "red"}}), "id")
	want(t, h.do("POST", "/v1/sessions/"+b+"/cancel", h.acme.Key, nil), http.StatusOK, "")

	tests := []struct {
		query string
		want  []string
	}{
		{"metadata.team=blue", []string{b, a}},
		{"metadata.team=blue&metadata.n=12345", []string{a}},
		{"metadata.vip=true", []string{a}},
		{"metadata.team=green", nil},
		{"crmId=F-3", []string{c}},
		{"agentId=" + lucas + "&metadata.team=red", []string{c}},
		{"status=cancelled&metadata.team=blue", []string{b}},
		{"createdAfter=2026-03-12T15:30:00Z&metadata.team=blue", []string{b, a}},
		{"createdBefore=2026-03-12T15:29:59Z&metadata.team=blue", nil},
	}
	for _, tt := range tests {
		r := h.do("GET", "/v1/sessions?"+tt.query, h.acme.Key, nil)
		want(t, r, http.StatusOK, "")
		if got := ids(r, "sessions"); !slices.Equal(got, tt.want) {
			t.Errorf("?%s: %v, want %v", tt.query, got, tt.want)
		}
	}

	errors := []struct {
		query, code string
	}{
		{"status=done", codeInvalidField},
		{"limit=0", codeInvalidField},
		{"limit=101", codeInvalidField},
		{"limit=ten", codeInvalidField},
		{"createdAfter=yesterday", codeInvalidField},
		{"updatedAfter=2026-03-12T00:00:00Z&createdAfter=2026-03-01T00:00:00Z", codeInvalidFilterCombo},
		{"updatedAfter=2026-03-12T00:00:00Z&createdBefore=2026-03-13T00:00:00Z", codeInvalidFilterCombo},
		{"startAfter=unknown", codeInvalidCursor},
		{"metadata.=x", codeInvalidField},
	}
	for _, tt := range errors {
		r := h.do("GET", "/v1/sessions?"+tt.query, h.acme.Key, nil)
		want(t, r, http.StatusBadRequest, tt.code)
	}
}

func TestListSessionsUpdatedAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := str(h.createSession(nil), "id")
	h.clock.Advance(time.Minute)
	second := str(h.createSession(nil), "id")
	h.clock.Advance(time.Minute)
	since := h.clock.Now().UTC().Format(time.RFC3339)
	want(t, h.do("PATCH", "/v1/sessions/"+first, h.acme.Key, map[string]any{"notes": "touched"}), http.StatusOK, "")

	r := h.do("GET", "/v1/sessions?updatedAfter="+url.QueryEscape(since), h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if got := ids(r, "sessions"); !slices.Equal(got, []string{first}) {
		t.Errorf("updatedAfter %s: %v, want only the updated session %s", since, got, first)
	}

	h.clock.Advance(time.Minute)
	want(t, h.do("PATCH", "/v1/sessions/"+second, h.acme.Key, map[string]any{"notes": "later"}), http.StatusOK, "")
	r = h.do("GET", "/v1/sessions?updatedAfter="+url.QueryEscape(since)+"&limit=1", h.acme.Key, nil)
	if got := ids(r, "sessions"); !slices.Equal(got, []string{second}) {
		t.Errorf("first page %v, want the most recently updated %s", got, second)
	}
	cursor := str(obj(r.data(), "pagination"), "nextCursor")
	r = h.do("GET", "/v1/sessions?updatedAfter="+url.QueryEscape(since)+"&limit=1&startAfter="+cursor, h.acme.Key, nil)
	if got := ids(r, "sessions"); !slices.Equal(got, []string{first}) {
		t.Errorf("second page %v, want %s", got, first)
	}
}

func TestGetSessionNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/v1/sessions/nope", "/v1/sessions/nope/screenshots", "/v1/sessions/nope/recordings"} {
		r := h.do("GET", path, h.acme.Key, nil)
		want(t, r, http.StatusNotFound, codeNotFound)
		if r.message() != "Session not found" {
			t.Errorf("%s: message %q", path, r.message())
		}
	}

	// Sessions of another organization are invisible.
	id := str(h.createSession(nil), "id")
	want(t, h.do("GET", "/v1/sessions/"+id, h.bistro.Key, nil), http.StatusNotFound, codeNotFound)
}

func TestScreenshotsAndRecordings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("GET", "/v1/sessions?crmId=TICKET-1001", h.acme.Key, nil)
	id := ids(r, "sessions")[0]

	r = h.do("GET", "/v1/sessions/"+id+"/screenshots?url_ttl=60", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	shots := list(r.data(), "screenshots")
	if len(shots) != 2 {
		t.Fatalf("%d screenshots, want 2", len(shots))
	}
	first := shots[0].(map[string]any)
	u, err := url.Parse(str(first, "url"))
	if err != nil {
		t.Fatalf("screenshot url: %v", err)
	}
	if got := u.Query().Get("exp"); got != "1773329460" {
		t.Errorf("exp %s, want now + 60 s = 1773329460", got)
	}
	if obj(first, "location") == nil || shots[1].(map[string]any)["location"] != nil {
		t.Errorf("locations %v / %v, want one set and one null", first["location"], shots[1].(map[string]any)["location"])
	}
	for _, ttl := range []string{"59", "86401", "abc"} {
		r = h.do("GET", "/v1/sessions/"+id+"/screenshots?url_ttl="+ttl, h.acme.Key, nil)
		want(t, r, http.StatusBadRequest, codeInvalidField)
	}

	r = h.do("GET", "/v1/sessions/"+id+"/recordings", h.acme.Key, nil)
	want(t, r, http.StatusOK, "")
	if recs := list(r.data(), "recordings"); len(recs) != 1 || num(recs[0].(map[string]any), "size") != 15728640 {
		t.Errorf("recordings %s", r.body)
	}

	fresh := str(h.createSession(nil), "id")
	r = h.do("GET", "/v1/sessions/"+fresh+"/screenshots", h.acme.Key, nil)
	if got := list(r.data(), "screenshots"); got == nil || len(got) != 0 {
		t.Errorf("screenshots %s, want []", r.body)
	}
}
