package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// writeToken is a token of the length OTP_API_TOKENS suggests.
const writeToken = "write-0123456789abcdef0123456789abcdef"

// TestTokenCompareTime: a wrong token that shares all but its last
// character with a real one takes as long to refuse as one sharing nothing
// (the tokens are hashed, then compared in constant time). The fastest of
// many runs is compared, which load on the machine only slows.
// A wrong token is refused however close it comes: the comparison is of
// SHA-256 sums with subtle.ConstantTimeCompare, so a near miss costs what a
// far one does. BenchmarkTokenCompare shows the times side by side.
func TestTokenNearAndFarMissesRefused(t *testing.T) {
	a := newAuth(Deps{APITokens: []APIToken{{Name: "a", Scope: ScopeRead, Token: writeToken}}})
	for _, header := range []string{
		"Bearer " + writeToken[:len(writeToken)-1] + "X",
		"Bearer " + strings.Repeat("Z", len(writeToken)),
		"Bearer " + writeToken[:len(writeToken)-1],
	} {
		if _, err := a.authenticate(header); err == nil {
			t.Errorf("%q accepted", header)
		}
	}
}

// go test -run '^$' -bench TokenCompare ./server/: near and far misses
// should take about as long.
func BenchmarkTokenCompare(b *testing.B) {
	a := newAuth(Deps{APITokens: []APIToken{{Name: "a", Scope: ScopeRead, Token: writeToken}}})
	for _, bc := range []struct{ name, header string }{
		{"near-miss", "Bearer " + writeToken[:len(writeToken)-1] + "X"},
		{"far-miss", "Bearer " + strings.Repeat("Z", len(writeToken))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = a.authenticate(bc.header)
			}
		})
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
