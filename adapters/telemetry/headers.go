package telemetry

import (
	"slices"
	"strings"
)

// safeHeaderNames is the allow-list behind [SafeHeaderNames] and
// [IsSafeHeader]. An entry ending in '*' matches every name with that prefix.
var safeHeaderNames = []string{
	"content-length",
	"content-type",
	"retry-after",
	"user-agent",
	"x-ratelimit-*", // X-RateLimit-Limit, -Remaining and -Reset
}

// SafeHeaderNames returns the lower-case names of the HTTP headers whose
// values may be recorded in spans, logs or metrics. An entry ending in '*'
// is a prefix. Telemetry records no other header: Authorization, Cookie,
// Idempotency-Key and the rest are left out. The returned slice is a copy.
func SafeHeaderNames() []string {
	return slices.Clone(safeHeaderNames)
}

// IsSafeHeader reports whether the value of the header called name may be
// recorded, matching name against [SafeHeaderNames] without regard to case.
func IsSafeHeader(name string) bool {
	name = strings.ToLower(name)
	for _, safe := range safeHeaderNames {
		prefix, isPrefix := strings.CutSuffix(safe, "*")
		if isPrefix && strings.HasPrefix(name, prefix) || name == safe {
			return true
		}
	}
	return false
}
