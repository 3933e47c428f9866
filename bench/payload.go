package bench

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/groundcam/groundcam-gateway/adapters/jsonmap"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// Size is one read of the ladder, with its request, its response and the
// upstream body that the response comes from.
type Size struct {
	// Name is "small" or "large".
	Name string
	// Procedure is the Connect procedure, such as
	// "/groundcam.v1.AgentService/ListAgents".
	Procedure string
	// RESTPath is the path and query of the read on the REST face, such as
	// "/v1/agents".
	RESTPath string
	// UpstreamPath is the upstream path that the stub serves, such as
	// "/v1/agents".
	UpstreamPath string
	// Request is the request message. It must not be modified.
	Request proto.Message
	// Response is the response message every rung returns. It must not be
	// modified.
	Response proto.Message
	// ResponseBytes is Response in the binary proto encoding, the body of
	// the raw rung.
	ResponseBytes []byte
	// UpstreamBody is the upstream's JSON for Response: {"data": ...}.
	UpstreamBody []byte
}

// Size names.
const (
	SizeSmall = "small"
	SizeLarge = "large"
)

// sessionsPerPage is the page size of the large read, the upstream's
// default page size.
const sessionsPerPage = 20

// Sizes returns the two reads of the ladder: ListAgents with 3 agents and
// ListSessions with a page of 20 sessions.
func Sizes() ([]*Size, error) {
	small, err := newSize(SizeSmall, groundcamv1connect.AgentServiceListAgentsProcedure,
		"/v1/agents", &groundcamv1.ListAgentsRequest{}, agentsResponse())
	if err != nil {
		return nil, err
	}
	large, err := newSize(SizeLarge, groundcamv1connect.SessionServiceListSessionsProcedure,
		"/v1/sessions", &groundcamv1.ListSessionsRequest{}, sessionsResponse(sessionsPerPage))
	if err != nil {
		return nil, err
	}
	return []*Size{small, large}, nil
}

func newSize(name, procedure, path string, req, res proto.Message) (*Size, error) {
	raw, err := proto.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode %s response: %w", name, err)
	}
	data, err := jsonmap.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode %s upstream body: %w", name, err)
	}
	body := append([]byte(`{"data":`), data...)
	body = append(body, "}\n"...)
	return &Size{
		Name:          name,
		Procedure:     procedure,
		RESTPath:      path,
		UpstreamPath:  path,
		Request:       req,
		Response:      res,
		ResponseBytes: raw,
		UpstreamBody:  body,
	}, nil
}

// payloadEpoch is the time that the payloads' timestamps count from. The
// upstream writes milliseconds, so every timestamp is a whole millisecond.
var payloadEpoch = time.Date(2026, 2, 14, 10, 30, 0, 0, time.UTC)

func agentsResponse() *groundcamv1.ListAgentsResponse {
	roles := []groundcamv1.AgentRole{
		groundcamv1.AgentRole_AGENT_ROLE_OWNER,
		groundcamv1.AgentRole_AGENT_ROLE_ADMIN,
		groundcamv1.AgentRole_AGENT_ROLE_AGENT,
	}
	res := &groundcamv1.ListAgentsResponse{Total: int32(len(roles))}
	for i, role := range roles {
		res.Agents = append(res.Agents, &groundcamv1.Agent{
			Id:          fmt.Sprintf("usr_7f3a9c2e%04d", i),
			Email:       fmt.Sprintf("agent%d@example.com", i),
			DisplayName: fmt.Sprintf("Agent Number %d", i),
			Role:        role,
			JoinedAt:    timestamppb.New(payloadEpoch.AddDate(0, -i, 0)),
		})
	}
	return res
}

func sessionsResponse(n int) *groundcamv1.ListSessionsResponse {
	res := &groundcamv1.ListSessionsResponse{
		Pagination: &groundcamv1.Pagination{
			Limit:      int32(n),
			HasMore:    true,
			NextCursor: proto.String(fmt.Sprintf("ses_9b1d4e7a%04d", n-1)),
		},
	}
	for i := range n {
		res.Sessions = append(res.Sessions, sessionItem(i))
	}
	return res
}

func sessionItem(i int) *groundcamv1.SessionListItem {
	created := payloadEpoch.Add(-time.Duration(i) * time.Hour)
	return &groundcamv1.SessionListItem{
		Id:          proto.String(fmt.Sprintf("ses_9b1d4e7a%04d", i)),
		Status:      groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
		AgentId:     proto.String("usr_7f3a9c2e0002"),
		AgentName:   proto.String("Agent Number 2"),
		ClientPhone: proto.String(fmt.Sprintf("+1555010%04d", i)),
		ClientName:  proto.String(fmt.Sprintf("Client %d", i)),
		CrmId:       proto.String(fmt.Sprintf("TICKET-%05d", 4000+i)),
		TicketUrl:   proto.String(fmt.Sprintf("https://crm.example.com/tickets/%d", 4000+i)),
		Metadata: &groundcamv1.Metadata{Fields: map[string]*groundcamv1.MetadataValue{
			"region":   {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: "north"}},
			"priority": {Kind: &groundcamv1.MetadataValue_NumberValue{NumberValue: float64(i % 3)}},
		}},
		Source:           groundcamv1.SessionSource_SESSION_SOURCE_API,
		CreatedAt:        timestamppb.New(created),
		ExpiresAt:        timestamppb.New(created.Add(24 * time.Hour)),
		StartedAt:        timestamppb.New(created.Add(2 * time.Minute)),
		EndedAt:          timestamppb.New(created.Add(14 * time.Minute)),
		UpdatedAt:        timestamppb.New(created.Add(15 * time.Minute)),
		Duration:         proto.Float64(720),
		ClientRating:     proto.Float64(float64(1 + i%5)),
		ScreenshotsCount: proto.Int32(int32(i % 4)),
		RecordingsCount:  proto.Int32(1),
	}
}
