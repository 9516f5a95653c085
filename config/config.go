// Package config reads OTP's configuration from the environment once, checks
// it, and names the variable in every error (README.md#configure).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // OTP_TIMEZONE must resolve in a scratch container too

	"github.com/caarlos0/env/v11"
	"github.com/hibiken/asynq"

	"github.com/erpnext-otp/otp/planner"
	"github.com/erpnext-otp/otp/promise"
)

// Environments OTP knows. Only production changes behaviour: it refuses the
// embedded defaults and an unset webhook secret.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

// Config is every setting OTP reads from the environment. Fields hold the
// values as given; the methods return the parsed forms.
type Config struct {
	ERPNextBaseURL   string `env:"ERPNEXT_BASE_URL"`
	ERPNextAPIKey    string `env:"ERPNEXT_API_KEY"`
	ERPNextAPISecret string `env:"ERPNEXT_API_SECRET"`
	// ERPNextAPIUser is the user the API key belongs to: `modified_by` of
	// OTP's own writes. Empty means "ask ERPNext at start".
	ERPNextAPIUser string `env:"ERPNEXT_API_USER"`

	RedisURL string `env:"REDIS_URL"`

	HTTPAddr string `env:"OTP_HTTP_ADDR" envDefault:":8001"`
	// WorkerAddr is where `otp work` alone (a worker pod) serves /health
	// and /metrics, host:port or :port; `all` serves both on HTTPAddr.
	WorkerAddr    string `env:"OTP_WORKER_ADDR" envDefault:":9091"`
	Env           string `env:"OTP_ENV" envDefault:"development"`
	WebhookSecret string `env:"OTP_WEBHOOK_SECRET"`
	PublicURL     string `env:"OTP_PUBLIC_URL" envDefault:"http://localhost:8001"`
	// SandboxAddr is where the embedded sandbox listens when ERPNEXT_BASE_URL is unset.
	SandboxAddr string `env:"OTP_SANDBOX_ADDR" envDefault:"127.0.0.1:8000"`

	Company          string `env:"OTP_COMPANY"`
	DefaultWarehouse string `env:"OTP_DEFAULT_WAREHOUSE" envDefault:"Stores - WH"`
	Timezone         string `env:"OTP_TIMEZONE" envDefault:"UTC"`
	WeekendDays      string `env:"OTP_WEEKEND_DAYS" envDefault:"Saturday,Sunday"`
	CutoffTime       string `env:"OTP_CUTOFF_TIME" envDefault:"14:00"`
	ProcessingDays   int    `env:"OTP_PROCESSING_DAYS" envDefault:"1"`
	BufferDays       int    `env:"OTP_BUFFER_DAYS" envDefault:"1"`
	DefaultLeadTime  int    `env:"OTP_DEFAULT_LEAD_TIME_DAYS" envDefault:"0"`

	// Confidence thresholds (docs/promise.md, the earlier OTP's values).
	HighStockShare    float64 `env:"OTP_CONFIDENCE_HIGH_STOCK_SHARE" envDefault:"0.99"`
	HighShortageShare float64 `env:"OTP_CONFIDENCE_HIGH_SHORTAGE_SHARE" envDefault:"0.01"`
	LowShortageShare  float64 `env:"OTP_CONFIDENCE_LOW_SHORTAGE_SHARE" envDefault:"0.10"`
	FarPODays         int     `env:"OTP_CONFIDENCE_FAR_PO_DAYS" envDefault:"7"`

	DashboardUser     string `env:"OTP_DASHBOARD_USER"`
	DashboardPassword string `env:"OTP_DASHBOARD_PASSWORD"`

	// CORSOrigins are the browser origins the quote API answers with CORS
	// headers, comma-separated ("https://crm.example.com,http://localhost:3000");
	// "*" allows every origin, outside production only. Empty: no CORS
	// headers at all.
	CORSOrigins string `env:"OTP_CORS_ORIGINS"`

	WorkerConcurrency int           `env:"OTP_WORKER_CONCURRENCY" envDefault:"10"`
	ReconcileInterval time.Duration `env:"OTP_RECONCILE_INTERVAL" envDefault:"10m"`
	ShutdownTimeout   time.Duration `env:"OTP_SHUTDOWN_TIMEOUT" envDefault:"25s"`
	// DrainDelay is how long `otp serve` (and `all`) keeps answering after
	// SIGTERM before it stops accepting connections, so that a load
	// balancer that is still routing to it (Kubernetes takes a few seconds
	// to drop a terminating pod) loses no request. 0: stop at once.
	DrainDelay time.Duration `env:"OTP_DRAIN_DELAY" envDefault:"0s"`

	LogLevel string `env:"LOG_LEVEL" envDefault:"INFO"`
	// RequestTimeout bounds each ERPNext request: seconds ("15", as in the
	// runbook) or a Go duration ("1500ms").
	RequestTimeout Seconds `env:"REQUEST_TIMEOUT" envDefault:"15"`

	// The order book: who is served first, and how fast promises are
	// written back to ERPNext.
	AllocationOrder string  `env:"OTP_ALLOCATION_ORDER" envDefault:"creation"`
	WriteRate       float64 `env:"OTP_WRITE_RATE" envDefault:"20"`

	// How OTP rides out a sick ERPNext (docs/erpnext-faults.md): the
	// circuit breaker's policy and the longest a read waits for Retry-After.
	BreakerFailureRatio float64       `env:"OTP_ERPNEXT_BREAKER_FAILURE_RATIO" envDefault:"0.5"`
	BreakerMinRequests  int           `env:"OTP_ERPNEXT_BREAKER_MIN_REQUESTS" envDefault:"10"`
	BreakerWindow       time.Duration `env:"OTP_ERPNEXT_BREAKER_WINDOW" envDefault:"10s"`
	BreakerOpen         time.Duration `env:"OTP_ERPNEXT_BREAKER_OPEN" envDefault:"5s"`
	BreakerProbes       int           `env:"OTP_ERPNEXT_BREAKER_PROBES" envDefault:"3"`
	RetryAfterMax       time.Duration `env:"OTP_ERPNEXT_RETRY_AFTER_MAX" envDefault:"2s"`

	// --- Operations: quote API tokens, rate limit, probes, tracing
	// (config/operations.go parses and checks them). ---

	// APITokens are the quote API's bearer tokens, comma-separated
	// name:scope:token entries, scope read or write
	// ("erpnext-desk:write:…,bi:read:…").
	APITokens string `env:"OTP_API_TOKENS"`
	// APIRateLimit is each token's sustained quote API requests per
	// second; APIRateBurst how many it may send at once.
	APIRateLimit float64 `env:"OTP_API_RATE_LIMIT" envDefault:"10"`
	APIRateBurst int     `env:"OTP_API_RATE_BURST" envDefault:"20"`
	// ProbeInterval is how often serve and work ask ERPNext whether it
	// answers, for /health, /ready and erpnext_connection_status.
	ProbeInterval time.Duration `env:"OTP_ERPNEXT_PROBE_INTERVAL" envDefault:"30s"`
	// OTLPEndpoint turns tracing on (the OpenTelemetry SDK reads the rest
	// of its OTEL_* variables itself).
	OTLPEndpoint string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	// --- end of operations ---

	// --- promise accuracy and calibrated confidence (config/accuracy.go, docs/accuracy.md) ---
	// ConfidenceMode is "rules" (the thresholds above) or "history": a
	// line served by a PO is graded by its supplier's on-time record.
	ConfidenceMode string `env:"OTP_CONFIDENCE_MODE" envDefault:"rules"`
	// History mode: a supplier with fewer receipts in the window keeps the
	// rules' answer; the probabilities of arriving in time for HIGH and MEDIUM.
	ConfidenceMinReceipts       int     `env:"OTP_CONFIDENCE_MIN_RECEIPTS" envDefault:"5"`
	ConfidenceHighProbability   float64 `env:"OTP_CONFIDENCE_HIGH_PROBABILITY" envDefault:"0.9"`
	ConfidenceMediumProbability float64 `env:"OTP_CONFIDENCE_MEDIUM_PROBABILITY" envDefault:"0.6"`
	// SupplierWindowDays is the trailing window of supplier reliability.
	SupplierWindowDays int `env:"OTP_SUPPLIER_WINDOW_DAYS" envDefault:"180"`
	// AccuracyInterval is how often the workers refresh the otp_promise_*
	// gauges over the last AccuracyWindowDays; 0 turns it off.
	AccuracyInterval   time.Duration `env:"OTP_ACCURACY_INTERVAL" envDefault:"1h"`
	AccuracyWindowDays int           `env:"OTP_ACCURACY_WINDOW_DAYS" envDefault:"30"`
	// AccuracyProbabilities maps tiers to the probabilities the Brier
	// score uses ("HIGH=0.95,MEDIUM=0.8,LOW=0.5"); empty: each tier's hit rate.
	AccuracyProbabilities string `env:"OTP_ACCURACY_PROBABILITIES"`
	// --- end of promise accuracy ---

	// Parsed forms, filled by Load.
	location *time.Location
	weekend  []time.Weekday
	cutoff   [2]int // hour, minute
	logLevel slog.Level
	redisOpt asynq.RedisConnOpt
	origins  []string
	tokens   []APIToken
	probs    map[promise.Confidence]float64
}

// Seconds is a duration written as a number of seconds or as a Go duration.
type Seconds time.Duration

// UnmarshalText parses "15", "2.5" or "1500ms".
func (s *Seconds) UnmarshalText(b []byte) error {
	v := strings.TrimSpace(string(b))
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		*s = Seconds(time.Duration(f * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want seconds (15) or a duration (1500ms), got %q", v)
	}
	*s = Seconds(d)
	return nil
}

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

// VarError is a problem with one environment variable.
type VarError struct {
	Var string
	Msg string
}

func (e *VarError) Error() string { return "config: " + e.Var + ": " + e.Msg }

// ErrInvalid is matched by every error Load returns.
var ErrInvalid = errors.New("config: invalid configuration")

// Is makes every VarError match ErrInvalid.
func (e *VarError) Is(target error) bool { return target == ErrInvalid }

// FromEnv reads the process environment.
func FromEnv() (Config, error) { return Load(nil) }

// Load reads the variables in environ (the process environment when nil),
// checks them, and returns every problem found, each a *VarError naming its variable.
func Load(environ map[string]string) (Config, error) {
	opts := env.Options{}
	if environ != nil {
		opts.Environment = environ
	}
	var c Config
	if err := env.ParseWithOptions(&c, opts); err != nil {
		return c, varErrors(err)
	}
	if err := c.validate(); err != nil {
		return c, err
	}
	return c, nil
}

// varErrors rewrites the env library's errors, which name Go fields, into
// errors naming the variable.
func varErrors(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return &VarError{Var: "environment", Msg: err.Error()}
	}
	out := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			out = append(out, &VarError{Var: varOf(pe.Name), Msg: "invalid value: " + parseMsg(pe.Err)})
			continue
		}
		out = append(out, &VarError{Var: "environment", Msg: e.Error()})
	}
	return errors.Join(out...)
}

// parseMsg shortens strconv's "strconv.ParseInt: parsing \"x\": invalid syntax".
func parseMsg(err error) string {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return fmt.Sprintf("%q is not a number", ne.Num)
	}
	return err.Error()
}

// varOf returns the variable a Config field is read from.
func varOf(field string) string {
	f, ok := reflect.TypeFor[Config]().FieldByName(field)
	if !ok {
		return field
	}
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return name
}

func (c *Config) validate() error {
	var errs []error
	bad := func(v, format string, args ...any) {
		errs = append(errs, &VarError{Var: v, Msg: fmt.Sprintf(format, args...)})
	}

	switch promise.Sequence(c.AllocationOrder) {
	case promise.FirstComeFirstServed, promise.EarliestDeliveryFirst:
	default:
		bad("OTP_ALLOCATION_ORDER", "%q is not one of creation, delivery_date", c.AllocationOrder)
	}
	if !(c.WriteRate > 0) || c.WriteRate > 10000 {
		bad("OTP_WRITE_RATE", "%v is not a rate between 0 and 10000 orders per second", c.WriteRate)
	}

	switch c.Env {
	case EnvDevelopment, EnvTest, EnvStaging, EnvProduction:
	default:
		bad("OTP_ENV", "%q is not one of development, test, staging, production", c.Env)
	}

	if c.ERPNextBaseURL != "" {
		if err := checkHTTPURL(c.ERPNextBaseURL); err != nil {
			bad("ERPNEXT_BASE_URL", "%v", err)
		}
		if c.ERPNextAPIKey == "" {
			bad("ERPNEXT_API_KEY", "required when ERPNEXT_BASE_URL is set")
		}
		if c.ERPNextAPISecret == "" {
			bad("ERPNEXT_API_SECRET", "required when ERPNEXT_BASE_URL is set")
		}
	} else if c.ERPNextAPIKey != "" || c.ERPNextAPISecret != "" {
		bad("ERPNEXT_BASE_URL", "required when ERPNEXT_API_KEY or ERPNEXT_API_SECRET is set")
	}

	if c.RedisURL != "" {
		opt, err := parseRedisURL(c.RedisURL)
		switch {
		case err != nil && !strings.Contains(c.RedisURL, "://"):
			bad("REDIS_URL", "%q has no scheme: write it as redis://%s (or rediss:// for TLS)", c.RedisURL, c.RedisURL)
		case err != nil:
			bad("REDIS_URL", "%v", err)
		}
		c.redisOpt = opt
	}

	if c.Production() {
		if c.ERPNextBaseURL == "" {
			bad("ERPNEXT_BASE_URL", "required in production (the embedded sandbox is for development)")
		}
		if c.RedisURL == "" {
			bad("REDIS_URL", "required in production (the embedded miniredis is for development)")
		}
		if c.WebhookSecret == "" {
			bad("OTP_WEBHOOK_SECRET", "required in production (unsigned webhooks would be accepted)")
		}
	}

	if (c.DashboardUser == "") != (c.DashboardPassword == "") {
		if c.DashboardUser == "" {
			bad("OTP_DASHBOARD_USER", "required when OTP_DASHBOARD_PASSWORD is set")
		} else {
			bad("OTP_DASHBOARD_PASSWORD", "required when OTP_DASHBOARD_USER is set")
		}
	}

	if err := checkHTTPURL(c.PublicURL); err != nil {
		bad("OTP_PUBLIC_URL", "%v", err)
	}

	origins, err := parseOrigins(c.CORSOrigins)
	switch {
	case err != nil:
		bad("OTP_CORS_ORIGINS", "%v", err)
	case c.Production() && slices.Contains(origins, "*"):
		bad("OTP_CORS_ORIGINS", `"*" lets any web page call the quote API (including /otp/apply, which writes to ERPNext); list the origins in production`)
	}
	c.origins = origins
	if err := checkListenAddr(c.HTTPAddr); err != nil {
		bad("OTP_HTTP_ADDR", "%v", err)
	}
	if err := checkListenAddr(c.WorkerAddr); err != nil {
		bad("OTP_WORKER_ADDR", "%v", err)
	}

	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" || c.Timezone == "Local" {
		bad("OTP_TIMEZONE", "%q is not an IANA time zone (for example Europe/Berlin)", c.Timezone)
	}
	c.location = loc

	wd, err := parseWeekdays(c.WeekendDays)
	if err != nil {
		bad("OTP_WEEKEND_DAYS", "%v", err)
	}
	c.weekend = wd

	h, m, err := promise.ParseClock(c.CutoffTime)
	if err != nil {
		bad("OTP_CUTOFF_TIME", "%v (for example 14:00)", err)
	}
	c.cutoff = [2]int{h, m}

	for _, n := range []struct {
		v   string
		val int
	}{
		{"OTP_PROCESSING_DAYS", c.ProcessingDays},
		{"OTP_BUFFER_DAYS", c.BufferDays},
		{"OTP_DEFAULT_LEAD_TIME_DAYS", c.DefaultLeadTime},
		{"OTP_CONFIDENCE_FAR_PO_DAYS", c.FarPODays},
	} {
		if n.val < 0 {
			bad(n.v, "must not be negative, got %d", n.val)
		}
	}
	for _, s := range []struct {
		v   string
		val float64
	}{
		{"OTP_CONFIDENCE_HIGH_STOCK_SHARE", c.HighStockShare},
		{"OTP_CONFIDENCE_HIGH_SHORTAGE_SHARE", c.HighShortageShare},
		{"OTP_CONFIDENCE_LOW_SHORTAGE_SHARE", c.LowShortageShare},
	} {
		if s.val < 0 || s.val > 1 {
			bad(s.v, "must be a share between 0 and 1, got %v", s.val)
		}
	}

	if c.WorkerConcurrency < 1 {
		bad("OTP_WORKER_CONCURRENCY", "must be at least 1, got %d", c.WorkerConcurrency)
	}
	for _, d := range []struct {
		v   string
		val time.Duration
	}{
		{"OTP_RECONCILE_INTERVAL", c.ReconcileInterval},
		{"OTP_SHUTDOWN_TIMEOUT", c.ShutdownTimeout},
		{"REQUEST_TIMEOUT", c.RequestTimeout.Duration()},
	} {
		if d.val <= 0 {
			bad(d.v, "must be positive, got %v", d.val)
		}
	}
	if c.DrainDelay < 0 {
		bad("OTP_DRAIN_DELAY", "must not be negative, got %v", c.DrainDelay)
	}

	c.validateERPNextFaults(bad)

	lvl, err := parseLevel(c.LogLevel)
	if err != nil {
		bad("LOG_LEVEL", "%v", err)
	}
	c.logLevel = lvl

	c.validateOperations(bad)
	c.validateAccuracy(bad)
	return errors.Join(errs...)
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL with a host", s)
	}
	return nil
}

// checkListenAddr checks a listen address, host:port or :port, so that a
// bad one names its variable at start-up rather than failing in net.Listen.
func checkListenAddr(s string) error {
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		return fmt.Errorf("want host:port or :port (for example :8001), got %q", s)
	}
	return nil
}

// parseOrigins parses a comma-separated list of browser origins
// (scheme://host[:port], as a browser sends them in Origin) or "*".
func parseOrigins(s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		o := strings.TrimSpace(part)
		if o == "" || slices.Contains(out, o) {
			continue
		}
		if o != "*" {
			u, err := url.Parse(o)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
				u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(o, "*") {
				return nil, fmt.Errorf("%q is not an origin scheme://host[:port] with no path (for example https://crm.example.com) or *", o)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// parseWeekdays parses "Saturday,Sunday" (full or three-letter English
// names, any case). An empty list means every day is a working day.
func parseWeekdays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	seen := map[time.Weekday]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		d, ok := weekdayOf(part)
		if !ok {
			return nil, fmt.Errorf("%q is not a weekday name (Monday ... Sunday)", part)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out, nil
}

func weekdayOf(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		full := strings.ToLower(d.String())
		if name == full || name == full[:3] {
			return d, true
		}
	}
	return 0, false
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO", "":
		return slog.LevelInfo, nil
	case "WARN", "WARNING":
		return slog.LevelWarn, nil
	case "ERROR", "CRITICAL":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("%q is not one of DEBUG, INFO, WARNING, ERROR", s)
}

// Production reports whether OTP_ENV is production.
func (c Config) Production() bool { return c.Env == EnvProduction }

// EmbeddedRedis reports whether OTP runs its own in-process miniredis.
func (c Config) EmbeddedRedis() bool { return c.RedisURL == "" }

// EmbeddedERPNext reports whether OTP runs the in-process sandbox.
func (c Config) EmbeddedERPNext() bool { return c.ERPNextBaseURL == "" }

// RedisConnOpt returns REDIS_URL parsed for asynq; nil when it is unset.
func (c Config) RedisConnOpt() asynq.RedisConnOpt { return c.redisOpt }

// Location returns OTP_TIMEZONE.
func (c Config) Location() *time.Location {
	if c.location == nil {
		return time.UTC
	}
	return c.location
}

// Weekend returns OTP_WEEKEND_DAYS.
func (c Config) Weekend() []time.Weekday { return append([]time.Weekday(nil), c.weekend...) }

// AllowedOrigins returns OTP_CORS_ORIGINS as a list; nil means no CORS.
func (c Config) AllowedOrigins() []string { return slices.Clone(c.origins) }

// SlogLevel returns LOG_LEVEL.
func (c Config) SlogLevel() slog.Level { return c.logLevel }

// Rules turns the configuration into the engine's promise rules.
func (c Config) Rules() promise.Rules {
	r := promise.DefaultRules()
	r.Location = c.Location()
	r.CutoffHour, r.CutoffMinute = c.cutoff[0], c.cutoff[1]
	r.ProcessingDays = c.ProcessingDays
	r.BufferDays = c.BufferDays
	r.DefaultLeadTimeDays = c.DefaultLeadTime
	r.Confidence = promise.ConfidenceRules{
		HighStockShare:    c.HighStockShare,
		HighShortageShare: c.HighShortageShare,
		LowShortageShare:  c.LowShortageShare,
		FarPODays:         c.FarPODays,
	}
	c.historyRules(&r.Confidence)
	r.Sequence = promise.Sequence(c.AllocationOrder)
	return r
}

// Planner is the planner's part of the configuration: the one place it is
// built from OTP_COMPANY, OTP_DEFAULT_WAREHOUSE, the rules, the weekend and
// OTP_SUPPLIER_WINDOW_DAYS, for the worker, the quote API and the CLI.
func (c Config) Planner() planner.Config {
	return planner.Config{
		Company:            c.Company,
		DefaultWarehouse:   c.DefaultWarehouse,
		Rules:              c.Rules(),
		Weekend:            c.Weekend(),
		SupplierWindowDays: c.SupplierWindowDays,
		// The sweep re-allocates the whole book; a worker's kept book is
		// read whole as often.
		BookRefresh: c.ReconcileInterval,
	}
}
