package config

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/erpnext-otp/otp/promise"
)

// prod is a complete production environment.
func prod() map[string]string {
	return map[string]string{
		"OTP_ENV":            "production",
		"ERPNEXT_BASE_URL":   "https://erp.example.com",
		"ERPNEXT_API_KEY":    "k",
		"ERPNEXT_API_SECRET": "s",
		"REDIS_URL":          "redis://redis:6379/0",
		"OTP_WEBHOOK_SECRET": "shh",
	}
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<unset>" {
			delete(out, kv[i])
			continue
		}
		out[kv[i]] = kv[i+1]
	}
	return out
}

// MustLoad loads environ and fails the test on error.
func MustLoad(tb testing.TB, environ map[string]string) Config {
	tb.Helper()
	c, err := Load(environ)
	if err != nil {
		tb.Fatalf("Load(%v): %v", environ, err)
	}
	return c
}

func TestDefaults(t *testing.T) {
	c := MustLoad(t, map[string]string{})
	got := map[string]any{
		"HTTPAddr":          c.HTTPAddr,
		"WorkerAddr":        c.WorkerAddr,
		"Env":               c.Env,
		"PublicURL":         c.PublicURL,
		"SandboxAddr":       c.SandboxAddr,
		"DefaultWarehouse":  c.DefaultWarehouse,
		"WorkerConcurrency": c.WorkerConcurrency,
		"ReconcileInterval": c.ReconcileInterval,
		"ShutdownTimeout":   c.ShutdownTimeout,
		"DrainDelay":        c.DrainDelay,
		"RequestTimeout":    c.RequestTimeout.Duration(),
		"Weekend":           c.Weekend(),
		"Location":          c.Location().String(),
		"SlogLevel":         c.SlogLevel(),
		"EmbeddedRedis":     c.EmbeddedRedis(),
		"EmbeddedERPNext":   c.EmbeddedERPNext(),
		"RedisConnOpt":      c.RedisConnOpt() == nil,
	}
	want := map[string]any{
		"HTTPAddr":          ":8001",
		"WorkerAddr":        ":9091",
		"Env":               "development",
		"PublicURL":         "http://localhost:8001",
		"SandboxAddr":       "127.0.0.1:8000",
		"DefaultWarehouse":  "Stores - WH",
		"WorkerConcurrency": 10,
		"ReconcileInterval": 10 * time.Minute,
		"ShutdownTimeout":   25 * time.Second,
		"DrainDelay":        time.Duration(0),
		"RequestTimeout":    15 * time.Second,
		"Weekend":           []time.Weekday{time.Saturday, time.Sunday},
		"Location":          "UTC",
		"SlogLevel":         slog.LevelInfo,
		"EmbeddedRedis":     true,
		"EmbeddedERPNext":   true,
		"RedisConnOpt":      true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	// README.md#configure's rule defaults are the engine's defaults.
	if diff := cmp.Diff(promise.DefaultRules(), c.Rules(), cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("Rules() (-want +got):\n%s", diff)
	}
}

// TestCutoffGrammar: OTP_CUTOFF_TIME takes what a quote's cutoff_time
// takes (promise.ParseClock, Python's %H:%M).
func TestCutoffGrammar(t *testing.T) {
	for s, want := range map[string][2]int{"14:00": {14, 0}, "9:5": {9, 5}, "09:05": {9, 5}, " 0:0 ": {0, 0}, "23:59": {23, 59}} {
		r := MustLoad(t, map[string]string{"OTP_CUTOFF_TIME": s}).Rules()
		if got := [2]int{r.CutoffHour, r.CutoffMinute}; got != want {
			t.Errorf("OTP_CUTOFF_TIME=%q: %v, want %v", s, got, want)
		}
	}
}

func TestRules(t *testing.T) {
	c := MustLoad(t, map[string]string{
		"OTP_TIMEZONE":               "Asia/Riyadh",
		"OTP_WEEKEND_DAYS":           "friday, SAT",
		"OTP_CUTOFF_TIME":            "09:30",
		"OTP_PROCESSING_DAYS":        "2",
		"OTP_BUFFER_DAYS":            "0",
		"OTP_DEFAULT_LEAD_TIME_DAYS": "14",
		"OTP_CONFIDENCE_FAR_PO_DAYS": "10",
		"REQUEST_TIMEOUT":            "1500ms",
		"LOG_LEVEL":                  "warning",
	})
	r := c.Rules()
	got := []any{r.Location.String(), r.CutoffHour, r.CutoffMinute, r.ProcessingDays, r.BufferDays,
		r.DefaultLeadTimeDays, r.Confidence.FarPODays, r.NoWeekends, c.Weekend(), c.RequestTimeout.Duration(), c.SlogLevel()}
	want := []any{"Asia/Riyadh", 9, 30, 2, 0, 14, 10, true, []time.Weekday{time.Friday, time.Saturday}, 1500 * time.Millisecond, slog.LevelWarn}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestProductionAcceptsCompleteConfig(t *testing.T) {
	c := MustLoad(t, prod())
	if !c.Production() || c.EmbeddedRedis() || c.EmbeddedERPNext() || c.RedisConnOpt() == nil {
		t.Errorf("production config: Production=%v EmbeddedRedis=%v EmbeddedERPNext=%v", c.Production(), c.EmbeddedRedis(), c.EmbeddedERPNext())
	}
}

func TestInvalidNamesTheVariable(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		want    []string // variables named, in order
	}{
		{"bad ERPNext URL", with(nil, "ERPNEXT_BASE_URL", "erp.example.com", "ERPNEXT_API_KEY", "k", "ERPNEXT_API_SECRET", "s"), []string{"ERPNEXT_BASE_URL"}},
		{"URL without key", with(nil, "ERPNEXT_BASE_URL", "http://erp"), []string{"ERPNEXT_API_KEY", "ERPNEXT_API_SECRET"}},
		{"key without URL", with(nil, "ERPNEXT_API_KEY", "k"), []string{"ERPNEXT_BASE_URL"}},
		{"bad redis URL", with(nil, "REDIS_URL", "mysql://x"), []string{"REDIS_URL"}},
		{"bad env", with(nil, "OTP_ENV", "prod"), []string{"OTP_ENV"}},
		{"bad tz", with(nil, "OTP_TIMEZONE", "Mars/Olympus"), []string{"OTP_TIMEZONE"}},
		{"Local tz", with(nil, "OTP_TIMEZONE", "Local"), []string{"OTP_TIMEZONE"}},
		{"bad cutoff", with(nil, "OTP_CUTOFF_TIME", "2pm"), []string{"OTP_CUTOFF_TIME"}},
		{"cutoff out of range", with(nil, "OTP_CUTOFF_TIME", "24:30"), []string{"OTP_CUTOFF_TIME"}},
		{"cutoff with seconds", with(nil, "OTP_CUTOFF_TIME", "14:00:00"), []string{"OTP_CUTOFF_TIME"}},
		{"bad weekday", with(nil, "OTP_WEEKEND_DAYS", "Saturday,Caturday"), []string{"OTP_WEEKEND_DAYS"}},
		{"negative days", with(nil, "OTP_PROCESSING_DAYS", "-1", "OTP_BUFFER_DAYS", "-2"), []string{"OTP_PROCESSING_DAYS", "OTP_BUFFER_DAYS"}},
		{"negative lead time", with(nil, "OTP_DEFAULT_LEAD_TIME_DAYS", "-3"), []string{"OTP_DEFAULT_LEAD_TIME_DAYS"}},
		{"not a number", with(nil, "OTP_BUFFER_DAYS", "one"), []string{"OTP_BUFFER_DAYS"}},
		{"share out of range", with(nil, "OTP_CONFIDENCE_LOW_SHORTAGE_SHARE", "10"), []string{"OTP_CONFIDENCE_LOW_SHORTAGE_SHARE"}},
		{"zero concurrency", with(nil, "OTP_WORKER_CONCURRENCY", "0"), []string{"OTP_WORKER_CONCURRENCY"}},
		{"bad interval", with(nil, "OTP_RECONCILE_INTERVAL", "often"), []string{"OTP_RECONCILE_INTERVAL"}},
		{"zero shutdown", with(nil, "OTP_SHUTDOWN_TIMEOUT", "0s"), []string{"OTP_SHUTDOWN_TIMEOUT"}},
		{"negative drain delay", with(nil, "OTP_DRAIN_DELAY", "-1s"), []string{"OTP_DRAIN_DELAY"}},
		{"bad request timeout", with(nil, "REQUEST_TIMEOUT", "soon"), []string{"REQUEST_TIMEOUT"}},
		{"bad log level", with(nil, "LOG_LEVEL", "LOUD"), []string{"LOG_LEVEL"}},
		{"bad public URL", with(nil, "OTP_PUBLIC_URL", "localhost:8001"), []string{"OTP_PUBLIC_URL"}},
		{"HTTP address without a colon", with(nil, "OTP_HTTP_ADDR", "8001"), []string{"OTP_HTTP_ADDR"}},
		{"HTTP address without a port", with(nil, "OTP_HTTP_ADDR", "0.0.0.0"), []string{"OTP_HTTP_ADDR"}},
		{"worker address without a colon", with(nil, "OTP_WORKER_ADDR", "9091"), []string{"OTP_WORKER_ADDR"}},
		{"worker address without a port", with(nil, "OTP_WORKER_ADDR", "localhost:"), []string{"OTP_WORKER_ADDR"}},
		{"half dashboard credentials", with(nil, "OTP_DASHBOARD_USER", "ops"), []string{"OTP_DASHBOARD_PASSWORD"}},
		{"CORS origin with a path", with(nil, "OTP_CORS_ORIGINS", "https://crm.example.com/app"), []string{"OTP_CORS_ORIGINS"}},
		{"CORS origin without scheme", with(nil, "OTP_CORS_ORIGINS", "https://a.example.com, crm.example.com"), []string{"OTP_CORS_ORIGINS"}},
		{"CORS wildcard pattern", with(nil, "OTP_CORS_ORIGINS", "https://*.example.com"), []string{"OTP_CORS_ORIGINS"}},
		{"CORS * in production", with(prod(), "OTP_CORS_ORIGINS", "*"), []string{"OTP_CORS_ORIGINS"}},
		{"production without ERPNext", with(prod(), "ERPNEXT_BASE_URL", "<unset>", "ERPNEXT_API_KEY", "<unset>", "ERPNEXT_API_SECRET", "<unset>"), []string{"ERPNEXT_BASE_URL"}},
		{"production without Redis", with(prod(), "REDIS_URL", "<unset>"), []string{"REDIS_URL"}},
		{"production without secret", with(prod(), "OTP_WEBHOOK_SECRET", "<unset>"), []string{"OTP_WEBHOOK_SECRET"}},
		{"production with empty secret", with(prod(), "OTP_WEBHOOK_SECRET", ""), []string{"OTP_WEBHOOK_SECRET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.environ)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
			}
			var got []string
			for _, e := range unjoin(err) {
				var ve *VarError
				if !errors.As(e, &ve) {
					t.Fatalf("%v is not a *VarError", e)
				}
				got = append(got, ve.Var)
				if !strings.Contains(e.Error(), ve.Var) {
					t.Errorf("message %q does not name %s", e, ve.Var)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("variables named (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestSchemelessRedisURLGetsAHint(t *testing.T) {
	_, err := Load(with(nil, "REDIS_URL", "localhost:6379"))
	want := `config: REDIS_URL: "localhost:6379" has no scheme: write it as redis://localhost:6379 (or rediss:// for TLS)`
	if err == nil || err.Error() != want {
		t.Errorf("Load(REDIS_URL=localhost:6379) = %v, want %s", err, want)
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestEmptyWeekendMeansNoWeekend(t *testing.T) {
	// An empty value takes the default, so "no weekend" is spelled with a comma.
	c := MustLoad(t, map[string]string{"OTP_WEEKEND_DAYS": ","})
	if got := c.Weekend(); len(got) != 0 {
		t.Errorf("Weekend() = %v, want none", got)
	}
}

func TestCORSOrigins(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		want    []string
	}{
		{"unset: no CORS", map[string]string{}, nil},
		{"empty: no CORS", map[string]string{"OTP_CORS_ORIGINS": ""}, nil},
		{"a list, trimmed, repeats dropped", map[string]string{"OTP_CORS_ORIGINS": " https://crm.example.com,http://localhost:3000 , https://crm.example.com,"},
			[]string{"https://crm.example.com", "http://localhost:3000"}},
		{"* outside production", map[string]string{"OTP_CORS_ORIGINS": "*"}, []string{"*"}},
		{"origins in production", with(prod(), "OTP_CORS_ORIGINS", "https://crm.example.com"), []string{"https://crm.example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MustLoad(t, tt.environ).AllowedOrigins()); diff != "" {
				t.Errorf("AllowedOrigins (-want +got):\n%s", diff)
			}
		})
	}
}

// OTP_WORKER_ADDR: unset or empty is :9091 (an empty value takes the
// default, as every variable's does); host:port and :port are kept as given.
func TestWorkerAddr(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		want    string
	}{
		{"unset", map[string]string{}, ":9091"},
		{"empty", map[string]string{"OTP_WORKER_ADDR": ""}, ":9091"},
		{"host and port", map[string]string{"OTP_WORKER_ADDR": "127.0.0.1:9100"}, "127.0.0.1:9100"},
		{"any free port", map[string]string{"OTP_WORKER_ADDR": ":0"}, ":0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MustLoad(t, tt.environ).WorkerAddr; got != tt.want {
				t.Errorf("WorkerAddr = %q, want %q", got, tt.want)
			}
		})
	}
}
