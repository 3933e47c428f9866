package simulator

import (
	"net/http"
	"slices"
	"time"
)

// controlInput is the request of a session action: its JSON body and the
// {screenshot} path value.
type controlInput struct {
	body         jsonObject
	screenshotID string
}

// sessionAction changes one session under the state lock.
type sessionAction func(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError)

// handleSessionControls registers the session actions of the control API:
// what clients and agents do in the real product.
func (s *Server) handleSessionControls(handle func(string, controlFunc)) {
	actions := map[string]sessionAction{
		"POST /_sim/sessions/{id}/join":                       s.controlJoin,
		"POST /_sim/sessions/{id}/admit":                      s.controlAdmit,
		"POST /_sim/sessions/{id}/screenshots":                s.controlScreenshot,
		"PATCH /_sim/sessions/{id}/screenshots/{screenshot}":  s.controlTagScreenshot,
		"DELETE /_sim/sessions/{id}/screenshots/{screenshot}": s.controlDeleteScreenshot,
		"POST /_sim/sessions/{id}/recordings":                 s.controlRecording,
		"POST /_sim/sessions/{id}/rate":                       s.controlRate,
		"POST /_sim/sessions/{id}/expire":                     s.controlExpire,
		"DELETE /_sim/sessions/{id}":                          s.controlDelete,
	}
	for pattern, action := range actions {
		handle(pattern, s.sessionControl(action))
	}
}

// sessionControl adapts a session action to a control endpoint.
func (s *Server) sessionControl(action sessionAction) controlFunc {
	return func(r *http.Request) (int, any, *apiError) {
		obj, err := controlBody(r)
		if err != nil {
			return 0, nil, err
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sess := s.st.sessions[r.PathValue("id")]
		if sess == nil {
			return 0, nil, sessionNotFound()
		}
		o := s.st.orgs[sess.orgID]
		in := controlInput{body: obj, screenshotID: r.PathValue("screenshot")}
		data, err := action(s.st, o, sess, in, s.now())
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, data, nil
	}
}

// requireStatus returns a 409 unless the session has one of the statuses.
func requireStatus(sess *session, action string, statuses ...string) *apiError {
	if slices.Contains(statuses, sess.status) {
		return nil
	}
	return conflict(codeInvalidStatus, "Cannot %s: session %s is %s", action, sess.id, sess.status)
}

// controlJoin makes the client join and wait: session.client_waiting.
func (s *Server) controlJoin(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	if err := requireStatus(sess, "join", "pending"); err != nil {
		return nil, err
	}
	name, set, err := obj.str("clientName")
	if err != nil {
		return nil, err
	}
	if set {
		sess.clientName = ptr(name)
	}
	sess.clientWaitingAt, sess.updatedAt = ptr(now), now
	s.emit(o, "session.client_waiting", clientWaitingEvent(sess))
	return sess.toJSON(), nil
}

// controlAdmit makes the agent admit the client and start the video:
// status active and session.active.
func (s *Server) controlAdmit(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	if err := requireStatus(sess, "admit", "pending"); err != nil {
		return nil, err
	}
	if sess.clientWaitingAt == nil {
		sess.clientWaitingAt = ptr(now)
	}
	sess.status = "active"
	sess.admittedAt, sess.startedAt, sess.updatedAt = ptr(now), ptr(now), now
	s.emit(o, "session.active", activeEvent(sess))
	return sess.toJSON(), nil
}

// controlScreenshot captures a screenshot with optional tags and location.
func (s *Server) controlScreenshot(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	if err := requireStatus(sess, "capture a screenshot", "active"); err != nil {
		return nil, err
	}
	tags, _, err := obj.strList("tags")
	if err != nil {
		return nil, err
	}
	shot := &screenshot{id: st.newID("scr_", 8), takenAt: now, tags: emptyIfNil(tags)}
	if loc, set, err := obj.object("location"); err != nil {
		return nil, err
	} else if set {
		lat, _, errLat := loc.number("latitude")
		lng, _, errLng := loc.number("longitude")
		if errLat != nil || errLng != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return nil, invalidField("location must be {\"latitude\": -90..90, \"longitude\": -180..180}")
		}
		shot.location = &location{Latitude: lat, Longitude: lng}
	}
	sess.screenshots = append(sess.screenshots, shot)
	sess.updatedAt = now
	return screenshotJSON{
		ID: shot.id, URL: s.screenshotURL(sess.id, shot.id, now.Add(defaultURLTTL*time.Second).Unix()),
		Timestamp: stamp(now), Location: shot.location, Tags: slices.Clone(shot.tags),
	}, nil
}

// findScreenshot returns the index of the screenshot named in the path.
func findScreenshot(sess *session, id string) (int, *apiError) {
	i := slices.IndexFunc(sess.screenshots, func(sh *screenshot) bool { return sh.id == id })
	if i < 0 {
		return 0, notFound("Screenshot not found")
	}
	return i, nil
}

// controlTagScreenshot replaces a screenshot's tags as the dashboard does:
// session.updated with the screenshot.
func (s *Server) controlTagScreenshot(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	i, err := findScreenshot(sess, in.screenshotID)
	if err != nil {
		return nil, err
	}
	tags, set, err := obj.strList("tags")
	if err != nil {
		return nil, err
	}
	if !set {
		return nil, missingField("tags")
	}
	shot := sess.screenshots[i]
	shot.tags = tags
	sess.updatedAt = now
	data := updatedEvent(sess, []string{"screenshots"})
	data["screenshot"] = map[string]any{"id": shot.id, "tags": slices.Clone(tags)}
	s.emit(o, "session.updated", data)
	return sess.toJSON(), nil
}

// controlDeleteScreenshot deletes a screenshot as the dashboard does:
// session.updated with screenshotDeleted.
func (s *Server) controlDeleteScreenshot(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	i, err := findScreenshot(sess, in.screenshotID)
	if err != nil {
		return nil, err
	}
	id := sess.screenshots[i].id
	sess.screenshots = slices.Delete(sess.screenshots, i, i+1)
	sess.updatedAt = now
	data := updatedEvent(sess, []string{"screenshots"})
	data["screenshotDeleted"] = map[string]any{"id": id}
	s.emit(o, "session.updated", data)
	return sess.toJSON(), nil
}

// controlRecording adds a recording with optional duration and size.
func (s *Server) controlRecording(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	if err := requireStatus(sess, "add a recording", "active", "completed"); err != nil {
		return nil, err
	}
	rec := &recording{id: st.newID("rec_", 8), token: st.newID("", 16), createdAt: now}
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"duration", &rec.duration}, {"size", &rec.size}} {
		v, set, err := obj.number(f.name)
		if err != nil {
			return nil, err
		}
		if set && v < 0 {
			return nil, invalidField("%s must be 0 or more, got %v", f.name, v)
		}
		if set {
			*f.dst = ptr(v)
		}
	}
	sess.recordings = append(sess.recordings, rec)
	sess.updatedAt = now
	return recordingJSON{ID: rec.id, URL: rec.url(), Duration: rec.duration, Size: rec.size,
		CreatedAt: stamp(now)}, nil
}

// controlRate records the client's rating, 1 to 5, and comment:
// session.rated.
func (s *Server) controlRate(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	if err := requireStatus(sess, "rate", "active", "completed"); err != nil {
		return nil, err
	}
	rating, set, err := obj.integer("rating")
	if err != nil || !set || rating < 1 || rating > 5 {
		return nil, invalidField("rating must be an integer from 1 to 5")
	}
	comment, _, err := obj.str("comment")
	if err != nil {
		return nil, err
	}
	sess.clientRating, sess.clientComment = ptr(float64(rating)), strOrNil(comment)
	sess.ratedAt, sess.updatedAt = ptr(now), now
	s.emit(o, "session.rated", ratedEvent(sess))
	return sess.toJSON(), nil
}

// controlExpire expires a pending or active session at once:
// session.expired.
func (s *Server) controlExpire(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	if err := requireStatus(sess, "expire", "pending", "active"); err != nil {
		return nil, err
	}
	sess.status, sess.expiresAt, sess.updatedAt = "expired", now, now
	s.emit(o, "session.expired", expiredEvent(sess))
	return sess.toJSON(), nil
}

// controlDelete deletes a session as the dashboard does: session.deleted.
func (s *Server) controlDelete(st *state, o *org, sess *session, in controlInput, now time.Time) (any, *apiError) {
	obj := in.body
	deletedBy, set, err := obj.str("deletedBy")
	if err != nil {
		return nil, err
	}
	if !set {
		deletedBy = "user:" + sess.agentID
	}
	delete(st.sessions, sess.id)
	o.sessions = slices.DeleteFunc(o.sessions, func(x *session) bool { return x == sess })
	s.emit(o, "session.deleted", deletedEvent(sess, deletedBy, stamp(now)))
	return map[string]any{"deleted": true, "id": sess.id}, nil
}
