package jsonmap

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// benchSession returns a session with every field set, the largest object
// the upstream returns for one session.
func benchSession(i int) *groundcamv1.Session {
	at := func(minutes int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2026, 2, 14, 10, 30+minutes, 0, 0, time.UTC))
	}
	metadata := &groundcamv1.Metadata{Fields: map[string]*groundcamv1.MetadataValue{
		"department": {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: "support"}},
		"priority":   {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: "high"}},
		"ticket":     {Kind: &groundcamv1.MetadataValue_NumberValue{NumberValue: 12345}},
		"vip":        {Kind: &groundcamv1.MetadataValue_BoolValue{BoolValue: true}},
	}}
	return &groundcamv1.Session{
		Id:               fmt.Sprintf("Xk9mPq2rT4w%d", i),
		Status:           groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
		AgentId:          "f7Kj2mNpQ1xR",
		AgentName:        proto.String("Marie Martin"),
		ClientPhone:      proto.String("+33612345678"),
		ClientName:       proto.String("Jean Dupont"),
		ClientEmail:      proto.String("jean.dupont@email.com"),
		CrmId:            proto.String("TICKET-12345"),
		TicketUrl:        proto.String("https://mycrm.com/tickets/12345"),
		Metadata:         metadata,
		Mode:             groundcamv1.SessionMode_SESSION_MODE_CAMERA,
		Source:           groundcamv1.SessionSource_SESSION_SOURCE_API,
		CreatedAt:        at(0),
		UpdatedAt:        at(16),
		ExpiresAt:        at(60),
		StartedAt:        at(2),
		EndedAt:          at(15),
		AdmittedAt:       at(2),
		Duration:         proto.Float64(1548),
		AgentDuration:    proto.Float64(798),
		ClientDuration:   proto.Float64(750.5),
		ClientRating:     proto.Float64(5),
		ClientComment:    proto.String("Very helpful, resolved my issue quickly!"),
		ClosureTypeName:  proto.String("Problem resolved"),
		SessionTags:      []string{"installation", "urgent"},
		Notes:            proto.String("Client had a plumbing issue under the kitchen sink"),
		ClientUrl:        proto.String("https://app.groundcam.io/l/Xk9mPq2rT4wZ?token=abc123def456ghi789"),
		AgentUrl:         proto.String("https://app.groundcam.io/dashboard/lobbies/Xk9mPq2rT4wZ"),
		ScreenshotsCount: proto.Int32(3),
		RecordingsCount:  proto.Int32(1),
	}
}

// benchPage returns a list page of 20 sessions.
func benchPage() *groundcamv1.ListSessionsResponse {
	page := &groundcamv1.ListSessionsResponse{
		Pagination: &groundcamv1.Pagination{Limit: 20, HasMore: true, NextCursor: proto.String("c")},
	}
	for i := range 20 {
		s := benchSession(i)
		page.Sessions = append(page.Sessions, &groundcamv1.SessionListItem{
			Id: proto.String(s.GetId()), Status: s.GetStatus(), AgentId: proto.String(s.GetAgentId()),
			AgentName: s.AgentName, ClientPhone: s.ClientPhone, ClientName: s.ClientName,
			CrmId: s.CrmId, TicketUrl: s.TicketUrl, Metadata: s.Metadata, Source: s.Source,
			CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, StartedAt: s.StartedAt,
			EndedAt: s.EndedAt, UpdatedAt: s.UpdatedAt, Duration: s.Duration,
			ClientRating: s.ClientRating, ScreenshotsCount: s.ScreenshotsCount,
			RecordingsCount: s.RecordingsCount,
		})
	}
	return page
}

var benchMessages = []struct {
	name string
	msg  proto.Message
}{
	{"Session", benchSession(0)},
	{"ListSessions20", benchPage()},
}

// BenchmarkMarshal measures Marshal on a full session and on a page of 20
// list items. The protojson runs are a reference for the cost of the
// library's own JSON mapping, which writes a different JSON.
func BenchmarkMarshal(b *testing.B) {
	for _, bm := range benchMessages {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = (MarshalOptions{}).AppendMarshal(buf[:0], bm.msg); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
		b.Run(bm.name+"/protojson", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := protojson.Marshal(bm.msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnmarshal measures Unmarshal of the JSON that Marshal writes for
// the same messages.
func BenchmarkUnmarshal(b *testing.B) {
	for _, bm := range benchMessages {
		data, err := Marshal(bm.msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			m := bm.msg.ProtoReflect().New().Interface()
			for b.Loop() {
				if err := Unmarshal(data, m); err != nil {
					b.Fatal(err)
				}
			}
		})
		pj, err := protojson.Marshal(bm.msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bm.name+"/protojson", func(b *testing.B) {
			b.ReportAllocs()
			m := bm.msg.ProtoReflect().New().Interface()
			for b.Loop() {
				if err := protojson.Unmarshal(pj, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQuery measures encoding and decoding a list request's query.
func BenchmarkQuery(b *testing.B) {
	m := &groundcamv1.ListSessionsRequest{
		Status:       groundcamv1.SessionStatus_SESSION_STATUS_COMPLETED,
		AgentId:      proto.String("agent_xyz789"),
		CreatedAfter: timestamppb.New(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)),
		Limit:        proto.Int32(20),
		Metadata:     map[string]string{"department": "support"},
	}
	values, err := EncodeQuery(m, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeQuery(m, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out groundcamv1.ListSessionsRequest
			if err := DecodeQuery(url.Values(values), &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
