package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/groundcam/groundcam-gateway/adapters/cache"
)

// cacheRedis is a redis-server process that a test started on 127.0.0.1.
// It keeps nothing on disk.
type cacheRedis struct {
	t    *testing.T
	port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startCacheRedis starts a redis-server on a free port and kills it when
// the test ends. It skips the test when redis-server is not installed.
func startCacheRedis(t *testing.T) *cacheRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not found in PATH; install the Debian package redis-server " +
			"(apt-get install redis-server) to run the Redis cache tests")
	}
	r := &cacheRedis{t: t}
	t.Cleanup(r.kill)
	// Another process may take the free port before redis-server binds it.
	var err error
	for range 3 {
		r.port = freeLocalPort(t)
		if err = r.start(); err == nil {
			return r
		}
	}
	t.Fatalf("start redis-server: %v", err)
	return nil
}

func freeLocalPort(t *testing.T) int {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port
}

func (r *cacheRedis) url() string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
}

// start runs redis-server on r.port and waits until it replies to PING.
func (r *cacheRedis) start() error {
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(r.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server on port %d exited: %v", r.port, err)
		default:
		}
		if pingRedis(r.port) == nil {
			r.mu.Lock()
			r.cmd = cmd
			r.mu.Unlock()
			go func() { <-exited }()
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not answer PING within 10s", r.port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pingRedis sends PING over a plain connection.
func pingRedis(port int) error {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	reply := make([]byte, 7)
	if _, err := conn.Read(reply); err != nil {
		return err
	}
	if !strings.HasPrefix(string(reply), "+PONG") {
		return fmt.Errorf("unexpected PING reply %q", reply)
	}
	return nil
}

// kill stops redis-server with SIGKILL and waits until its port refuses
// connections. It does nothing when the server is not running.
func (r *cacheRedis) kill() {
	r.mu.Lock()
	cmd := r.cmd
	r.cmd = nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		r.t.Errorf("kill redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for pingRedis(r.port) == nil {
		if time.Now().After(deadline) {
			r.t.Errorf("redis-server on port %d still answers 10s after SIGKILL", r.port)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newRedisGateway returns a gateway whose cache uses the Redis server at
// rawURL, with a one-second probe interval on its fake clock.
func newRedisGateway(t *testing.T, up *cacheUpstream, rawURL string) *cacheGateway {
	t.Helper()
	store, err := cache.NewRedisStore(rawURL)
	if err != nil {
		t.Fatalf("NewRedisStore: %v", err)
	}
	return newCacheGateway(t, up, cacheGatewayConfig{
		store: store,
		opts:  []cache.Option{cache.WithProbeInterval(time.Second)},
	})
}

func TestCacheRedisSharedByReplicas(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	session := up.sessionID(t, up.acme.Key, "completed")
	up.sim.ResetCalls()
	one := newRedisGateway(t, up, redis.url())
	two := newRedisGateway(t, up, redis.url())
	read := callGetSession(session)
	key := up.acme.Key

	// A read through one replica is a hit on the other, on either face.
	g1 := one.read(t, faceConnect, read, key, cache.StatusMiss)
	g2 := two.read(t, faceREST, read, key, cache.StatusHit)
	two.read(t, faceConnect, read, key, cache.StatusHit)
	checkCalls(t, up, read, 1)
	if !strings.Contains(g2.body, session) || !strings.Contains(g1.body, session) {
		t.Errorf("responses lack the session id %s:\n%s\n%s", session, g1.body, g2.body)
	}

	// A write through replica two drops replica one's entry.
	two.write(t, faceREST, callUpdateSessionNotes(session, "shared by replicas"), key)
	after := one.read(t, faceConnect, read, key, cache.StatusMiss)
	checkCalls(t, up, read, 2)
	if !strings.Contains(after.body, "shared by replicas") {
		t.Errorf("replica one's read after the write lacks the new notes: %s", after.body)
	}
	two.read(t, faceREST, read, key, cache.StatusHit)
	checkCalls(t, up, read, 2)
}

func TestCacheRedisOutage(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	session := up.sessionID(t, up.acme.Key, "completed")
	up.sim.ResetCalls()
	gateways := []*cacheGateway{newRedisGateway(t, up, redis.url()), newRedisGateway(t, up, redis.url())}
	read := callGetSession(session)
	key := up.acme.Key
	gateways[0].read(t, faceConnect, read, key, cache.StatusMiss)
	gateways[1].read(t, faceConnect, read, key, cache.StatusHit)

	redis.kill()

	// Both replicas keep serving reads, uncached, and writes.
	calls := up.calls(read.route)
	for i, g := range gateways {
		for _, face := range cacheFaces {
			for range 2 {
				g.read(t, face, read, key, cache.StatusMiss)
				calls++
				if got := up.calls(read.route); got != calls {
					t.Errorf("gateway %d on %s during the outage: simulator received %d reads, want %d",
						i+1, face, got, calls)
				}
			}
		}
		g.write(t, faceREST, callUpdateSessionNotes(session, fmt.Sprintf("outage %d", i+1)), key)
	}
	for i, g := range gateways {
		if got := g.metric(t, "gateway.cache.backend.errors"); got == 0 {
			t.Errorf("gateway %d: gateway.cache.backend.errors is 0 during the outage", i+1)
		}
		lookups := g.metric(t, "gateway.cache.backend.errors",
			attribute.String("cache.operation", "lookup"), attribute.String("rpc.method", getSessionProcedure))
		if lookups == 0 {
			t.Errorf("gateway %d: no failed lookup of %s was counted", i+1, getSessionProcedure)
		}
		if up := g.metric(t, "gateway.cache.backend.up"); up != 0 {
			t.Errorf("gateway %d: gateway.cache.backend.up is %d during the outage, want 0", i+1, up)
		}
	}
}

// getSessionProcedure is the procedure name that the cache's metrics carry
// for GetSession.
const getSessionProcedure = "/groundcam.v1.SessionService/GetSession"

func TestCacheRedisRecovers(t *testing.T) {
	t.Parallel()
	redis := startCacheRedis(t)
	up := startCacheUpstream(t, nil)
	g := newRedisGateway(t, up, redis.url())
	read := callGetCredits()
	key := up.acme.Key
	g.read(t, faceConnect, read, key, cache.StatusMiss)

	redis.kill()
	g.read(t, faceConnect, read, key, cache.StatusMiss)
	if err := redis.start(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	waitForBackendUp(t, g)

	// The restarted server is empty, so caching starts over.
	g.read(t, faceREST, read, key, cache.StatusMiss)
	g.read(t, faceREST, read, key, cache.StatusHit)
	g.read(t, faceConnect, read, key, cache.StatusHit)
}

// waitForBackendUp advances the gateway's fake clock by the probe interval
// until the cache reports its store available again, for at most 10
// seconds of real time.
func waitForBackendUp(t *testing.T, g *cacheGateway) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for g.metric(t, "gateway.cache.backend.up") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the cache did not report its store available within 10s after redis-server restarted")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		// The prober waits on one ticker of the fake clock.
		if g.clock.BlockUntilContext(ctx, 1) == nil {
			g.clock.Advance(time.Second)
		}
		cancel()
		time.Sleep(10 * time.Millisecond)
	}
}
