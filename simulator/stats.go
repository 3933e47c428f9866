package simulator

import (
	"math"
	"net/http"
	"time"
)

// statsJSON is the contract's Stats object.
type statsJSON struct {
	Period   string `json:"period"`
	From     stamp  `json:"from"`
	To       stamp  `json:"to"`
	Sessions struct {
		Total     int `json:"total"`
		Completed int `json:"completed"`
		Cancelled int `json:"cancelled"`
		Expired   int `json:"expired"`
	} `json:"sessions"`
	Duration struct {
		TotalSeconds   int  `json:"totalSeconds"`
		AverageSeconds *int `json:"averageSeconds"`
	} `json:"duration"`
	Satisfaction struct {
		Average *float64 `json:"average"`
		Count   int      `json:"count"`
	} `json:"satisfaction"`
	SMS struct {
		Sent int `json:"sent"`
	} `json:"sms"`
}

// periodStart returns the start of the current UTC day, ISO week (Monday)
// or month at now.
func periodStart(period string, now time.Time) time.Time {
	day := startOfDay(now)
	switch period {
	case "day":
		return day
	case "week":
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		return day.AddDate(0, 0, -back)
	default:
		return time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
}

// getStats serves GET /stats: the sessions created from the start of the
// period to now, counted by status, with the duration of completed ones,
// the average rating and the SMS sent in the period.
func (s *Server) getStats(c *call) (reply, *apiError) {
	period := "month"
	if c.query.Has("period") {
		period = c.query.Get("period")
		if err := oneOf("period", period, statsPeriods); err != nil {
			return reply{}, err
		}
	}
	return s.locked(c, func(st *state, o *org) (reply, *apiError) {
		now := s.now()
		from := periodStart(period, now)
		out := statsJSON{Period: period, From: stamp(from), To: stamp(now)}

		var durations, ratings float64
		var timed int
		for _, sess := range o.sessions {
			for _, t := range sess.smsSent {
				if inRange(t, &from, &now) {
					out.SMS.Sent++
				}
			}
			if !inRange(sess.createdAt, &from, &now) {
				continue
			}
			out.Sessions.Total++
			switch sess.status {
			case "completed":
				out.Sessions.Completed++
				if sess.duration != nil {
					durations += *sess.duration
					timed++
				}
			case "cancelled":
				out.Sessions.Cancelled++
			case "expired":
				out.Sessions.Expired++
			}
			if sess.clientRating != nil {
				ratings += *sess.clientRating
				out.Satisfaction.Count++
			}
		}

		out.Duration.TotalSeconds = int(math.Round(durations))
		if timed > 0 {
			out.Duration.AverageSeconds = ptr(int(math.Round(durations / float64(timed))))
		}
		if out.Satisfaction.Count > 0 {
			avg := math.Round(ratings/float64(out.Satisfaction.Count)*100) / 100
			out.Satisfaction.Average = &avg
		}
		return ok(http.StatusOK, out)
	})
}
