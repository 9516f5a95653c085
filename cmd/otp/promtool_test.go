package main

import (
	"bytes"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/tasks"
)

// TestMetricsPassPromtool: each role's /metrics passes `promtool check
// metrics` (types, names, help), after a request, a task and a failure
// have filled the series. .ci/run installs promtool (Debian's prometheus).
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus); .ci/run installs it")
	}
	serve := func(m *Main) { m.Roles = roleServe }
	work := func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" }
	for _, tt := range []struct {
		name string
		opts []func(*Main)
	}{
		{"serve", []func(*Main){serve}},
		{"work", []func(*Main){work}},
		{"all", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil, tt.opts...)
			if _, err := a.m.queue.EnqueueContext(t.Context(), tasks.NewReconcileTask(), asynq.ProcessIn(time.Hour)); err != nil {
				t.Fatal(err)
			}
			base := a.m.HTTPURL + a.m.WorkerURL // one of them is empty
			if _, _, err := get(t, base+"/health"); err != nil {
				t.Fatal(err)
			}
			status, body, err := get(t, base+"/metrics")
			if err != nil || status != http.StatusOK {
				t.Fatalf("/metrics = %d (%v)", status, err)
			}
			cmd := exec.CommandContext(t.Context(), promtool, "check", "metrics")
			cmd.Stdin = strings.NewReader(body)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Errorf("promtool check metrics on %s: %v\n%s", tt.name, err, out.String())
			}
		})
	}
}

// TestAlertRulesPassPromtool: the rules load and rules_test.yaml's cases
// hold (.ci/run runs the same two commands).
func TestAlertRulesPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus); .ci/run installs it")
	}
	for _, args := range [][]string{
		{"check", "rules", filepath.Join(deployDir, "prometheus", "rules.yaml")},
		{"test", "rules", filepath.Join(deployDir, "prometheus", "rules_test.yaml")},
	} {
		out, err := exec.CommandContext(t.Context(), promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
