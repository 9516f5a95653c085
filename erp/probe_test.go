package erp_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
)

func TestProbeKeepsTheLastRealError(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var answer error // Check is synchronous: no race
	p := erp.NewProbe(func(context.Context) error { return answer }, time.Second, func() time.Time { return now })

	if s := p.Status(); s.Connected || !s.CheckedAt.IsZero() {
		t.Fatalf("before any check: %+v", s)
	}
	steps := []struct {
		answer    error
		connected bool
		lastError string
		failures  int
	}{
		{fmt.Errorf("erp: GET x: %w", errors.New("connection refused")), false, "erp: GET x: connection refused", 1},
		{&erp.Error{Kind: erp.KindCircuitOpen, Method: "GET", Path: "x"}, false, "erp: GET x: connection refused", 2},
		{nil, true, "erp: GET x: connection refused", 0},
	}
	for i, st := range steps {
		answer = st.answer
		now = now.Add(time.Minute)
		_ = p.Check(context.Background())
		s := p.Status()
		if s.Connected != st.connected || s.LastError != st.lastError || s.Failures != st.failures || !s.CheckedAt.Equal(now) {
			t.Errorf("step %d: %+v, want connected %v last error %q failures %d", i, s, st.connected, st.lastError, st.failures)
		}
	}
}
