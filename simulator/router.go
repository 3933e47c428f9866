package simulator

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// handlerFunc serves one API operation. It returns the reply or the error
// response; it takes the state lock itself.
type handlerFunc func(s *Server, c *call) (reply, *apiError)

// route is one API operation.
type route struct {
	method   string
	template string // such as /v1/sessions/{id}
	segments []string
	handle   handlerFunc
}

// router matches requests against the API's routes.
type router struct {
	routes []*route
}

// match is the outcome of routing one request.
type match struct {
	// route is the matched operation, nil when none matched.
	route *route
	// id is the {id} path parameter.
	id string
	// allow lists the methods of the path when only the method is wrong.
	allow []string
	// key identifies the route in the call counters, such as
	// "GET /v1/sessions/{id}"; unknown paths are "GET (unmatched)".
	key string
}

// matchKey is the request context key of the [match].
type matchKey struct{}

// newRouter returns a router over routes.
func newRouter(routes []*route) *router {
	for _, rt := range routes {
		rt.segments = strings.Split(strings.TrimPrefix(rt.template, "/"), "/")
	}
	return &router{routes: routes}
}

// match finds the operation of method and the escaped path. Literal
// segments win over {id}, so /v1/sessions/bulk is not a session id.
func (rt *router) match(method, escapedPath string) match {
	parts := strings.Split(strings.TrimPrefix(escapedPath, "/"), "/")
	var best *route
	var bestID string
	bestParams := -1
	var pathRoute *route
	var allow []string
	for _, r := range rt.routes {
		id, params, ok := r.matchPath(parts)
		if !ok {
			continue
		}
		if r.method != method {
			if pathRoute == nil || params < countParams(pathRoute) {
				pathRoute = r
			}
			allow = append(allow, r.method)
			continue
		}
		if best == nil || params < bestParams {
			best, bestID, bestParams = r, id, params
		}
	}
	switch {
	case best != nil:
		return match{route: best, id: bestID, key: method + " " + best.template}
	case pathRoute != nil:
		slices.Sort(allow)
		return match{allow: slices.Compact(allow), key: method + " " + pathRoute.template}
	default:
		return match{key: method + " (unmatched)"}
	}
}

// matchPath reports whether the path segments fit the route, with the
// decoded {id} and the number of parameters.
func (r *route) matchPath(parts []string) (id string, params int, ok bool) {
	if len(parts) != len(r.segments) {
		return "", 0, false
	}
	for i, seg := range r.segments {
		if seg == "{id}" {
			decoded, err := url.PathUnescape(parts[i])
			if err != nil || decoded == "" {
				return "", 0, false
			}
			id = decoded
			params++
			continue
		}
		if seg != parts[i] {
			return "", 0, false
		}
	}
	return id, params, true
}

// countParams returns the number of {id} segments of r.
func countParams(r *route) int {
	return strings.Count(r.template, "{id}")
}

// routeError returns the 404 or 405 of a request that matched no operation.
func (m match) routeError(method, path string) *apiError {
	if len(m.allow) == 0 {
		return notFound("No route for " + method + " " + path +
			"; see the API reference for the available /v1 paths")
	}
	allow := strings.Join(m.allow, ", ")
	return newError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
		"Method %s is not allowed on %s; allowed methods: %s", method, path, allow).
		withHeader("Allow", allow)
}

// apiRoutes returns the 30 operations of the contract.
func apiRoutes() []*route {
	return []*route{
		{method: http.MethodGet, template: "/v1/agents", handle: (*Server).listAgents},
		{method: http.MethodPost, template: "/v1/sessions", handle: (*Server).createSession},
		{method: http.MethodGet, template: "/v1/sessions", handle: (*Server).listSessions},
		{method: http.MethodPost, template: "/v1/sessions/bulk", handle: (*Server).createSessionsBulk},
		{method: http.MethodGet, template: "/v1/sessions/{id}", handle: (*Server).getSession},
		{method: http.MethodPatch, template: "/v1/sessions/{id}", handle: (*Server).updateSession},
		{method: http.MethodPost, template: "/v1/sessions/{id}/agent-auth-url", handle: (*Server).agentAuthURL},
		{method: http.MethodPost, template: "/v1/sessions/{id}/cancel", handle: (*Server).cancelSession},
		{method: http.MethodPost, template: "/v1/sessions/{id}/resend-sms", handle: (*Server).resendSMS},
		{method: http.MethodPost, template: "/v1/sessions/{id}/end", handle: (*Server).endSession},
		{method: http.MethodGet, template: "/v1/sessions/{id}/screenshots", handle: (*Server).listScreenshots},
		{method: http.MethodGet, template: "/v1/sessions/{id}/recordings", handle: (*Server).listRecordings},
		{method: http.MethodGet, template: "/v1/credits", handle: (*Server).getCredits},
		{method: http.MethodPost, template: "/v1/webhooks", handle: (*Server).createWebhook},
		{method: http.MethodGet, template: "/v1/webhooks", handle: (*Server).listWebhooks},
		{method: http.MethodDelete, template: "/v1/webhooks/{id}", handle: (*Server).deleteWebhook},
		{method: http.MethodPatch, template: "/v1/webhooks/{id}", handle: (*Server).updateWebhook},
		{method: http.MethodPost, template: "/v1/webhooks/{id}/test", handle: (*Server).testWebhook},
		{method: http.MethodGet, template: "/v1/webhooks/{id}/deliveries", handle: (*Server).listDeliveries},
		{method: http.MethodGet, template: "/v1/organization", handle: (*Server).getOrganization},
		{method: http.MethodGet, template: "/v1/stats", handle: (*Server).getStats},
		{method: http.MethodGet, template: "/v1/auth/verify", handle: (*Server).verifyKey},
		{method: http.MethodGet, template: "/v1/closure-types", handle: (*Server).listClosureTypes},
		{method: http.MethodGet, template: "/v1/tags", handle: (*Server).listTags},
		{method: http.MethodPost, template: "/v1/appointments", handle: (*Server).createAppointment},
		{method: http.MethodGet, template: "/v1/appointments", handle: (*Server).listAppointments},
		{method: http.MethodGet, template: "/v1/appointments/available-slots", handle: (*Server).availableSlots},
		{method: http.MethodGet, template: "/v1/appointments/{id}", handle: (*Server).getAppointment},
		{method: http.MethodPatch, template: "/v1/appointments/{id}", handle: (*Server).updateAppointment},
		{method: http.MethodPost, template: "/v1/appointments/{id}/cancel", handle: (*Server).cancelAppointment},
	}
}
