package simulator

import (
	"fmt"
	"net/http"
)

// Error codes that the contract names.
const (
	codeNotFound            = "NOT_FOUND"
	codeMissingField        = "MISSING_FIELD"
	codeInvalidField        = "INVALID_FIELD"
	codeInvalidPhone        = "INVALID_PHONE"
	codeInsufficientCredits = "INSUFFICIENT_CREDITS"
	codeIdempotencyConflict = "IDEMPOTENCY_CONFLICT"
	codeAgentNotMember      = "AGENT_NOT_MEMBER"
	codeAgentDisabled       = "AGENT_DISABLED"
	codeInsufficientRole    = "INSUFFICIENT_ROLE"
	codeOrgNotFound         = "ORG_NOT_FOUND"
	codeSMSNotConfigured    = "SMS_NOT_CONFIGURED"
	codeSMSFailed           = "SMS_FAILED"
	codeSMSLimitReached     = "SMS_LIMIT_REACHED"
	codeInvalidStatus       = "INVALID_STATUS"
	codeInvalidClosureType  = "INVALID_CLOSURE_TYPE"
	codeTokenRateLimited    = "TOKEN_RATE_LIMITED"
	codeInvalidURL          = "INVALID_URL"
	codeInvalidEvent        = "INVALID_EVENT"
	codeDuplicateURL        = "DUPLICATE_URL"
	codeLimitReached        = "LIMIT_REACHED"
)

// Error codes that the simulator adds where the contract gives none. Each one
// is listed in docs/simulator.md.
const (
	codeUnauthorized          = "UNAUTHORIZED"
	codeInvalidAPIKey         = "INVALID_API_KEY"
	codeAPIKeyRevoked         = "API_KEY_REVOKED"
	codeRateLimited           = "RATE_LIMITED"
	codeMethodNotAllowed      = "METHOD_NOT_ALLOWED"
	codeInvalidJSON           = "INVALID_JSON"
	codeRequestTooLarge       = "REQUEST_TOO_LARGE"
	codeInvalidEmail          = "INVALID_EMAIL"
	codeInvalidMetadata       = "INVALID_METADATA"
	codeInvalidFilterCombo    = "INVALID_FILTER_COMBINATION"
	codeInvalidCursor         = "INVALID_CURSOR"
	codeInvalidIdempotencyKey = "INVALID_IDEMPOTENCY_KEY"
	codeTooManySessions       = "TOO_MANY_SESSIONS"
	codeNotesRequired         = "NOTES_REQUIRED"
	codeSMSNotApplicable      = "SMS_NOT_APPLICABLE"
	codeSchedulingDisabled    = "SCHEDULING_NOT_ENABLED"
	codeScheduledInPast       = "SCHEDULED_IN_PAST"
	codeInvalidTimeSlot       = "INVALID_TIME_SLOT"
	codeSlotConflict          = "SLOT_CONFLICT"
	codeInternal              = "INTERNAL"
)

// apiError is an error response: an HTTP status and the contract's Error
// body, {"error": {"message": ..., "code": ...}}.
type apiError struct {
	status  int
	code    string
	message string
	// header holds extra response headers, such as Retry-After.
	header http.Header
}

// Error returns the code and the message.
func (e *apiError) Error() string { return e.code + ": " + e.message }

// newError returns an apiError with a formatted message.
func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// badRequest returns a 400 error.
func badRequest(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// missingField returns the 400 MISSING_FIELD error of a required field.
func missingField(name string) *apiError {
	return badRequest(codeMissingField, "%s is required", name)
}

// invalidField returns a 400 INVALID_FIELD error.
func invalidField(format string, args ...any) *apiError {
	return badRequest(codeInvalidField, format, args...)
}

// conflict returns a 409 error.
func conflict(code, format string, args ...any) *apiError {
	return newError(http.StatusConflict, code, format, args...)
}

// forbidden returns a 403 error.
func forbidden(code, format string, args ...any) *apiError {
	return newError(http.StatusForbidden, code, format, args...)
}

// notFound returns the 404 NOT_FOUND error with the given message, such as
// "Session not found".
func notFound(message string) *apiError {
	return &apiError{status: http.StatusNotFound, code: codeNotFound, message: message}
}

// withHeader returns e with the header set.
func (e *apiError) withHeader(key, value string) *apiError {
	if e.header == nil {
		e.header = http.Header{}
	}
	e.header.Set(key, value)
	return e
}
