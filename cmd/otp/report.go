package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/erpnext-otp/otp/accuracy"
	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// reportCmd is `otp report accuracy --from DATE --to DATE [--company C]
// [--json]`: the accuracy report of docs/accuracy.md, read from the
// configured ERPNext (the demo sandbox when ERPNEXT_BASE_URL is unset).
type reportCmd struct {
	environ map[string]string // nil: the process environment
	now     func() time.Time
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return reportCmd{now: time.Now}.run(ctx, args, stdout, stderr)
}

const reportUsage = "usage: otp report accuracy [--from DATE] [--to DATE] [--company C] [--json]"

func (c reportCmd) run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, reportUsage)
		return errHelp
	}
	if len(args) == 0 || args[0] != "accuracy" {
		fmt.Fprintln(stderr, reportUsage)
		return errUsage
	}
	fs := newFlags("report accuracy", stderr)
	fromS := fs.String("from", "", "first delivery day, YYYY-MM-DD (default: 29 days before --to)")
	toS := fs.String("to", "", "last delivery day, YYYY-MM-DD (default: today)")
	company := fs.String("company", "", "the company (default OTP_COMPANY, else every company)")
	asJSON := fs.Bool("json", false, "print the report as JSON (the body GET /otp/report/accuracy answers)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), reportUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := config.Load(c.environ)
	if err != nil {
		return err
	}
	to := promise.DateOf(c.now().In(cfg.Location()))
	if *toS != "" {
		if to, err = promise.ParseDate(*toS); err != nil {
			return fmt.Errorf("--to %q is not a date (YYYY-MM-DD): %w", *toS, errUsage)
		}
	}
	from := to.AddDays(-29)
	if *fromS != "" {
		if from, err = promise.ParseDate(*fromS); err != nil {
			return fmt.Errorf("--from %q is not a date (YYYY-MM-DD): %w", *fromS, errUsage)
		}
	}
	if from > to || from.DaysUntil(to) >= planner.MaxReportDays {
		return fmt.Errorf("--from %s --to %s: the window must run forwards, at most a year: %w", from, to, errUsage)
	}

	log := newLogger(stderr, cfg.SlogLevel())
	client, closeERP, err := promiseCmd{now: c.now}.openERPNext(cfg, log, stderr)
	if err != nil {
		return err
	}
	defer closeERP()
	pl := newPlanner(client, cfg, c.now, log)
	r, err := pl.AccuracyReport(ctx, from, to, *company, cfg.AccuracyProbabilityMap())
	if errors.Is(err, accuracy.ErrInvalidInput) {
		return fmt.Errorf("%w: %w", err, errUsage)
	}
	if err != nil {
		return fmt.Errorf("read the history from ERPNext: check %s: %w", erpHint(err), err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(stdout, r)
	return nil
}

func pct(f float64) string { return fmt.Sprintf("%.0f %%", f*100) }

// printReport writes the report as tables a sales manager reads.
func printReport(w io.Writer, r *accuracy.Report) {
	fmt.Fprintf(w, "Promise accuracy, lines delivered %s to %s: %d delivered, %d measured\n\n",
		r.From, r.To, r.DeliveredLine, r.Measured)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "against\tlines\ton time in full\tOTIF\tlate\tnot in full\tp50 late\tp90 late\t")
	for _, b := range []struct {
		name string
		b    accuracy.Basis
	}{{"first promise", r.First}, {"latest promise", r.Latest}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%d\t%d\t\n", b.name, b.b.Lines, b.b.OTIF, pct(b.b.Ratio), b.b.Late,
			b.b.NotInFull, b.b.P50, b.b.P90)
	}
	tw.Flush()
	fmt.Fprintln(w, "(late: working days after the promise)")
	fmt.Fprintf(w, "\nRe-promised: %d of %d lines (%s), %d changes in all, at most %d on one line\n\n",
		r.Repromised, r.Measured, pct(r.RepromisedShare), r.Repromises, r.MaxRepromises)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "confidence\tlines\tkept\thit rate\tprobability\t")
	for _, t := range r.Tiers {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%.2f\t\n", t.Confidence, t.Lines, t.Hits, pct(t.HitRate), t.Probability)
	}
	tw.Flush()
	fmt.Fprintf(w, "Brier score %.3f over %d lines (0 is perfect; probabilities: %s)\n", r.Brier, r.BrierLines, r.Probabilities)

	for _, dim := range []struct{ key, title string }{
		{accuracy.BySource, "source"}, {accuracy.ByItemGroup, "item group"}, {accuracy.ByWarehouse, "warehouse"},
	} {
		groups := r.Breakdowns[dim.key]
		if len(groups) == 0 {
			continue
		}
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "by %s\tlines\tOTIF first\tOTIF latest\tp90 late\tre-promised\tBrier\t\n", dim.title)
		for _, g := range groups {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%s\t%.3f\t\n", g.Key, g.Measured, pct(g.First.Ratio), pct(g.Latest.Ratio),
				g.Latest.P90, pct(g.RepromisedShare), g.Brier)
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nSuppliers, receipts of the %d days to %s against the PO line's date:\n", r.SupplierWindowDays, r.To)
	if len(r.Suppliers) == 0 {
		fmt.Fprintln(w, "  no receipts against purchase order lines")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "supplier\treceipts\ton time\trate\tp50 late\tp90 late\t")
		for _, s := range r.Suppliers {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t\n", s.Supplier, s.Receipts, s.OnTime, pct(s.Rate), s.P50, s.P90)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nLimits (counted, not hidden):")
	l := r.Limits
	for _, x := range []struct {
		what string
		l    accuracy.Limit
	}{
		{"delivered without an OTP promise (not measured)", l.Unpromised},
		{"promised before the first-promise field existed (latest promise only)", l.NoFirstPromise},
		{"not delivered in full in the window (a miss once the promise passed)", l.Partial},
		{"of those, promised after the window (not measured)", l.NotYetDue},
		{"delivered in full over several notes", l.Split},
		{"with a return in the window (the return ignored)", l.Returns},
	} {
		fmt.Fprintf(w, "  %d %s", x.l.Count, x.what)
		if len(x.l.Names) > 0 {
			more := ""
			if x.l.Count > len(x.l.Names) {
				more = fmt.Sprintf(" and %d more", x.l.Count-len(x.l.Names))
			}
			fmt.Fprintf(w, ": %s%s", strings.Join(x.l.Names, ", "), more)
		}
		fmt.Fprintln(w)
	}
}
