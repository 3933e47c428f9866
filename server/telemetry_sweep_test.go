package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// The personal data that the privacy sweep sends through every RPC that
// has a field for it.
const (
	personalPhone       = "+33612345678"
	personalPhoneSpaced = "+33 6 12 34 56 78"
	personalEmail       = "jean.dupont@example.com"
	personalName        = "Jean Dupont"
)

// sweepInvoker sends one RPC through a face of the gateway with the Acme
// key as bearer token, decoding the response into res.
type sweepInvoker func(ctx context.Context, md protoreflect.MethodDescriptor, req, res proto.Message) error

// sweepState is what the calls of one sweep learn from each other.
type sweepState struct {
	face          string
	hookURL       string
	agentID       string
	sessionID     string
	bulkSessionID string
	webhookID     string
	appointmentID string
	slot          *timestamppb.Timestamp
}

// sweepCall is one RPC of the sweep: its request, built from what earlier
// calls returned, and what it records for later calls.
type sweepCall struct {
	method  protoreflect.FullName
	request func(s *sweepState) proto.Message
	after   func(s *sweepState, res proto.Message)
}

// sweepCalls calls every RPC once, in an order where each call finds the
// objects it needs: the personal data goes into every field that can
// carry it, including metadata and list filters.
var sweepCalls = []sweepCall{
	{method: "groundcam.v1.AuthService.VerifyApiKey", request: func(*sweepState) proto.Message {
		return &groundcamv1.VerifyApiKeyRequest{}
	}},
	{method: "groundcam.v1.AgentService.ListAgents", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListAgentsRequest{}
	}, after: func(s *sweepState, res proto.Message) {
		for _, a := range res.(*groundcamv1.ListAgentsResponse).GetAgents() {
			if a.GetDisplayName() == "Sophie Bernard" {
				s.agentID = a.GetId()
			}
		}
	}},
	{method: "groundcam.v1.OrganizationService.GetOrganization", request: func(*sweepState) proto.Message {
		return &groundcamv1.GetOrganizationRequest{}
	}},
	{method: "groundcam.v1.CreditService.GetCredits", request: func(*sweepState) proto.Message {
		return &groundcamv1.GetCreditsRequest{}
	}},
	{method: "groundcam.v1.StatisticsService.GetStats", request: func(*sweepState) proto.Message {
		return &groundcamv1.GetStatsRequest{}
	}},
	{method: "groundcam.v1.ConfigurationService.ListClosureTypes", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListClosureTypesRequest{}
	}},
	{method: "groundcam.v1.ConfigurationService.ListTags", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListTagsRequest{}
	}},
	{method: "groundcam.v1.SessionService.CreateSession", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CreateSessionRequest{
			ClientPhone: proto.String(personalPhoneSpaced),
			ClientName:  proto.String(personalName),
			ClientEmail: proto.String(personalEmail),
			AgentId:     s.agentID,
			CrmId:       proto.String("privacy-" + s.face),
			Metadata:    personalMetadata(),
			SendSms:     proto.Bool(true),
		}
	}, after: func(s *sweepState, res proto.Message) {
		s.sessionID = res.(*groundcamv1.CreateSessionResponse).GetSession().GetId()
	}},
	{method: "groundcam.v1.SessionService.CreateSessionsBulk", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CreateSessionsBulkRequest{Sessions: []*groundcamv1.BulkSessionInput{{
			ClientPhone: personalPhone,
			ClientName:  proto.String(personalName),
			AgentId:     s.agentID,
			Metadata:    personalMetadata(),
		}}}
	}, after: func(s *sweepState, res proto.Message) {
		results := res.(*groundcamv1.CreateSessionsBulkResponse).GetResults()
		if len(results) > 0 {
			s.bulkSessionID = results[0].GetSession().GetId()
		}
	}},
	{method: "groundcam.v1.SessionService.ListSessions", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListSessionsRequest{Metadata: personalFilter()}
	}},
	{method: "groundcam.v1.SessionService.GetSession", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GetSessionRequest{Id: s.sessionID}
	}},
	{method: "groundcam.v1.SessionService.UpdateSession", request: func(s *sweepState) proto.Message {
		return &groundcamv1.UpdateSessionRequest{Id: s.sessionID, Notes: personalNote()}
	}},
	{method: "groundcam.v1.SessionService.ResendSessionSms", request: func(s *sweepState) proto.Message {
		return &groundcamv1.ResendSessionSmsRequest{Id: s.sessionID}
	}},
	{method: "groundcam.v1.SessionService.GenerateAgentAuthUrl", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GenerateAgentAuthUrlRequest{Id: s.sessionID}
	}},
	{method: "groundcam.v1.SessionService.GetSessionScreenshots", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GetSessionScreenshotsRequest{Id: s.sessionID}
	}},
	{method: "groundcam.v1.SessionService.GetSessionRecordings", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GetSessionRecordingsRequest{Id: s.sessionID}
	}},
	{method: "groundcam.v1.SessionService.EndSession", request: func(s *sweepState) proto.Message {
		return &groundcamv1.EndSessionRequest{Id: s.sessionID, Notes: personalNote()}
	}},
	{method: "groundcam.v1.SessionService.CancelSession", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CancelSessionRequest{Id: s.bulkSessionID}
	}},
	{method: "groundcam.v1.WebhookService.CreateWebhook", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CreateWebhookRequest{
			Url:    s.hookURL + "/created",
			Events: []groundcamv1.WebhookEventType{groundcamv1.WebhookEventType_WEBHOOK_EVENT_TYPE_SESSION_CREATED},
		}
	}, after: func(s *sweepState, res proto.Message) {
		s.webhookID = res.(*groundcamv1.CreateWebhookResponse).GetId()
	}},
	{method: "groundcam.v1.WebhookService.ListWebhooks", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListWebhooksRequest{}
	}},
	{method: "groundcam.v1.WebhookService.UpdateWebhook", request: func(s *sweepState) proto.Message {
		return &groundcamv1.UpdateWebhookRequest{Id: s.webhookID, Url: proto.String(s.hookURL + "/updated")}
	}},
	{method: "groundcam.v1.WebhookService.TestWebhook", request: func(s *sweepState) proto.Message {
		return &groundcamv1.TestWebhookRequest{Id: s.webhookID}
	}},
	{method: "groundcam.v1.WebhookService.ListWebhookDeliveries", request: func(s *sweepState) proto.Message {
		return &groundcamv1.ListWebhookDeliveriesRequest{Id: s.webhookID}
	}},
	{method: "groundcam.v1.AppointmentService.GetAvailableAppointmentSlots", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GetAvailableAppointmentSlotsRequest{AgentId: s.agentID, Date: sweepDay()}
	}, after: func(s *sweepState, res proto.Message) {
		if slots := res.(*groundcamv1.GetAvailableAppointmentSlotsResponse).GetSlots(); len(slots) > 0 {
			s.slot = slots[0].GetStart()
		}
	}},
	{method: "groundcam.v1.AppointmentService.CreateAppointment", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CreateAppointmentRequest{
			AgentId:         s.agentID,
			ClientPhone:     proto.String(personalPhoneSpaced),
			ClientName:      proto.String(personalName),
			ClientEmail:     proto.String(personalEmail),
			ScheduledAt:     s.slot,
			DurationMinutes: 15,
			NotifyBy:        groundcamv1.AppointmentNotifyBy_APPOINTMENT_NOTIFY_BY_BOTH,
			Notes:           proto.String("Call " + personalName + " at " + personalEmail),
			Metadata:        personalMetadata(),
		}
	}, after: func(s *sweepState, res proto.Message) {
		s.appointmentID = res.(*groundcamv1.CreateAppointmentResponse).GetAppointment().GetId()
	}},
	{method: "groundcam.v1.AppointmentService.ListAppointments", request: func(*sweepState) proto.Message {
		return &groundcamv1.ListAppointmentsRequest{Metadata: personalFilter()}
	}},
	{method: "groundcam.v1.AppointmentService.GetAppointment", request: func(s *sweepState) proto.Message {
		return &groundcamv1.GetAppointmentRequest{Id: s.appointmentID}
	}},
	{method: "groundcam.v1.AppointmentService.UpdateAppointment", request: func(s *sweepState) proto.Message {
		return &groundcamv1.UpdateAppointmentRequest{
			Id:          s.appointmentID,
			ClientPhone: proto.String(personalPhone),
			ClientEmail: proto.String(personalEmail),
			Notes:       proto.String("Moved at the request of " + personalEmail),
			Metadata:    personalMetadata(),
		}
	}},
	{method: "groundcam.v1.AppointmentService.CancelAppointment", request: func(s *sweepState) proto.Message {
		return &groundcamv1.CancelAppointmentRequest{Id: s.appointmentID}
	}},
	{method: "groundcam.v1.WebhookService.DeleteWebhook", request: func(s *sweepState) proto.Message {
		return &groundcamv1.DeleteWebhookRequest{Id: s.webhookID}
	}},
}

// personalMetadata returns metadata that carries the phone and the email.
func personalMetadata() *groundcamv1.Metadata {
	return &groundcamv1.Metadata{Fields: map[string]*groundcamv1.MetadataValue{
		"phone": {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: personalPhone}},
		"email": {Kind: &groundcamv1.MetadataValue_StringValue{StringValue: personalEmail}},
	}}
}

// personalFilter returns a list filter on the metadata of personalMetadata.
func personalFilter() map[string]string {
	return map[string]string{"phone": personalPhone, "email": personalEmail}
}

// personalNote returns session notes that quote the client's contact.
func personalNote() *groundcamv1.NullableString {
	return &groundcamv1.NullableString{Value: proto.String(personalName + ", " + personalPhoneSpaced)}
}

// sweepDay returns the first weekday at least two days ahead, in the
// YYYY-MM-DD form of the available-slots request.
func sweepDay() string {
	day := time.Now().UTC().AddDate(0, 0, 2)
	for day.Weekday() == time.Saturday || day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, 1)
	}
	return day.Format(time.DateOnly)
}

// methodDescriptor returns the descriptor of the RPC called name.
func methodDescriptor(t *testing.T, name protoreflect.FullName) protoreflect.MethodDescriptor {
	t.Helper()
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(name)
	if err != nil {
		t.Fatalf("find RPC %s: %v", name, err)
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		t.Fatalf("%s is a %T, not an RPC", name, desc)
	}
	return md
}

// allMethods returns the full names of the RPCs of the groundcam.v1
// services.
func allMethods() []protoreflect.FullName {
	var names []protoreflect.FullName
	protoregistry.GlobalFiles.RangeFilesByPackage("groundcam.v1", func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			methods := fd.Services().Get(i).Methods()
			for j := 0; j < methods.Len(); j++ {
				names = append(names, methods.Get(j).FullName())
			}
		}
		return true
	})
	return names
}

// procedurePath returns the HTTP path of an RPC, such as
// "/groundcam.v1.SessionService/GetSession".
func procedurePath(md protoreflect.MethodDescriptor) string {
	return "/" + string(md.Parent().FullName()) + "/" + string(md.Name())
}

// newResponse returns an empty response message of md.
func newResponse(t *testing.T, md protoreflect.MethodDescriptor) proto.Message {
	t.Helper()
	mt, err := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
	if err != nil {
		t.Fatalf("response type of %s: %v", md.FullName(), err)
	}
	return mt.New().Interface()
}

// connectInvoker sends Connect unary requests with the binary codec over
// HTTP/1.1, the wire form that every Connect client produces.
func (g *telGateway) connectInvoker() sweepInvoker {
	return func(ctx context.Context, md protoreflect.MethodDescriptor, req, res proto.Message) error {
		body, err := proto.Marshal(req)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		r, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url+procedurePath(md), bytes.NewReader(body))
		if err != nil {
			return err
		}
		r.Header.Set("Content-Type", "application/proto")
		r.Header.Set("Connect-Protocol-Version", "1")
		r.Header.Set("Authorization", "Bearer "+g.key)
		resp, err := g.http1.Do(r)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("HTTP %d: %s", resp.StatusCode, data)
		}
		return proto.Unmarshal(data, res)
	}
}

// restInvoker sends REST requests. The REST face takes the upstream's
// exact requests, so the upstream client pointed at the gateway builds
// them: path, query, JSON body and the Authorization header.
func (g *telGateway) restInvoker() sweepInvoker {
	client, err := upstream.New(g.url+"/v1", upstream.WithHTTPClient(g.http1), upstream.WithLogger(discardLogger()))
	if err != nil {
		g.t.Fatalf("upstream.New for the REST face: %v", err)
	}
	return func(ctx context.Context, md protoreflect.MethodDescriptor, req, res proto.Message) error {
		_, err := client.Call(upstream.WithAPIKey(ctx, g.key), md.FullName(), req, res)
		return err
	}
}

// grpcInvoker sends gRPC requests with a grpc-go client over h2c.
func (g *telGateway) grpcInvoker() sweepInvoker {
	conn, err := grpc.NewClient(strings.TrimPrefix(g.url, "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		g.t.Fatalf("grpc.NewClient: %v", err)
	}
	g.t.Cleanup(func() { _ = conn.Close() })
	return func(ctx context.Context, md protoreflect.MethodDescriptor, req, res proto.Message) error {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+g.key)
		return conn.Invoke(ctx, procedurePath(md), req, res)
	}
}

// sensitiveFields are the response fields whose values are secrets or
// bearer URLs, by field name. The sweep collects their values to look for
// them in the telemetry.
var sensitiveFields = map[protoreflect.Name]string{
	"client_url": "client URL",
	"agent_url":  "agent URL",
	"auth_url":   "auth URL",
	"secret":     "webhook secret",
}

// collectSensitive adds the values of the sensitive fields of msg and its
// nested messages to found, keyed by value.
func collectSensitive(msg protoreflect.Message, found map[string]string) {
	msg.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					collectSensitive(mv.Message(), found)
					return true
				})
			}
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				collectSensitive(v.List().Get(i).Message(), found)
			}
		case fd.Message() != nil:
			if fd.Message().FullName() != (&structpb.Struct{}).ProtoReflect().Descriptor().FullName() {
				collectSensitive(v.Message(), found)
			}
		case fd.Kind() == protoreflect.StringKind:
			if label, ok := sensitiveFields[fd.Name()]; ok && v.String() != "" {
				found[v.String()] = label
			}
		}
		return true
	})
}
