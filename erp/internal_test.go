package erp

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{" 7 ", 7 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{"Mon, 03 Mar 2025 10:00:30 GMT", 30 * time.Second},
		{"Mon, 03 Mar 2025 09:59:00 GMT", 0}, // in the past
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestStripExceptionClass(t *testing.T) {
	tests := []struct{ in, want string }{
		{"frappe.exceptions.ValidationError: Row #1: bad", "Row #1: bad"},
		{"frappe.exceptions.PermissionError", "PermissionError"},
		{"Something went wrong: badly", "Something went wrong: badly"},
		{"pymysql.err.OperationalError: (1205, 'Lock wait')", "(1205, 'Lock wait')"},
	}
	for _, tt := range tests {
		if got := stripExceptionClass(tt.in); got != tt.want {
			t.Errorf("stripExceptionClass(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSnippetIsShort(t *testing.T) {
	got := snippet([]byte("<p>" + strings.Repeat("é", 300) + "</p>"))
	if n := len([]rune(got)); n > snippetLen {
		t.Errorf("snippet has %d runes, want <= %d", n, snippetLen)
	}
	if !strings.HasSuffix(got, "…") || strings.Contains(got, "<p>") {
		t.Errorf("snippet = %q", got)
	}
}

func TestLongestList(t *testing.T) {
	codes := make([]string, 60)
	tests := []struct {
		filters []any
		want    int
	}{
		{nil, 0},
		{[]any{[]any{"docstatus", "=", 1}}, 3},
		{[]any{[]any{"item_code", "in", codes}, []any{"docstatus", "=", 1}}, 60},
		{[]any{[]any{"Purchase Order Item", "item_code", "in", []any{"a", "b", "c", "d", "e"}}}, 5},
		{[]any{map[string]any{"item_code": []any{"in", codes[:52]}}}, 52},
	}
	for _, tt := range tests {
		if got := longestList(tt.filters); got != tt.want {
			t.Errorf("longestList(%v) = %d, want %d", tt.filters, got, tt.want)
		}
	}
}

// MustSalesOrderBody is the sales_order.json fixture with its lines repeated
// to n.
func MustSalesOrderBody(tb testing.TB, n int) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sales_order.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		tb.Fatal(err)
	}
	items := doc["data"]["items"].([]any)
	for i := len(items); i < n; i++ {
		row := maps.Clone(items[i%2].(map[string]any))
		row["name"], row["idx"] = fmt.Sprintf("row-%03d", i), float64(i+1)
		items = append(items, row)
	}
	doc["data"]["items"] = items
	out, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// A Sales Order body is decoded once: into the map kept as Raw, with the
// typed fields read from it. Decoding it again into a struct was a third of
// a 100-line promise's CPU (README, Performance). So decodeSalesOrder
// allocates what one decode of the body into a map does, and a few more
// (the SalesOrder and its Items), whatever the number of lines.
func TestDecodeSalesOrderDecodesOnce(t *testing.T) {
	k := docCall("GET", "Sales Order", "SAL-ORD-2025-00042")
	for _, lines := range []int{2, 100} {
		body := MustSalesOrderBody(t, lines)
		so, err := decodeSalesOrder(k, body)
		if err != nil {
			t.Fatal(err)
		}
		if len(so.Items) != lines || len(so.Raw["items"].([]any)) != lines {
			t.Fatalf("%d lines: decoded %d items, %d raw rows", lines, len(so.Items), len(so.Raw["items"].([]any)))
		}
		once := testing.AllocsPerRun(20, func() {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
		})
		got := testing.AllocsPerRun(20, func() {
			if _, err := decodeSalesOrder(k, body); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%d lines: decodeSalesOrder %.0f allocs, one decode into a map %.0f", lines, got, once)
		if got > once+8 {
			t.Errorf("%d lines: decodeSalesOrder allocates %.0f times, want at most one decode into a map (%.0f) + 8", lines, got, once)
		}
	}
}
