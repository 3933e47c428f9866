// Package simulator is a stateful fake of the GroundCam REST API. A [Server]
// serves the upstream's 30 operations under /v1 with the contract's
// validation rules, error codes, session and appointment state machines,
// credits, idempotency, rate limits and webhook events, over a deterministic
// demo fixture. A control API under /_sim/ drives what only people do in the
// real product (a client joins, an agent admits, a screenshot is taken),
// moves the clock, and exposes call counters, recorded headers and faults.
//
// Every time-driven transition reads the injected clock: session expiry,
// appointment reminders and lobby creation, idempotency expiry and
// subscription credit resets. They run on each request, on each clock
// advance made through the control API, on [Server.Sweep] and, when
// enabled, on a background ticker.
package simulator
