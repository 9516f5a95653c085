package migrations

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/erpnext-otp/otp/erp"
)

// Client is what the migrations need of ERPNext; *erp.Client has it.
type Client interface {
	GetDoc(ctx context.Context, doctype, name string) (map[string]any, error)
	InsertDoc(ctx context.Context, doctype string, doc map[string]any) (map[string]any, error)
	UpdateDoc(ctx context.Context, doctype, name string, fields map[string]any) (map[string]any, error)
	DeleteDoc(ctx context.Context, doctype, name string) error
	List(ctx context.Context, doctype string, q erp.ListQuery) ([]map[string]any, error)
	LoggedUser(ctx context.Context) (string, error)
}

var _ Client = (*erp.Client)(nil)

// Config is what the webhooks are built from.
type Config struct {
	// PublicURL is how ERPNext reaches OTP (OTP_PUBLIC_URL); the webhooks
	// post to PublicURL + "/webhooks/erpnext/...".
	PublicURL string
	// WebhookSecret signs every delivery (OTP_WEBHOOK_SECRET). Up needs it;
	// Status without it does not compare the secret.
	WebhookSecret string
	// APIUser is OTP's own API user (ERPNEXT_API_USER, else the logged-in
	// user): the webhooks skip its saves, so OTP's write-back does not come
	// back as a webhook (docs/erpnext.md#otps-own-writes-and-the-loop).
	APIUser string
}

// Errors a Config can have.
var (
	ErrNoPublicURL = errors.New("migrations: OTP_PUBLIC_URL is not an http(s) URL")
	ErrNoSecret    = errors.New("migrations: OTP_WEBHOOK_SECRET is required to create signed webhooks")
	ErrNoAPIUser   = errors.New("migrations: OTP's API user is unknown (set ERPNEXT_API_USER)")
	// ErrConflict is returned by PlanUp when a document in the way was not
	// created by otp migrate.
	ErrConflict = errors.New("migrations: conflict")
)

// check reports what is wrong with c for building the steps; secret says
// whether the secret is required.
func (c Config) check(secret bool) error {
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%w: %q", ErrNoPublicURL, c.PublicURL)
	}
	if secret && c.WebhookSecret == "" {
		return ErrNoSecret
	}
	if c.APIUser == "" {
		return ErrNoAPIUser
	}
	// Frappe sanitises HTML out of a Small Text condition (a "<" or ">"
	// makes it run bleach over the value), and the condition is a Python
	// string literal: refuse what would not survive either.
	if strings.ContainsAny(c.APIUser, "<>\"\\\n\r") {
		return fmt.Errorf("%w: API user %q has a character a webhook condition cannot hold", ErrNoAPIUser, c.APIUser)
	}
	return nil
}

// Document is one ERPNext document a step wants, as Up inserts it.
type Document struct {
	DocType string
	Name    string
	Fields  map[string]any
}

// Step is one numbered migration: a desired set of documents.
type Step struct {
	ID      string // "0001_order_promise_fields"
	Summary string
	build   func(Config) []resource
}

// Documents returns the documents the step wants for cfg, in the order Up
// creates them.
func (s Step) Documents(cfg Config) []Document {
	rs := s.build(cfg)
	out := make([]Document, len(rs))
	for i, r := range rs {
		out[i] = r.document()
	}
	return out
}

// Steps returns every step, oldest first.
func Steps() []Step {
	return []Step{orderPromiseFields, salesOrderWebhooks, supplyWebhooks, salesOrderIndicator}
}

// resource is one document a step manages.
type resource interface {
	document() Document
	// owned reports whether otp migrate created have; when not, why not.
	owned(have map[string]any) (bool, string)
	// adoptable says whether a document otp migrate did not create is
	// brought to our definition (custom fields) or is a conflict (webhooks).
	adoptable() bool
	// compare returns the managed fields of have that differ from ours,
	// and notes on what could not be compared.
	compare(have map[string]any) ([]Diff, []string)
}

// Diff is one managed field that differs.
type Diff struct {
	Field string
	Have  string // printable
	Want  string // printable
	// set is what a PUT sends to fix it.
	set map[string]any
}

func (d Diff) String() string { return d.Field + ": have " + d.Have + ", want " + d.Want }

// State is a step's or a document's state.
type State string

// States.
const (
	Applied  State = "applied"  // present as defined
	Pending  State = "pending"  // missing (for a step: some document is missing)
	Drifted  State = "drifted"  // present, a managed field differs
	Conflict State = "conflict" // present, not created by otp migrate, and cannot be adopted
)

// DocStatus is one document as found on the site.
type DocStatus struct {
	DocType string
	Name    string
	State   State
	// Ours: otp migrate created it, and Down deletes it. A present document
	// that is not ours is adopted (custom fields) or a conflict (webhooks).
	Ours    bool
	Adopted bool
	Reason  string // why a present document is not ours
	Diffs   []Diff
	Notes   []string

	res  resource
	have map[string]any
}

// StepStatus is one step as found on the site.
type StepStatus struct {
	Step  Step
	State State
	Docs  []DocStatus
}

// Status reads every document of every step (one GET each) and says what
// state each step is in. cfg.WebhookSecret may be empty: the secret is then
// not compared.
func Status(ctx context.Context, c Client, cfg Config) ([]StepStatus, error) {
	if err := cfg.check(false); err != nil {
		return nil, err
	}
	var out []StepStatus
	for _, s := range Steps() {
		st := StepStatus{Step: s}
		for _, r := range s.build(cfg) {
			ds, err := inspect(ctx, c, r)
			if err != nil {
				return nil, fmt.Errorf("migrations: %s: %w", s.ID, err)
			}
			st.Docs = append(st.Docs, ds)
		}
		st.State = stepState(st.Docs)
		out = append(out, st)
	}
	return out, nil
}

// inspect reads one document and compares it with ours.
func inspect(ctx context.Context, c Client, r resource) (DocStatus, error) {
	d := r.document()
	ds := DocStatus{DocType: d.DocType, Name: d.Name, res: r}
	have, err := c.GetDoc(ctx, d.DocType, d.Name)
	if errors.Is(err, erp.ErrNotFound) {
		ds.State = Pending
		return ds, nil
	}
	if err != nil {
		return ds, fmt.Errorf("read %s %q: %w", d.DocType, d.Name, err)
	}
	ds.have = have
	ds.Ours, ds.Reason = r.owned(have)
	if !ds.Ours && !r.adoptable() {
		ds.State = Conflict
		return ds, nil
	}
	ds.Adopted = !ds.Ours
	ds.Diffs, ds.Notes = r.compare(have)
	ds.State = Applied
	if len(ds.Diffs) > 0 {
		ds.State = Drifted
	}
	return ds, nil
}

// stepState: a conflict anywhere, else a missing document, else a
// difference, else applied.
func stepState(docs []DocStatus) State {
	has := map[State]bool{}
	for _, d := range docs {
		has[d.State] = true
	}
	for _, s := range []State{Conflict, Pending, Drifted} {
		if has[s] {
			return s
		}
	}
	return Applied
}
