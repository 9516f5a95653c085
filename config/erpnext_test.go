package config

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/erp"
)

func TestBreakerPolicy(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want erp.BreakerPolicy
	}{
		{"defaults are the client's", map[string]string{}, erp.DefaultBreakerPolicy()},
		{"every variable", map[string]string{
			"OTP_ERPNEXT_BREAKER_FAILURE_RATIO": "0.3",
			"OTP_ERPNEXT_BREAKER_MIN_REQUESTS":  "20",
			"OTP_ERPNEXT_BREAKER_WINDOW":        "30s",
			"OTP_ERPNEXT_BREAKER_OPEN":          "2s",
			"OTP_ERPNEXT_BREAKER_PROBES":        "1",
		}, erp.BreakerPolicy{FailureRatio: 0.3, MinRequests: 20, Window: 30 * time.Second, OpenFor: 2 * time.Second, Probes: 1}},
	}
	for _, tt := range tests {
		c := MustLoad(t, tt.env)
		if diff := cmp.Diff(tt.want, c.BreakerPolicy()); diff != "" {
			t.Errorf("%s: BreakerPolicy (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := MustLoad(t, map[string]string{}).RetryAfterMax; got != erp.DefaultRetryAfterMax {
		t.Errorf("default OTP_ERPNEXT_RETRY_AFTER_MAX = %v, want the client's %v", got, erp.DefaultRetryAfterMax)
	}
}

func TestBreakerVariablesInvalid(t *testing.T) {
	tests := []struct{ v, val string }{
		{"OTP_ERPNEXT_BREAKER_FAILURE_RATIO", "0"},
		{"OTP_ERPNEXT_BREAKER_FAILURE_RATIO", "1.5"},
		{"OTP_ERPNEXT_BREAKER_MIN_REQUESTS", "0"},
		{"OTP_ERPNEXT_BREAKER_PROBES", "-1"},
		{"OTP_ERPNEXT_BREAKER_WINDOW", "500ms"},
		{"OTP_ERPNEXT_BREAKER_OPEN", "0s"},
		{"OTP_ERPNEXT_RETRY_AFTER_MAX", "-1s"},
		{"OTP_ERPNEXT_BREAKER_OPEN", "soon"},
	}
	for _, tt := range tests {
		_, err := Load(map[string]string{tt.v: tt.val})
		var ve *VarError
		if !errors.As(err, &ve) || ve.Var != tt.v {
			t.Errorf("%s=%s: error = %v, want one naming %s", tt.v, tt.val, err, tt.v)
		}
	}
}
