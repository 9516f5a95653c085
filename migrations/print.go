package migrations

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteStatus prints each step's state, then each document that is not
// applied (or is adopted) with what differs.
func WriteStatus(w io.Writer, steps []StepStatus) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATE\tDOCUMENTS")
	for _, st := range steps {
		n := map[State]int{}
		adopted := 0
		for _, d := range st.Docs {
			n[d.State]++
			if d.Adopted {
				adopted++
			}
		}
		var parts []string
		for _, s := range []State{Applied, Pending, Drifted, Conflict} {
			if n[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n[s], s))
			}
		}
		if adopted > 0 {
			parts = append(parts, fmt.Sprintf("%d adopted", adopted))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.Step.ID, st.State, strings.Join(parts, ", "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, st := range steps {
		for _, d := range st.Docs {
			if d.State == Applied && !d.Adopted && len(d.Notes) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s %s %q: %s", st.Step.ID, d.DocType, d.Name, d.State)
			if d.Adopted {
				fmt.Fprint(w, " (adopted)")
			}
			fmt.Fprintln(w)
			if d.Reason != "" && d.State != Pending {
				fmt.Fprintf(w, "    %s\n", d.Reason)
			}
			for _, df := range d.Diffs {
				fmt.Fprintf(w, "    %s\n        have %s\n        want %s\n", df.Field, df.Have, df.Want)
			}
			for _, note := range d.Notes {
				fmt.Fprintf(w, "    note: %s\n", note)
			}
		}
	}
	return nil
}

// WritePlan prints what a plan does (or did, once applied) per document,
// then a summary; a dry run prints the writes as METHOD PATH BODY instead.
func WritePlan(w io.Writer, p *Plan, dryRun bool) error {
	if dryRun {
		writes := p.Writes()
		fmt.Fprintf(w, "dry run: %d write(s) would be made; none was made (the site was only read)\n", len(writes))
		for _, c := range writes {
			fmt.Fprintln(w, c.String())
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tDOCUMENT\tACTION\tDETAIL")
	counts := map[Op]int{}
	var order []Op
	for _, a := range p.Actions {
		op := string(a.Op)
		if a.Call != nil && !a.Done {
			op += " (not done)"
		}
		line := fmt.Sprintf("%s\t%s %s\t%s", a.Step, a.DocType, a.Name, op)
		if a.Detail != "" {
			line += "\t" + a.Detail
		}
		fmt.Fprintln(tw, line)
		if counts[a.Op] == 0 {
			order = append(order, a.Op)
		}
		counts[a.Op]++
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, op := range order {
		parts = append(parts, fmt.Sprintf("%d %s", counts[op], op))
	}
	planned, done := 0, 0
	for _, a := range p.Actions {
		if a.Call != nil {
			planned++
			if a.Done {
				done++
			}
		}
	}
	summary := fmt.Sprintf("%d writes", planned)
	if done < planned {
		summary = fmt.Sprintf("%d of %d writes made", done, planned)
	}
	_, err := fmt.Fprintf(w, "\n%s: %s\n", summary, strings.Join(parts, ", "))
	return err
}

// WriteCheck prints the API user, its roles, and each need: ok or missing,
// how it was decided, and what to grant.
func WriteCheck(w io.Writer, r *CheckResult) error {
	fmt.Fprintf(w, "ERPNext API user: %s\n", r.User)
	switch {
	case r.Roles == nil && r.User == "Administrator":
		fmt.Fprintln(w, "roles: all (Administrator)")
	case r.Roles == nil:
		fmt.Fprintln(w, "roles: unknown")
	default:
		fmt.Fprintf(w, "roles: %s\n", strings.Join(r.Roles, ", "))
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NEED\tSTATUS\tHOW\tWHY")
	for _, n := range r.Results {
		status := "ok"
		if !n.OK {
			status = "MISSING"
			if !n.Required {
				status = "missing (optional)"
			}
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\n", n.Perm, n.DocType, status, n.How, n.Why)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	missing := 0
	for _, n := range r.Results {
		if n.OK {
			continue
		}
		if missing == 0 {
			fmt.Fprintln(w, "\nTo grant:")
		}
		missing++
		fmt.Fprintf(w, "  %s %s: %s\n", n.Perm, n.DocType, n.Grant)
	}
	if r.OK() {
		_, err := fmt.Fprintln(w, "\nEverything OTP requires is allowed.")
		return err
	}
	_, err := fmt.Fprintln(w, "\nSomething OTP requires is missing.")
	return err
}
