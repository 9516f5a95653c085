package migrations

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Op is what a plan does with one document.
type Op string

// Ops.
const (
	OpCreate    Op = "create"    // POST: the document is missing
	OpUpdate    Op = "update"    // PUT the managed fields that differ
	OpAdopt     Op = "adopt"     // PUT into a document otp migrate did not create (Down keeps it)
	OpUnchanged Op = "unchanged" // nothing to write
	OpDelete    Op = "delete"    // DELETE a document otp migrate created
	OpKeep      Op = "keep"      // Down leaves a document otp migrate did not create
	OpAbsent    Op = "absent"    // Down: nothing there
)

// Call is one REST write.
type Call struct {
	Method  string // POST, PUT or DELETE
	DocType string
	Name    string         // the document; "" for POST
	Body    map[string]any // nil for DELETE
}

// Path is the request path, escaped as sent.
func (c Call) Path() string {
	p := "/api/resource/" + url.PathEscape(c.DocType)
	if c.Name != "" {
		p += "/" + url.PathEscape(c.Name)
	}
	return p
}

// String is "METHOD PATH BODY", the webhook secret replaced by a
// placeholder so that a dry run can be pasted into a ticket.
func (c Call) String() string {
	s := c.Method + " " + c.Path()
	if c.Body != nil {
		body := maps.Clone(c.Body)
		if _, ok := body["webhook_secret"]; ok {
			body["webhook_secret"] = "<OTP_WEBHOOK_SECRET>"
		}
		if script, ok := body["script"].(string); ok && c.DocType == "Client Script" {
			body["script"] = fmt.Sprintf("(%d lines of JavaScript)", strings.Count(script, "\n"))
		}
		b, err := json.Marshal(body)
		if err != nil {
			b = []byte(fmt.Sprintf("%v", body))
		}
		s += " " + string(b)
	}
	return s
}

// Action is one document's part of a plan.
type Action struct {
	Step    string
	DocType string
	Name    string
	Op      Op
	Detail  string // what differs, or why a document is kept
	Call    *Call  // the write, nil when there is none
	Done    bool   // set by Apply once the write succeeded
}

// Plan is what Up or Down would do, worked out from reads alone.
type Plan struct {
	Actions []Action
}

// Writes returns the REST writes of the plan, in order: what a dry run
// prints.
func (p *Plan) Writes() []Call {
	var out []Call
	for _, a := range p.Actions {
		if a.Call != nil {
			out = append(out, *a.Call)
		}
	}
	return out
}

// Count returns how many actions do op.
func (p *Plan) Count(op Op) int {
	n := 0
	for _, a := range p.Actions {
		if a.Op == op {
			n++
		}
	}
	return n
}

// Apply makes the plan's writes in order and stops at the first failure,
// which it returns naming the document. Actions written are marked Done.
func (p *Plan) Apply(ctx context.Context, c Client) error {
	for i := range p.Actions {
		a := &p.Actions[i]
		if a.Call == nil {
			continue
		}
		var err error
		switch a.Call.Method {
		case "POST":
			_, err = c.InsertDoc(ctx, a.Call.DocType, a.Call.Body)
		case "PUT":
			_, err = c.UpdateDoc(ctx, a.Call.DocType, a.Call.Name, a.Call.Body)
		case "DELETE":
			err = c.DeleteDoc(ctx, a.Call.DocType, a.Call.Name)
		default:
			err = fmt.Errorf("unknown method %q", a.Call.Method)
		}
		if err != nil {
			return fmt.Errorf("migrations: %s: %s %s %q: %w", a.Step, a.Op, a.DocType, a.Name, err)
		}
		a.Done = true
	}
	return nil
}

// PlanUp reads the site and works out what Up writes: each missing document
// is created, each that differs has its differing managed fields written
// back, in step order. It makes no write. A conflict (a document in the way
// that otp migrate did not create and cannot adopt) fails the whole plan
// with ErrConflict, so that Up writes nothing rather than half a step.
func PlanUp(ctx context.Context, c Client, cfg Config) (*Plan, error) {
	if err := cfg.check(true); err != nil {
		return nil, err
	}
	steps, err := Status(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	var conflicts []string
	for _, st := range steps {
		for _, d := range st.Docs {
			a := Action{Step: st.Step.ID, DocType: d.DocType, Name: d.Name}
			switch {
			case d.State == Conflict:
				conflicts = append(conflicts, fmt.Sprintf("%s %q: %s", d.DocType, d.Name, d.Reason))
				continue
			case d.State == Pending:
				doc := d.res.document()
				a.Op = OpCreate
				a.Call = &Call{Method: "POST", DocType: doc.DocType, Body: doc.Fields}
			case len(d.Diffs) > 0:
				a.Op = OpUpdate
				if d.Adopted {
					a.Op = OpAdopt
				}
				body := map[string]any{}
				var fields []string
				for _, df := range d.Diffs {
					maps.Copy(body, df.set)
					fields = append(fields, df.Field)
				}
				a.Detail = strings.Join(fields, ", ")
				a.Call = &Call{Method: "PUT", DocType: d.DocType, Name: d.Name, Body: body}
			default:
				a.Op = OpUnchanged
				if d.Adopted {
					a.Detail = "adopted earlier"
				}
			}
			p.Actions = append(p.Actions, a)
		}
	}
	if len(conflicts) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConflict, strings.Join(conflicts, "; "))
	}
	return p, nil
}

// PlanDown reads the site and works out what Down deletes: the documents
// otp migrate created, newest step first and each step's documents in
// reverse. Adopted custom fields and webhooks it did not create are kept.
// It makes no write.
func PlanDown(ctx context.Context, c Client, cfg Config) (*Plan, error) {
	steps, err := Status(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	p := &Plan{}
	for _, st := range slices.Backward(steps) {
		for _, d := range slices.Backward(st.Docs) {
			a := Action{Step: st.Step.ID, DocType: d.DocType, Name: d.Name}
			switch {
			case d.State == Pending:
				a.Op = OpAbsent
			case d.Ours:
				a.Op = OpDelete
				a.Call = &Call{Method: "DELETE", DocType: d.DocType, Name: d.Name}
			default:
				a.Op = OpKeep
				a.Detail = d.Reason
			}
			p.Actions = append(p.Actions, a)
		}
	}
	return p, nil
}

// Up applies every pending or drifted step, in order, and returns the plan
// it carried out (see PlanUp). Re-running it on an applied site makes no
// write.
func Up(ctx context.Context, c Client, cfg Config) (*Plan, error) {
	p, err := PlanUp(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	return p, p.Apply(ctx, c)
}

// Down deletes what Up created (see PlanDown) and returns the plan it
// carried out.
func Down(ctx context.Context, c Client, cfg Config) (*Plan, error) {
	p, err := PlanDown(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	return p, p.Apply(ctx, c)
}
