package server

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
)

// Upstream error codes of the rules the gateway enforces.
const (
	reasonMissingField    = "MISSING_FIELD"
	reasonInvalidField    = "INVALID_FIELD"
	reasonInvalidPhone    = "INVALID_PHONE"
	reasonInvalidMeta     = "INVALID_METADATA"
	reasonTooMany         = "TOO_MANY_SESSIONS"
	reasonInvalidURL      = "INVALID_URL"
	reasonInvalidEvent    = "INVALID_EVENT"
	reasonFilterCombo     = "INVALID_FILTER_COMBINATION"
	reasonInvalidTimeSlot = "INVALID_TIME_SLOT"
)

// Limits stated by the contract.
const (
	maxMetadataKeys  = 20
	maxMetadataBytes = 4096 // the serialized object must be smaller
	minPageLimit     = 1
	maxPageLimit     = 100
	minURLTTL        = 60
	maxURLTTL        = 86400
	maxBulkSessions  = 10
)

// slotMinutes are the durations and link lifetimes the contract allows.
var slotMinutes = []int32{5, 10, 15, 20}

// invalidPhoneMessage is the upstream's INVALID_PHONE message.
const invalidPhoneMessage = "Invalid phone format. Use international format (e.g., +33612345678)"

// phonePattern is E.164 as the upstream checks it: a plus sign, a digit
// from 1 to 9, then 6 to 14 more digits.
var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// emailPattern is the loose form the upstream accepts: one @, no spaces and
// a dot in the domain. The contract states no email rule, so the gateway
// only uses it to know when the upstream may reject an address.
var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// checkPathID requires the id that the operation's path carries.
func checkPathID(c *checker, id string) {
	if id == "" {
		c.add(violation{
			field:       "id",
			description: "id is empty; set the id of the object the call is about",
			reason:      reasonMissingField,
			message:     "id is required",
		})
	}
}

// checkRequired records a MISSING_FIELD violation when value is empty.
// jsonName is the field's upstream name, used in the upstream's message.
func checkRequired(c *checker, field, jsonName, value string) {
	if value == "" {
		c.add(violation{
			field:       field,
			description: fmt.Sprintf("%s is missing; it is required", field),
			reason:      reasonMissingField,
			message:     jsonName + " is required",
		})
	}
}

// checkPhone checks an E.164 phone number after stripping its spaces, as
// the upstream does.
func checkPhone(c *checker, field, phone string) {
	if phonePattern.MatchString(strings.ReplaceAll(phone, " ", "")) {
		return
	}
	c.add(violation{
		field: field,
		description: fmt.Sprintf("%s %q is not an E.164 phone number: use \"+\", a country code "+
			"and 7 to 15 digits in all, such as +33612345678 (spaces are ignored)", field, phone),
		reason:  reasonInvalidPhone,
		message: invalidPhoneMessage,
	})
}

// checkEmailFormat hands the request to the upstream when it may reject the
// address's format.
func checkEmailFormat(c *checker, email string) {
	if !emailPattern.MatchString(email) {
		c.upstreamDecides()
	}
}

// checkSlotMinutes checks a duration in minutes against 5, 10, 15 and 20.
func checkSlotMinutes(c *checker, field, jsonName string, minutes int32) {
	if slices.Contains(slotMinutes, minutes) {
		return
	}
	c.add(violation{
		field:       field,
		description: fmt.Sprintf("%s is %d; use 5, 10, 15 or 20 minutes", field, minutes),
		reason:      reasonInvalidField,
		message:     jsonName + " must be one of: 5, 10, 15, 20",
	})
}

// checkLimit checks an optional page size.
func checkLimit(c *checker, limit *int32) {
	if limit == nil || *limit >= minPageLimit && *limit <= maxPageLimit {
		return
	}
	c.add(violation{
		field:       "limit",
		description: fmt.Sprintf("limit is %d; use a page size from %d to %d", *limit, minPageLimit, maxPageLimit),
		reason:      reasonInvalidField,
		message: fmt.Sprintf("limit must be an integer between %d and %d, got %q",
			minPageLimit, maxPageLimit, strconv.Itoa(int(*limit))),
	})
}

// checkMetadataFilters hands the request to the upstream when a metadata
// filter has an empty key, which the contract does not cover.
func checkMetadataFilters(c *checker, filters map[string]string) {
	if _, ok := filters[""]; ok {
		c.upstreamDecides()
	}
}

// checkMetadata checks a metadata object as the upstream does: at most 20
// keys, string, number or boolean values, and less than 4 KB as JSON.
// Empty keys are not a contract rule and are left to the upstream.
func checkMetadata(c *checker, field string, meta *groundcamv1.Metadata) {
	if meta == nil {
		return
	}
	fields := meta.GetFields()
	if n := len(fields); n > maxMetadataKeys {
		c.add(violation{
			field:       field,
			description: fmt.Sprintf("%s has %d keys; use at most %d", field, n, maxMetadataKeys),
			reason:      reasonInvalidMeta,
			message:     fmt.Sprintf("metadata has %d keys; at most %d are allowed", n, maxMetadataKeys),
		})
	}

	// NOTE: the upstream checks the keys in no fixed order, so when several
	// values are missing, the key its message names may differ from ours.
	keys := make([]string, 0, len(fields))
	for key := range fields {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if key == "" {
			c.upstreamDecides()
			continue
		}
		if fields[key].GetKind() == nil {
			c.add(violation{
				field:       fmt.Sprintf("%s[%q]", field, key),
				description: fmt.Sprintf("%s[%q] has no value; set a string, number or boolean", field, key),
				reason:      reasonInvalidMeta,
				message: fmt.Sprintf("metadata.%s must be a string, number or boolean, got null; "+
					"nested objects, arrays and null are not allowed", key),
			})
		}
	}

	if size := metadataSize(fields); size >= maxMetadataBytes {
		c.add(violation{
			field: field,
			description: fmt.Sprintf("%s is %d bytes as JSON; keep it under %d bytes (4 KB)",
				field, size, maxMetadataBytes),
			reason: reasonInvalidMeta,
			message: fmt.Sprintf("metadata is %d bytes serialized; it must be less than %d bytes (4 KB)",
				size, maxMetadataBytes),
		})
	}
}

// metadataSize returns the length of the metadata as the upstream measures
// it: Go's encoding/json output of the decoded object, which sorts the keys
// and escapes <, > and &.
func metadataSize(fields map[string]*groundcamv1.MetadataValue) int {
	plain := make(map[string]any, len(fields))
	for key, value := range fields {
		switch kind := value.GetKind().(type) {
		case *groundcamv1.MetadataValue_StringValue:
			plain[key] = kind.StringValue
		case *groundcamv1.MetadataValue_NumberValue:
			plain[key] = kind.NumberValue
		case *groundcamv1.MetadataValue_BoolValue:
			plain[key] = kind.BoolValue
		default:
			plain[key] = nil
		}
	}
	b, err := json.Marshal(plain)
	if err != nil {
		// Only NaN and infinities fail, and checkEncodable reports them.
		return 0
	}
	return len(b)
}

// wireTime returns t as the upstream receives it: the JSON mapping writes
// timestamps with milliseconds and drops the digits below.
func wireTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Millisecond)
}

// wireTimeText formats t as the upstream writes it in messages, such as
// 2026-03-20T14:32:00.000Z.
func wireTimeText(t time.Time) string {
	return wireTime(t).Format("2006-01-02T15:04:05.000Z")
}
