package simulator

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/groundcam/groundcam-gateway/simulator/webhook"
)

// maxWebhooksPerOrg is the contract's limit of webhook endpoints.
const maxWebhooksPerOrg = 10

// webhookEndpoint is a registered webhook.
type webhookEndpoint struct {
	id, orgID, url, secret string
	events                 []string
	active                 bool
	createdAt, updatedAt   time.Time
}

// webhookJSON is the contract's WebhookEndpoint.
type webhookJSON struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Active    bool     `json:"active"`
	CreatedAt stamp    `json:"createdAt"`
	UpdatedAt *stamp   `json:"updatedAt"`
}

// toJSON returns the endpoint without its secret.
func (w *webhookEndpoint) toJSON() webhookJSON {
	return webhookJSON{
		ID: w.id, URL: w.url, Events: slices.Clone(w.events), Active: w.active,
		CreatedAt: stamp(w.createdAt), UpdatedAt: stampPtr(&w.updatedAt),
	}
}

// target returns the dispatcher's view of the endpoint.
func (w *webhookEndpoint) target() webhook.Target {
	return webhook.Target{WebhookID: w.id, URL: w.url, Secret: w.secret}
}

// webhookChange is a validated create or update request.
type webhookChange struct {
	url                       string
	events                    []string
	active                    bool
	urlSet, eventsSet, actSet bool
}

// readWebhookChange validates url, events and active.
func readWebhookChange(obj jsonObject) (webhookChange, *apiError) {
	var ch webhookChange
	var err *apiError
	if ch.url, ch.urlSet, err = obj.str("url"); err != nil {
		return ch, err
	}
	if ch.urlSet {
		if err := checkWebhookURL(ch.url); err != nil {
			return ch, err
		}
	}
	if ch.events, ch.eventsSet, err = obj.strList("events"); err != nil {
		return ch, err
	}
	if ch.eventsSet {
		if len(ch.events) == 0 {
			return ch, invalidField("events must contain at least one event")
		}
		for _, e := range ch.events {
			if !slices.Contains(webhookEvents, e) {
				return ch, badRequest(codeInvalidEvent, "Invalid event: %s", e)
			}
		}
		ch.events = slices.Compact(slices.Clone(ch.events))
	}
	if ch.active, ch.actSet, err = obj.boolean("active"); err != nil {
		return ch, err
	}
	return ch, nil
}

// checkWebhookURL requires an absolute HTTPS URL with a host.
func checkWebhookURL(raw string) *apiError {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return badRequest(codeInvalidURL,
			"url %q is not a valid absolute URL; use a form like https://example.com/webhooks", raw)
	}
	if u.Scheme != "https" {
		return badRequest(codeInvalidURL, "URL must use HTTPS")
	}
	return nil
}

// duplicateURL reports whether another webhook of o already uses the URL.
func duplicateURL(o *org, u, exceptID string) bool {
	for _, w := range o.webhooks {
		if w.url == u && w.id != exceptID {
			return true
		}
	}
	return false
}

// createWebhook serves POST /webhooks.
func (s *Server) createWebhook(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	if !obj.present("url") {
		return reply{}, missingField("url")
	}
	if !obj.present("events") {
		return reply{}, missingField("events")
	}
	ch, err := readWebhookChange(obj)
	if err != nil {
		return reply{}, err
	}

	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		if duplicateURL(o, ch.url, "") {
			return reply{}, conflict(codeDuplicateURL, "A webhook with this URL already exists")
		}
		if len(o.webhooks) >= maxWebhooksPerOrg {
			return reply{}, conflict(codeLimitReached, "Maximum number of webhooks reached (10)")
		}
		now := s.now()
		w := &webhookEndpoint{
			id: st.newID("", 12), orgID: o.id, url: ch.url, secret: st.newHex(64),
			events: ch.events, active: true, createdAt: now, updatedAt: now,
		}
		if ch.actSet {
			w.active = ch.active
		}
		st.webhooks[w.id] = w
		o.webhooks = append(o.webhooks, w)
		s.logger(c).Info("webhook created", "webhook_id", w.id, "events", len(w.events))
		return ok(http.StatusCreated, map[string]any{
			"id": w.id, "url": w.url, "events": slices.Clone(w.events), "active": w.active,
			"secret": w.secret,
		})
	})
}

// listWebhooks serves GET /webhooks.
func (s *Server) listWebhooks(c *call) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		hooks := make([]webhookJSON, 0, len(o.webhooks))
		for _, w := range o.webhooks {
			hooks = append(hooks, w.toJSON())
		}
		return ok(http.StatusOK, map[string]any{"webhooks": hooks})
	})
}

// webhookNotFound is the 404 of an unknown webhook id.
func webhookNotFound() *apiError { return notFound("Webhook not found") }

// withWebhook runs f on the request's webhook under the state lock.
func (s *Server) withWebhook(c *call, f func(st *state, o *org, w *webhookEndpoint) (reply, *apiError)) (reply, *apiError) {
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		w := st.webhook(o, c.id)
		if w == nil {
			return reply{}, webhookNotFound()
		}
		return f(st, o, w)
	})
}

// updateWebhook serves PATCH /webhooks/{id}.
func (s *Server) updateWebhook(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	ch, err := readWebhookChange(obj)
	if err != nil {
		return reply{}, err
	}
	if !ch.urlSet && !ch.eventsSet && !ch.actSet {
		return reply{}, badRequest(codeMissingField, "At least one field is required: url, events, active")
	}
	return s.withWebhook(c, func(st *state, o *org, w *webhookEndpoint) (reply, *apiError) {
		if ch.urlSet && duplicateURL(o, ch.url, w.id) {
			return reply{}, conflict(codeDuplicateURL, "A webhook with this URL already exists")
		}
		if ch.urlSet {
			w.url = ch.url
		}
		if ch.eventsSet {
			w.events = ch.events
		}
		if ch.actSet {
			w.active = ch.active
		}
		w.updatedAt = s.now()
		return ok(http.StatusOK, w.toJSON())
	})
}

// deleteWebhook serves DELETE /webhooks/{id} and drops its deliveries log.
func (s *Server) deleteWebhook(c *call) (reply, *apiError) {
	rep, err := s.withWebhook(c, func(st *state, o *org, w *webhookEndpoint) (reply, *apiError) {
		delete(st.webhooks, w.id)
		o.webhooks = slices.DeleteFunc(o.webhooks, func(x *webhookEndpoint) bool { return x == w })
		return ok(http.StatusOK, map[string]any{"deleted": true})
	})
	if err == nil {
		s.hooks.Forget(c.id)
	}
	return rep, err
}

// testWebhook serves POST /webhooks/{id}/test: one signed webhook.test
// delivery, waited for, whatever the endpoint's active flag.
func (s *Server) testWebhook(c *call) (reply, *apiError) {
	var target webhook.Target
	_, err := s.withWebhook(c, func(st *state, o *org, w *webhookEndpoint) (reply, *apiError) {
		target = w.target()
		return reply{}, nil
	})
	if err != nil {
		return reply{}, err
	}
	result := s.hooks.Test(c.r.Context(), target, map[string]any{
		"message":        "This is a test event from GroundCam",
		"webhookId":      target.WebhookID,
		"organizationId": c.org.id,
	})
	return ok(http.StatusOK, result)
}

// listDeliveries serves GET /webhooks/{id}/deliveries, newest first.
func (s *Server) listDeliveries(c *call) (reply, *apiError) {
	f, err := parseDeliveryFilter(c)
	if err != nil {
		return reply{}, err
	}
	if _, err := s.withWebhook(c, func(*state, *org, *webhookEndpoint) (reply, *apiError) {
		return reply{}, nil
	}); err != nil {
		return reply{}, err
	}
	page := s.hooks.List(c.id, f)
	pagination := paginationJSON{Limit: f.Limit, HasMore: page.HasMore}
	if page.HasMore {
		pagination.NextCursor = ptr(page.NextCursor)
	}
	return ok(http.StatusOK, map[string]any{
		"deliveries": emptyIfNil(page.Deliveries), "pagination": pagination,
	})
}

// parseDeliveryFilter reads the deliveries query parameters.
func parseDeliveryFilter(c *call) (webhook.Filter, *apiError) {
	q := c.query
	f := webhook.Filter{Limit: defaultPageLimit, StartAfter: q.Get("startAfter"), EventType: q.Get("eventType")}
	if q.Has("limit") {
		n, err := strconv.Atoi(q.Get("limit"))
		if err != nil || n < 1 || n > maxPageLimit {
			return f, invalidField("limit must be an integer between 1 and %d, got %q",
				maxPageLimit, q.Get("limit"))
		}
		f.Limit = n
	}
	if q.Has("status") {
		status := q.Get("status")
		if err := oneOf("status", status, []string{"delivered", "failed", "exhausted"}); err != nil {
			return f, err
		}
		f.Status = webhook.Status(status)
	}
	if q.Has("eventType") && !slices.Contains(webhookEvents, f.EventType) && f.EventType != webhook.TestEvent {
		return f, invalidField("eventType %q is not a webhook event; use one such as session.created or webhook.test",
			f.EventType)
	}
	for _, bound := range []struct {
		name string
		dst  *time.Time
	}{{"createdAfter", &f.CreatedAfter}, {"createdBefore", &f.CreatedBefore}} {
		t, err := optionalTime(q, bound.name)
		if err != nil {
			return f, err
		}
		if t != nil {
			*bound.dst = *t
		}
	}
	return f, nil
}
