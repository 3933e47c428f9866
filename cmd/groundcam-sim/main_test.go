package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// envRunMain, set to 1, makes the test binary run main instead of the
// tests, so that a test can check the command's exit status.
const envRunMain = "GROUNDCAM_SIM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		os.Exit(0)
	}
	goleak.VerifyTestMain(m)
}

// TestMainExitStatus runs the command in a child process. No case gets as
// far as listening.
func TestMainExitStatus(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantStderr string
	}{
		{"help", []string{"-help"}, 0, "Usage: groundcam-sim [flags]"},
		{"short help", []string{"-h"}, 0, "Usage: groundcam-sim [flags]"},
		{"unknown flag", []string{"-verbose"}, 1, "flag provided but not defined: -verbose"},
		{"invalid seed", []string{"-seed", "x"}, 1, `invalid seed "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], tc.args...)
			cmd.Env = append(os.Environ(), envRunMain+"=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("run %v: %v", tc.args, err)
			}

			if got := cmd.ProcessState.ExitCode(); got != tc.wantStatus {
				t.Errorf("exit status %d, want %d, with stderr:\n%s", got, tc.wantStatus, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantStderr, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
}

func TestRunPrintsAddressAndKeys(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, outWriter := io.Pipe()
	env := map[string]string{"GROUNDCAM_SIM_RATE_LIMIT": "50"}
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "warn"},
			func(k string) string { return env[k] }, outWriter, io.Discard)
		outWriter.Close()
		done <- err
	}()

	lines := bufio.NewScanner(out)
	var banner []string
	keyPattern := regexp.MustCompile(`gc_live_[0-9a-f]{32}`)
	var keys []string
	for lines.Scan() {
		banner = append(banner, lines.Text())
		if k := keyPattern.FindString(lines.Text()); k != "" {
			keys = append(keys, k)
		}
		if len(keys) == 5 {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	if len(banner) == 0 || !strings.HasPrefix(banner[0], "groundcam-sim listening on http://127.0.0.1:") {
		t.Fatalf("banner %q, want the listen address first", banner)
	}
	if len(keys) != 5 {
		t.Fatalf("banner shows %d keys, want 5:\n%s", len(keys), strings.Join(banner, "\n"))
	}
	base := strings.TrimPrefix(banner[0], "groundcam-sim listening on ")

	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/auth/verify", nil)
	req.Header.Set("Authorization", "Bearer "+keys[0])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var body struct {
		Data struct {
			OrganizationName string `json:"organizationName"`
		} `json:"data"`
	}
	_ = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || body.Data.OrganizationName != "Acme Corp" {
		t.Errorf("verify: %d %+v", res.StatusCode, body)
	}
	if got := res.Header.Get("X-RateLimit-Limit"); got != "50" {
		t.Errorf("X-RateLimit-Limit %q, want 50 from the environment", got)
	}

	res, err = http.Post(base+"/_sim/clock/advance", "application/json", strings.NewReader(`{"duration":"1h"}`))
	if err != nil {
		t.Fatalf("advance: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("advance: status %d, want 200 on the offset clock", res.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop after the context ended")
	}
}

func TestParseConfigErrors(t *testing.T) {
	_, err := parseConfig([]string{"-seed", "x", "-rate-limit", "0", "-rate-window", "soon", "-log-level", "loud"},
		func(string) string { return "" }, io.Discard)
	if err == nil {
		t.Fatal("parseConfig accepted invalid values")
	}
	for _, part := range []string{"seed", "rate limit", "rate window", "log level"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not name the %s", err, part)
		}
	}
}
