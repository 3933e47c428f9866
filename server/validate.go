package server

import (
	"context"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/groundcam/groundcam-gateway/adapters/upstream"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// Request validation rejects, before the operation is called, the requests
// that break a rule the upstream contract states. The rules are E.164 phone
// numbers, flat metadata of at most 20 keys under 4 KB, the 5/10/15/20-minute
// durations, page sizes of 1 to 100, url_ttl of 60 to 86400 seconds, 1 to 10
// bulk items, appointment times on the 5-minute grid, HTTPS webhook URLs with
// at least one subscribable event, and the fields each operation requires.
//
// The error matches the upstream's: a rejected call fails with
// invalid_argument, an ErrorInfo whose reason and message are the code and
// message the upstream returns for the first broken rule (http_status 400),
// and a google.rpc.BadRequest that names every broken field.
//
// Rule order. The upstream authenticates the key, applies its rate limit and
// finds the organization before it reads the request, then checks the
// fields in a fixed order, and looks up stored objects (sessions, agents,
// webhooks) only after that. The gateway follows the same order:
//
//  1. A call without any key fails unauthenticated before validation (see
//     credentialInterceptor).
//  2. The rules of each operation (validate_sessions.go,
//     validate_appointments.go, validate_webhooks.go) run in the upstream's
//     field order, so the first violation is the one the upstream would
//     name. Before them come two checks of requests the upstream can never
//     receive: an empty path id, and values that have no JSON form
//     (checkEncodable).
//  3. Some upstream checks are not contract rules, so the gateway does not
//     enforce them: the email format, empty metadata keys and metadata
//     filter keys, and whether an appointment time is in the future (which
//     depends on the upstream's clock). When such a check could fail before
//     the first violation, the request goes to the upstream unchanged and
//     the caller gets the upstream's response.
//  4. Before it returns invalid_argument, the gateway makes sure the key is
//     valid (see keyVerifier), because the upstream returns 401, 404
//     ORG_NOT_FOUND or 429 before any field error.
//
// Rules that depend on stored state (existence, statuses, credits, agent
// roles, closure types, double booking) are left to the upstream, and so are
// the bulk items: the upstream creates the valid ones and reports each
// invalid one in its results, so rejecting the whole request locally would
// change the outcome.

// validationInterceptor rejects requests that break a rule of the upstream
// contract before the operation is called.
type validationInterceptor struct {
	// keys confirms the key of a request that fails validation; nil skips
	// the check.
	keys *keyVerifier
}

var _ connect.Interceptor = (*validationInterceptor)(nil)

func (v *validationInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		err := validateRequest(req.Any())
		if err == nil {
			return next(ctx, req)
		}
		if v.keys != nil {
			if keyErr := v.keys.check(ctx); keyErr != nil {
				return nil, keyErr
			}
		}
		return nil, err
	}
}

func (v *validationInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (v *validationInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// violation is one broken rule.
type violation struct {
	// field is the path of the bad field in proto names, such as
	// "client_phone" or "events[1]".
	field string
	// description names the value and what is accepted.
	description string
	// reason and message are the upstream's error code and message for
	// this rule, such as INVALID_PHONE.
	reason, message string
}

// checker collects the violations of one request, in the upstream's order.
type checker struct {
	violations []violation
	// deferred is set when an upstream-only check could fail before the
	// first violation. The request then goes to the upstream, whose
	// response the caller gets.
	deferred bool
}

// add records a violation.
func (c *checker) add(v violation) {
	c.violations = append(c.violations, v)
}

// upstreamDecides marks a check that only the upstream makes. When no
// violation came before it, the request is forwarded unchanged.
func (c *checker) upstreamDecides() {
	if len(c.violations) == 0 {
		c.deferred = true
	}
}

// err returns the invalid_argument error of the violations, or nil when
// there is none or the upstream decides.
func (c *checker) err() error {
	if len(c.violations) == 0 || c.deferred {
		return nil
	}
	first := c.violations[0]
	err := upstream.NewError(connect.CodeInvalidArgument, http.StatusBadRequest, first.reason, first.message)
	bad := &errdetails.BadRequest{}
	for _, v := range c.violations {
		bad.FieldViolations = append(bad.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       v.field,
			Description: v.description,
		})
	}
	if detail, detailErr := connect.NewErrorDetail(bad); detailErr == nil {
		err.AddDetail(detail)
	}
	return err
}

// validateRequest checks msg against the contract's rules for its type and
// returns nil, or an invalid_argument error as described above.
func validateRequest(msg any) error {
	var c checker
	if m, ok := msg.(interface{ GetId() string }); ok {
		checkPathID(&c, m.GetId())
	}
	if pm, ok := msg.(protoMessage); ok {
		checkEncodable(&c, "", pm.ProtoReflect())
	}
	checkRules(&c, msg)
	return c.err()
}

// checkRules applies the rules of one request type. Types for which the
// contract states no rules beyond the encoding checks have none.
func checkRules(c *checker, msg any) {
	switch m := msg.(type) {
	case *groundcamv1.CreateSessionRequest:
		checkCreateSession(c, m)
	case *groundcamv1.CreateSessionsBulkRequest:
		checkCreateSessionsBulk(c, m)
	case *groundcamv1.ListSessionsRequest:
		checkListSessions(c, m)
	case *groundcamv1.UpdateSessionRequest:
		checkUpdateSession(c, m)
	case *groundcamv1.GetSessionScreenshotsRequest:
		checkScreenshots(c, m)
	case *groundcamv1.CreateWebhookRequest:
		checkCreateWebhook(c, m)
	case *groundcamv1.UpdateWebhookRequest:
		checkUpdateWebhook(c, m)
	case *groundcamv1.ListWebhookDeliveriesRequest:
		checkLimit(c, m.Limit)
	case *groundcamv1.CreateAppointmentRequest:
		checkCreateAppointment(c, m)
	case *groundcamv1.UpdateAppointmentRequest:
		checkUpdateAppointment(c, m)
	case *groundcamv1.ListAppointmentsRequest:
		checkListAppointments(c, m)
	case *groundcamv1.GetAvailableAppointmentSlotsRequest:
		checkAvailableSlots(c, m)
	}
}
