package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/migrations"
)

const migrateUsage = `usage: otp migrate [--dry-run] up|down|status|check

  status   each step applied, pending, drifted (with the difference) or in conflict
  up       apply pending and drifted steps in order; safe to re-run
  down     delete what up created, newest step first (adopted fields stay)
  check    which reads and writes OTP's API user may make, and what to grant

  --dry-run  up and down print the REST calls they would make (METHOD PATH BODY)
             and make none; the site is only read

Configuration comes from the environment, as for the other commands:
ERPNEXT_BASE_URL, ERPNEXT_API_KEY, ERPNEXT_API_SECRET (and ERPNEXT_API_USER when
these credentials are not OTP's own API user), OTP_PUBLIC_URL (where ERPNext
sends the webhooks) and OTP_WEBHOOK_SECRET (what signs them).
`

// errCheckFailed makes `otp migrate check` exit 1.
var errCheckFailed = errors.New("migrate check: something OTP requires is not allowed")

// runMigrate is `otp migrate`: OTP's ERPNext customisations (package migrations).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", stderr)
	dryRun := fs.Bool("dry-run", false, "print the REST calls up or down would make, and make none")
	fs.Usage = func() { io.WriteString(stderr, migrateUsage) }
	// Flags may come before or after the subcommand.
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	sub := fs.Arg(0)
	if err := fs.Parse(fs.Args()[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		return errUsage
	}
	switch sub {
	case "up", "down", "status", "check":
	default:
		fmt.Fprintf(stderr, "otp migrate: unknown subcommand %q\n\n", sub)
		fs.Usage()
		return errUsage
	}

	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if cfg.EmbeddedERPNext() {
		return errors.New("otp migrate changes a real ERPNext: set ERPNEXT_BASE_URL, ERPNEXT_API_KEY and ERPNEXT_API_SECRET " +
			"(the embedded sandbox of `otp all` is migrated when it starts)")
	}
	client, err := erp.New(cfg.ERPNextBaseURL, cfg.ERPNextAPIKey, cfg.ERPNextAPISecret,
		erp.WithTimeout(cfg.RequestTimeout.Duration()),
		erp.WithLogger(newLogger(stderr, cfg.SlogLevel()).With("component", "erp")),
		erp.WithUserAgent("otp-migrate/"+version))
	if err != nil {
		return fmt.Errorf("ERPNEXT_BASE_URL: %w", err)
	}
	mcfg := migrations.Config{PublicURL: cfg.PublicURL, WebhookSecret: cfg.WebhookSecret, APIUser: cfg.ERPNextAPIUser}

	if sub == "check" {
		r, err := migrations.Check(ctx, client, mcfg)
		if err != nil {
			return err
		}
		if err := migrations.WriteCheck(stdout, r); err != nil {
			return err
		}
		if !r.OK() {
			return errCheckFailed
		}
		return nil
	}

	err = migrate(ctx, client, sub, mcfg, *dryRun, cfg, stdout, stderr)
	if errors.Is(err, erp.ErrPermission) {
		err = fmt.Errorf("%w (`otp migrate check` lists what the API user may do)", err)
	}
	return err
}

// migrate runs status, up or down.
func migrate(ctx context.Context, client *erp.Client, sub string, mcfg migrations.Config, dryRun bool, cfg config.Config, stdout, stderr io.Writer) error {
	if mcfg.APIUser == "" {
		user, err := client.LoggedUser(ctx)
		if err != nil {
			return fmt.Errorf("find the ERPNext API user (or set ERPNEXT_API_USER): %w", err)
		}
		mcfg.APIUser = user
	}

	switch sub {
	case "status":
		steps, err := migrations.Status(ctx, client, mcfg)
		if err != nil {
			return err
		}
		return migrations.WriteStatus(stdout, steps)
	case "up":
		if warning := publicURLWarning(cfg.PublicURL, cfg.ERPNextBaseURL); warning != "" {
			fmt.Fprintln(stderr, "warning:", warning)
		}
		plan, err := migrations.PlanUp(ctx, client, mcfg)
		if err != nil {
			return err
		}
		return carryOut(ctx, client, plan, dryRun, stdout)
	default: // down
		plan, err := migrations.PlanDown(ctx, client, mcfg)
		if err != nil {
			return err
		}
		return carryOut(ctx, client, plan, dryRun, stdout)
	}
}

// carryOut applies plan (unless dryRun) and prints it; on a failure it
// prints what was and was not done before returning the error.
func carryOut(ctx context.Context, c migrations.Client, plan *migrations.Plan, dryRun bool, stdout io.Writer) error {
	if dryRun {
		return migrations.WritePlan(stdout, plan, true)
	}
	err := plan.Apply(ctx, c)
	return errors.Join(migrations.WritePlan(stdout, plan, false), err)
}

// publicURLWarning: a loopback OTP_PUBLIC_URL given to a remote ERPNext
// means every webhook goes to ERPNext's own machine.
func publicURLWarning(publicURL, erpURL string) string {
	if !loopback(publicURL) || loopback(erpURL) {
		return ""
	}
	return fmt.Sprintf("OTP_PUBLIC_URL is %s, but ERPNext at %s would send its webhooks to its own machine; set OTP_PUBLIC_URL to the URL ERPNext reaches OTP at", publicURL, erpURL)
}

func loopback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
