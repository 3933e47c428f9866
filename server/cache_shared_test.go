package server

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
	groundcamv1 "github.com/groundcam/groundcam-gateway/gen/groundcam/v1"
	"github.com/groundcam/groundcam-gateway/gen/groundcam/v1/groundcamv1connect"
)

// TestCacheSharedHitsOnEveryCodec reads one cached entry from many
// goroutines at once over every codec and the REST face. The hits share
// one decoded message, so under the race detector this also shows that
// nothing writes to it.
func TestCacheSharedHitsOnEveryCodec(t *testing.T) {
	t.Parallel()
	up := startCacheUpstream(t, nil)
	g := newCacheGateway(t, up, cacheGatewayConfig{})
	key := up.acme.Key

	agents := callListAgents()
	first := g.read(t, faceConnect, agents, key, cache.StatusMiss)
	if len(first.msg.(*groundcamv1.ListAgentsResponse).GetAgents()) == 0 {
		t.Fatal("the simulator's organization has no agents; the test needs a non-empty response")
	}

	codecs := []struct {
		name string
		opts []connect.ClientOption
	}{
		{"connect proto", nil},
		{"connect json", []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	const rounds = 20
	var wg sync.WaitGroup
	for _, codec := range codecs {
		client := groundcamv1connect.NewAgentServiceClient(g.http, g.url, codec.opts...)
		for range rounds {
			wg.Go(func() {
				req := connect.NewRequest(&groundcamv1.ListAgentsRequest{})
				req.Header().Set("Authorization", "Bearer "+key)
				res, err := client.ListAgents(context.Background(), req)
				if err != nil {
					t.Errorf("%s: ListAgents: %v", codec.name, err)
					return
				}
				if got := res.Header().Get(HeaderCache); got != string(cache.StatusHit) {
					t.Errorf("%s: %s is %q, want %q", codec.name, HeaderCache, got, cache.StatusHit)
				}
				if !proto.Equal(res.Msg, first.msg) {
					t.Errorf("%s: hit differs from the loaded response:\n got %v\nwant %v", codec.name, res.Msg, first.msg)
				}
			})
		}
	}
	rest := g.read(t, faceREST, agents, key, cache.StatusHit)
	for range rounds {
		wg.Go(func() {
			reply := g.do(t, faceREST, agents, key, nil)
			if reply.failed() || reply.body != rest.body {
				t.Errorf("REST hit: %d %s, want 200 %s", reply.status, reply.body, rest.body)
			}
		})
	}
	wg.Wait()
	checkCalls(t, up, agents, 1)
}

func TestProtoCodecSendsSharedBytes(t *testing.T) {
	t.Parallel()
	// Fields in reverse order: valid, and unlike any encoding proto.Marshal
	// makes, so the output shows which path wrote it.
	var wire []byte
	wire = protowire.AppendTag(wire, 2, protowire.VarintType)
	wire = protowire.AppendVarint(wire, 3)
	wire = protowire.AppendTag(wire, 1, protowire.BytesType)
	wire = protowire.AppendBytes(wire, mustMarshal(t, &groundcamv1.Agent{Id: "agent-1"}))

	msg := new(groundcamv1.ListAgentsResponse)
	if err := proto.Unmarshal(wire, msg); err != nil {
		t.Fatalf("decode the test encoding: %v", err)
	}
	canonical := mustMarshal(t, msg)
	if bytes.Equal(canonical, wire) {
		t.Fatal("the test encoding is canonical; the test cannot tell the two paths apart")
	}

	shared := newSharedMessage(msg, wire)
	prefix := []byte("pooled:")
	got, err := protoCodec{}.MarshalAppend(prefix, shared.msg)
	if err != nil {
		t.Fatalf("MarshalAppend: %v", err)
	}
	if want := append(append([]byte{}, prefix...), wire...); !bytes.Equal(got, want) {
		t.Errorf("shared message encoded as %x, want the bytes it was decoded from after the prefix, %x", got, want)
	}
	runtime.KeepAlive(shared)

	// Once the shared message is garbage, its bytes are forgotten and the
	// message is encoded again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if _, ok := sharedEncodings.Load(proto.Message(msg)); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the shared message's bytes are still registered 10s after it became garbage")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err = protoCodec{}.Marshal(msg)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if !bytes.Equal(got, canonical) {
		t.Errorf("unshared message encoded as %x, want %x", got, canonical)
	}
}

func TestProtoCodecRejectsOtherValues(t *testing.T) {
	t.Parallel()
	if _, err := (protoCodec{}).Marshal("text"); err == nil {
		t.Error("Marshal of a string succeeded, want an error")
	}
	if err := (protoCodec{}).Unmarshal(nil, new(int)); err == nil {
		t.Error("Unmarshal into an *int succeeded, want an error")
	}
}

func mustMarshal(t *testing.T, msg proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(msg)
	if err != nil {
		t.Fatalf("encode %T: %v", msg, err)
	}
	return b
}
