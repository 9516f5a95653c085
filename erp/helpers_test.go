package erp_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/erpnext-otp/otp/erp"
)

const (
	testKey    = "k3y"
	testSecret = "s3cret"
)

// recorded is one request the fake ERPNext received.
type recorded struct {
	Method string
	Path   string // unescaped
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeERP is an httptest ERPNext whose answers come from handle.
type fakeERP struct {
	*httptest.Server
	handle func(w http.ResponseWriter, r *http.Request, n int) // n counts requests from 1

	mu   sync.Mutex
	reqs []recorded
}

func newFakeERP(tb testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int), configure ...func(*http.Server)) *fakeERP {
	tb.Helper()
	f := &fakeERP{handle: handle}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		n := len(f.reqs)
		f.mu.Unlock()
		f.handle(w, r, n)
	}))
	for _, c := range configure {
		c(f.Config)
	}
	f.Start()
	tb.Cleanup(f.Close)
	return f
}

func (f *fakeERP) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// MustClient builds a client with fast retries for tests.
func MustClient(tb testing.TB, baseURL string, opts ...erp.Option) *erp.Client {
	tb.Helper()
	all := append([]erp.Option{
		erp.WithRetry(4, time.Millisecond, 5*time.Millisecond),
		erp.WithTimeout(5 * time.Second),
	}, opts...)
	c, err := erp.New(baseURL, testKey, testSecret, all...)
	if err != nil {
		tb.Fatalf("erp.New(%q): %v", baseURL, err)
	}
	return c
}

// MustReadFile reads a file under testdata.
func MustReadFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// reply writes a JSON body with a status.
func reply(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// mustJSON decodes a JSON query parameter or body.
func mustJSON(tb testing.TB, s []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(s, &v); err != nil {
		tb.Fatalf("decode %q: %v", s, err)
	}
	return v
}

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	tb.Cleanup(cancel)
	return ctx
}
