package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/erpnext-otp/otp/erp/sandbox/internal/pyexpr"
)

// This file is frappe/model/document.py: insert, save, submit, cancel,
// delete and db_set, with the methods they run in Frappe's order and the
// webhook events those methods fire (docs/erpnext.md#which-save-fires-which-event).

type opFlag int

const (
	opIgnorePerms opFlag = 1 << iota
	// opNoHooks skips webhooks and controller side effects (bookkeeping rows).
	opNoHooks
)

func has(flags []opFlag, f opFlag) bool {
	for _, x := range flags {
		if x&f != 0 {
			return true
		}
	}
	return false
}

// Document actions (Document._action).
const (
	actSave              = "save"
	actSubmit            = "submit"
	actUpdateAfterSubmit = "update_after_submit"
	actCancel            = "cancel"
)

// ignoredKeys are request keys that are never columns.
var ignoredKeys = map[string]bool{"doctype": true, "flags": true, "__islocal": true, "__unsaved": true,
	"__newname": true, "__last_sync_on": true, "_user_tags": true, "_comments": true, "_assign": true,
	"_liked_by": true, "__onload": true, "__run_link_triggers": true}

// applyValues is BaseDocument.update: each key that is a column of the
// doctype is set (cast to its type); a table key replaces the whole table;
// other keys are accepted and dropped (docs/erpnext.md#updating-a-document).
func (t *tx) applyValues(d *document, vals map[string]any, isNew bool) error {
	m := t.s.metas[d.DocType]
	for k, v := range vals {
		if ignoredKeys[k] {
			continue
		}
		if isDefaultField(k) || (m.IsTable && isChildTableField(k)) {
			switch k {
			case "name":
				if isNew && v != nil && str(v) != "" {
					d.V["name"] = str(v)
				}
			case "docstatus", "idx":
				d.V[k] = toInt(v)
			case "modified":
				if v != nil {
					d.V["modified"] = str(v)
				}
			case "parent", "parentfield", "parenttype":
				d.V[k] = str(v)
			}
			continue
		}
		f := m.field(k)
		if f == nil {
			continue
		}
		if f.isTable() {
			rows, err := t.buildRows(d, f, v)
			if err != nil {
				return err
			}
			d.Tables[f.Name] = rows
			continue
		}
		if !f.hasColumn() {
			continue
		}
		cv, err := castValue(f, v)
		if err != nil {
			return err
		}
		d.V[k] = cv
	}
	return nil
}

// buildRows turns a list of row dicts into child documents. Each row has
// exactly the columns it was given; rows with a name keep it.
func (t *tx) buildRows(parent *document, f *field, v any) ([]*document, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, validationErr(fmt.Sprintf("Value for %s must be a list of rows", f.Label))
	}
	rows := make([]*document, 0, len(list))
	for i, item := range list {
		rowVals, ok := item.(map[string]any)
		if !ok {
			return nil, validationErr(fmt.Sprintf("Row #%d of %s is not an object", i+1, f.Label))
		}
		r := newDocument(f.Options)
		if err := t.applyValues(r, rowVals, true); err != nil {
			return nil, err
		}
		if toInt(r.V["idx"]) == 0 {
			r.V["idx"] = i + 1
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// setDefaults is Document._set_defaults on insert: df.default for empty
// columns ("Today" is today), for the parent and its rows.
func (t *tx) setDefaults(d *document) {
	m := t.s.metas[d.DocType]
	for _, f := range m.columns() {
		if f.Default == "" {
			continue
		}
		if v, ok := d.V[f.Name]; ok && v != nil && v != "" {
			continue
		}
		def := f.Default
		if def == "Today" && (f.isDate() || f.Type == "Datetime") {
			def = t.today()
		}
		cv, err := castValue(f, def)
		if err == nil {
			d.V[f.Name] = cv
		}
	}
	for _, tf := range m.tableFields() {
		for _, r := range d.Tables[tf.Name] {
			t.setDefaults(r)
		}
	}
}

// finishChildren sets the parent link, idx order, docstatus, names and
// timestamps of every row (set_parent_in_children, set_name_in_children).
func (t *tx) finishChildren(d *document) {
	m := t.s.metas[d.DocType]
	for _, tf := range m.tableFields() {
		for _, r := range d.Tables[tf.Name] {
			if r.name() == "" {
				r.V["name"] = t.hash()
				r.V["owner"] = t.user
				r.V["creation"] = t.now()
			}
			if r.V["owner"] == nil {
				r.V["owner"] = d.V["owner"]
			}
			if r.V["creation"] == nil {
				r.V["creation"] = d.V["creation"]
			}
			r.V["parent"] = d.name()
			r.V["parentfield"] = tf.Name
			r.V["parenttype"] = d.DocType
			r.V["docstatus"] = d.docstatus()
			r.V["modified"] = d.V["modified"]
			r.V["modified_by"] = d.V["modified_by"]
		}
	}
}

// insert is Document.insert (docs/erpnext.md#which-save-fires-which-event row "insert"). docstatus 1 in the
// values inserts and submits in one go, as Frappe does.
func (t *tx) insert(doctype string, vals map[string]any, flags ...opFlag) (*document, error) {
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	if m.IsTable {
		return nil, validationErr(fmt.Sprintf("%s is a child table; insert its parent instead", doctype))
	}
	d := newDocument(doctype)
	if err := t.applyValues(d, vals, true); err != nil {
		return nil, err
	}
	if n, ok := vals["__newname"]; ok && d.name() == "" {
		d.V["name"] = str(n)
	}
	t.setDefaults(d)
	d.V["owner"] = t.user
	d.V["creation"] = t.now()
	d.V["modified"] = t.now()
	d.V["modified_by"] = t.user
	d.V["idx"] = 0
	if d.V["docstatus"] == nil {
		d.V["docstatus"] = 0
	}
	action := actSave
	switch d.docstatus() {
	case 0:
	case 1:
		action = actSubmit
	default:
		return nil, frappeErr("DocstatusTransitionError", "Cannot change docstatus from 0 (Draft) to 2 (Cancelled)")
	}
	if err := t.validateLinks(d); err != nil {
		return nil, err
	}
	if !has(flags, opIgnorePerms) {
		if !t.can(doctype, "create", d) {
			return nil, permissionErr(doctype, "create")
		}
		if action == actSubmit && !t.can(doctype, "submit", d) {
			return nil, permissionErr(doctype, "submit")
		}
	}
	if err := t.controller("before_insert", d, nil, action); err != nil {
		return nil, err
	}
	if err := t.setNewName(d); err != nil {
		return nil, err
	}
	t.finishChildren(d)
	if err := t.beforeSave(d, nil, action); err != nil {
		return nil, err
	}
	if err := t.validateDoc(d); err != nil {
		return nil, err
	}
	t.savePasswords(d)
	t.finishChildren(d)
	if t.get(doctype, d.name()) != nil {
		e := frappeErr("DuplicateEntryError", fmt.Sprintf("%s <strong>%s</strong> already exists", doctype, d.name()))
		e.Title = "Duplicate Name"
		return nil, e
	}
	t.put(d)
	hooks := !has(flags, opNoHooks)
	if err := t.runMethod("after_insert", d, nil, action, true, hooks); err != nil {
		return nil, err
	}
	if err := t.afterSave(d, nil, action, true, hooks); err != nil {
		return nil, err
	}
	return t.get(doctype, d.name()), nil
}

// update loads a stored document, applies the values (partial update,
// docs/erpnext.md#updating-a-document) and saves it.
func (t *tx) update(doctype, name string, vals map[string]any, flags ...opFlag) (*document, error) {
	m := t.s.metas[doctype]
	if m == nil {
		return nil, frappeErr("DoesNotExistError", fmt.Sprintf("DocType %s not found", doctype))
	}
	if m.IsTable {
		return t.updateChild(doctype, name, vals, flags...)
	}
	cur := t.get(doctype, name)
	if cur == nil {
		return nil, notFound(doctype, name)
	}
	d := cur.clone()
	given, hasModified := vals["modified"]
	if err := t.applyValues(d, vals, false); err != nil {
		return nil, err
	}
	d.V["modified"] = cur.V["modified"]
	var givenModified string
	if hasModified && given != nil {
		givenModified = str(given)
	}
	return t.save(d, cur, givenModified, flags...)
}

// updateChild is frappe.client.set_value on a child row: load the parent,
// update that row, save the parent (client.py L178-188).
func (t *tx) updateChild(doctype, name string, vals map[string]any, flags ...opFlag) (*document, error) {
	parent, _ := t.findChildRow(doctype, name)
	if parent == nil {
		return nil, notFound(doctype, name)
	}
	d := parent.clone()
	for _, rows := range d.Tables {
		for _, r := range rows {
			if r.DocType == doctype && r.name() == name {
				clean := map[string]any{}
				for k, v := range vals {
					if !isDefaultField(k) && !isChildTableField(k) {
						clean[k] = v
					}
				}
				if err := t.applyValues(r, clean, false); err != nil {
					return nil, err
				}
			}
		}
	}
	return t.save(d, parent, "", flags...)
}

// findChildRow finds the parent holding a child row.
func (t *tx) findChildRow(doctype, name string) (*document, *document) {
	for pname, pm := range t.s.metas {
		for _, tf := range pm.tableFields() {
			if tf.Options != doctype {
				continue
			}
			for _, p := range t.all(pname) {
				for _, r := range p.Tables[tf.Name] {
					if r.name() == name {
						return p, r
					}
				}
			}
		}
	}
	return nil, nil
}

// save is Document.save/_save for a stored document: check_if_latest, the
// docstatus transition, permissions, validation and the post-save methods.
func (t *tx) save(d, before *document, givenModified string, flags ...opFlag) (*document, error) {
	doctype := d.DocType
	if givenModified != "" && givenModified != str(before.V["modified"]) {
		e := frappeErr("TimestampMismatchError", fmt.Sprintf(
			"Error: Document has been modified after you have opened it (%s, %s). Please refresh to get the latest document.",
			str(before.V["modified"]), givenModified))
		return nil, e
	}
	from, to := before.docstatus(), d.docstatus()
	var action string
	switch {
	case from == 0 && to == 0:
		action = actSave
	case from == 0 && to == 1:
		action = actSubmit
	case from == 1 && to == 1:
		action = actUpdateAfterSubmit
	case from == 1 && to == 2:
		action = actCancel
	case from == 2:
		return nil, validationErr("Cannot edit cancelled document")
	default:
		return nil, frappeErr("DocstatusTransitionError", fmt.Sprintf("Cannot change docstatus from %d (%s) to %d (%s)",
			from, docstatusLabel(from), to, docstatusLabel(to)))
	}
	if !has(flags, opIgnorePerms) {
		ptype := map[string]string{actSave: "write", actSubmit: "submit", actUpdateAfterSubmit: "submit", actCancel: "cancel"}[action]
		if !t.can(doctype, "write", d) && action == actSave {
			return nil, permissionErr(doctype, "write")
		}
		if !t.can(doctype, ptype, d) {
			return nil, permissionErr(doctype, ptype)
		}
	}
	if action == actCancel {
		if err := t.checkNoBackLinks(before, "Cancel"); err != nil {
			return nil, err
		}
	}
	d.V["modified"] = t.now()
	d.V["modified_by"] = t.user
	t.finishChildren(d)
	if action != actCancel {
		if err := t.validateLinks(d); err != nil {
			return nil, err
		}
	}
	if err := t.beforeSave(d, before, action); err != nil {
		return nil, err
	}
	if action != actCancel {
		if err := t.validateDoc(d); err != nil {
			return nil, err
		}
	}
	if action == actUpdateAfterSubmit {
		if err := t.validateUpdateAfterSubmit(d, before); err != nil {
			return nil, err
		}
	}
	t.savePasswords(d)
	t.finishChildren(d)
	t.put(d)
	if err := t.afterSave(d, before, action, false, !has(flags, opNoHooks)); err != nil {
		return nil, err
	}
	return t.get(doctype, d.name()), nil
}

func docstatusLabel(ds int) string {
	switch ds {
	case 0:
		return "Draft"
	case 1:
		return "Submitted"
	}
	return "Cancelled"
}

// beforeSave is run_before_save_methods.
func (t *tx) beforeSave(d, before *document, action string) error {
	switch action {
	case actSave, actSubmit:
		if err := t.controller("validate", d, before, action); err != nil {
			return err
		}
		if action == actSubmit {
			return t.controller("before_submit", d, before, action)
		}
		return t.controller("before_save", d, before, action)
	case actUpdateAfterSubmit:
		return t.controller("before_update_after_submit", d, before, action)
	case actCancel:
		return t.controller("before_cancel", d, before, action)
	}
	return nil
}

// afterSave is run_post_save_methods; inInsert suppresses on_change webhooks
// (docs/erpnext.md#which-save-fires-which-event).
func (t *tx) afterSave(d, before *document, action string, inInsert, hooks bool) error {
	var methods []string
	switch action {
	case actSave:
		methods = []string{"on_update", "on_change"}
	case actSubmit:
		methods = []string{"on_update", "on_submit", "on_change"}
	case actUpdateAfterSubmit:
		methods = []string{"on_update_after_submit", "on_change"}
	case actCancel:
		methods = []string{"on_cancel", "on_change"}
	}
	for _, m := range methods {
		cur := t.get(d.DocType, d.name())
		if cur == nil {
			cur = d
		}
		if err := t.runMethod(m, cur, before, action, inInsert, hooks); err != nil {
			return err
		}
	}
	return nil
}

// runMethod runs a controller method and then the webhooks for it
// (Document.run_method → run_webhooks).
func (t *tx) runMethod(method string, d, before *document, action string, inInsert, hooks bool) error {
	if hooks {
		if err := t.controller(method, d, before, action); err != nil {
			return err
		}
	}
	if !hooks {
		return nil
	}
	cur := t.get(d.DocType, d.name())
	if cur == nil {
		cur = d
	}
	return t.queueWebhooks(cur, method, inInsert)
}

// dbSet is Document.db_set: write columns straight to the row, bump
// modified, and run on_change (docs/erpnext.md#which-save-fires-which-event: ERPNext's status updates).
func (t *tx) dbSet(doctype, name string, change func(d *document)) error {
	cur := t.get(doctype, name)
	if cur == nil {
		return notFound(doctype, name)
	}
	d := cur.clone()
	change(d)
	d.V["modified"] = t.now()
	d.V["modified_by"] = t.user
	t.finishChildren(d)
	t.put(d)
	return t.runMethod("on_change", d, cur, actUpdateAfterSubmit, false, true)
}

// submit loads a draft and submits it.
func (t *tx) submit(doctype, name string, flags ...opFlag) (*document, error) {
	cur := t.get(doctype, name)
	if cur == nil {
		return nil, notFound(doctype, name)
	}
	if !t.s.metas[doctype].Submittable {
		return nil, validationErr(fmt.Sprintf("%s is not submittable", doctype))
	}
	d := cur.clone()
	d.V["docstatus"] = 1
	return t.save(d, cur, "", flags...)
}

// cancel loads a submitted document and cancels it.
func (t *tx) cancel(doctype, name string, flags ...opFlag) (*document, error) {
	cur := t.get(doctype, name)
	if cur == nil {
		return nil, notFound(doctype, name)
	}
	d := cur.clone()
	d.V["docstatus"] = 2
	return t.save(d, cur, "", flags...)
}

// delete is frappe.delete_doc.
func (t *tx) delete(doctype, name string, flags ...opFlag) error {
	cur := t.get(doctype, name)
	if cur == nil {
		return notFound(doctype, name)
	}
	if !has(flags, opIgnorePerms) && !t.can(doctype, "delete", cur) {
		return permissionErr(doctype, "delete")
	}
	if cur.docstatus() == 1 {
		return validationErr(fmt.Sprintf("%s %s: Submitted Record cannot be deleted. You must Cancel it first.", doctype, name))
	}
	if err := t.runMethod("on_trash", cur, nil, "delete", false, !has(flags, opNoHooks)); err != nil {
		return err
	}
	if err := t.checkNoBackLinks(cur, "Delete"); err != nil {
		return err
	}
	t.remove(doctype, name)
	return nil
}

// checkNoBackLinks is check_if_doc_is_linked / check_no_back_links_exist: a
// document another (not cancelled) document links to cannot be deleted, and
// a submitted one with submitted documents linking to it cannot be cancelled.
func (t *tx) checkNoBackLinks(target *document, method string) error {
	tname := target.name()
	for dt, m := range t.s.metas {
		if m.IsTable {
			continue
		}
		for _, other := range t.all(dt) {
			if other == target || (dt == target.DocType && other.name() == tname) {
				continue
			}
			if method == "Cancel" && other.docstatus() != 1 {
				continue
			}
			if method == "Delete" && other.docstatus() == 2 {
				continue
			}
			if t.linksTo(other, target.DocType, tname) {
				e := frappeErr("LinkExistsError", fmt.Sprintf("Cannot delete or cancel because %s <a href=\"/app/Form/%s/%s\">%s</a> is linked with %s <a href=\"/app/Form/%s/%s\">%s</a>",
					target.DocType, target.DocType, tname, tname, dt, dt, other.name(), other.name()))
				return e
			}
		}
	}
	return nil
}

func (t *tx) linksTo(d *document, doctype, name string) bool {
	m := t.s.metas[d.DocType]
	for _, f := range m.columns() {
		if f.Type == "Link" && f.Options == doctype && str(d.V[f.Name]) == name && f.Name != "amended_from" {
			return true
		}
		if f.Type == "Dynamic Link" && str(d.V[f.Options]) == doctype && str(d.V[f.Name]) == name {
			return d.DocType != "Comment" // comments are deleted with their document
		}
	}
	for _, tf := range m.tableFields() {
		for _, r := range d.Tables[tf.Name] {
			if t.linksTo(r, doctype, name) {
				return true
			}
		}
	}
	return false
}

// setNewName is set_new_name: the doctype's autoname rule.
func (t *tx) setNewName(d *document) error {
	m := t.s.metas[d.DocType]
	switch {
	case m.Autoname == "hash":
		if d.name() == "" {
			d.V["name"] = t.hash()
		}
	case strings.HasPrefix(m.Autoname, "field:"):
		f := strings.TrimPrefix(m.Autoname, "field:")
		v := strings.TrimSpace(str(d.V[f]))
		if v == "" {
			fl := m.field(f)
			return validationErr(fmt.Sprintf("%s is required", fl.Label))
		}
		d.V["name"] = v
	case m.Autoname == "naming_series:":
		series := str(d.V["naming_series"])
		if series == "" {
			series = m.Series
		}
		d.V["name"] = t.makeAutoname(series)
	case m.Autoname == "prompt":
		if d.name() == "" {
			return validationErr("Please set the document name")
		}
	case m.Autoname == "controller":
		if err := t.controller("autoname", d, nil, actSave); err != nil {
			return err
		}
		if d.name() == "" {
			return frappeErr("NameError", fmt.Sprintf("%s: name is empty", d.DocType))
		}
	}
	return nil
}

// makeAutoname expands a naming series like "SAL-ORD-.YYYY.-" into
// "SAL-ORD-2026-00001" (frappe.model.naming: five digits when the series has
// no hashes; the year from today).
func (t *tx) makeAutoname(series string) string {
	if !strings.Contains(series, "#") {
		series += ".#####"
	}
	var prefix strings.Builder
	digits := 0
	for _, part := range strings.Split(series, ".") {
		switch {
		case part == "":
		case strings.Trim(part, "#") == "":
			digits = len(part)
		case part == "YYYY":
			prefix.WriteString(t.stamp.Format("2006"))
		case part == "YY":
			prefix.WriteString(t.stamp.Format("06"))
		case part == "MM":
			prefix.WriteString(t.stamp.Format("01"))
		case part == "DD":
			prefix.WriteString(t.stamp.Format("02"))
		default:
			prefix.WriteString(part)
		}
	}
	p := prefix.String()
	n := t.nextSeries(p)
	return fmt.Sprintf("%s%0*d", p, digits, n)
}

// validateLinks is Document._validate_links: every Link value must name an
// existing document (docs/erpnext.md#errors LinkValidationError).
func (t *tx) validateLinks(d *document) error {
	var invalid []string
	check := func(doc *document, isRow bool) {
		m := t.s.metas[doc.DocType]
		for _, f := range m.columns() {
			target := ""
			switch f.Type {
			case "Link":
				target = f.Options
			case "Dynamic Link":
				target = str(doc.V[f.Options])
			default:
				continue
			}
			v := str(doc.V[f.Name])
			if v == "" || target == "" || !t.linkExists(target, v) {
				if v == "" || target == "" {
					continue
				}
				if isRow {
					invalid = append(invalid, fmt.Sprintf("Row #%d: %s: %s", toInt(doc.V["idx"]), f.Label, v))
				} else {
					invalid = append(invalid, fmt.Sprintf("%s: %s", f.Label, v))
				}
			}
		}
	}
	check(d, false)
	for _, tf := range t.s.metas[d.DocType].tableFields() {
		for _, r := range d.Tables[tf.Name] {
			check(r, true)
		}
	}
	if len(invalid) > 0 {
		return frappeErr("LinkValidationError", "Could not find "+strings.Join(invalid, ", "))
	}
	return nil
}

// linkExists: documents of doctypes the sandbox does not model (UOM, Item
// Group, Currency, ...) are taken to exist.
func (t *tx) linkExists(doctype, name string) bool {
	if doctype == "DocType" {
		return t.s.metas[name] != nil
	}
	if t.s.metas[doctype] == nil {
		return true
	}
	if t.s.metas[doctype].IsTable {
		p, _ := t.findChildRow(doctype, name)
		return p != nil
	}
	// t.get compares names without case, as MariaDB's collation does.
	return t.get(doctype, name) != nil
}

// validateDoc is Document._validate: mandatory fields, select options.
func (t *tx) validateDoc(d *document) error {
	var missing []string
	var msgs []string
	check := func(doc *document, isRow bool) {
		m := t.s.metas[doc.DocType]
		for _, f := range m.Fields {
			if !f.Reqd || (!f.hasColumn() && !f.isTable()) {
				continue
			}
			empty := false
			if f.isTable() {
				empty = len(doc.Tables[f.Name]) == 0
			} else {
				v := doc.V[f.Name]
				empty = v == nil || strings.TrimSpace(str(v)) == ""
			}
			if !empty {
				continue
			}
			missing = append(missing, f.Name)
			switch {
			case f.isTable():
				msgs = append(msgs, "Error: Data missing in table: "+f.Label)
			case isRow:
				msgs = append(msgs, fmt.Sprintf("Error: <strong>%s</strong> Row #%d: Value missing for: %s", doc.DocType, toInt(doc.V["idx"]), f.Label))
			default:
				msgs = append(msgs, fmt.Sprintf("Error: Value missing for %s: %s", doc.DocType, f.Label))
			}
		}
	}
	check(d, false)
	m := t.s.metas[d.DocType]
	for _, tf := range m.tableFields() {
		for _, r := range d.Tables[tf.Name] {
			check(r, true)
		}
	}
	if len(missing) > 0 {
		e := frappeErr("MandatoryError", fmt.Sprintf("[%s, %s]: %s", d.DocType, d.name(), strings.Join(missing, ", ")))
		e.Messages = msgs
		return e
	}
	if err := t.validateSelects(d, false); err != nil {
		return err
	}
	for _, tf := range m.tableFields() {
		for _, r := range d.Tables[tf.Name] {
			if err := t.validateSelects(r, true); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) validateSelects(d *document, isRow bool) error {
	m := t.s.metas[d.DocType]
	for _, f := range m.columns() {
		if f.Type != "Select" || f.Options == "" || f.Name == "naming_series" {
			continue
		}
		v := str(d.V[f.Name])
		if v == "" {
			continue
		}
		var opts []string
		ok := false
		for _, o := range strings.Split(f.Options, "\n") {
			if o == "" {
				continue
			}
			opts = append(opts, o)
			if o == v {
				ok = true
			}
		}
		if ok {
			continue
		}
		prefix := ""
		if isRow {
			prefix = fmt.Sprintf("Row #%d: ", toInt(d.V["idx"]))
		}
		e := validationErr(fmt.Sprintf("%s%s cannot be \"%s\". It should be one of \"%s\"", prefix, f.Label, v, strings.Join(opts, "\", \"")))
		e.Title = "Invalid Value"
		return e
	}
	return nil
}

// validateUpdateAfterSubmit is _validate_update_after_submit (reference
// docs/erpnext.md#updating-a-document): a changed field without allow_on_submit raises
// UpdateAfterSubmitError; tables are compared by length, rows field by field.
func (t *tx) validateUpdateAfterSubmit(d, before *document) error {
	if err := t.compareAfterSubmit(d, before); err != nil {
		return err
	}
	m := t.s.metas[d.DocType]
	for _, tf := range m.tableFields() {
		old := map[string]*document{}
		for _, r := range before.Tables[tf.Name] {
			old[r.name()] = r
		}
		for _, r := range d.Tables[tf.Name] {
			o := old[r.name()]
			if o == nil {
				if tf.AllowOnSubmit {
					continue
				}
				return notFound(tf.Options, r.name())
			}
			if err := t.compareAfterSubmit(r, o); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *tx) compareAfterSubmit(d, before *document) error {
	m := t.s.metas[d.DocType]
	for _, f := range m.Fields {
		if f.AllowOnSubmit || (!f.hasColumn() && !f.isTable()) {
			continue
		}
		var now, was any
		if f.isTable() {
			if len(d.Tables[f.Name]) == 0 && len(before.Tables[f.Name]) == 0 {
				continue
			}
			now, was = len(d.Tables[f.Name]), len(before.Tables[f.Name])
		} else {
			now, was = normalizeForCompare(f, d.V[f.Name]), normalizeForCompare(f, before.V[f.Name])
			if !pyexpr.Truthy(toPy(now)) && !pyexpr.Truthy(toPy(was)) {
				continue
			}
		}
		if now != was {
			e := frappeErr("UpdateAfterSubmitError", fmt.Sprintf("Not allowed to change <strong>%s</strong> after submission from <strong>%s</strong> to <strong>%s</strong>",
				f.Label, pyexpr.Str(toPy(was)), pyexpr.Str(toPy(now))))
			e.Title = "Cannot Update After Submit"
			return e
		}
	}
	return nil
}

func normalizeForCompare(f *field, v any) any {
	if f.isFloat() {
		return toFloat(v)
	}
	if f.isInt() {
		return toInt(v)
	}
	if v == nil {
		return nil
	}
	return str(v)
}

// toPy maps stored values to the expression language's value kinds.
func toPy(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// savePasswords keeps Password values aside (Frappe's __Auth) and stores
// asterisks in the document.
func (t *tx) savePasswords(d *document) {
	m := t.s.metas[d.DocType]
	for _, f := range m.columns() {
		if f.Type != "Password" {
			continue
		}
		v := str(d.V[f.Name])
		if v == "" || strings.Trim(v, "*") == "" {
			continue
		}
		t.setPassword(d.DocType+"\x00"+d.name()+"\x00"+f.Name, v)
		d.V[f.Name] = strings.Repeat("*", utf8.RuneCountInString(v)) // Python len(): characters, not bytes
	}
}

func (s *Sandbox) password(doctype, name, field string) string {
	return s.passwords[doctype+"\x00"+name+"\x00"+field]
}
