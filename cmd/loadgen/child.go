package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/groundcam/groundcam-gateway/bench"
)

// child is a server process started by this one: one rung on its own, so
// that its allocations and resident set are measured apart from the
// clients'.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready readyLine
}

// childStartTimeout bounds the wait for a server process's ready line.
const childStartTimeout = 30 * time.Second

// startChild runs "loadgen serve" for rung and waits until it listens.
// env adds environment variables, such as "GOMEMLIMIT=48MiB".
func startChild(ctx context.Context, rung bench.Rung, upstreamURL string, env ...string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	args := []string{"serve", "-rung", string(rung)}
	if upstreamURL != "" {
		args = append(args, "-upstream", upstreamURL)
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", rung, err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server %s: %w", rung, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server %s: %w", rung, err)
	}
	c := &child{cmd: cmd, stdin: stdin}
	if err := c.awaitReady(stdout); err != nil {
		c.stop()
		return nil, fmt.Errorf("server %s: %w", rung, err)
	}
	return c, nil
}

// awaitReady reads the ready line, then drains stdout in the background.
func (c *child) awaitReady(stdout io.Reader) error {
	lines := make(chan []byte, 1)
	reader := bufio.NewReader(stdout)
	go func() {
		line, _ := reader.ReadBytes('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, reader)
	}()
	select {
	case line := <-lines:
		if err := json.Unmarshal(line, &c.ready); err != nil || c.ready.URL == "" {
			return fmt.Errorf("no ready line: got %q", bytes.TrimSpace(line))
		}
		if err := checkLoopbackURL(c.ready.URL); err != nil {
			return err
		}
		return checkLoopbackURL(c.ready.Control)
	case <-time.After(childStartTimeout):
		return fmt.Errorf("not ready after %s", childStartTimeout)
	}
}

// stats fetches the process's counters.
func (c *child) stats(ctx context.Context) (serverStats, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.ready.Control+"/stats", nil)
	if err != nil {
		return serverStats{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverStats{}, fmt.Errorf("fetch server stats: %w", err)
	}
	defer res.Body.Close()
	var s serverStats
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return serverStats{}, fmt.Errorf("decode server stats: %w", err)
	}
	return s, nil
}

// childStopTimeout bounds the wait for a server process to exit once told.
const childStopTimeout = 10 * time.Second

// stop closes the process's stdin, which tells it to exit, and kills it if
// it has not exited in time.
func (c *child) stop() {
	_ = c.stdin.Close()
	done := make(chan struct{})
	go func() {
		_ = c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(childStopTimeout):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// checkLoopbackURL rejects a URL whose host is not a loopback address, so
// that no load reaches another machine. An empty URL passes.
func checkLoopbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("URL %q is not on loopback: use 127.0.0.1, [::1] or localhost", raw)
	}
	return nil
}

// statusKiB reads a "Name:   1234 kB" line of /proc/self/status, in
// bytes.
func statusKiB(status []byte, name string) (uint64, bool) {
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		kib, err := strconv.ParseUint(string(fields[0]), 10, 64)
		return kib * 1024, err == nil
	}
	return 0, false
}

var errNoCalls = errors.New("no call completed in the measured window")
