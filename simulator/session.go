package simulator

import (
	"math"
	"net/url"
	"slices"
	"time"
)

// Base URLs of the links the simulator writes. They name the real product's
// hosts as data only; nothing is served there.
const (
	appBaseURL        = "https://app.groundcam.io"
	screenshotBaseURL = "https://groundcam.io/sc/"
	recordingBaseURL  = "https://firebasestorage.googleapis.com/v0/b/groundcam.appspot.com/o/recordings%2F"
)

// session is a video assistance session (a lobby).
type session struct {
	id, orgID string
	seq       int64
	status    string

	agentID     string
	agentName   *string
	clientPhone string
	clientName  *string
	clientEmail *string
	crmID       *string
	ticketURL   *string
	metadata    map[string]any
	mode        string
	source      string
	language    string
	clientToken string

	createdAt, updatedAt, expiresAt         time.Time
	startedAt, endedAt, admittedAt          *time.Time
	clientWaitingAt, ratedAt                *time.Time
	duration, agentDuration, clientDuration *float64
	clientRating                            *float64
	clientComment, closureTypeName          *string
	notes                                   *string
	tags                                    []string

	screenshots   []*screenshot
	recordings    []*recording
	smsSent       []time.Time
	authURLs      []time.Time
	appointmentID *string
}

// screenshot is an image captured during a session.
type screenshot struct {
	id       string
	takenAt  time.Time
	location *location
	tags     []string
}

// location is a GPS position.
type location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// recording is a session recording.
type recording struct {
	id        string
	token     string
	duration  *float64
	size      *float64
	createdAt time.Time
}

// hadConnection reports whether the client or the agent ever joined.
func (s *session) hadConnection() bool {
	return s.clientWaitingAt != nil || s.admittedAt != nil || s.startedAt != nil
}

// final reports whether the session is in a final status.
func (s *session) final() bool {
	return s.status == "completed" || s.status == "expired" || s.status == "cancelled"
}

// clientURL returns the link the client joins with.
func (s *session) clientURL() string {
	return appBaseURL + "/l/" + s.id + "?token=" + s.clientToken
}

// agentURL returns the agent's dashboard page of the session.
func (s *session) agentURL() string {
	return appBaseURL + "/dashboard/lobbies/" + s.id
}

// end moves the session to status at t and computes its duration from the
// start of the video, when there was one.
func (s *session) end(status string, t time.Time) {
	s.status = status
	s.endedAt = ptr(t)
	s.updatedAt = t
	if s.startedAt != nil {
		s.duration = ptr(math.Floor(t.Sub(*s.startedAt).Seconds()))
	}
}

// sessionJSON is the contract's Session object. Every field is written, null
// when unset.
type sessionJSON struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	AgentID          string         `json:"agentId"`
	AgentName        *string        `json:"agentName"`
	ClientPhone      string         `json:"clientPhone"`
	ClientName       *string        `json:"clientName"`
	ClientEmail      *string        `json:"clientEmail"`
	CrmID            *string        `json:"crmId"`
	TicketURL        *string        `json:"ticketUrl"`
	Metadata         map[string]any `json:"metadata"`
	Mode             string         `json:"mode"`
	Source           string         `json:"source"`
	CreatedAt        *stamp         `json:"createdAt"`
	UpdatedAt        *stamp         `json:"updatedAt"`
	ExpiresAt        *stamp         `json:"expiresAt"`
	StartedAt        *stamp         `json:"startedAt"`
	EndedAt          *stamp         `json:"endedAt"`
	AdmittedAt       *stamp         `json:"admittedAt"`
	Duration         *float64       `json:"duration"`
	AgentDuration    *float64       `json:"agentDuration"`
	ClientDuration   *float64       `json:"clientDuration"`
	ClientRating     *float64       `json:"clientRating"`
	ClientComment    *string        `json:"clientComment"`
	ClosureTypeName  *string        `json:"closureTypeName"`
	SessionTags      []string       `json:"sessionTags"`
	Notes            *string        `json:"notes"`
	ClientURL        *string        `json:"clientUrl"`
	AgentURL         string         `json:"agentUrl"`
	ScreenshotsCount int            `json:"screenshotsCount"`
	RecordingsCount  int            `json:"recordingsCount"`
}

// toJSON returns the full Session object.
func (s *session) toJSON() sessionJSON {
	return sessionJSON{
		ID:               s.id,
		Status:           s.status,
		AgentID:          s.agentID,
		AgentName:        s.agentName,
		ClientPhone:      s.clientPhone,
		ClientName:       s.clientName,
		ClientEmail:      s.clientEmail,
		CrmID:            s.crmID,
		TicketURL:        s.ticketURL,
		Metadata:         cloneMetadata(s.metadata),
		Mode:             s.mode,
		Source:           s.source,
		CreatedAt:        stampPtr(&s.createdAt),
		UpdatedAt:        stampPtr(&s.updatedAt),
		ExpiresAt:        stampPtr(&s.expiresAt),
		StartedAt:        stampPtr(s.startedAt),
		EndedAt:          stampPtr(s.endedAt),
		AdmittedAt:       stampPtr(s.admittedAt),
		Duration:         s.duration,
		AgentDuration:    s.agentDuration,
		ClientDuration:   s.clientDuration,
		ClientRating:     s.clientRating,
		ClientComment:    s.clientComment,
		ClosureTypeName:  s.closureTypeName,
		SessionTags:      slices.Clone(emptyIfNil(s.tags)),
		Notes:            s.notes,
		ClientURL:        ptr(s.clientURL()),
		AgentURL:         s.agentURL(),
		ScreenshotsCount: len(s.screenshots),
		RecordingsCount:  len(s.recordings),
	}
}

// sessionListItemJSON is the contract's SessionListItem: exactly its fields.
type sessionListItemJSON struct {
	ID               string         `json:"id"`
	Status           string         `json:"status"`
	AgentID          string         `json:"agentId"`
	AgentName        *string        `json:"agentName"`
	ClientPhone      string         `json:"clientPhone"`
	ClientName       *string        `json:"clientName"`
	CrmID            *string        `json:"crmId"`
	TicketURL        *string        `json:"ticketUrl"`
	Metadata         map[string]any `json:"metadata"`
	Source           string         `json:"source"`
	CreatedAt        *stamp         `json:"createdAt"`
	ExpiresAt        *stamp         `json:"expiresAt"`
	StartedAt        *stamp         `json:"startedAt"`
	EndedAt          *stamp         `json:"endedAt"`
	UpdatedAt        *stamp         `json:"updatedAt"`
	Duration         *float64       `json:"duration"`
	ClientRating     *float64       `json:"clientRating"`
	ScreenshotsCount int            `json:"screenshotsCount"`
	RecordingsCount  int            `json:"recordingsCount"`
}

// toListItem returns the SessionListItem of the session.
func (s *session) toListItem() sessionListItemJSON {
	return sessionListItemJSON{
		ID:               s.id,
		Status:           s.status,
		AgentID:          s.agentID,
		AgentName:        s.agentName,
		ClientPhone:      s.clientPhone,
		ClientName:       s.clientName,
		CrmID:            s.crmID,
		TicketURL:        s.ticketURL,
		Metadata:         cloneMetadata(s.metadata),
		Source:           s.source,
		CreatedAt:        stampPtr(&s.createdAt),
		ExpiresAt:        stampPtr(&s.expiresAt),
		StartedAt:        stampPtr(s.startedAt),
		EndedAt:          stampPtr(s.endedAt),
		UpdatedAt:        stampPtr(&s.updatedAt),
		Duration:         s.duration,
		ClientRating:     s.clientRating,
		ScreenshotsCount: len(s.screenshots),
		RecordingsCount:  len(s.recordings),
	}
}

// smsJSON is the sms object of create and resend responses. To is written
// only when an SMS was sent, as in the contract's examples.
type smsJSON struct {
	Status string `json:"status"`
	To     string `json:"to,omitempty"`
}

// createdSessionJSON is the data of a 201 from POST /sessions.
type createdSessionJSON struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	ClientURL   string         `json:"clientUrl"`
	AgentURL    string         `json:"agentUrl"`
	CreatedAt   stamp          `json:"createdAt"`
	ExpiresAt   stamp          `json:"expiresAt"`
	CrmID       *string        `json:"crmId"`
	TicketURL   *string        `json:"ticketUrl"`
	ClientEmail *string        `json:"clientEmail"`
	Metadata    map[string]any `json:"metadata"`
	SMS         smsJSON        `json:"sms"`
	SessionTags []string       `json:"sessionTags"`
	Mode        string         `json:"mode"`
}

// bulkSessionJSON is the session of a successful bulk result: the create
// response without clientEmail and mode.
type bulkSessionJSON struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	ClientURL   string         `json:"clientUrl"`
	AgentURL    string         `json:"agentUrl"`
	CreatedAt   stamp          `json:"createdAt"`
	ExpiresAt   stamp          `json:"expiresAt"`
	CrmID       *string        `json:"crmId"`
	TicketURL   *string        `json:"ticketUrl"`
	Metadata    map[string]any `json:"metadata"`
	SessionTags []string       `json:"sessionTags"`
	SMS         smsJSON        `json:"sms"`
}

// createdJSON returns the create response of a session with its SMS outcome.
func (s *session) createdJSON(sms smsJSON) createdSessionJSON {
	return createdSessionJSON{
		ID:          s.id,
		Status:      s.status,
		ClientURL:   s.clientURL(),
		AgentURL:    s.agentURL(),
		CreatedAt:   stamp(s.createdAt),
		ExpiresAt:   stamp(s.expiresAt),
		CrmID:       s.crmID,
		TicketURL:   s.ticketURL,
		ClientEmail: s.clientEmail,
		Metadata:    cloneMetadata(s.metadata),
		SMS:         sms,
		SessionTags: slices.Clone(emptyIfNil(s.tags)),
		Mode:        s.mode,
	}
}

// bulkJSON returns the bulk result session of a session with its SMS outcome.
func (s *session) bulkJSON(sms smsJSON) bulkSessionJSON {
	return bulkSessionJSON{
		ID:          s.id,
		Status:      s.status,
		ClientURL:   s.clientURL(),
		AgentURL:    s.agentURL(),
		CreatedAt:   stamp(s.createdAt),
		ExpiresAt:   stamp(s.expiresAt),
		CrmID:       s.crmID,
		TicketURL:   s.ticketURL,
		Metadata:    cloneMetadata(s.metadata),
		SessionTags: slices.Clone(emptyIfNil(s.tags)),
		SMS:         sms,
	}
}

// screenshotJSON is the contract's Screenshot object.
type screenshotJSON struct {
	ID        string    `json:"id"`
	URL       string    `json:"url"`
	Timestamp stamp     `json:"timestamp"`
	Location  *location `json:"location"`
	Tags      []string  `json:"tags"`
}

// recordingJSON is the contract's Recording object.
type recordingJSON struct {
	ID        string   `json:"id"`
	URL       string   `json:"url"`
	Duration  *float64 `json:"duration"`
	Size      *float64 `json:"size"`
	CreatedAt stamp    `json:"createdAt"`
}

// recordingURL returns the recording's download link, which never expires.
func (r *recording) url() string {
	return recordingBaseURL + url.PathEscape(r.id) + ".webm?alt=media&token=" + r.token
}
