package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// dialGRPC connects a grpc-go client to the gateway over h2c.
func (h *harness) dialGRPC() *grpc.ClientConn {
	h.t.Helper()
	conn, err := grpc.NewClient(strings.TrimPrefix(h.url, "http://"),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		h.t.Fatalf("grpc.NewClient: %v", err)
	}
	h.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func TestGRPCGoClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	conn := h.dialGRPC()

	var header metadata.MD
	agents, err := groundcamv1.NewAgentServiceClient(conn).ListAgents(context.Background(),
		&groundcamv1.ListAgentsRequest{}, grpc.Header(&header))
	if err != nil {
		t.Fatalf("ListAgents over gRPC: %v", err)
	}
	stored := h.simGet("/v1/agents")["agents"].([]any)
	if len(agents.GetAgents()) != len(stored) || agents.GetAgents()[0].GetId() != stored[0].(map[string]any)["id"] {
		t.Errorf("agents = %v, want the %d stored agents", agents.GetAgents(), len(stored))
	}
	if got := header.Get("x-ratelimit-limit"); len(got) != 1 || got[0] != "600" {
		t.Errorf("x-ratelimit-limit header = %v, want [600]", got)
	}

	_, err = groundcamv1.NewSessionServiceClient(conn).GetSession(context.Background(),
		&groundcamv1.GetSessionRequest{Id: "missing"})
	st := status.Convert(err)
	if st.Code() != codes.NotFound || st.Message() != "Session not found" {
		t.Errorf("status = %v %q, want NotFound \"Session not found\"", st.Code(), st.Message())
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info.GetReason() != "NOT_FOUND" || info.GetMetadata()["http_status"] != "404" {
		t.Errorf("ErrorInfo = %v, want reason NOT_FOUND and http_status 404", info)
	}
}

func TestConnectClientProtocols(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name   string
		client connect.HTTPClient
		opt    connect.ClientOption
	}{
		{"grpc-web over HTTP/1.1", h.http1, connect.WithGRPCWeb()},
		{"grpc over h2c", h.h2c, connect.WithGRPC()},
		{"connect over h2c", h.h2c, connect.WithProtoJSON()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orgs := groundcamv1connect.NewOrganizationServiceClient(tc.client, h.url, tc.opt)
			res, err := orgs.GetOrganization(context.Background(), connect.NewRequest(&groundcamv1.GetOrganizationRequest{}))
			if err != nil {
				t.Fatalf("GetOrganization: %v", err)
			}
			if got := res.Msg.GetOrganization().GetId(); got != h.keys[keyAcme].OrganizationID {
				t.Errorf("organization = %s, want %s", got, h.keys[keyAcme].OrganizationID)
			}

			sessions := groundcamv1connect.NewSessionServiceClient(tc.client, h.url, tc.opt)
			_, err = sessions.GetSession(context.Background(), connect.NewRequest(&groundcamv1.GetSessionRequest{Id: "missing"}))
			wantError(t, err, connect.CodeNotFound, "NOT_FOUND", 404)

			_, err = sessions.CreateSessionsBulk(context.Background(),
				connect.NewRequest(&groundcamv1.CreateSessionsBulkRequest{}))
			cerr := wantError(t, err, connect.CodeInvalidArgument, "INVALID_FIELD", 400)
			if got := badRequestFields(t, cerr); !slices.Equal(got, []string{"sessions"}) {
				t.Errorf("BadRequest fields = %v, want [sessions]", got)
			}
		})
	}
}

func TestHealthService(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	health := healthpb.NewHealthClient(h.dialGRPC())
	check := func(service string) healthpb.HealthCheckResponse_ServingStatus {
		t.Helper()
		res, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: service})
		if err != nil {
			t.Fatalf("health check of %q: %v", service, err)
		}
		return res.GetStatus()
	}

	for _, service := range []string{"", groundcamv1connect.SessionServiceName} {
		if got := check(service); got != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("status of %q = %v, want SERVING", service, got)
		}
	}
	h.gateway.SetServing(false)
	for _, service := range []string{"", groundcamv1connect.AppointmentServiceName} {
		if got := check(service); got != healthpb.HealthCheckResponse_NOT_SERVING {
			t.Errorf("status of %q after SetServing(false) = %v, want NOT_SERVING", service, got)
		}
	}
	// Draining changes what health reports, not whether calls work.
	if _, err := groundcamv1.NewCreditServiceClient(h.dialGRPC()).GetCredits(context.Background(),
		&groundcamv1.GetCreditsRequest{}); err != nil {
		t.Errorf("GetCredits while NOT_SERVING: %v", err)
	}
	_, err := health.Check(context.Background(), &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	if status.Code(err) != codes.NotFound {
		t.Errorf("health of an unknown service = %v, want NotFound", err)
	}
}

func TestReflectionListsServices(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	stream, err := reflectionpb.NewServerReflectionClient(h.dialGRPC()).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatalf("open reflection stream: %v", err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
	}); err != nil {
		t.Fatalf("send ListServices: %v", err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatalf("receive ListServices: %v", err)
	}
	var names []string
	for _, s := range res.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{
		groundcamv1connect.AuthServiceName, groundcamv1connect.AgentServiceName,
		groundcamv1connect.SessionServiceName, groundcamv1connect.CreditServiceName,
		groundcamv1connect.WebhookServiceName, groundcamv1connect.OrganizationServiceName,
		groundcamv1connect.StatisticsServiceName, groundcamv1connect.ConfigurationServiceName,
		groundcamv1connect.AppointmentServiceName, "grpc.health.v1.Health",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}

	// The descriptors resolve, so clients such as buf curl can build requests.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{
			FileContainingSymbol: groundcamv1connect.SessionServiceName,
		},
	}); err != nil {
		t.Fatalf("send FileContainingSymbol: %v", err)
	}
	file, err := stream.Recv()
	if err != nil {
		t.Fatalf("receive FileContainingSymbol: %v", err)
	}
	if len(file.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Errorf("reflection returned no file for %s: %v", groundcamv1connect.SessionServiceName, file)
	}
	if err := stream.CloseSend(); err != nil {
		t.Errorf("close reflection stream: %v", err)
	}
}
