package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// DefaultMaxRequestBytes caps request bodies on every face. The largest
// valid request, a bulk create of 10 sessions with 4 KB of metadata each,
// is far below it.
const DefaultMaxRequestBytes = 1 << 20

// Config wires a [Server]. Upstream is required.
type Config struct {
	// Upstream performs the upstream call of every RPC.
	Upstream Upstream
	// DefaultAPIKey is used for calls that carry no Authorization header.
	// Empty means such calls fail unauthenticated.
	DefaultAPIKey string
	// Logger receives access lines and handled errors.
	Logger *slog.Logger
	// Interceptors run around every handler on every face, outside the
	// built-in credential and validation interceptors. Tracing and access
	// logging belong here.
	Interceptors []connect.Interceptor
	// Cache serves reads and is invalidated by writes, following the cache
	// policies declared in the protos. Nil disables response caching.
	Cache *cache.Cache
	// MaxRequestBytes caps request bodies. Zero selects
	// DefaultMaxRequestBytes.
	MaxRequestBytes int64
}

// Server serves every RPC over Connect, gRPC and gRPC-Web, the gRPC health
// and reflection services, and the REST face, on one http.Handler.
type Server struct {
	mux     *http.ServeMux
	connect *http.ServeMux
	rest    http.Handler
	health  *grpchealth.StaticChecker
	logger  *slog.Logger
}

var _ http.Handler = (*Server)(nil)

// New assembles the handlers. Interceptors run in this order, outermost
// first: panic recovery, cfg.Interceptors (tracing, access log, ...), the
// credential interceptor, request validation, then the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Upstream == nil {
		return nil, errors.New("server: Config.Upstream is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = DefaultMaxRequestBytes
	}

	credential := &credentialInterceptor{defaultKey: cfg.DefaultAPIKey}
	keys := newKeyVerifier(cfg.Upstream)
	interceptors := []connect.Interceptor{&recoverInterceptor{logger: cfg.Logger}}
	interceptors = append(interceptors, cfg.Interceptors...)
	interceptors = append(interceptors, credential, &validationInterceptor{keys: keys})
	opts := []connect.HandlerOption{
		connect.WithInterceptors(interceptors...),
		connect.WithReadMaxBytes(int(cfg.MaxRequestBytes)),
		connect.WithCodec(strictJSONCodec{}),
		connect.WithCodec(protoCodec{}),
	}

	s := &Server{
		mux:     http.NewServeMux(),
		connect: http.NewServeMux(),
		health:  grpchealth.NewStaticChecker(serviceNames...),
		logger:  cfg.Logger,
	}
	up := cfg.Upstream
	if cfg.Cache != nil {
		up = &cachedUpstream{next: up, cache: cfg.Cache, logger: cfg.Logger}
	}
	s.mountServices(up, opts)
	s.mount(grpchealth.NewHandler(s.health))
	reflector := grpcreflect.NewStaticReflector(append(serviceNames, grpchealth.HealthV1ServiceName)...)
	s.mount(grpcreflect.NewHandlerV1(reflector))
	s.mount(grpcreflect.NewHandlerV1Alpha(reflector))

	// The REST face takes /v1/... and every path no procedure claims, so
	// unknown paths get the upstream's 404 body.
	rest, err := newRESTFace(s.connect, cfg.MaxRequestBytes, cfg.Logger, restKeyCheck{credential: credential, keys: keys})
	if err != nil {
		return nil, err
	}
	s.rest = rest
	s.mux.Handle("/", rest)
	return s, nil
}

// serviceNames lists the gateway's services, for health and reflection.
var serviceNames = []string{
	groundcamv1connect.AuthServiceName,
	groundcamv1connect.AgentServiceName,
	groundcamv1connect.SessionServiceName,
	groundcamv1connect.CreditServiceName,
	groundcamv1connect.WebhookServiceName,
	groundcamv1connect.OrganizationServiceName,
	groundcamv1connect.StatisticsServiceName,
	groundcamv1connect.ConfigurationServiceName,
	groundcamv1connect.AppointmentServiceName,
}

func (s *Server) mountServices(up Upstream, opts []connect.HandlerOption) {
	s.mount(groundcamv1connect.NewAuthServiceHandler(&AuthHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewAgentServiceHandler(&AgentHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewSessionServiceHandler(&SessionHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewCreditServiceHandler(&CreditHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewWebhookServiceHandler(&WebhookHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewOrganizationServiceHandler(&OrganizationHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewStatisticsServiceHandler(&StatisticsHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewConfigurationServiceHandler(&ConfigurationHandler{upstream: up}, opts...))
	s.mount(groundcamv1connect.NewAppointmentServiceHandler(&AppointmentHandler{upstream: up}, opts...))
}

func (s *Server) mount(path string, h http.Handler) {
	s.connect.Handle(path, h)
	s.mux.Handle(path, h)
}

// ServeHTTP routes Connect, gRPC and gRPC-Web calls by procedure path and
// everything else to the REST face.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// REST paths skip the ServeMux, which would redirect unclean paths such
	// as /v1//agents where the upstream answers 404.
	if strings.HasPrefix(r.URL.Path, "/v1/") {
		s.rest.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// SetServing sets the status the health service reports for the whole
// server and every service. A draining gateway reports NOT_SERVING first so
// load balancers stop sending it calls.
func (s *Server) SetServing(serving bool) {
	status := grpchealth.StatusNotServing
	if serving {
		status = grpchealth.StatusServing
	}
	s.health.SetStatus("", status)
	for _, name := range serviceNames {
		s.health.SetStatus(name, status)
	}
}
