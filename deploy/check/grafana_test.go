package check

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// The panels operating OTP needs (docs/deployment.md, "Grafana"), by title.
var wantPanels = []string{
	"Requests per second", "Latency P50 / P95 / P99", "Error rate", "CPU", "Memory",
	"ERPNext connection", "Restarts", "Queue depth", "Queue latency", "Promise outcomes",
}

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
}

// exported reads deploy/grafana/metrics.txt: metric family -> label names.
// cmd/otp's TestExportedMetricsList keeps it true to a running OTP.
func exported(tb testing.TB) map[string]map[string]bool {
	tb.Helper()
	out := map[string]map[string]bool{}
	for line := range strings.Lines(string(MustRead(tb, "deploy/grafana/metrics.txt"))) {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		ls := map[string]bool{}
		if len(f) == 3 {
			for l := range strings.SplitSeq(f[2], ",") {
				ls[l] = true
			}
		}
		// A histogram's series are NAME_bucket (with le), _sum and _count.
		if f[1] == "histogram" {
			out[f[0]+"_bucket"] = withLabel(ls, "le")
			out[f[0]+"_sum"], out[f[0]+"_count"] = ls, ls
		}
		out[f[0]] = ls
	}
	if len(out) < 10 {
		tb.Fatalf("deploy/grafana/metrics.txt lists %d series names: regenerate it (go test ./cmd/otp -run TestExportedMetricsList -update-metrics)", len(out))
	}
	return out
}

func withLabel(ls map[string]bool, l string) map[string]bool {
	out := map[string]bool{l: true}
	for k := range ls {
		out[k] = true
	}
	return out
}

// grafanaVars are Grafana's interval variables, replaced by a value PromQL
// accepts before parsing.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h")

// Labels Prometheus adds to every scraped series.
var targetLabels = map[string]bool{"job": true, "instance": true}

// checkExpr parses a dashboard expression with Prometheus's own parser and
// reports every metric or label it selects that OTP does not export.
func checkExpr(expr string, metrics map[string]map[string]bool) []string {
	// The default options: the functions every Prometheus has, no
	// experimental ones.
	e, err := parser.NewParser(parser.Options{}).ParseExpr(grafanaVars.Replace(expr))
	if err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var problems []string
	selectors := 0
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		selectors++
		ls, ok := metrics[vs.Name]
		if !ok {
			problems = append(problems, "OTP exports no "+vs.Name)
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name != model.MetricNameLabel && !ls[m.Name] && !targetLabels[m.Name] {
				problems = append(problems, vs.Name+" has no label "+m.Name)
			}
		}
		return nil
	})
	if selectors == 0 {
		problems = append(problems, "selects no metric")
	}
	return problems
}

// The checker itself: it refuses what it should.
func TestCheckExprRefuses(t *testing.T) {
	metrics := map[string]map[string]bool{"otp_build_info": {"version": true}}
	for expr, want := range map[string]string{
		`sum(rate(otp_build_info[$__rate_interval]))`: "",
		`sum(rate(otp_build_info[5m]`:                 "does not parse",
		`otp_nonexistent_total`:                       "OTP exports no otp_nonexistent_total",
		`otp_build_info{colour="red"}`:                "otp_build_info has no label colour",
		`vector(1)`:                                   "selects no metric",
	} {
		got := strings.Join(checkExpr(expr, metrics), "; ")
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("checkExpr(%q) = %q, want %q", expr, got, want)
		}
	}
}

// Every expression of deploy/grafana/otp.json parses and selects only
// metrics and labels OTP exports; the panels operating OTP needs are there.
func TestGrafanaDashboard(t *testing.T) {
	var d dashboard
	if err := json.Unmarshal(MustRead(t, "deploy/grafana/otp.json"), &d); err != nil {
		t.Fatal(err)
	}
	metrics := exported(t)
	exprs := 0
	var titles []string
	for _, p := range d.Panels {
		titles = append(titles, p.Title)
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			for _, problem := range checkExpr(tg.Expr, metrics) {
				t.Errorf("panel %q: %s: %s", p.Title, tg.Expr, problem)
			}
		}
	}
	for _, want := range wantPanels {
		if !slices.ContainsFunc(titles, func(t string) bool { return strings.HasPrefix(t, want) }) {
			t.Errorf("no panel %q among %q", want, titles)
		}
	}
	t.Logf("%d panels, %d expressions checked", len(d.Panels), exprs)
}
