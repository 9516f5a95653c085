package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const (
	tokA = "0123456789abcdef0123456789abcdef"
	tokB = "fedcba9876543210fedcba9876543210"
)

func TestAPITokens(t *testing.T) {
	c := MustLoad(t, map[string]string{"OTP_API_TOKENS": " erpnext-desk:write:" + tokA + ", bi:read:" + tokB + ","})
	want := []APIToken{{Name: "erpnext-desk", Scope: ScopeWrite, Token: tokA}, {Name: "bi", Scope: ScopeRead, Token: tokB}}
	if diff := cmp.Diff(want, c.APITokensList()); diff != "" {
		t.Errorf("tokens (-want +got):\n%s", diff)
	}
	if got := MustLoad(t, map[string]string{}).APITokensList(); got != nil {
		t.Errorf("unset: %v, want nil", got)
	}
}

func TestOperationsRejected(t *testing.T) {
	for _, tt := range []struct {
		name, v, val string
		notIn        string // the error must not quote this (a token)
	}{
		{"no scope", "OTP_API_TOKENS", "bi:" + tokA, tokA},
		{"bad scope", "OTP_API_TOKENS", "bi:admin:" + tokA, tokA},
		{"short", "OTP_API_TOKENS", "bi:read:short-token", "short-token"},
		{"no name", "OTP_API_TOKENS", ":read:" + tokA, tokA},
		{"name twice", "OTP_API_TOKENS", "bi:read:" + tokA + ",bi:write:" + tokB, tokA},
		{"token twice", "OTP_API_TOKENS", "bi:read:" + tokA + ",desk:write:" + tokA, tokA},
		{"rate zero", "OTP_API_RATE_LIMIT", "0", ""},
		{"burst zero", "OTP_API_RATE_BURST", "0", ""},
		{"probe zero", "OTP_ERPNEXT_PROBE_INTERVAL", "0s", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(map[string]string{tt.v: tt.val})
			var ve *VarError
			if !errors.As(err, &ve) || ve.Var != tt.v {
				t.Fatalf("Load(%s=%q) = %v, want an error naming %s", tt.v, tt.val, err, tt.v)
			}
			if tt.notIn != "" && strings.Contains(err.Error(), tt.notIn) {
				t.Errorf("error %q quotes the token", err)
			}
		})
	}
}

func TestOperationsDefaults(t *testing.T) {
	c := MustLoad(t, map[string]string{})
	if c.APIRateLimit != 10 || c.APIRateBurst != 20 || c.ProbeInterval != 30*time.Second || c.OTLPEndpoint != "" {
		t.Errorf("defaults: rate %v burst %d probe %v otlp %q", c.APIRateLimit, c.APIRateBurst, c.ProbeInterval, c.OTLPEndpoint)
	}
}
