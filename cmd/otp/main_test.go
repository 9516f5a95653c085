package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/config"
)

// Invalid configuration stops every role before anything starts, with a
// message naming the variable.
func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad timezone", map[string]string{"OTP_TIMEZONE": "Mars/Olympus"}, []string{"OTP_TIMEZONE"}},
		{"bad cutoff", map[string]string{"OTP_CUTOFF_TIME": "25:00"}, []string{"OTP_CUTOFF_TIME"}},
		{"bad worker address", map[string]string{"OTP_WORKER_ADDR": "9091"}, []string{"OTP_WORKER_ADDR"}},
		{"production refuses embedded defaults", map[string]string{"OTP_ENV": "production"},
			[]string{"ERPNEXT_BASE_URL", "REDIS_URL", "OTP_WEBHOOK_SECRET"}},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"serve", "work", "all"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				for _, k := range []string{"ERPNEXT_BASE_URL", "ERPNEXT_API_KEY", "ERPNEXT_API_SECRET", "REDIS_URL", "OTP_WEBHOOK_SECRET", "OTP_ENV"} {
					t.Setenv(k, "")
				}
				for k, v := range tt.env {
					t.Setenv(k, v)
				}
				var out, errOut bytes.Buffer
				err := run(t.Context(), []string{cmd}, &out, &errOut)
				if !errors.Is(err, config.ErrInvalid) {
					t.Fatalf("run(%s) = %v, want a configuration error", cmd, err)
				}
				for _, v := range tt.want {
					if !strings.Contains(err.Error(), v) {
						t.Errorf("error %q does not name %s", err, v)
					}
				}
				if out.Len() != 0 {
					t.Errorf("printed %q before failing", out.String())
				}
			})
		}
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args       []string
		usage      bool   // errUsage expected
		wantStdout string // substring
		wantStderr string // substring
	}{
		{args: nil, usage: true, wantStderr: "usage: otp <command>"},
		{args: []string{"frobnicate"}, usage: true, wantStderr: `unknown command "frobnicate"`},
		{args: []string{"help"}, wantStderr: "healthcheck"},
		{args: []string{"version"}, wantStdout: "otp dev\n"},
		{args: []string{"version", "extra"}, usage: true},
		{args: []string{"serve", "--nope"}, usage: true, wantStderr: "flag provided but not defined"},
		{args: []string{"sandbox", "extra"}, usage: true, wantStderr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tt.args, &out, &errOut)
			if got := errors.Is(err, errUsage); got != tt.usage {
				t.Errorf("err = %v, want usage error %v", err, tt.usage)
			}
			if !strings.Contains(out.String(), tt.wantStdout) || !strings.Contains(errOut.String(), tt.wantStderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", out.String(), errOut.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{
		":8001":          "http://127.0.0.1:8001",
		"0.0.0.0:8001":   "http://127.0.0.1:8001",
		"[::]:8001":      "http://127.0.0.1:8001",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		"otp.local:80":   "http://otp.local:80",
	} {
		if got := localURL(addr); got != want {
			t.Errorf("localURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// `otp healthcheck` (the Docker HEALTHCHECK) against a running OTP, by
// base URL or full URL, and against nothing.
func TestHealthcheck(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil)
	for _, url := range []string{a.m.HTTPURL, a.m.HTTPURL + "/", a.m.HTTPURL + "/health"} {
		t.Run(url, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(t.Context(), []string{"healthcheck", "--url", url}, &out, &errOut); err != nil {
				t.Fatalf("healthcheck: %v", err)
			}
			if !strings.Contains(out.String(), `"status":"healthy"`) || !strings.Contains(out.String(), `"erpnext_connected":true`) {
				t.Errorf("healthcheck printed %q", out.String())
			}
		})
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if err := run(ctx, []string{"healthcheck", "--url", "http://127.0.0.1:1", "--timeout", "500ms"}, &out, &errOut); err == nil {
		t.Error("healthcheck of nothing succeeded")
	}
	if err := run(ctx, []string{"healthcheck", "--url", "127.0.0.1:8001"}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--url") {
		t.Errorf("healthcheck of a URL without scheme: %v, want an error naming --url", err)
	}
}

// -h prints a command's usage and is not an error (exit 0); a bad flag is.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"healthcheck", "-h"}, {"healthcheck", "--help"}, {"sandbox", "-h"}, {"serve", "-h"}, {"promise", "-h"}, {"migrate", "-h"}, {"version", "-h"}, {"work", "--help"}} {
		var out, errOut bytes.Buffer
		err := run(t.Context(), args, &out, &errOut)
		if !errors.Is(err, errHelp) || errors.Is(err, errUsage) {
			t.Errorf("otp %s: err = %v, want errHelp (exit 0)", strings.Join(args, " "), err)
		}
		if !strings.Contains(errOut.String(), "Usage") && !strings.Contains(errOut.String(), "usage") {
			t.Errorf("otp %s printed no usage: %q", strings.Join(args, " "), errOut.String())
		}
	}
}

// The banner names every URL and the curl.
func TestBanner(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil)
	out := a.logs.String()
	for _, want := range []string{
		"OTP:        " + a.m.HTTPURL,
		"Dashboard:  " + a.m.HTTPURL + "/monitoring/",
		"Sandbox:    " + a.m.SandboxURL,
		"token " + strings.TrimPrefix(a.sb.AuthHeader(), "token "),
		demoCurl(a.m.SandboxURL, demoOrder(a.sb)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q", want)
		}
	}
}

// Close's wait for task handlers: it reports a handler still running when
// its time is up, and returns as soon as the last one returns.
func TestInflightWait(t *testing.T) {
	var f inflight
	release := make(chan struct{})
	started := make(chan struct{})
	h := f.track(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		close(started)
		<-release
		return nil
	}))
	done := make(chan error, 1)
	go func() { done <- h.ProcessTask(t.Context(), asynq.NewTask("test", nil)) }()
	<-started
	if f.wait(20 * time.Millisecond) {
		t.Error("wait reported a running handler as returned")
	}
	close(release)
	if !f.wait(5 * time.Second) {
		t.Error("wait timed out after the handler returned")
	}
	if err := <-done; err != nil {
		t.Errorf("handler: %v", err)
	}
}
