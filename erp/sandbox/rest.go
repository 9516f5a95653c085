package sandbox

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyjson"
)

// ServeHTTP serves the Frappe v1 REST API (docs/erpnext.md#rest-api): /api/resource,
// /api/method and their /api/v1 aliases.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	segs := pathSegments(r)
	if len(segs) >= 2 && segs[0] == "api" && segs[1] == "v1" {
		segs = append([]string{"api"}, segs[2:]...)
	}
	key := routeKey(r.Method, segs)
	s.knobMu.Lock()
	s.counts[key]++
	s.total++
	latency := s.latency
	var fail *failure
	if len(s.failNext) > 0 {
		f := s.failNext[0]
		s.failNext = s.failNext[1:]
		fail = &f
	}
	if fail == nil {
		for i, f := range s.failOn {
			if f.route == key {
				s.failOn = append(s.failOn[:i:i], s.failOn[i+1:]...)
				fail = &f
				break
			}
		}
	}
	injected := 0
	if fail == nil && s.errRate > 0 {
		s.errCounter++
		every := int(1/s.errRate + 0.5)
		if every < 1 {
			every = 1
		}
		if s.errCounter%every == 0 {
			injected = s.errStatus
		}
	}
	var commitFail *afterCommit
	if fail == nil && injected == 0 {
		for i, f := range s.afterCommit {
			if f.route == key {
				s.afterCommit = append(s.afterCommit[:i:i], s.afterCommit[i+1:]...)
				commitFail = &f
				break
			}
		}
	}
	if s.faults == nil {
		s.faults = map[string]int{}
	}
	switch {
	case fail != nil:
		s.faults[fmt.Sprintf("status %d", fail.status)]++
	case injected != 0:
		s.faults[fmt.Sprintf("status %d", injected)]++
	case commitFail != nil && commitFail.status == 0:
		s.faults["commit then no answer"]++
	case commitFail != nil:
		s.faults[fmt.Sprintf("commit then status %d", commitFail.status)]++
	}
	s.knobMu.Unlock()

	if latency > 0 {
		tm := time.NewTimer(latency)
		select {
		case <-tm.C:
		case <-r.Context().Done():
			tm.Stop()
			return
		}
	}
	if fail != nil {
		for k, vs := range fail.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(fail.status)
		_, _ = io.WriteString(w, fail.body)
		return
	}
	if injected != 0 {
		s.writeError(w, &Error{Status: injected, ExcType: excTypeForStatus(injected), Message: "Injected failure (sandbox knob)", Title: "Message"})
		return
	}

	form, err := parseForm(r)
	if err != nil {
		s.writeError(w, validationErr(err.Error()))
		return
	}
	isPing := len(segs) == 3 && segs[0] == "api" && segs[1] == "method" && segs[2] == "ping"
	user, authErr := s.authenticate(r)
	if authErr != nil && !isPing {
		s.writeError(w, authErr)
		return
	}
	if isPing {
		s.writeJSON(w, http.StatusOK, kv("message", "pong"))
		return
	}
	status, body, err := s.dispatch(r.Method, segs, form, user)
	if commitFail != nil {
		s.failCommitted(w, r, commitFail.status)
		return
	}
	if err != nil {
		var fe *Error
		if !errors.As(err, &fe) {
			fe = &Error{Status: http.StatusInternalServerError, ExcType: "Exception", Message: err.Error()}
		}
		s.writeError(w, fe)
		return
	}
	s.writeJSON(w, status, body)
}

// failCommitted answers a request whose work is done (committed) as if it
// had failed: with status and Frappe's error body, or, for status 0, with
// nothing until the client gives up.
func (s *Sandbox) failCommitted(w http.ResponseWriter, r *http.Request, status int) {
	if status == 0 {
		tm := time.NewTimer(maxWithheld)
		defer tm.Stop()
		select {
		case <-r.Context().Done():
		case <-tm.C:
		}
		return
	}
	s.writeError(w, &Error{Status: status, ExcType: excTypeForStatus(status), Message: "Injected failure after commit (sandbox knob)", Title: "Message"})
}

func excTypeForStatus(st int) string {
	for k, v := range excStatus {
		if v == st && (k == "ValidationError" || k == "DoesNotExistError" || k == "PermissionError" ||
			k == "AuthenticationError" || k == "DuplicateEntryError" || k == "TooManyRequestsError" ||
			k == "CSRFTokenError" || k == "InReadOnlyMode") {
			return k
		}
	}
	return "Exception"
}

func kv(k string, v any) *pyjson.Dict {
	o := pyjson.NewDict()
	o.Set(k, v)
	return o
}

func pathSegments(r *http.Request) []string {
	p := r.URL.EscapedPath()
	var out []string
	for _, seg := range strings.Split(strings.Trim(p, "/"), "/") {
		if seg == "" {
			continue
		}
		u, err := url.PathUnescape(seg)
		if err != nil {
			u = seg
		}
		out = append(out, u)
	}
	return out
}

// routeKey is the counter key: method and path with the doctype but not
// the document name.
func routeKey(method string, segs []string) string {
	switch {
	case len(segs) >= 3 && segs[0] == "api" && segs[1] == "resource":
		return method + " /api/resource/" + segs[2]
	case len(segs) >= 3 && segs[0] == "api" && segs[1] == "method":
		return method + " /api/method/" + segs[2]
	}
	return method + " /" + strings.Join(segs, "/")
}

// parseForm is make_form_dict (docs/erpnext.md#routes): a JSON body replaces the
// query string; otherwise query and form are merged.
func parseForm(r *http.Request) (map[string]any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	ct := r.Header.Get("Content-Type")
	if len(bytes.TrimSpace(body)) > 0 && strings.Contains(strings.ToLower(ct), "json") {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("request body is not valid JSON: %v", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("request body must be a JSON object")
		}
		return m, nil
	}
	out := map[string]any{}
	for k, vs := range r.URL.Query() {
		out[k] = vs[len(vs)-1]
	}
	if len(body) > 0 && strings.Contains(ct, "application/x-www-form-urlencoded") {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, vs := range vals {
			out[k] = vs[len(vs)-1]
		}
	}
	return out, nil
}

// authenticate checks `token KEY:SECRET` or `Basic base64(KEY:SECRET)`
// against every API user's token (docs/erpnext.md#authentication) and returns the user.
func (s *Sandbox) authenticate(r *http.Request) (string, *Error) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	invalid := func() *Error {
		e := frappeErr("AuthenticationError", "Invalid API key or secret")
		e.Title = "Not permitted"
		return e
	}
	if h == "" {
		e := frappeErr("AuthenticationError", "Not permitted: authentication required")
		e.Title = "Not permitted"
		return "", e
	}
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok {
		return "", invalid()
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "token":
	case "basic":
		dec, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", invalid()
		}
		cred = string(dec)
	default:
		return "", invalid()
	}
	key, secret, ok := strings.Cut(cred, ":")
	if !ok {
		return "", invalid()
	}
	// Frappe finds the User by api_key, then compares the decrypted
	// api_secret; the user's roles decide the rest.
	i, ok := s.tokens[key]
	if !ok {
		return "", invalid()
	}
	u := s.users[i]
	if subtle.ConstantTimeCompare([]byte(secret), []byte(u.secret)) != 1 {
		return "", invalid()
	}
	return u.name, nil
}

// frappeResponse is the compact JSON Frappe writes REST responses in.
var frappeResponse = pyjson.Encoder{ItemSep: ",", KeySep: ":"}

func (s *Sandbox) writeJSON(w http.ResponseWriter, status int, body *pyjson.Dict) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, frappeResponse.Encode(body))
}

func (s *Sandbox) writeError(w http.ResponseWriter, e *Error) {
	s.writeJSON(w, e.Status, errorBody(e, s.allowTraceback))
}

// ---- dispatch ----

func (s *Sandbox) dispatch(method string, segs []string, form map[string]any, user string) (int, *pyjson.Dict, error) {
	if len(segs) < 3 || segs[0] != "api" {
		return 0, nil, frappeErr("DoesNotExistError", "Page not found")
	}
	switch segs[1] {
	case "resource":
		return s.resource(method, segs[2:], form, user)
	case "method":
		return s.method(method, segs[2], form, user)
	}
	return 0, nil, frappeErr("DoesNotExistError", "Page not found")
}

func (s *Sandbox) resource(method string, segs []string, form map[string]any, user string) (int, *pyjson.Dict, error) {
	doctype := segs[0]
	var status = http.StatusOK
	var out *pyjson.Dict
	txn := s.run
	if method == http.MethodGet {
		txn = s.read // GET /api/resource only reads: a list or a document
	}
	err := txn(user, func(t *tx) error {
		if t.s.metas[doctype] == nil {
			return frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
		}
		if len(segs) == 1 {
			switch method {
			case http.MethodGet:
				rows, err := t.getList(listArgsFrom(doctype, form))
				if err != nil {
					return err
				}
				out = kv("data", rows)
				return nil
			case http.MethodPost:
				delete(form, "doctype")
				d, err := t.insert(doctype, form)
				if err != nil {
					return err
				}
				out = kv("data", t.s.asDict(d, true))
				return nil
			}
			return frappeErr("DoesNotExistError", "Page not found")
		}
		name := strings.Join(segs[1:], "/")
		switch method {
		case http.MethodGet:
			d, err := t.readDoc(doctype, name)
			if err != nil {
				return err
			}
			out = kv("data", t.s.asDict(d, true))
		case http.MethodPut, http.MethodPatch:
			delete(form, "flags")
			d, err := t.update(doctype, name, form)
			if err != nil {
				return err
			}
			out = kv("data", t.s.asDict(t.docForResponse(d, doctype, name), true))
		case http.MethodDelete:
			if err := t.delete(doctype, name); err != nil {
				return err
			}
			status = http.StatusAccepted
			out = kv("data", "ok")
		default:
			return frappeErr("DoesNotExistError", "Page not found")
		}
		return nil
	})
	return status, out, err
}

// docForResponse returns the child row for a PUT on a child doctype.
func (t *tx) docForResponse(parent *document, doctype, name string) *document {
	if parent.DocType == doctype {
		return parent
	}
	for _, rows := range parent.Tables {
		for _, r := range rows {
			if r.DocType == doctype && r.name() == name {
				return r
			}
		}
	}
	return parent
}

// readDoc is frappe.get_doc + check_permission("read").
func (t *tx) readDoc(doctype, name string) (*document, error) {
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	var d *document
	if m.IsTable {
		_, d = t.findChildRow(doctype, name)
	} else {
		d = t.get(doctype, name)
	}
	if d == nil {
		return nil, notFound(doctype, name)
	}
	if !t.can(doctype, "read", d) {
		return nil, permissionErr(doctype, "read")
	}
	return d, nil
}

func listArgsFrom(doctype string, form map[string]any) listArgs {
	a := listArgs{Doctype: doctype, Fields: form["fields"], Filters: form["filters"], OrFilters: form["or_filters"],
		OrderBy: str(form["order_by"]), Parent: str(form["parent"]), PageLen: 20}
	if v, ok := form["limit_start"]; ok {
		a.Start = toInt(v)
	}
	if v, ok := form["limit"]; ok && v != nil && str(v) != "" {
		a.PageLen = toInt(v)
	}
	if v, ok := form["limit_page_length"]; ok && v != nil && str(v) != "" {
		a.PageLen = toInt(v)
	}
	if v, ok := form["as_dict"]; ok && v != nil {
		switch strings.ToLower(str(v)) {
		case "0", "false":
			a.AsList = true
		}
	}
	if f, ok := a.Fields.(string); ok && f == "" {
		a.Fields = nil
	}
	return a
}

// restricted whitelisted methods accept only these HTTP methods.
var methodVerbs = map[string][]string{
	"frappe.client.set_value": {"POST", "PUT"},
	"frappe.client.insert":    {"POST", "PUT"},
	"frappe.client.save":      {"POST", "PUT"},
	"frappe.client.submit":    {"POST", "PUT"},
	"frappe.client.cancel":    {"POST", "PUT"},
	"frappe.client.delete":    {"POST", "PUT", "DELETE"},
	"erpnext.selling.doctype.sales_order.sales_order.update_status":      {"POST", "PUT"},
	"erpnext.buying.doctype.purchase_order.purchase_order.update_status": {"POST", "PUT"},
}

func (s *Sandbox) method(verb, cmd string, form map[string]any, user string) (int, *pyjson.Dict, error) {
	if allowed, ok := methodVerbs[cmd]; ok {
		permitted := false
		for _, a := range allowed {
			if a == verb {
				permitted = true
			}
		}
		if !permitted {
			e := frappeErr("PermissionError", "Not permitted")
			e.Title = "Message"
			return 0, nil, e
		}
	}
	var result any
	txn := s.run
	if readMethods[cmd] {
		txn = s.read
	}
	err := txn(user, func(t *tx) error {
		var err error
		result, err = t.callMethod(cmd, form)
		return err
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, kv("message", result), nil
}

// readMethods only read, whatever the HTTP method: they run under the
// shared lock, beside each other.
var readMethods = map[string]bool{
	"frappe.auth.get_logged_user": true,
	"frappe.client.get_list":      true,
	"frappe.client.get_count":     true,
	"frappe.client.get_value":     true,
	"frappe.client.get":           true,
}

// jsonArg decodes a parameter that may be JSON text (from a query string)
// or already structured (from a JSON body).
func jsonArg(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '[' && t[0] != '{' && t[0] != '"') {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return s
	}
	return out
}

func (t *tx) callMethod(cmd string, form map[string]any) (any, error) {
	switch cmd {
	case "frappe.auth.get_logged_user":
		return t.user, nil
	case "frappe.client.get_list":
		a := listArgsFrom(str(form["doctype"]), form)
		a.Fields = jsonArg(form["fields"])
		if a.Fields == "" {
			a.Fields = nil
		}
		if t.s.metas[a.Doctype] == nil {
			return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", a.Doctype))
		}
		return t.getList(a)
	case "frappe.client.get_count":
		doctype := str(form["doctype"])
		if t.s.metas[doctype] == nil {
			return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
		}
		rows, err := t.getList(listArgs{Doctype: doctype, Filters: form["filters"], Parent: str(form["parent"]), Fields: []any{"name"}})
		if err != nil {
			return nil, err
		}
		return len(rows), nil
	case "frappe.client.get_value":
		return t.getValue(form)
	case "frappe.client.get":
		return t.clientGet(form)
	case "frappe.client.set_value":
		return t.setValue(form)
	case "frappe.client.insert":
		doc, ok := jsonArg(form["doc"]).(map[string]any)
		if !ok {
			return nil, validationErr("doc must be a JSON object")
		}
		doctype := str(doc["doctype"])
		delete(doc, "doctype")
		d, err := t.insert(doctype, doc)
		if err != nil {
			return nil, err
		}
		return t.s.asDict(d, false), nil
	case "frappe.client.save", "frappe.client.submit":
		doc, ok := jsonArg(form["doc"]).(map[string]any)
		if !ok {
			return nil, validationErr("doc must be a JSON object")
		}
		d, err := t.saveWholeDoc(doc, cmd == "frappe.client.submit")
		if err != nil {
			return nil, err
		}
		return t.s.asDict(d, false), nil
	case "frappe.client.cancel":
		d, err := t.cancel(str(form["doctype"]), str(form["name"]))
		if err != nil {
			return nil, err
		}
		return t.s.asDict(d, false), nil
	case "frappe.client.delete":
		return nil, t.delete(str(form["doctype"]), str(form["name"]))
	case "erpnext.selling.doctype.sales_order.sales_order.update_status":
		_, err := t.updateStatus("Sales Order", str(form["name"]), str(form["status"]))
		return nil, err
	case "erpnext.buying.doctype.purchase_order.purchase_order.update_status":
		_, err := t.updateStatus("Purchase Order", str(form["name"]), str(form["status"]))
		return nil, err
	}
	return nil, frappeErr("DoesNotExistError", fmt.Sprintf("Method %s not found", cmd))
}

// getValue is frappe.client.get_value (docs/erpnext.md#updating-a-document).
func (t *tx) getValue(form map[string]any) (any, error) {
	doctype := str(form["doctype"])
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	parent := str(form["parent"])
	if m.IsTable {
		if err := t.checkParentPermission(parent, doctype); err != nil {
			return nil, err
		}
	} else if !t.can(doctype, "read", nil) {
		e := frappeErr("PermissionError", fmt.Sprintf("No permission for %s", doctype))
		return nil, e
	}
	var fields []any
	switch f := jsonArg(form["fieldname"]).(type) {
	case []any:
		fields = f
	case string:
		fields = []any{f}
	default:
		fields = []any{str(f)}
	}
	filters := jsonArg(form["filters"])
	if s, ok := filters.(string); ok {
		if s == "" {
			filters = nil
		} else {
			filters = map[string]any{"name": s}
		}
	}
	asDict := true
	if v, ok := form["as_dict"]; ok && v != nil {
		switch strings.ToLower(str(v)) {
		case "0", "false":
			asDict = false
		}
	}
	rows, err := t.getList(listArgs{Doctype: doctype, Fields: fields, Filters: filters, PageLen: 1, Parent: parent, AsList: !asDict})
	if err != nil {
		return nil, err
	}
	if asDict {
		if len(rows) == 0 {
			return pyjson.NewDict(), nil
		}
		return rows[0], nil
	}
	if len(rows) == 0 {
		return nil, nil
	}
	vals := rows[0].([]any)
	if len(fields) > 1 {
		return vals, nil
	}
	return vals[0], nil
}

// clientGet is frappe.client.get: the whole document with nulls.
func (t *tx) clientGet(form map[string]any) (any, error) {
	doctype := str(form["doctype"])
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	if m.IsTable {
		if err := t.checkParentPermission(str(form["parent"]), doctype); err != nil {
			return nil, err
		}
	}
	name := str(form["name"])
	if name == "" && form["filters"] != nil {
		rows, err := t.getList(listArgs{Doctype: doctype, Filters: jsonArg(form["filters"]), PageLen: 1, Parent: str(form["parent"])})
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, frappeErr("DoesNotExistError", "No document found for given filters")
		}
		v, _ := rows[0].(*pyjson.Dict).Get("name")
		name = str(v)
	}
	d, err := t.readDoc(doctype, name)
	if err != nil {
		return nil, err
	}
	return t.s.asDict(d, false), nil
}

// setValue is frappe.client.set_value: a parent or child row update that
// runs the full save (docs/erpnext.md#otps-own-writes-and-the-loop, #updating-a-document).
func (t *tx) setValue(form map[string]any) (any, error) {
	doctype, name := str(form["doctype"]), str(form["name"])
	fieldname := form["fieldname"]
	var values map[string]any
	value := form["value"]
	if value == nil || str(value) == "" {
		switch f := jsonArg(fieldname).(type) {
		case map[string]any:
			values = f
		default:
			values = map[string]any{str(f): ""}
		}
	} else {
		values = map[string]any{str(fieldname): value}
	}
	if fs, ok := fieldname.(string); ok && (isDefaultField(fs) || isChildTableField(fs)) {
		return nil, validationErr("Cannot edit standard fields")
	}
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	d, err := t.update(doctype, name, values)
	if err != nil {
		return nil, err
	}
	return t.s.asDict(d, false), nil
}

// saveWholeDoc is frappe.client.save/submit: frappe.get_doc(dict) builds the
// document from the dict alone (fields not given are empty), then saves.
func (t *tx) saveWholeDoc(doc map[string]any, submit bool) (*document, error) {
	doctype, name := str(doc["doctype"]), str(doc["name"])
	if t.s.metas[doctype] == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	cur := t.get(doctype, name)
	if name == "" || cur == nil {
		if submit {
			doc["docstatus"] = 1
		}
		delete(doc, "doctype")
		return t.insert(doctype, doc)
	}
	d := newDocument(doctype)
	d.V["name"] = cur.name() // the stored spelling: names compare without case
	if err := t.applyValues(d, doc, false); err != nil {
		return nil, err
	}
	for _, f := range []string{"owner", "creation"} {
		d.V[f] = cur.V[f]
	}
	given := str(d.V["modified"])
	d.V["modified"] = cur.V["modified"]
	if _, ok := doc["docstatus"]; !ok {
		d.V["docstatus"] = cur.docstatus()
	}
	if submit {
		d.V["docstatus"] = 1
	}
	return t.save(d, cur, given)
}
