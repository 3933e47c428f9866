package simulator

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// advancer is a clock that the control API may move forward, such as a
// clockwork.FakeClock or an [OffsetClock].
type advancer interface {
	Advance(d time.Duration)
}

// controlEndpoints lists the control API for GET /_sim/.
var controlEndpoints = []string{
	"GET /_sim/keys", "GET /_sim/clock", "POST /_sim/clock/advance", "POST /_sim/sweep",
	"GET /_sim/calls", "DELETE /_sim/calls", "GET /_sim/requests",
	"GET /_sim/config", "PATCH /_sim/config", "POST /_sim/reset",
	"POST /_sim/organizations/{id}/credits",
	"POST /_sim/sessions/{id}/join", "POST /_sim/sessions/{id}/admit",
	"POST /_sim/sessions/{id}/screenshots", "PATCH /_sim/sessions/{id}/screenshots/{screenshotId}",
	"DELETE /_sim/sessions/{id}/screenshots/{screenshotId}", "POST /_sim/sessions/{id}/recordings",
	"POST /_sim/sessions/{id}/rate", "POST /_sim/sessions/{id}/expire", "DELETE /_sim/sessions/{id}",
	"GET|POST|DELETE /_sim/faults/", "DELETE /_sim/faults/{id}",
}

// controlFunc serves one control endpoint and returns the data or an error.
type controlFunc func(r *http.Request) (int, any, *apiError)

// controlHandler returns the /_sim/ control API.
func (s *Server) controlHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, f controlFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			status, data, err := f(r)
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, status, envelope{Data: data})
		})
	}
	handle("GET /_sim/{$}", func(*http.Request) (int, any, *apiError) {
		return http.StatusOK, map[string]any{"endpoints": controlEndpoints}, nil
	})
	handle("GET /_sim/keys", func(*http.Request) (int, any, *apiError) {
		return http.StatusOK, map[string]any{"keys": s.Keys()}, nil
	})
	handle("GET /_sim/clock", s.controlClock)
	handle("POST /_sim/clock/advance", s.controlAdvance)
	handle("POST /_sim/sweep", func(*http.Request) (int, any, *apiError) {
		s.Sweep()
		return s.controlClock(nil)
	})
	handle("GET /_sim/calls", func(*http.Request) (int, any, *apiError) {
		return http.StatusOK, map[string]any{"calls": s.Calls()}, nil
	})
	handle("DELETE /_sim/calls", func(*http.Request) (int, any, *apiError) {
		s.ResetCalls()
		return http.StatusOK, map[string]any{"calls": s.Calls()}, nil
	})
	handle("GET /_sim/requests", s.controlRequests)
	handle("GET /_sim/config", s.controlConfig)
	handle("PATCH /_sim/config", s.controlUpdateConfig)
	handle("POST /_sim/reset", func(*http.Request) (int, any, *apiError) {
		s.Reset()
		return http.StatusOK, map[string]any{"keys": s.Keys()}, nil
	})
	handle("POST /_sim/organizations/{id}/credits", s.controlCredits)
	s.handleSessionControls(handle)
	mux.Handle("/_sim/faults/", http.StripPrefix("/_sim/faults", s.faults.Handler()))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			writeError(w, notFound("No control endpoint for "+r.Method+" "+r.URL.Path+
				"; GET /_sim/ lists the control endpoints"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// controlBody reads an optional JSON object body of a control request.
func controlBody(r *http.Request) (jsonObject, *apiError) {
	body, err := readBody(nil, r)
	if err != nil {
		return nil, err
	}
	return decodeObject(body, true)
}

// controlClock returns the clock's time and whether it can be advanced.
func (s *Server) controlClock(*http.Request) (int, any, *apiError) {
	_, adjustable := s.clock.(advancer)
	return http.StatusOK, map[string]any{"now": stamp(s.now()), "adjustable": adjustable}, nil
}

// controlAdvance moves the clock forward by {"seconds": n} or
// {"duration": "5m"} and runs the transitions that became due.
func (s *Server) controlAdvance(r *http.Request) (int, any, *apiError) {
	obj, err := controlBody(r)
	if err != nil {
		return 0, nil, err
	}
	d, err := readAdvance(obj)
	if err != nil {
		return 0, nil, err
	}
	clock, adjustable := s.clock.(advancer)
	if !adjustable {
		return 0, nil, conflict("CLOCK_NOT_ADJUSTABLE",
			"The simulator runs on a clock that cannot be moved; start it with an adjustable clock")
	}
	clock.Advance(d)
	s.Sweep()
	return s.controlClock(r)
}

// readAdvance reads a positive duration from seconds or duration.
func readAdvance(obj jsonObject) (time.Duration, *apiError) {
	secs, secsSet, err := obj.number("seconds")
	if err != nil {
		return 0, err
	}
	text, textSet, err := obj.str("duration")
	if err != nil {
		return 0, err
	}
	var d time.Duration
	switch {
	case secsSet:
		d = time.Duration(secs * float64(time.Second))
	case textSet:
		parsed, perr := time.ParseDuration(text)
		if perr != nil {
			return 0, invalidField("duration must be a Go duration such as 90s or 5m, got %q", text)
		}
		d = parsed
	default:
		return 0, badRequest(codeMissingField, "send seconds (a number) or duration (such as \"5m\")")
	}
	if d <= 0 {
		return 0, invalidField("the clock only moves forward; send a positive amount, got %s", d)
	}
	return d, nil
}

// controlRequests returns the recent /v1 requests with Authorization
// reduced to the key prefix.
func (s *Server) controlRequests(r *http.Request) (int, any, *apiError) {
	list := s.Requests(r.URL.Query().Get("route"))
	for i := range list {
		if auth := list[i].Header.Get("Authorization"); auth != "" {
			list[i].Header.Set("Authorization", redactAuthorization(auth))
		}
	}
	return http.StatusOK, map[string]any{"requests": list}, nil
}

// redactAuthorization keeps the scheme and at most the key's 16-character
// prefix, as GET /v1/auth/verify shows it.
func redactAuthorization(value string) string {
	scheme, token, _ := strings.Cut(value, " ")
	if len(token) > 16 {
		token = token[:16]
	}
	return scheme + " " + token + "..."
}

// configJSON is the control configuration.
type configJSON struct {
	CreateDelayMS int64 `json:"createDelayMs"`
	RateLimit     struct {
		Limit         int   `json:"limit"`
		WindowSeconds int64 `json:"windowSeconds"`
	} `json:"rateLimit"`
}

// controlConfig returns the run-time settings.
func (s *Server) controlConfig(*http.Request) (int, any, *apiError) {
	var out configJSON
	s.mu.Lock()
	out.CreateDelayMS = s.createDelay.Milliseconds()
	s.mu.Unlock()
	limit, window := s.limiter.settings()
	out.RateLimit.Limit = limit
	out.RateLimit.WindowSeconds = int64(window / time.Second)
	return http.StatusOK, out, nil
}

// controlUpdateConfig changes createDelayMs and rateLimit.
func (s *Server) controlUpdateConfig(r *http.Request) (int, any, *apiError) {
	body, err := readBody(nil, r)
	if err != nil {
		return 0, nil, err
	}
	var in struct {
		CreateDelayMS *int64 `json:"createDelayMs"`
		RateLimit     *struct {
			Limit         int   `json:"limit"`
			WindowSeconds int64 `json:"windowSeconds"`
		} `json:"rateLimit"`
	}
	if jerr := json.Unmarshal(body, &in); jerr != nil {
		return 0, nil, badRequest(codeInvalidJSON,
			"config must be {\"createDelayMs\": number, \"rateLimit\": {\"limit\": number, \"windowSeconds\": number}}")
	}
	if in.CreateDelayMS != nil {
		if *in.CreateDelayMS < 0 {
			return 0, nil, invalidField("createDelayMs must be 0 or more")
		}
		s.SetCreateDelay(time.Duration(*in.CreateDelayMS) * time.Millisecond)
	}
	if in.RateLimit != nil {
		if in.RateLimit.Limit < 0 || in.RateLimit.WindowSeconds < 0 {
			return 0, nil, invalidField("rateLimit.limit and rateLimit.windowSeconds must be positive; 0 keeps a value")
		}
		s.SetRateLimit(in.RateLimit.Limit, time.Duration(in.RateLimit.WindowSeconds)*time.Second)
	}
	return s.controlConfig(r)
}

// controlCredits sets an organization's credits: any of
// subscriptionRemaining, quota and pack.
func (s *Server) controlCredits(r *http.Request) (int, any, *apiError) {
	obj, err := controlBody(r)
	if err != nil {
		return 0, nil, err
	}
	values := map[string]*int{}
	for _, name := range []string{"subscriptionRemaining", "quota", "pack"} {
		n, set, err := obj.integer(name)
		if err != nil {
			return 0, nil, err
		}
		if set && n < 0 {
			return 0, nil, invalidField("%s must be 0 or more, got %d", name, n)
		}
		if set {
			values[name] = &n
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.st.orgs[r.PathValue("id")]
	if o == nil {
		return 0, nil, newError(http.StatusNotFound, codeOrgNotFound, "Organization not found")
	}
	if v := values["subscriptionRemaining"]; v != nil {
		o.credits.subscriptionRemaining = *v
	}
	if v := values["quota"]; v != nil {
		o.credits.subscriptionQuota = *v
		if *v > 0 && o.credits.resetsAt == nil {
			o.credits.resetsAt = ptr(startOfNextMonth(s.now()))
			s.st.due(*o.credits.resetsAt)
		}
	}
	if v := values["pack"]; v != nil {
		o.credits.pack = *v
	}
	return http.StatusOK, o.creditsJSON(), nil
}
