package migrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/migrations"
)

// installedScripts returns the Form and List scripts exactly as step 0004
// installs them (marker line included).
func installedScripts(tb testing.TB) (form, list string) {
	tb.Helper()
	for _, st := range migrations.Steps() {
		for _, d := range st.Documents(migrations.Config{}) {
			switch d.Name {
			case migrations.ClientScriptForm:
				form = d.Fields["script"].(string)
			case migrations.ClientScriptList:
				list = d.Fields["script"].(string)
			}
		}
	}
	if form == "" || list == "" {
		tb.Fatal("step 0004 has no Form or List script")
	}
	return form, list
}

// browserCase is one Sales Order as the desk holds it.
type browserCase struct {
	Name string         `json:"name"`
	Doc  map[string]any `json:"doc"`
}

// rendered is what the page shows for one case.
type rendered struct {
	Headline    string // the form message's colour class; "hidden" when none
	Pill        string // the form indicator's colour class
	PillText    string
	PillColour  string // computed CSS colour
	Explanation string
	List        string // the list indicator's colour class
	ListText    string
	ListFilter  string
}

// The Client Scripts of step 0004 in a real headless Chromium, against a
// page that stands in for the Frappe desk (testdata/clientscript): the form
// headline's indicator and text for HIGH, MEDIUM, LOW and not promised, and
// the list indicator, which keeps ERPNext's label, filter and settings.
func TestClientScriptsInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if browser, err = exec.LookPath("chromium-browser"); err != nil {
			t.Skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
		}
	}
	form, list := installedScripts(t)
	order := func(status string, docstatus int, fields map[string]any) map[string]any {
		d := map[string]any{"doctype": "Sales Order", "status": status, "docstatus": docstatus, "delivery_date": "2026-12-10", "per_delivered": 0, "per_billed": 0}
		for k, v := range fields {
			d[k] = v
		}
		return d
	}
	cases := []browserCase{
		{"high", order("To Deliver and Bill", 1, map[string]any{"custom_otp_confidence": "HIGH", "custom_otp_promise_date": "2026-12-04", "custom_otp_status": "OK",
			"custom_otp_explanation": "SKU-001: 10 from stock at Stores - WH"})},
		{"medium", order("To Deliver and Bill", 1, map[string]any{"custom_otp_confidence": "MEDIUM", "custom_otp_promise_date": "2026-12-09", "custom_otp_status": "OK",
			"custom_otp_explanation": "SKU-050: 5 from PUR-ORD-2026-00001 due 2026-12-02"})},
		{"low", order("To Deliver and Bill", 1, map[string]any{"custom_otp_confidence": "LOW", "custom_otp_promise_date": "2026-12-24", "custom_otp_status": "CANNOT_FULFILL",
			"custom_otp_explanation": "SKU-050: short 5 <b>Nos</b>"})},
		{"not-promised", order("To Deliver and Bill", 1, nil)},
		{"on-hold", order("On Hold", 1, map[string]any{"custom_otp_status": "Not promised: order is On Hold"})},
		{"overdue", order("To Deliver and Bill", 1, map[string]any{"custom_otp_confidence": "HIGH", "custom_otp_promise_date": "2026-12-04", "delivery_date": "2026-11-30",
			"custom_otp_explanation": "SKU-001: 10 from stock at Stores - WH"})},
		{"draft", order("Draft", 0, map[string]any{"custom_otp_confidence": "MEDIUM", "custom_otp_promise_date": "2026-12-09", "custom_otp_explanation": "SKU-050: 5 from PUR-ORD-2026-00001 due 2026-12-02"})},
		{"new", order("Draft", 0, map[string]any{"__islocal": 1})},
	}

	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir("testdata/clientscript")))
	js := func(src string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = w.Write([]byte(src))
		}
	}
	mux.HandleFunc("/form.js", js(form))
	mux.HandleFunc("/list.js", js(list))
	mux.HandleFunc("/cases.json", func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(cases) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.WindowSize(1000, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	type listSettings struct {
		AddFields        []string `json:"add_fields"`
		ERPNextOnloadRan bool     `json:"erpnext_onload_ran"`
	}
	const collect = `(() => {
		const out = {};
		const text = (el) => (el ? el.textContent : "");
		const colour = (el, prefix) => (el ? [...el.classList].find((c) => ["green", "orange", "red", "gray", "blue", "yellow"].includes(c)) || "" : "");
		for (const c of %s) {
			const msg = document.getElementById("form-" + c);
			const pill = msg.querySelector(".otp-promise");
			const li = document.getElementById("list-" + c);
			out[c] = {
				Headline: msg.classList.contains("hidden") ? "hidden" : colour(msg),
				Pill: colour(pill), PillText: text(pill),
				PillColour: pill ? getComputedStyle(pill).color : "",
				Explanation: text(msg.querySelector(".otp-promise-explanation")),
				List: colour(li), ListText: text(li), ListFilter: li.dataset.filter,
			};
		}
		return out;
	})()`
	names, _ := json.Marshal(func() []string {
		var n []string
		for _, c := range cases {
			n = append(n, c.Name)
		}
		return n
	}())
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/index.html"), chromedp.WaitReady(`body[data-rendered="yes"]`)); err != nil {
		t.Fatalf("chromium: load the page: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]rendered](fmt.Sprintf(collect, string(names))))
	if err != nil {
		t.Fatalf("chromium: read the page: %v", err)
	}
	settings, err := chromedp.Run(ctx, chromedp.Evaluate[listSettings](`window.otp_results`))
	if err != nil {
		t.Fatalf("chromium: read the list settings: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	saveScreenshot(t, shot) // quality 100: PNG

	const (
		green  = "rgb(22, 121, 76)"
		orange = "rgb(189, 62, 12)"
		red    = "rgb(204, 41, 41)"
		gray   = "rgb(82, 82, 82)"
	)
	toDeliver := "per_delivered,<,100|per_billed,<,100|status,!=,Closed"
	want := map[string]rendered{
		"high": {"green", "green", "Promised 04-12-2026 (HIGH)", green, "SKU-001: 10 from stock at Stores - WH",
			"green", "To Deliver and Bill · promised 04-12-2026", toDeliver},
		"medium": {"orange", "orange", "Promised 09-12-2026 (MEDIUM)", orange, "SKU-050: 5 from PUR-ORD-2026-00001 due 2026-12-02",
			"orange", "To Deliver and Bill · promised 09-12-2026", toDeliver},
		"low": {"red", "red", "Promised 24-12-2026 (LOW)", red, "SKU-050: short 5 <b>Nos</b>",
			"red", "To Deliver and Bill · promised 24-12-2026", toDeliver},
		"not-promised": {"blue", "gray", "Not promised", gray, "OTP has not promised this order yet.",
			"gray", "To Deliver and Bill · not promised", toDeliver},
		"on-hold": {"blue", "gray", "Not promised", gray, "Not promised: order is On Hold",
			"orange", "On Hold", "status,=,On Hold"},
		"overdue": {"green", "green", "Promised 04-12-2026 (HIGH)", green, "SKU-001: 10 from stock at Stores - WH",
			"green", "Overdue · promised 04-12-2026", "per_delivered,<,100|delivery_date,<,Today|status,!=,Closed"},
		"draft": {"orange", "orange", "Promised 09-12-2026 (MEDIUM)", orange, "SKU-050: 5 from PUR-ORD-2026-00001 due 2026-12-02",
			"red", "Draft", "docstatus,=,0"},
		"new": {Headline: "hidden", List: "red", ListText: "Draft", ListFilter: "docstatus,=,0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rendered (-want +got):\n%s", diff)
	}
	wantFields := []string{"base_grand_total", "customer_name", "currency", "delivery_date", "per_delivered", "per_billed", "status", "order_type", "name", "skip_delivery_note",
		"custom_otp_promise_date", "custom_otp_confidence", "custom_otp_status"}
	if diff := cmp.Diff(wantFields, settings.AddFields); diff != "" {
		t.Errorf("list add_fields: ERPNext's then OTP's (-want +got):\n%s", diff)
	}
	if !settings.ERPNextOnloadRan {
		t.Error("ERPNext's list onload was dropped by the List script")
	}
}

// saveScreenshot writes the page's screenshot to $OTP_TEST_ARTIFACTS (CI
// keeps it) or the test's temporary directory, and logs where.
func saveScreenshot(t *testing.T, png []byte) {
	t.Helper()
	dir := os.Getenv("OTP_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "client-scripts.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the Client Scripts: %s (%d bytes; set OTP_TEST_ARTIFACTS to keep it after the test)", path, len(png))
}
