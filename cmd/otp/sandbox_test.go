package main

import (
	"context"
	"encoding/json"
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
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0"}, out, &syncBuffer{}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("otp sandbox: %v", err)
		}
	}()
	urlRE := regexp.MustCompile(`at (http://127\.0\.0\.1:\d+)`)
	waitFor(t, 5*time.Second, "the sandbox banner", func() bool { return urlRE.MatchString(out.String()) })
	base := urlRE.FindStringSubmatch(out.String())[1]
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
