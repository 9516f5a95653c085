package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox"
)

// `otp sandbox` prints both tokens, OTP's and the demo sales person's, and
// each logs in as its own user (docs/erpnext.md#authentication).
func TestSandboxCommandPrintsBothUsers(t *testing.T) {
	base, out := startSandboxCommand(t)
	for auth, user := range map[string]string{
		"token " + sandbox.DefaultAPIKey + ":" + sandbox.DefaultAPISecret: sandbox.DefaultAPIUser,
		demoSalesAuth: sandbox.DemoSalesUser,
	} {
		if !strings.Contains(out.String(), "Authorization: "+auth+"   (user "+user) {
			t.Errorf("banner lacks %q for %s:\n%s", auth, user, out)
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/method/frappe.auth.get_logged_user", nil)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Message string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || body.Message != user {
			t.Errorf("%s logs in as %q (%d, %v), want %s", auth, body.Message, resp.StatusCode, err, user)
		}
	}
}

// startSandboxCommand runs `otp sandbox --addr 127.0.0.1:0 args...` until
// the test ends, and returns its URL and what it printed.
func startSandboxCommand(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"sandbox", "--addr", "127.0.0.1:0"}, args...), out, &syncBuffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("otp sandbox: %v", err)
		}
	})
	urlRE := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
	waitFor(t, 5*time.Second, "the sandbox banner", func() bool { return urlRE.MatchString(out.String()) })
	return urlRE.FindStringSubmatch(out.String())[1], out
}

// `otp sandbox --latency D` (or OTP_SANDBOX_LATENCY, the flag winning)
// holds every ERPNext request for D before answering: with a minute, a
// client that waits a tenth of a second gets nothing; without, it gets
// its answer. The banner says which.
func TestSandboxCommandLatency(t *testing.T) {
	tests := []struct {
		name   string
		env    string
		args   []string
		banner string
		held   bool
	}{
		{"flag", "", []string{"--latency", "1m"}, "ERPNext sandbox (demo data, 1m0s per request) at", true},
		{"environment", "1m", nil, "ERPNext sandbox (demo data, 1m0s per request) at", true},
		{"flag over environment", "1m", []string{"--latency", "0s"}, "ERPNext sandbox (demo data) at", false},
		{"none", "", nil, "ERPNext sandbox (demo data) at", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OTP_SANDBOX_LATENCY", tc.env)
			base, out := startSandboxCommand(t, tc.args...)
			if !strings.Contains(out.String(), tc.banner) {
				t.Errorf("banner lacks %q:\n%s", tc.banner, out)
			}
			for _, path := range []string{"/api/method/ping", "/api/resource/Item"} {
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
				req.Header.Set("Authorization", sandbox.TokenHeader(sandbox.DefaultAPIKey, sandbox.DefaultAPISecret))
				resp, err := http.DefaultClient.Do(req)
				cancel()
				if err == nil {
					resp.Body.Close()
				}
				switch {
				case tc.held && !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("GET %s answered (%v) before its latency", path, err)
				case !tc.held && (err != nil || resp.StatusCode != http.StatusOK):
					t.Errorf("GET %s: %v, want 200 at once", path, err)
				}
			}
		})
	}
}

// A latency that is not a duration, or is negative, is a usage error that
// says what is wrong.
func TestSandboxCommandBadLatency(t *testing.T) {
	for _, tc := range []struct{ env, flag, want string }{
		{"30", "", `OTP_SANDBOX_LATENCY="30" is not a duration`},
		{"", "-5ms", "latency -5ms: must not be negative"},
		{"", "soon", `invalid value "soon" for flag -latency`},
	} {
		t.Setenv("OTP_SANDBOX_LATENCY", tc.env)
		args := []string{"sandbox", "--addr", "127.0.0.1:0"}
		if tc.flag != "" {
			args = append(args, "--latency", tc.flag)
		}
		stderr := &syncBuffer{}
		err := run(t.Context(), args, &syncBuffer{}, stderr)
		if !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("env %q flag %q: %v, stderr %q; want a usage error saying %q", tc.env, tc.flag, err, stderr, tc.want)
		}
	}
}

// `otp sandbox --webhook-workers N` (or OTP_SANDBOX_WEBHOOK_WORKERS, the
// flag winning) says so in the banner; a count below 1 or not a number is
// a usage error.
func TestSandboxCommandWebhookWorkers(t *testing.T) {
	t.Run("banner", func(t *testing.T) {
		t.Setenv("OTP_SANDBOX_WEBHOOK_WORKERS", "2")
		_, out := startSandboxCommand(t, "--webhook-workers", "4")
		if want := "ERPNext sandbox (demo data, 4 webhook workers) at"; !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	})
	for _, tc := range []struct{ env, flag, want string }{
		{"two", "", `OTP_SANDBOX_WEBHOOK_WORKERS="two" is not a number`},
		{"", "0", "webhook workers 0: must be at least 1"},
		{"", "x", `invalid value "x" for flag -webhook-workers`},
	} {
		t.Setenv("OTP_SANDBOX_WEBHOOK_WORKERS", tc.env)
		args := []string{"sandbox", "--addr", "127.0.0.1:0"}
		if tc.flag != "" {
			args = append(args, "--webhook-workers", tc.flag)
		}
		stderr := &syncBuffer{}
		err := run(t.Context(), args, &syncBuffer{}, stderr)
		if !errors.Is(err, errUsage) || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("env %q flag %q: %v, stderr %q; want a usage error saying %q", tc.env, tc.flag, err, stderr, tc.want)
		}
	}
}
