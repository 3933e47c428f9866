// Package bench builds the rungs of the gateway's cost ladder, so that the
// in-process benchmarks (go test -bench . ./bench/) and the load harness
// (cmd/loadgen) measure the same servers with the same clients and payloads.
//
// Each rung adds one layer to the one below it, and every rung serves the
// same two reads: a small ListAgents response of 3 agents and a
// ListSessions page of 20 sessions.
//
//   - L0 [RungRaw]: a net/http handler that writes fixed bytes, the floor.
//   - L1 [RungBare]: connect-go handlers that return a static message, over
//     the Connect protocol (binary and JSON) and gRPC.
//   - L2 [RungHit]: the gateway (server.New) serving from a warm memory
//     cache, with no tracing.
//   - L3 [RungTraced]: L2 with the tracing interceptor, an SDK tracer
//     provider sampling 10% of new traces and a batching, discarding
//     exporter.
//   - L4 [RungMiss]: the gateway without a cache, so every call reaches the
//     upstream stub, next to [RungDirect], the same client calling the stub
//     directly, and [RungProxy], a net/http handler that forwards the GET
//     to the stub and copies the response back: the floor of any miss.
//   - L5 [RungREST]: the gateway's REST face, next to [RungVanguard],
//     connectrpc.com/vanguard transcoding the same HTTP rules to the same
//     gateway handlers.
//
// [Ladder] lists the cases, [NewServer] builds the server of a rung and
// [NewCaller] the client call of a case.
package bench
