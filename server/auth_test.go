package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// writeToken is a token of the length OTP_API_TOKENS suggests.
const writeToken = "write-0123456789abcdef0123456789abcdef"

// TestTokenCompareTime: a wrong token that shares all but its last
// character with a real one takes as long to refuse as one sharing nothing
// (the tokens are hashed, then compared in constant time). The fastest of
// many runs is compared, which load on the machine only slows.
func TestTokenCompareTime(t *testing.T) {
	a := newAuth(Deps{APITokens: []APIToken{{Name: "a", Scope: ScopeRead, Token: writeToken}}})
	fastest := func(header string) time.Duration {
		best := time.Hour
		for range 3000 {
			start := time.Now()
			if _, err := a.authenticate(header); err == nil {
				t.Fatal("wrong token accepted")
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	near := "Bearer " + writeToken[:len(writeToken)-1] + "X"
	far := "Bearer " + strings.Repeat("Z", len(writeToken))
	n, f := fastest(near), fastest(far)
	if n > 3*f || f > 3*n {
		t.Errorf("near miss %v, far miss %v: should take about as long", n, f)
	}
}

func TestHEADAnsweredWhereGETIs(t *testing.T) {
	e := MustEnv(t, nil)
	_ = e.srv.Probe().Check(context.Background())
	for _, path := range []string{"/health", "/ready", "/readyz", "/metrics", "/openapi.json"} {
		rec := e.do(t, httptest.NewRequest(http.MethodHead, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("HEAD %s: %d, want 200", path, rec.Code)
		}
	}
}
