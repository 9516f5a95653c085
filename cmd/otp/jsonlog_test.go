package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With Redis unreachable every library logs its complaints, go-redis and
// asynq included: each line on stderr must still be JSON.
func TestStderrIsJSONWithRedisDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs otp all for a few seconds")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := ln.Addr().String()
	ln.Close() // nothing listens there now

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$", "--", "all")
	cmd.Env = append(os.Environ(), "OTP_TEST_RUN_MAIN=1",
		"REDIS_URL=redis://"+deadAddr+"/0", "OTP_HTTP_ADDR=127.0.0.1:0", "OTP_SANDBOX_ADDR=127.0.0.1:0",
		"OTP_WORKER_ADDR=127.0.0.1:0", "LOG_LEVEL=DEBUG")
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // asynq's and go-redis's retry loops have logged by then
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait() // exits 0 after SIGTERM, or 1 when a start-up step failed; both log JSON

	var n int
	sources := map[string]bool{}
	sc := bufio.NewScanner(&stderr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
			continue
		}
		n++
		if s, ok := m["source"].(string); ok {
			sources[s] = true
		}
	}
	if n < 5 {
		t.Fatalf("only %d lines on stderr; stdout:\n%s", n, stdout.String())
	}
	for _, s := range []string{"go-redis", "asynq"} {
		if !sources[s] {
			t.Errorf("no line from %s: their logs are not routed, or Redis was not tried", s)
		}
	}
	if strings.Contains(stdout.String(), "{\"time\"") {
		t.Error("log lines on stdout: they belong on stderr")
	}
}
