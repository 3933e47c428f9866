package testutil

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// redisWait bounds how long a RedisServer waits for redis-server to reply
// to PING after a start, and to exit after SIGKILL.
const redisWait = 10 * time.Second

// RedisServer is a redis-server process that a test started on 127.0.0.1.
// It keeps nothing on disk, so a restarted server is empty. Its methods are
// safe for concurrent use.
type RedisServer struct {
	tb   testing.TB
	port int

	mu     sync.Mutex
	cmd    *exec.Cmd  // nil while the server is stopped
	exited chan error // receives the result of cmd.Wait once
}

// StartRedis starts a redis-server on a free port and kills it when tb
// ends. It skips tb when redis-server is not on PATH. The skip message ends
// with "to run " and tests, which names the tests that need the server,
// such as "the Redis tests".
func StartRedis(tb testing.TB, tests string) *RedisServer {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server not found in PATH; install the Debian package redis-server " +
			"(apt-get install redis-server) to run " + tests)
	}
	s := &RedisServer{tb: tb}
	tb.Cleanup(s.Stop)

	// Another process may take the free port before redis-server binds it.
	var err error
	for range 3 {
		s.port = freePort(tb)
		if err = s.Restart(); err == nil {
			return s
		}
	}
	tb.Fatalf("start redis-server: %v", err)
	return nil
}

// URL returns the server's redis:// URL, with database 0.
func (s *RedisServer) URL() string {
	return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port)
}

// Addr returns the server's host:port address.
func (s *RedisServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Restart runs redis-server again on the same port and waits until it
// replies to PING. It returns an error when the process exits early or does
// not reply within 10 seconds. Call it only while the server is stopped.
func (s *RedisServer) Restart() error {
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.Now().Add(redisWait)
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("redis-server on port %d exited: %v", s.port, err)
		default:
		}
		if pingRedis(s.Addr()) == nil {
			s.mu.Lock()
			s.cmd, s.exited = cmd, exited
			s.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on port %d did not reply to PING within %s", s.port, redisWait)
		}
		<-ticker.C
	}
}

// Signal sends sig to the running redis-server, such as SIGSTOP to make it
// stop replying while it keeps its data and its connections.
func (s *RedisServer) Signal(sig os.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return fmt.Errorf("redis-server on port %d is not running", s.port)
	}
	return s.cmd.Process.Signal(sig)
}

// Stop kills redis-server with SIGKILL and waits until the process has
// exited, so that its port refuses connections. It does nothing when the
// server is not running.
func (s *RedisServer) Stop() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.tb.Errorf("kill redis-server: %v", err)
	}
	select {
	case err := <-exited:
		var exitErr *exec.ExitError
		if err != nil && !errors.As(err, &exitErr) {
			s.tb.Errorf("wait for redis-server: %v", err)
		}
	case <-time.After(redisWait):
		s.tb.Errorf("redis-server on port %d did not exit within %s of SIGKILL", s.port, redisWait)
	}
}

// pingRedis sends PING to the server at addr over a plain connection, so
// that waiting for the server leaves no client state behind.
func pingRedis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
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
	reply := make([]byte, len("+PONG\r\n"))
	if _, err := io.ReadFull(conn, reply); err != nil {
		return err
	}
	if string(reply) != "+PONG\r\n" {
		return fmt.Errorf("unexpected PING reply %q", reply)
	}
	return nil
}
