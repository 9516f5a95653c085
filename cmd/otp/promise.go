package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
	"github.com/erpnext-otp/otp/quote"
	"github.com/erpnext-otp/otp/tasks"
	"github.com/erpnext-otp/otp/worker"
)

// promiseCmd is `otp promise SO-NAME [--json] [--apply]`: compute one Sales
// Order's promise against the configured ERPNext, exactly as the worker
// does, and print it; write it back only with --apply, through the worker's
// own handler (lock, skip rules, compare-then-write, timeline comment).
//
// With ERPNEXT_BASE_URL unset it promises against an in-process sandbox with
// the demo data (and refuses --apply: that sandbox is gone when the command
// ends).
type promiseCmd struct {
	environ map[string]string // nil: the process environment
	now     func() time.Time
}

func runPromise(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return promiseCmd{now: time.Now}.run(ctx, args, stdout, stderr)
}

// errNotApplied is returned by --apply when the worker wrote nothing it
// should have: the order's fields still differ from the plan.
var errNotApplied = errors.New("the promise was not written")

func (c promiseCmd) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("promise", stderr)
	asJSON := fs.Bool("json", false, "print the promise as JSON (the body POST /otp/promise answers)")
	apply := fs.Bool("apply", false, "write the promise to the order in ERPNext, as the worker does")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: otp promise SO-NAME [--json] [--apply]")
		fs.PrintDefaults()
	}
	// Flags may come before or after the order's name.
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			return flagError(err)
		}
		if fs.NArg() == 0 {
			break
		}
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(names) != 1 {
		fs.Usage()
		return errUsage
	}
	name := names[0]

	cfg, err := config.Load(c.environ)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.SlogLevel())
	client, closeERP, err := c.openERPNext(cfg, log, stderr)
	if err != nil {
		return err
	}
	defer closeERP()
	if *apply && cfg.EmbeddedERPNext() {
		return errors.New("--apply needs ERPNEXT_BASE_URL: the in-process demo sandbox is thrown away when the command ends")
	}

	so, err := client.SalesOrder(ctx, name)
	if errors.Is(err, erp.ErrNotFound) {
		return fmt.Errorf("no Sales Order %s in ERPNext", name)
	}
	if err != nil {
		return fmt.Errorf("read %s from ERPNext: check %s: %w", name, erpHint(err), err)
	}
	pl := newPlanner(client, cfg, c.now, log)
	in, err := pl.ForOrder(ctx, so)
	if errors.Is(err, planner.ErrNothingToPromise) {
		return fmt.Errorf("%s: nothing left to deliver, nothing to promise", so.Name)
	}
	if err != nil {
		return err
	}
	plan, err := pl.Plan(in)
	if err != nil {
		return err
	}

	if *asJSON {
		out := struct {
			SalesOrder string `json:"sales_order"`
			quote.PromiseResponse
		}{so.Name, quote.NewPromiseResponse(plan)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printPlan(stdout, so, plan)
	}
	if !*apply {
		if !*asJSON {
			fmt.Fprintln(stdout, "\nNot written: run again with --apply to write it to the order.")
		}
		return nil
	}
	return c.apply(ctx, cfg, client, pl, log, so, plan, stdout, *asJSON)
}

// openERPNext returns the configured ERPNext client, or one for an
// in-process demo sandbox when ERPNEXT_BASE_URL is unset.
func (c promiseCmd) openERPNext(cfg config.Config, log *slog.Logger, stderr io.Writer) (*erp.Client, func(), error) {
	base, key, secret := cfg.ERPNextBaseURL, cfg.ERPNextAPIKey, cfg.ERPNextAPISecret
	closeFn := func() {}
	if cfg.EmbeddedERPNext() {
		sb, url, srv, err := startSandbox("127.0.0.1:0", c.now, slog.New(slog.DiscardHandler), func(error) {})
		if err != nil {
			return nil, nil, fmt.Errorf("start the demo sandbox: %w", err)
		}
		fmt.Fprintln(stderr, "otp: ERPNEXT_BASE_URL is unset: reading an in-process sandbox with the demo data")
		base = url
		key, secret = sb.Credentials()
		// Close, not Shutdown: this command's client is the sandbox's only
		// caller and is done with it. Shutdown would wait up to 5 s for a
		// connection the client dialled for a concurrent read but never used
		// (net/http counts a connection with no request as busy for its
		// first 5 s): the "otp promise sometimes hangs 5 s" of issue 12.
		closeFn = func() {
			_ = srv.Close()
			_ = sb.Close()
		}
	}
	client, err := erp.New(base, key, secret,
		erp.WithTimeout(cfg.RequestTimeout.Duration()),
		erp.WithLogger(log.With("component", "erp")),
		erp.WithUserAgent("otp/"+version),
	)
	if err != nil {
		closeFn()
		return nil, nil, fmt.Errorf("ERPNEXT_BASE_URL: %w", err)
	}
	return client, closeFn, nil
}

// apply runs the worker's promise handler on the order, with the order's
// lock in REDIS_URL's Redis when it is set (shared with running workers),
// else in an in-process one, and reports what the order holds afterwards.
func (c promiseCmd) apply(ctx context.Context, cfg config.Config, client *erp.Client, pl *planner.Planner, log *slog.Logger,
	before *erp.SalesOrder, plan promise.Plan, stdout io.Writer, quiet bool) error {
	var rdb redis.UniversalClient
	if cfg.EmbeddedRedis() {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start an in-process Redis for the book's lock: %w", err)
		}
		defer mr.Close()
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	} else {
		var ok bool
		if rdb, ok = cfg.RedisConnOpt().MakeRedisClient().(redis.UniversalClient); !ok {
			return fmt.Errorf("REDIS_URL: unsupported connection type %T", cfg.RedisConnOpt())
		}
	}
	defer rdb.Close()
	w := worker.New(worker.Deps{
		ERP:       client,
		Planner:   pl,
		Versions:  tasks.NewVersions(rdb),
		Redis:     rdb,
		Logger:    log.With("component", "worker"),
		Now:       c.now,
		Location:  cfg.Location(),
		WriteRate: cfg.WriteRate,
	})
	task, err := tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: before.Name, Event: "cli"})
	if err != nil {
		return err
	}
	if err := w.HandlePromiseOrder(ctx, task); err != nil {
		return fmt.Errorf("write the promise: %w", err)
	}
	after, err := client.SalesOrder(ctx, before.Name)
	if err != nil {
		return fmt.Errorf("read the order back: %w", err)
	}
	written := after.PromiseDate == plan.PromiseDate.String() && after.Confidence == string(plan.Confidence)
	switch {
	case written && after.Modified != before.Modified:
		if !quiet {
			fmt.Fprintf(stdout, "\nWritten to %s: promise date %s, confidence %s.\n", after.Name, orNone(after.PromiseDate), after.Confidence)
		}
	case written:
		if !quiet {
			fmt.Fprintf(stdout, "\n%s already holds this promise: nothing written.\n", after.Name)
		}
	default:
		return fmt.Errorf("%w: %s holds promise date %s, confidence %s (the worker skips cancelled, closed, completed, on-hold and delivered orders; see the log)",
			errNotApplied, after.Name, orNone(after.PromiseDate), orNone(after.Confidence))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// printPlan writes the plan for a person: the order's promise, each line
// with its sources, then the explanation, blockers and options.
func printPlan(w io.Writer, so *erp.SalesOrder, p promise.Plan) {
	fmt.Fprintf(w, "%s  %s  (%s)\n", so.Name, firstOf(so.CustomerName, so.Customer), firstOf(so.Status, "Draft"))
	date := p.PromiseDate.String()
	if p.PromiseDate.IsZero() {
		date = "none"
	}
	fmt.Fprintf(w, "Promise:      %s  %s  %s\n", date, p.Confidence, p.Status)
	if !p.DesiredDate.IsZero() {
		verdict := "no promise"
		switch {
		case p.OnTime == nil:
		case *p.OnTime:
			verdict = "confirmed; could ship from " + p.PromiseDateRaw.String()
		default:
			verdict = fmt.Sprintf("%d working days late", p.WorkingDaysLate)
		}
		fmt.Fprintf(w, "Requested:    %s (%s)\n", p.DesiredDate, verdict)
	}
	fmt.Fprintln(w, "Lines:")
	for i, l := range p.Lines {
		ld := "no promise date"
		if !l.PromiseDate.IsZero() {
			ld = "promised " + l.PromiseDate.String()
		}
		fmt.Fprintf(w, "  %d. %s × %s at %s: %s (%s)\n", i+1, l.ItemCode, promise.FormatQty(l.QtyRequired), l.Warehouse, ld, l.Confidence)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range l.Sources {
			row := fmt.Sprintf("       %s\t%s\tavailable %s\tready %s", s.Kind, promise.FormatQty(s.Qty), s.AvailableDate, s.ShipReadyDate)
			if s.PurchaseOrder != "" {
				row += "\t" + s.PurchaseOrder + ", due " + s.ExpectedDate.String()
			}
			fmt.Fprintln(tw, row)
		}
		if l.Shortage > 0 {
			fmt.Fprintf(tw, "       short\t%s\n", promise.FormatQty(l.Shortage))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "Explanation:  %s\n", p.Explanation)
	list := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "%s\n", title)
		for _, it := range items {
			fmt.Fprintf(w, "  - %s\n", it)
		}
	}
	list("Blockers:", p.Blockers)
	var opts []string
	for _, o := range p.Options {
		opts = append(opts, o.Description+": "+o.Impact)
	}
	list("Options:", opts)
	var buy []string
	for _, s := range p.Procurement {
		buy = append(buy, fmt.Sprintf("%s %s at %s by %s", promise.FormatQty(s.Qty), s.ItemCode, s.Warehouse, s.RequiredBy))
	}
	list("To procure:", buy)
}

func firstOf(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// newPlanner is the planner of the worker and the CLI commands: the
// configured company, rules and calendar, with the history ERPNext keeps.
func newPlanner(client *erp.Client, cfg config.Config, now func() time.Time, log *slog.Logger) *planner.Planner {
	return planner.New(client, cfg.Planner(), planner.WithClock(now), planner.WithLogger(log), planner.WithHistory(client))
}
