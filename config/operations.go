package config

import (
	"fmt"
	"slices"
	"strings"
)

// Token scopes. A write token may also read.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// MinTokenLength is the shortest token OTP_API_TOKENS accepts (32 hex
// digits: `openssl rand -hex 32` gives 64).
const MinTokenLength = 32

// APIToken is one quote API bearer token.
type APIToken struct {
	Name  string // in the access log instead of the token
	Scope string // ScopeRead or ScopeWrite
	Token string
}

// APITokensList returns OTP_API_TOKENS parsed; nil when it is unset.
func (c Config) APITokensList() []APIToken { return slices.Clone(c.tokens) }

func (c *Config) validateOperations(bad func(v, format string, args ...any)) {
	tokens, err := parseTokens(c.APITokens)
	if err != nil {
		bad("OTP_API_TOKENS", "%v", err)
	}
	c.tokens = tokens
	if c.APIRateLimit <= 0 {
		bad("OTP_API_RATE_LIMIT", "must be a positive number of requests per second, got %v", c.APIRateLimit)
	}
	if c.APIRateBurst < 1 {
		bad("OTP_API_RATE_BURST", "must be at least 1, got %d", c.APIRateBurst)
	}
	if c.ProbeInterval <= 0 {
		bad("OTP_ERPNEXT_PROBE_INTERVAL", "must be positive, got %v", c.ProbeInterval)
	}
}

// parseTokens parses "name:scope:token,...". Names and tokens must be
// unique; the error never quotes a token.
func parseTokens(s string) ([]APIToken, error) {
	var out []APIToken
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, rest, ok1 := strings.Cut(part, ":")
		scope, token, ok2 := strings.Cut(rest, ":")
		name, scope, token = strings.TrimSpace(name), strings.TrimSpace(scope), strings.TrimSpace(token)
		switch {
		case !ok1 || !ok2 || name == "":
			return nil, fmt.Errorf("entry %d is not name:scope:token (for example bi:read:$(openssl rand -hex 32))", i+1)
		case scope != ScopeRead && scope != ScopeWrite:
			return nil, fmt.Errorf("token %q: scope %q is not read or write", name, scope)
		case len(token) < MinTokenLength:
			return nil, fmt.Errorf("token %q is shorter than %d characters (use openssl rand -hex 32)", name, MinTokenLength)
		}
		for _, t := range out {
			if t.Name == name {
				return nil, fmt.Errorf("token name %q is used twice", name)
			}
			if t.Token == token {
				return nil, fmt.Errorf("tokens %q and %q are the same", t.Name, name)
			}
		}
		out = append(out, APIToken{Name: name, Scope: scope, Token: token})
	}
	return out, nil
}
