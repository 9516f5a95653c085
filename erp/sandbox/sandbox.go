package sandbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sandbox is an in-memory ERPNext site. It is an http.Handler serving the
// Frappe v1 REST API, and offers the same operations in process.
type Sandbox struct {
	// mu is the database lock: a write transaction holds it alone, reads
	// share it. A read sees no write half done, the consistent snapshot
	// MariaDB's REPEATABLE READ gives a SELECT, and reads do not wait for
	// each other (a site's web workers read side by side).
	mu    sync.RWMutex
	metas map[string]*meta
	// docs holds each doctype's documents keyed by nameKey(name): names
	// compare without case, as MariaDB's utf8mb4_unicode_ci does.
	docs   map[string]map[string]*document
	series map[string]int
	// passwords holds Password field values (Frappe keeps them in __Auth).
	passwords map[string]string
	seq       int64
	lastStamp time.Time
	rng       *rand.Rand
	// version counts the store's changes; lists caches list queries' rows
	// for the current one (listcache.go).
	version int64
	lists   listCache
	orders  orders // each doctype's documents in insertion order

	clockMu sync.Mutex
	clock   func() time.Time

	// apiUser is OTP's own user; users holds every API user's token
	// (apiUser's included), in the order they were given.
	apiUser        string
	users          []apiUser
	roles          map[string][]string
	tokens         map[string]int // API key → index in users, built by New
	logger         *slog.Logger
	allowTraceback bool

	knobMu      sync.Mutex
	latency     time.Duration
	errRate     float64
	errStatus   int
	errCounter  int
	failNext    []failure
	failOn      []failure // failNext of one route
	afterCommit []afterCommit
	faults      map[string]int // faults served, by kind
	counts      map[string]int
	total       int

	hooks *hookRunner
	demo  DemoData
}

// apiUser is a user with an API token (docs/erpnext.md#authentication: User.api_key and
// api_secret).
type apiUser struct {
	name, key, secret string
}

type failure struct {
	route  string // FailNextOn's
	status int
	body   string
	header http.Header
}

// afterCommit is a request of route that runs and commits, then fails:
// with status, or (status 0) with no answer until the client gives up.
type afterCommit struct {
	route  string
	status int
}

// maxWithheld bounds how long a withheld answer (FailAfterCommit with
// status 0) keeps its request open when the client never gives up.
const maxWithheld = time.Minute

// Option configures a Sandbox.
type Option func(*Sandbox)

// Default API user and token.
const (
	DefaultAPIKey    = "otp-demo-key"
	DefaultAPISecret = "otp-demo-secret"
	DefaultAPIUser   = "otp@example.com"
	Administrator    = "Administrator"
)

// DefaultRoles are the API user's roles unless WithUserRoles narrows them:
// everything OTP does works with them.
var DefaultRoles = []string{"Sales User", "Sales Manager", "Stock User", "Purchase User", "HR Manager", "System Manager"}

// The demo sales person WithDemoData adds: a second API user, a person
// rather than OTP, whose saves OTP promises (make run's curl uses this token).
const (
	DemoSalesUser   = "sales@example.com"
	DemoSalesKey    = "demo-sales-key"
	DemoSalesSecret = "demo-sales-secret"
	DemoSalesRole   = "Sales User"
)

// WithDemoData loads the demo data set (see demo.go) when the sandbox is
// built, and adds the demo sales person (DemoSalesUser with the Sales User
// role and the token DemoSalesKey:DemoSalesSecret).
func WithDemoData() Option {
	return func(s *Sandbox) {
		s.hooks.loadDemo = true
		s.setUser(DemoSalesUser, DemoSalesKey, DemoSalesSecret)
		s.roles[DemoSalesUser] = []string{DemoSalesRole}
	}
}

// WithUser adds a user with an API token and roles, as a System Manager
// does in the desk (User → API Access → Generate Keys, docs/erpnext.md#authentication). The
// token works as `token KEY:SECRET` and as Basic auth; the user's requests
// run with its roles' DocPerms, and saves have modified_by = user. Any
// number of users may be added; one user has one token (a second WithUser
// for the same user replaces it). For the API user it replaces the token
// and the roles; for Administrator the roles are ignored (Administrator may
// do anything).
func WithUser(user, key, secret string, roles ...string) Option {
	return func(s *Sandbox) {
		s.setUser(user, key, secret)
		if user != Administrator {
			s.roles[user] = append([]string(nil), roles...)
		}
	}
}

// setUser sets user's token, adding the user if it is new.
func (s *Sandbox) setUser(user, key, secret string) {
	for i := range s.users {
		if s.users[i].name == user {
			s.users[i].key, s.users[i].secret = key, secret
			return
		}
	}
	s.users = append(s.users, apiUser{name: user, key: key, secret: secret})
}

// user returns the index of user in s.users, or -1.
func (s *Sandbox) user(name string) int {
	for i := range s.users {
		if s.users[i].name == name {
			return i
		}
	}
	return -1
}

// WithClock sets the clock: `modified`, "today" and posting dates use it.
func WithClock(now func() time.Time) Option {
	return func(s *Sandbox) { s.clock = now }
}

// WithCredentials sets the API user's token and user name (the roles stay).
func WithCredentials(key, secret, user string) Option {
	return func(s *Sandbox) {
		roles := s.roles[s.apiUser]
		delete(s.roles, s.apiUser)
		if i := s.user(user); i >= 0 && user != s.apiUser {
			s.users = append(s.users[:i], s.users[i+1:]...) // it becomes the API user
		}
		i := s.user(s.apiUser)
		s.users[i] = apiUser{name: user, key: key, secret: secret}
		s.apiUser = user
		s.roles[user] = roles
	}
}

// WithLogger sets the logger (webhook deliveries and failures are logged).
func WithLogger(l *slog.Logger) Option {
	return func(s *Sandbox) { s.logger = l }
}

// WithWebhookClient sets the HTTP client webhooks are sent with.
func WithWebhookClient(c *http.Client) Option {
	return func(s *Sandbox) { s.hooks.client = c }
}

// WithWebhookSleep replaces the sleep between webhook attempts (Frappe's
// 1 s, 4 s, 7 s; docs/erpnext.md#timeouts-and-retries), so tests can make it instant.
func WithWebhookSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Sandbox) { s.hooks.sleep = sleep }
}

// WithWebhookWorkers sets how many background workers send webhooks
// (default 1, a bench's default; n < 1 means 1). With more than one,
// deliveries run side by side and may arrive out of order, as on a site
// whose background_workers is raised.
func WithWebhookWorkers(n int) Option {
	return func(s *Sandbox) { s.hooks.workers = max(n, 1) }
}

// WithUserRoles sets a user's roles (for the API user: replaces DefaultRoles).
func WithUserRoles(user string, roles ...string) Option {
	return func(s *Sandbox) { s.roles[user] = append([]string(nil), roles...) }
}

// WithTraceback turns System Settings allow_error_traceback on or off
// (default on): error bodies carry `exception` and `exc` (docs/erpnext.md#errors).
func WithTraceback(on bool) Option {
	return func(s *Sandbox) { s.allowTraceback = on }
}

// New builds an empty site (Administrator, the API user and the doctype
// metas) and applies the options.
func New(opts ...Option) *Sandbox {
	s := &Sandbox{
		metas:          baseMetas(),
		docs:           map[string]map[string]*document{},
		series:         map[string]int{},
		passwords:      map[string]string{},
		rng:            rand.New(rand.NewPCG(0x5eed, 0x07b)),
		clock:          time.Now,
		apiUser:        DefaultAPIUser,
		users:          []apiUser{{name: DefaultAPIUser, key: DefaultAPIKey, secret: DefaultAPISecret}},
		roles:          map[string][]string{DefaultAPIUser: append([]string(nil), DefaultRoles...)},
		logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		allowTraceback: true,
		counts:         map[string]int{},
	}
	s.hooks = newHookRunner(s)
	for _, o := range opts {
		o(s)
	}
	s.tokens = make(map[string]int, len(s.users))
	for i, u := range s.users {
		if j, dup := s.tokens[u.key]; dup {
			panic(fmt.Sprintf("sandbox: API key %q is given to both %s and %s", u.key, s.users[j].name, u.name))
		}
		s.tokens[u.key] = i
	}
	s.bootstrapUsers()
	if s.hooks.loadDemo {
		if err := s.loadDemoData(); err != nil {
			panic("sandbox: demo data does not load: " + err.Error())
		}
	}
	s.hooks.start()
	return s
}

// Close stops the webhook sender and waits for it.
func (s *Sandbox) Close() error {
	s.hooks.stop()
	return nil
}

// Credentials returns the API user's key and secret.
func (s *Sandbox) Credentials() (key, secret string) {
	u := s.users[s.user(s.apiUser)]
	return u.key, u.secret
}

// APIUser returns the API user's name, e.g. "otp@example.com".
func (s *Sandbox) APIUser() string { return s.apiUser }

// AuthHeader is the Authorization header value for the API user.
func (s *Sandbox) AuthHeader() string {
	key, secret := s.Credentials()
	return TokenHeader(key, secret)
}

// BasicAuthHeader is the same token as HTTP Basic auth (docs/erpnext.md#authentication).
func (s *Sandbox) BasicAuthHeader() string {
	key, secret := s.Credentials()
	return BasicHeader(key, secret)
}

// TokenHeader is the Authorization header value for an API token:
// "token KEY:SECRET" (docs/erpnext.md#authentication).
func TokenHeader(key, secret string) string { return "token " + key + ":" + secret }

// BasicHeader is the same token as HTTP Basic auth (docs/erpnext.md#authentication).
func BasicHeader(key, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret))
}

// SetNow pins the clock at t.
func (s *Sandbox) SetNow(t time.Time) {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	s.clock = func() time.Time { return t }
}

func (s *Sandbox) now() time.Time {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	return s.clock()
}

// Today is the clock's date, "YYYY-MM-DD".
func (s *Sandbox) Today() string { return s.now().Format("2006-01-02") }

// WithLatency delays every HTTP request by d from the start, as SetLatency
// does later: a real site's round trip.
func WithLatency(d time.Duration) Option {
	return func(s *Sandbox) { s.latency = d }
}

// SetLatency delays every HTTP request by d.
func (s *Sandbox) SetLatency(d time.Duration) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	s.latency = d
}

// InjectErrors makes a share of HTTP requests fail with status: with rate
// 0.25 every 4th request fails (deterministic). Rate 0 turns it off.
func (s *Sandbox) InjectErrors(rate float64, status int) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	s.errRate, s.errStatus, s.errCounter = rate, status, 0
}

// FailNext makes the next n HTTP requests answer status with this body and
// headers verbatim (e.g. 429 with Retry-After, or a proxy's HTML 502).
func (s *Sandbox) FailNext(n int, status int, body string, header http.Header) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	for i := 0; i < n; i++ {
		s.failNext = append(s.failNext, failure{status: status, body: body, header: header.Clone()})
	}
}

// FailNextOn is FailNext for the requests of one route only (a
// RequestCounts key, e.g. "POST /api/resource/Comment"): the next n of
// them fail before they run; other routes are not affected.
func (s *Sandbox) FailNextOn(route string, n int, status int, body string, header http.Header) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	for range n {
		s.failOn = append(s.failOn, failure{route: route, status: status, body: body, header: header.Clone()})
	}
}

// FailAfterCommit makes the next n requests of route (a RequestCounts key,
// e.g. "PUT /api/resource/Sales Order") run and commit as usual, webhooks
// included, and then answer status with Frappe's error body instead of the
// result: a worker or proxy failing after the database commit. Status 0
// withholds the answer instead until the client gives up (at most a
// minute): a timeout after the commit. Requests of other routes are not
// affected, and FailNext and InjectErrors take precedence (those requests
// never run).
func (s *Sandbox) FailAfterCommit(n int, route string, status int) {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	for range n {
		s.afterCommit = append(s.afterCommit, afterCommit{route: route, status: status})
	}
}

// Requests returns how many requests hit a route, keyed like
// "GET /api/resource/Bin" or "POST /api/method/frappe.client.get_list".
func (s *Sandbox) Requests(route string) int {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	return s.counts[route]
}

// RequestCounts returns a copy of all route counters.
func (s *Sandbox) RequestCounts() map[string]int {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// TotalRequests is the number of HTTP requests served.
func (s *Sandbox) TotalRequests() int {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	return s.total
}

// ResetCounters zeroes the request counters.
func (s *Sandbox) ResetCounters() {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	s.counts = map[string]int{}
	s.total = 0
}

// ClearFaults drops every failure still scripted (FailNext, FailNextOn,
// FailAfterCommit) and turns InjectErrors off: from now on ERPNext is well.
func (s *Sandbox) ClearFaults() {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	s.failNext, s.failOn, s.afterCommit = nil, nil, nil
	s.errRate, s.errStatus, s.errCounter = 0, 0, 0
}

// FaultCounts returns how many requests got a scripted or injected
// failure, by kind: "status 502" (failed before running), "commit then
// status 500", "commit then no answer".
func (s *Sandbox) FaultCounts() map[string]int {
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	out := make(map[string]int, len(s.faults))
	for k, v := range s.faults {
		out[k] = v
	}
	return out
}

// ---- store and transactions ----

// tx is one request's database transaction. Writes go to the store at once
// and are undone on rollback; webhooks queue until commit (docs/erpnext.md#queueing-and-deduplication).
type tx struct {
	s     *Sandbox
	user  string
	roles map[string]bool
	stamp time.Time
	undo  []func()
	queue []queuedHook
	// readOnly is a read's transaction (Sandbox.read): it holds the lock
	// shared and must not change the store.
	readOnly bool
}

func (s *Sandbox) begin(user string) *tx {
	// Saves in the same instant (a pinned clock) still get distinct,
	// increasing `modified` values, as a real clock would give; a clock set
	// back on purpose (more than a second) is followed.
	stamp := s.now().Truncate(time.Microsecond)
	if !stamp.After(s.lastStamp) && s.lastStamp.Sub(stamp) < time.Second {
		stamp = s.lastStamp.Add(time.Microsecond)
	}
	s.lastStamp = stamp
	return s.newTx(user, stamp)
}

func (s *Sandbox) newTx(user string, stamp time.Time) *tx {
	t := &tx{s: s, user: user, stamp: stamp, roles: map[string]bool{"All": true, "Guest": true}}
	for _, r := range s.roles[user] {
		t.roles[r] = true
	}
	return t
}

// mustWrite stops a write from a read transaction: reads share the lock,
// so a write there would race with the other readers.
func (t *tx) mustWrite() {
	if t.readOnly {
		panic("sandbox: a write in a read transaction")
	}
}

func (t *tx) rollback() {
	if len(t.undo) > 0 {
		t.s.changed()
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	t.queue = nil
}

func (t *tx) commit() {
	t.undo = nil
	t.s.hooks.enqueue(t.buildJobs(t.queue))
	t.queue = nil
}

// run executes fn in a transaction as user, committing on success.
func (s *Sandbox) run(user string, fn func(t *tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.begin(user)
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	t.commit()
	return nil
}

// read executes fn as user under the shared lock: fn only reads, so it
// runs beside other reads and sees no write half done. Its clock is now,
// without taking a `modified` stamp (a read writes none).
func (s *Sandbox) read(user string, fn func(t *tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.newTx(user, s.now().Truncate(time.Microsecond))
	t.readOnly = true
	return fn(t)
}

func (t *tx) now() string   { return formatDatetime(t.stamp) }
func (t *tx) today() string { return t.stamp.Format("2006-01-02") }
func (t *tx) isAdmin() bool { return t.user == Administrator }

// nameKey is a document name's key in the store. Frappe's tables use the
// case-insensitive collation utf8mb4_unicode_ci, so on MariaDB `where
// name = 'stores - wh'` finds "Stores - WH" and an insert of a name that
// differs only by case is a duplicate key.
func nameKey(name string) string { return strings.ToLower(name) }

// get returns the stored document named name, compared without case; the
// document keeps the spelling it was stored with.
func (t *tx) get(doctype, name string) *document {
	return t.s.docs[doctype][nameKey(name)]
}

func (t *tx) put(d *document) {
	t.mustWrite()
	s := t.s
	tbl := s.docs[d.DocType]
	if tbl == nil {
		tbl = map[string]*document{}
		s.docs[d.DocType] = tbl
	}
	name := nameKey(d.name())
	s.changed()
	prev, had := tbl[name]
	if !had {
		s.seq++
		d.seq = s.seq
	} else {
		d.seq = prev.seq
	}
	tbl[name] = d
	s.orders.put(d, had)
	t.undo = append(t.undo, func() {
		if had {
			tbl[name] = prev
		} else {
			delete(tbl, name)
		}
		s.orders.stale(d.DocType)
	})
}

func (t *tx) remove(doctype, name string) {
	t.mustWrite()
	tbl := t.s.docs[doctype]
	name = nameKey(name)
	prev, had := tbl[name]
	if !had {
		return
	}
	delete(tbl, name)
	t.s.changed()
	t.s.orders.stale(doctype)
	t.undo = append(t.undo, func() {
		tbl[name] = prev
		t.s.orders.stale(doctype)
	})
}

// all returns a doctype's documents in insertion order. The slice is
// shared: do not change it.
func (t *tx) all(doctype string) []*document {
	return t.s.orders.of(doctype, t.s.docs[doctype])
}

// orders keeps each doctype's documents in insertion order, so that a list
// does not sort the whole table each time. Reads fill it under the shared
// database lock, hence its own lock. A write keeps it up to date at little
// cost (an insert appends, a save replaces its document) in a new slice, so
// a slice handed out earlier never changes; a delete or a rollback drops
// the doctype's, to be rebuilt by the next read.
//
// It also keeps, for a field a list asked to equal a value, the documents
// by that field's value (lower-cased, as the list compares): a timeline's
// comments are found among thousands as an index finds them. An insert
// adds to it; a save, a delete or a rollback drops the doctype's.
type orders struct {
	mu      sync.Mutex
	byType  map[string][]*document
	byField map[[2]string]map[string][]*document // by doctype and field, then value
}

func (o *orders) of(doctype string, tbl map[string]*document) []*document {
	o.mu.Lock()
	defer o.mu.Unlock()
	if docs, ok := o.byType[doctype]; ok {
		return docs
	}
	docs := make([]*document, 0, len(tbl))
	for _, d := range tbl {
		docs = append(docs, d)
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].seq < docs[j].seq })
	if o.byType == nil {
		o.byType = map[string][]*document{}
	}
	o.byType[doctype] = docs
	return docs
}

// put records d stored: new (the highest seq, so last) or replacing the
// document of its name (the same seq).
func (o *orders) put(d *document, replaced bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	docs, ok := o.byType[d.DocType]
	if !ok {
		return
	}
	if !replaced {
		o.byType[d.DocType] = append(docs[:len(docs):len(docs)], d)
		for k, idx := range o.byField {
			if k[0] == d.DocType {
				v := strings.ToLower(str(d.V[k[1]]))
				idx[v] = append(idx[v][:len(idx[v]):len(idx[v])], d)
			}
		}
		return
	}
	o.dropFields(d.DocType)
	i := sort.Search(len(docs), func(i int) bool { return docs[i].seq >= d.seq })
	if i == len(docs) || docs[i].seq != d.seq {
		delete(o.byType, d.DocType)
		return
	}
	docs = slices.Clone(docs)
	docs[i] = d
	o.byType[d.DocType] = docs
}

func (o *orders) stale(doctype string) {
	o.mu.Lock()
	delete(o.byType, doctype)
	o.dropFields(doctype)
	o.mu.Unlock()
}

// dropFields forgets doctype's field indexes; o.mu is held.
func (o *orders) dropFields(doctype string) {
	for k := range o.byField {
		if k[0] == doctype {
			delete(o.byField, k)
		}
	}
}

// equal returns doctype's documents whose field, lower-cased, is value, in
// insertion order. The slice is never changed afterwards.
func (o *orders) equal(doctype, field, value string, tbl map[string]*document) []*document {
	docs := o.of(doctype, tbl)
	o.mu.Lock()
	defer o.mu.Unlock()
	k := [2]string{doctype, field}
	idx, ok := o.byField[k]
	if !ok {
		idx = map[string][]*document{}
		for _, d := range docs {
			v := strings.ToLower(str(d.V[field]))
			idx[v] = append(idx[v], d)
		}
		if o.byField == nil {
			o.byField = map[[2]string]map[string][]*document{}
		}
		o.byField[k] = idx
	}
	return idx[value]
}

func (t *tx) nextSeries(prefix string) int {
	t.mustWrite()
	prev := t.s.series[prefix]
	t.s.series[prefix] = prev + 1
	t.undo = append(t.undo, func() { t.s.series[prefix] = prev })
	return prev + 1
}

func (t *tx) setPassword(key, value string) {
	t.mustWrite()
	prev, had := t.s.passwords[key]
	t.s.passwords[key] = value
	t.undo = append(t.undo, func() {
		if had {
			t.s.passwords[key] = prev
		} else {
			delete(t.s.passwords, key)
		}
	})
}

// setMeta replaces a doctype's meta (custom fields), undone on rollback.
func (t *tx) setMeta(m *meta) {
	t.mustWrite()
	prev := t.s.metas[m.Name]
	t.s.metas[m.Name] = m
	t.s.changed()
	t.undo = append(t.undo, func() { t.s.metas[m.Name] = prev })
}

// hash is frappe.generate_hash(length=10): lowercase hex.
func (t *tx) hash() string {
	t.mustWrite() // the generator is shared state
	const hexdigits = "0123456789abcdef"
	b := make([]byte, 10)
	for i := range b {
		b[i] = hexdigits[t.s.rng.IntN(16)]
	}
	return string(b)
}

// bootstrapUsers creates Administrator, the API user and the other API
// users as User documents (with their api_key; the secret stays out of the
// document, as Frappe keeps it in __Auth).
func (s *Sandbox) bootstrapUsers() {
	type userDoc struct {
		name, first string
		roles       []string
	}
	docs := []userDoc{{Administrator, "Administrator", []string{"Administrator", "System Manager"}}, {s.apiUser, "OTP", s.roles[s.apiUser]}}
	for _, u := range s.users {
		if u.name != Administrator && u.name != s.apiUser {
			first, _, _ := strings.Cut(u.name, "@")
			docs = append(docs, userDoc{u.name, titleLabel(first), s.roles[u.name]})
		}
	}
	err := s.run(Administrator, func(t *tx) error {
		for _, u := range docs {
			roles := make([]any, 0, len(u.roles))
			for _, r := range u.roles {
				roles = append(roles, map[string]any{"role": r})
			}
			doc := map[string]any{"email": u.name, "first_name": u.first, "roles": roles}
			if i := s.user(u.name); i >= 0 {
				doc["api_key"] = s.users[i].key
			}
			if _, err := t.insert("User", doc, opIgnorePerms); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		panic("sandbox: cannot create users: " + err.Error())
	}
}
