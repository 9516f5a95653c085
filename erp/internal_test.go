package erp

import (
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
