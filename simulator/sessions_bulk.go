package simulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// bulkResultJSON is one item of a bulk response: session on success, error
// on failure.
type bulkResultJSON struct {
	Index   int              `json:"index"`
	Success bool             `json:"success"`
	Session *bulkSessionJSON `json:"session,omitempty"`
	Error   *errorDetail     `json:"error,omitempty"`
}

// bulkSummaryJSON counts the bulk results.
type bulkSummaryJSON struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// createSessionsBulk serves POST /sessions/bulk: up to 10 sessions processed
// in order, each with its own result. The organization needs one credit per
// item up front. When every item fails the status is 400 with the same body.
func (s *Server) createSessionsBulk(c *call) (reply, *apiError) {
	body, err := readBody(c.w, c.r)
	if err != nil {
		return reply{}, err
	}
	obj, err := decodeObject(body, false)
	if err != nil {
		return reply{}, err
	}
	items, err := bulkItems(obj)
	if err != nil {
		return reply{}, err
	}

	return s.idempotent(c, "POST /v1/sessions/bulk", func(st *state, o *org, now time.Time) (int, any, *apiError) {
		if have := o.credits.available(); have < len(items) {
			return 0, nil, newError(http.StatusPaymentRequired, codeInsufficientCredits,
				"Insufficient credits: %d sessions need %d credits, %d available",
				len(items), len(items), have)
		}
		results := make([]bulkResultJSON, 0, len(items))
		summary := bulkSummaryJSON{Total: len(items)}
		for i, raw := range items {
			res := s.createBulkItem(st, o, i, raw, now)
			if res.Success {
				summary.Succeeded++
			} else {
				summary.Failed++
			}
			results = append(results, res)
		}
		s.logger(c).Info("bulk sessions created", "succeeded", summary.Succeeded, "failed", summary.Failed)

		status := http.StatusCreated
		if summary.Succeeded == 0 {
			status = http.StatusBadRequest
		}
		return status, map[string]any{"results": results, "summary": summary}, nil
	})
}

// bulkItems checks the structure of a bulk request: 1 to 10 items.
func bulkItems(obj jsonObject) ([]json.RawMessage, *apiError) {
	if !obj.present("sessions") {
		return nil, missingField("sessions")
	}
	var items []json.RawMessage
	if json.Unmarshal(obj["sessions"], &items) != nil {
		return nil, invalidField("sessions must be an array of session objects")
	}
	switch {
	case len(items) == 0:
		return nil, invalidField("sessions must contain at least 1 item")
	case len(items) > maxBulkSessions:
		return nil, badRequest(codeTooManySessions,
			"sessions contains %d items; send at most %d per request", len(items), maxBulkSessions)
	}
	return items, nil
}

// createBulkItem validates and creates the session of one bulk item.
func (s *Server) createBulkItem(st *state, o *org, index int, raw json.RawMessage, now time.Time) bulkResultJSON {
	res := bulkResultJSON{Index: index}
	var item jsonObject
	if json.Unmarshal(raw, &item) != nil || item == nil {
		res.Error = &errorDetail{Code: codeInvalidField,
			Message: "sessions[" + itoa(index) + "] must be a JSON object"}
		return res
	}
	in, err := parseSessionInput(item, true)
	var sess *session
	var sms smsJSON
	if err == nil {
		sess, sms, err = s.createOne(st, o, in, now)
	}
	if err != nil {
		res.Error = &errorDetail{Code: err.code, Message: err.message}
		return res
	}
	s.emit(o, "session.created", sessionCreatedEvent(sess, createdByBulk))
	res.Success = true
	res.Session = ptr(sess.bulkJSON(sms))
	return res
}
