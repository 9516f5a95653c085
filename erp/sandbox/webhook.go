package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/jinja"
	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyexpr"
	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// Delivery is one webhook attempt as the sandbox made it (Frappe writes a
// Webhook Request Log row for each, docs/erpnext.md#the-request-log). Attempt 0 means the
// payload could not be built and nothing was sent.
type Delivery struct {
	Webhook string
	Event   string
	DocType string
	DocName string
	URL     string
	Method  string
	Headers http.Header
	Body    []byte
	Status  int    // HTTP status; 0 when no response
	Err     string // why the attempt failed, "" on success
	Attempt int
	// Queued is when the commit queued the job, Sent when this attempt
	// began and Answered when it ended, by the real clock (not WithClock's):
	// Sent - Queued is the job's wait for a worker.
	Queued, Sent, Answered time.Time
}

// webhookEvents fire from any save; on_change only outside insert
// (frappe/integrations/doctype/webhook/__init__.py, docs/erpnext.md#which-save-fires-which-event).
var webhookEvents = map[string]bool{"on_update": true, "after_insert": true, "on_submit": true, "on_cancel": true, "on_trash": true}

type queuedHook struct {
	webhook string
	event   string
	doctype string
	docname string
	deleted *document // the document as it was when deleted (on_trash)
}

// queueWebhooks is run_webhooks: match enabled webhooks on doctype and
// event, evaluate the condition on the live document (an error fails the
// save, docs/erpnext.md#conditions), and queue until commit.
func (t *tx) queueWebhooks(d *document, method string, inInsert bool) error {
	if !webhookEvents[method] && !(method == "on_change" && !inInsert) {
		return nil
	}
	t.mustWrite()
	for _, w := range t.all("Webhook") {
		if toInt(w.V["enabled"]) != 1 || str(w.V["webhook_doctype"]) != d.DocType || str(w.V["webhook_docevent"]) != method {
			continue
		}
		if cond := strings.TrimSpace(str(w.V["condition"])); cond != "" {
			e, err := pyexpr.Parse(cond)
			if err != nil {
				return pyErr(err)
			}
			v, err := t.evalCondition(e, d)
			if err != nil {
				return pyErr(err)
			}
			if !pyexpr.Truthy(v) {
				continue
			}
		}
		q := queuedHook{webhook: w.name(), event: method, doctype: d.DocType, docname: d.name()}
		if method == "on_trash" {
			q.deleted = d.clone()
		}
		t.queue = append(t.queue, q)
	}
	return nil
}

// pyErr turns a Python-style error ("TypeError: ...") into the exception
// Frappe's request handler reports (a non-Frappe exception is a 500).
func pyErr(err error) error {
	msg := err.Error()
	exc, rest, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(exc, " .") {
		exc, rest = "Exception", msg
	}
	return frappeErr(exc, rest)
}

// evalCondition evaluates a condition with doc bound to the live Document:
// attributes are fields, tables are lists of rows, unknown names fail.
func (t *tx) evalCondition(e *pyexpr.Expr, d *document) (any, error) {
	return e.Eval(map[string]any{"doc": liveDoc{t: t, d: d}})
}

// liveDoc is a Document as a condition sees it (a pyexpr.Object). It is a
// value, so that the same row compares equal to itself.
type liveDoc struct {
	t *tx
	d *document
}

func (l liveDoc) TypeName() string { return "Document" }

func (l liveDoc) Attr(name string) (any, error) {
	doc := l.d
	m := l.t.s.metas[doc.DocType]
	if name == "doctype" {
		return doc.DocType, nil
	}
	if f := m.field(name); f != nil {
		if f.isTable() {
			rows := doc.Tables[name]
			out := make([]any, len(rows))
			for i, r := range rows {
				out[i] = liveDoc{t: l.t, d: r}
			}
			return out, nil
		}
		v := doc.V[name]
		if v == nil && f.isFloat() {
			return 0.0, nil
		}
		if v == nil && f.isInt() {
			return int64(0), nil
		}
		return toPy(v), nil
	}
	if isDefaultField(name) || (m.IsTable && isChildTableField(name)) {
		return toPy(doc.V[name]), nil
	}
	return nil, fmt.Errorf("AttributeError: '%s' object has no attribute '%s'", strings.ReplaceAll(doc.DocType, " ", ""), name)
}

// ---- the sender: Frappe's RQ job enqueue_webhook, on N workers ----

// A bench runs one worker on the default queue unless its
// common_site_config says otherwise (background_workers, default 1; a
// production bench starts that many `bench worker --queue default`
// processes). Each worker takes the next job from the queue and runs it to
// the end, sleeps between attempts included, so with several workers a
// later job can finish before an earlier one: deliveries arrive out of
// order, as on such a site.

type hookJob struct {
	webhook *document
	secret  string
	event   string
	doctype string
	docname string
	user    string
	payload *pyjson.Dict // doc.as_dict(convert_dates_to_str=True) at commit
	queued  time.Time
}

type hookRunner struct {
	s        *Sandbox
	client   *http.Client
	sleep    func(ctx context.Context, d time.Duration) error
	loadDemo bool
	workers  int // background workers taking jobs from the queue

	mu         sync.Mutex
	queue      []*hookJob
	pending    int
	idle       chan struct{}
	wake       chan struct{}
	deliveries []Delivery
	closed     bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newHookRunner(s *Sandbox) *hookRunner {
	ctx, cancel := context.WithCancel(context.Background())
	return &hookRunner{
		s:      s,
		client: &http.Client{},
		sleep: func(ctx context.Context, d time.Duration) error {
			tm := time.NewTimer(d)
			defer tm.Stop()
			select {
			case <-tm.C:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		workers: 1,
		ctx:     ctx,
		cancel:  cancel,
	}
}

func (r *hookRunner) start() {
	// One wake slot per worker: an enqueue of many jobs wakes them all.
	r.wake = make(chan struct{}, r.workers)
	for range r.workers {
		r.wg.Add(1)
		go r.loop()
	}
}

func (r *hookRunner) stop() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	r.mu.Lock()
	r.queue = nil
	if r.pending > 0 {
		r.pending = 0
		close(r.idle)
	}
	r.mu.Unlock()
}

// enqueue runs at commit, under the database lock: it deduplicates (the
// last instance per webhook and document, docs/erpnext.md#queueing-and-deduplication) and snapshots the
// documents as they are at the end of the request.
func (t *tx) buildJobs(queue []queuedHook) []*hookJob {
	s := t.s
	last := map[string]int{}
	for i, q := range queue {
		last[q.webhook+"\x00"+q.docname] = i
	}
	var jobs []*hookJob
	for i, q := range queue {
		if last[q.webhook+"\x00"+q.docname] != i {
			continue
		}
		w := t.get("Webhook", q.webhook)
		if w == nil {
			continue
		}
		d := t.get(q.doctype, q.docname)
		if d == nil {
			d = q.deleted
		}
		if d == nil {
			continue
		}
		jobs = append(jobs, &hookJob{
			webhook: w.clone(), secret: s.password("Webhook", w.name(), "webhook_secret"),
			event: q.event, doctype: q.doctype, docname: q.docname, user: t.user,
			payload: s.asDict(d, false),
		})
	}
	return jobs
}

func (r *hookRunner) enqueue(jobs []*hookJob) {
	if len(jobs) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	if r.pending == 0 {
		r.idle = make(chan struct{})
	}
	r.pending += len(jobs)
	now := time.Now()
	for _, j := range jobs {
		j.queued = now
	}
	r.queue = append(r.queue, jobs...)
	for range min(len(jobs), r.workers) {
		select {
		case r.wake <- struct{}{}:
		default:
		}
	}
}

func (r *hookRunner) loop() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		if len(r.queue) == 0 {
			r.mu.Unlock()
			select {
			case <-r.wake:
				continue
			case <-r.ctx.Done():
				return
			}
		}
		job := r.queue[0]
		r.queue = r.queue[1:]
		r.mu.Unlock()
		r.process(job)
		r.mu.Lock()
		if r.pending > 0 {
			r.pending--
			if r.pending == 0 {
				close(r.idle)
			}
		}
		r.mu.Unlock()
		if r.ctx.Err() != nil {
			return
		}
	}
}

// WaitForWebhooks returns when no delivery is queued or in flight.
func (s *Sandbox) WaitForWebhooks(ctx context.Context) error {
	r := s.hooks
	for {
		r.mu.Lock()
		if r.pending == 0 {
			r.mu.Unlock()
			return nil
		}
		ch := r.idle
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WebhookDeliveries returns every attempt so far, oldest first.
func (s *Sandbox) WebhookDeliveries() []Delivery {
	r := s.hooks
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Delivery, len(r.deliveries))
	for i, d := range r.deliveries {
		d.Headers = d.Headers.Clone()
		d.Body = append([]byte(nil), d.Body...)
		out[i] = d
	}
	return out
}

func (r *hookRunner) record(d Delivery) {
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	r.mu.Unlock()
}

// webhookData is get_webhook_data (docs/erpnext.md#the-request-body).
func webhookData(w *document, doc *pyjson.Dict) (*pyjson.Dict, error) {
	if rows := w.Tables["webhook_data"]; len(rows) > 0 {
		data := pyjson.NewDict()
		for _, row := range rows {
			v, _ := doc.Get(str(row.V["fieldname"]))
			data.Set(str(row.V["key"]), v)
		}
		return data, nil
	}
	if tmpl := str(w.V["webhook_json"]); tmpl != "" {
		out, err := jinja.Render(tmpl, map[string]any{"doc": doc})
		if err != nil {
			return nil, err
		}
		v, err := pyjson.Loads(out)
		if err != nil {
			return nil, err
		}
		if o, ok := v.(*pyjson.Dict); ok {
			return o, nil
		}
		// json.loads may give a list or a scalar; json.dumps sends it as is.
		wrapped := pyjson.NewDict()
		wrapped.Set("\x00value", v)
		return wrapped, nil
	}
	return pyjson.NewDict(), nil
}

func encodeWebhookBody(data *pyjson.Dict) string {
	if v, ok := data.Get("\x00value"); ok && data.Len() == 1 {
		return pyjson.Dumps.Encode(v)
	}
	return pyjson.Dumps.Encode(data)
}

// sign is base64(HMAC-SHA256(secret, body)) (docs/erpnext.md#the-signature).
func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// process is enqueue_webhook: build the payload and headers, then up to 3
// attempts (docs/erpnext.md#timeouts-and-retries): a read timeout is retried at once, any other
// failure sleeps 3*i+1 seconds; a log row per attempt.
func (r *hookRunner) process(job *hookJob) {
	w := job.webhook
	base := Delivery{Webhook: w.name(), Event: job.event, DocType: job.doctype, DocName: job.docname,
		Method: str(w.V["request_method"]), Queued: job.queued}
	if base.Method == "" {
		base.Method = http.MethodPost
	}
	fail := func(err error) {
		base.Err = err.Error()
		base.Sent = time.Now()
		base.Answered = base.Sent
		r.record(base)
		r.logRequest(job, base.URL, nil, nil, "", err.Error())
		r.s.logger.Warn("webhook payload failed", "webhook", w.name(), "doc", job.docname, "err", err)
	}
	data, err := webhookData(w, job.payload)
	if err != nil {
		fail(err)
		return
	}
	body := encodeWebhookBody(data)
	headers := http.Header{}
	var logHeaders = pyjson.NewDict()
	if toInt(w.V["enable_security"]) == 1 {
		if job.secret == "" {
			fail(fmt.Errorf("frappe.exceptions.AuthenticationError: Password not found for Webhook %s webhook_secret", w.name()))
			return
		}
		sig := sign(job.secret, body)
		headers.Set("X-Frappe-Webhook-Signature", sig)
		ints := make([]any, len(sig)) // F15 logs the signature bytes as a list of ints
		for i := range sig {
			ints[i] = int64(sig[i])
		}
		logHeaders.Set("X-Frappe-Webhook-Signature", ints)
	}
	for _, h := range w.Tables["webhook_headers"] {
		k, v := str(h.V["key"]), str(h.V["value"])
		if k == "" || v == "" {
			continue
		}
		headers.Set(k, v)
		logHeaders.Set(k, v)
	}
	u := str(w.V["request_url"])
	if toInt(w.V["is_dynamic_url"]) == 1 {
		if u, err = jinja.Render(u, map[string]any{"doc": job.payload}); err != nil {
			fail(err)
			return
		}
	}
	base.URL = u
	timeout := time.Duration(toInt(w.V["timeout"])) * time.Second
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	for i := 0; i < 3; i++ {
		d := base
		d.Attempt = i + 1
		d.Body = []byte(body)
		d.Headers = headers.Clone()
		d.Sent = time.Now()
		status, respText, readTimeout, err := r.send(base.Method, u, headers, body, timeout)
		d.Answered = time.Now()
		d.Status = status
		if err == nil {
			r.record(d)
			r.logRequest(job, u, logHeaders, data, respText, "")
			r.s.logger.Info("webhook delivered", "webhook", w.name(), "event", job.event, "doc", job.docname, "status", status, "attempt", i+1)
			return
		}
		d.Err = err.Error()
		r.record(d)
		r.logRequest(job, u, logHeaders, data, respText, err.Error())
		r.s.logger.Warn("webhook attempt failed", "webhook", w.name(), "doc", job.docname, "attempt", i+1, "err", err)
		if readTimeout {
			continue
		}
		if err := r.sleep(r.ctx, time.Duration(3*i+1)*time.Second); err != nil {
			return
		}
		if r.ctx.Err() != nil {
			return
		}
	}
}

func (r *hookRunner) send(method, u string, headers http.Header, body string, timeout time.Duration) (status int, text string, readTimeout bool, err error) {
	ctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
	if err != nil {
		return 0, "", false, fmt.Errorf("requests.exceptions.InvalidURL: %v", err)
	}
	req.Header = headers.Clone()
	req.Header.Set("User-Agent", "python-requests/2.32.3")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	req.Header.Set("Connection", "keep-alive")
	resp, err := r.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return 0, "", true, fmt.Errorf("requests.exceptions.ReadTimeout: %v", err)
		}
		return 0, "", false, fmt.Errorf("requests.exceptions.ConnectionError: %v", err)
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if rerr != nil && ctx.Err() != nil {
		return resp.StatusCode, "", true, fmt.Errorf("requests.exceptions.ReadTimeout: %v", rerr)
	}
	if resp.StatusCode >= 400 {
		kind := "Client"
		if resp.StatusCode >= 500 {
			kind = "Server"
		}
		return resp.StatusCode, string(b), false, fmt.Errorf("requests.exceptions.HTTPError: %d %s Error: %s for url: %s",
			resp.StatusCode, kind, http.StatusText(resp.StatusCode), u)
	}
	return resp.StatusCode, string(b), false, nil
}

// frappeAsJSON is frappe.as_json, which the request log's columns are
// written with: indent=1, sorted keys, separators (",", ": ").
var frappeAsJSON = pyjson.Encoder{ItemSep: ",", KeySep: ": ", Indent: 1, SortKeys: true}

// logRequest writes a Webhook Request Log row (F15 log_request).
func (r *hookRunner) logRequest(job *hookJob, u string, headers *pyjson.Dict, data *pyjson.Dict, response, errText string) {
	vals := map[string]any{
		"webhook": job.webhook.name(), "reference_document": job.docname, "user": job.user, "url": u,
		"response": response, "error": errText,
	}
	if headers != nil && headers.Len() > 0 {
		vals["headers"] = frappeAsJSON.Encode(headers)
	}
	if data != nil && data.Len() > 0 {
		vals["data"] = frappeAsJSON.Encode(data)
	}
	if response == "" {
		vals["response"] = nil
	}
	if errText == "" {
		vals["error"] = nil
	}
	err := r.s.run(Administrator, func(t *tx) error {
		_, err := t.insert("Webhook Request Log", vals, opIgnorePerms, opNoHooks)
		return err
	})
	if err != nil {
		r.s.logger.Error("webhook request log", "err", err)
	}
}
