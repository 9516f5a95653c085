package main

// What OTP starts in-process when the configuration names no Redis
// (REDIS_URL) or no ERPNext (ERPNEXT_BASE_URL): a miniredis, the ERPNext
// sandbox with demo data, and the set-up that makes the sandbox send OTP its
// webhooks. `make run` needs nothing else.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/migrations"
)

// devSite is what the embedded sandbox needs to send OTP its documents.
type devSite struct {
	PublicURL string // OTP's base URL: the webhooks post to PublicURL + /webhooks/erpnext/<doctype>
	Secret    string // the webhook HMAC secret
	APIUser   string // OTP's own writes are not sent back
}

// setUpDevSite makes a site ready for OTP with the migrations, the one
// definition of OTP's ERPNext customisations (`otp migrate up`): the custom
// fields, the Sales Order webhooks and the supply webhooks, signed with
// s.Secret and skipping saves by s.APIUser. It is idempotent.
func setUpDevSite(ctx context.Context, c *erp.Client, s devSite) error {
	_, err := migrations.Up(ctx, c, migrations.Config{PublicURL: s.PublicURL, WebhookSecret: s.Secret, APIUser: s.APIUser})
	return err
}

// demoSalesAuth is the demo sales person's token (sandbox.WithDemoData's
// sales@example.com, Sales User): a save with it is a person's save, which
// OTP's webhooks send on and OTP promises (its own saves are skipped).
const demoSalesAuth = "token " + sandbox.DemoSalesKey + ":" + sandbox.DemoSalesSecret

// demoOrder is the order `make run`'s curl saves: three lines (one in
// boxes of 12, one a service), all coverable from stock.
func demoOrder(sb *sandbox.Sandbox) string { return sb.Demo().MultiLineSO }

// demoSaveURL is where the demo curl PUTs order; demoShowURL lists its
// promise fields.
func demoSaveURL(base, order string) string {
	return base + "/api/resource/Sales%20Order/" + url.PathEscape(order)
}

func demoShowURL(base, order string) string {
	fields := `["name","` + erp.FieldPromiseDate + `","` + erp.FieldConfidence + `","` + erp.FieldPromiseStatus + `","` + erp.FieldExplanation + `"]`
	return base + "/api/resource/Sales%20Order?filters=" + url.QueryEscape(`[["name","=","`+order+`"]]`) + "&fields=" + url.QueryEscape(fields)
}

// demoCurl is one line that saves order as the demo sales person, waits
// for OTP, and shows (as the same person) the promise fields OTP wrote.
func demoCurl(base, order string) string {
	return fmt.Sprintf(`curl -s -X PUT -H 'Authorization: %s' -H 'Content-Type: application/json' -d '{}' '%s' >/dev/null; sleep 2; curl -s -H 'Authorization: %s' '%s'; echo`,
		demoSalesAuth, demoSaveURL(base, order), demoSalesAuth, demoShowURL(base, order))
}

// startMiniredis starts the embedded Redis, in place of REDIS_URL.
func (m *Main) startMiniredis() error {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("start embedded miniredis: %w", err)
	}
	m.miniredis = mr
	m.stopTTL = expireKeys(mr)
	m.RedisOpt = asynq.RedisClientOpt{Addr: mr.Addr()}
	if m.delayedEvery == 0 {
		m.delayedEvery = 200 * time.Millisecond // in-process: polling costs nothing
	}
	m.Logger.Warn("REDIS_URL is unset: using an in-process miniredis; queued tasks are lost when OTP stops", "addr", mr.Addr())
	return nil
}

// expireKeys counts down miniredis's TTLs once a second, so that asynq's
// retention and unique locks expire as they would on Redis.
func expireKeys(mr *miniredis.Miniredis) (stop func()) {
	return runEvery(time.Second, false, func(context.Context) { mr.FastForward(time.Second) })
}

// startEmbeddedSandbox starts the ERPNext sandbox, in place of
// ERPNEXT_BASE_URL, and returns where it answers and OTP's credentials.
func (m *Main) startEmbeddedSandbox() (base, key, secret string, err error) {
	cfg := m.Config
	sb, url, srv, err := startSandbox(cfg.SandboxAddr, m.Now, m.Logger, m.fail)
	if err != nil {
		return "", "", "", fmt.Errorf("OTP_SANDBOX_ADDR %s: %w", cfg.SandboxAddr, err)
	}
	m.Sandbox, m.SandboxURL, m.sandboxHTTP = sb, url, srv
	key, secret = sb.Credentials()
	m.apiUser = sb.APIUser()
	m.Logger.Warn("ERPNEXT_BASE_URL is unset: using the in-process ERPNext sandbox with demo data", "url", url)
	return url, key, secret, nil
}

// setUpEmbeddedSite points the embedded sandbox's webhooks at this OTP
// (its HTTP server, else OTP_PUBLIC_URL), signed with OTP_WEBHOOK_SECRET
// or, when unset, a secret made for this run.
func (m *Main) setUpEmbeddedSite(ctx context.Context) error {
	if m.webhookSecret == "" {
		m.webhookSecret = randomHex(16)
	}
	target := m.Config.PublicURL
	if m.HTTPURL != "" {
		target = m.HTTPURL
	}
	if err := setUpDevSite(ctx, m.ERP, devSite{
		PublicURL: target,
		Secret:    m.webhookSecret,
		APIUser:   m.apiUser,
	}); err != nil {
		return fmt.Errorf("set up the sandbox for OTP: %w", err)
	}
	return nil
}

// closeEmbedded stops the sandbox and miniredis, once nothing uses them.
func (m *Main) closeEmbedded() error {
	var errs []error
	if m.sandboxHTTP != nil {
		// OTP's own clients are its only callers and are stopped by now;
		// Shutdown would wait 5 s for connections dialled but never used.
		errs = append(errs, m.sandboxHTTP.Close())
	}
	if m.Sandbox != nil {
		m.Sandbox.Close()
	}
	if m.stopTTL != nil {
		m.stopTTL()
	}
	if m.miniredis != nil {
		m.miniredis.Close()
	}
	return errors.Join(errs...)
}

// startSandbox builds the demo sandbox, with opts after the defaults, and
// serves it on addr.
func startSandbox(addr string, now func() time.Time, log *slog.Logger, fail func(error), opts ...sandbox.Option) (*sandbox.Sandbox, string, *http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, err
	}
	opts = append([]sandbox.Option{sandbox.WithDemoData(), sandbox.WithClock(now), sandbox.WithLogger(log.With("component", "sandbox"))}, opts...)
	sb := sandbox.New(opts...)
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fail(fmt.Errorf("sandbox: %w", err))
		}
	}()
	return sb, localURL(ln.Addr().String()), srv, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}
