package sandbox

import (
	"encoding/json"
	"fmt"
)

// In-process data access. Each call is one transaction run as Administrator
// (SaveAs: as the given user) through exactly the code REST uses: the same
// validation, controllers, bookkeeping and webhooks. Documents come back as
// a REST client decodes a GET body: nulls omitted, numbers float64, child
// rows []any of map[string]any.

// Insert inserts a document; docstatus 1 in doc inserts and submits it.
func (s *Sandbox) Insert(doctype string, doc map[string]any) (map[string]any, error) {
	return s.do(Administrator, func(t *tx) (*document, error) {
		return t.insert(doctype, copyVals(doc))
	})
}

// Get returns a document as REST GET returns it.
func (s *Sandbox) Get(doctype, name string) (map[string]any, error) {
	var out map[string]any
	err := s.read(Administrator, func(t *tx) error {
		d, err := t.readDoc(doctype, name)
		if err != nil {
			return err
		}
		out = plain(t.s.asDict(d, true)).(map[string]any)
		return nil
	})
	return out, err
}

// Update applies a partial update (PUT semantics, docs/erpnext.md#updating-a-document).
func (s *Sandbox) Update(doctype, name string, fields map[string]any) (map[string]any, error) {
	return s.SaveAs(Administrator, doctype, name, fields)
}

// SaveAs is Update as another user: modified_by becomes that user.
// Permissions are not checked for it.
func (s *Sandbox) SaveAs(user, doctype, name string, fields map[string]any) (map[string]any, error) {
	return s.do(user, func(t *tx) (*document, error) {
		d, err := t.update(doctype, name, copyVals(fields), opIgnorePerms)
		if err != nil {
			return nil, err
		}
		return t.docForResponse(d, doctype, name), nil
	})
}

// Submit submits a draft.
func (s *Sandbox) Submit(doctype, name string) (map[string]any, error) {
	return s.do(Administrator, func(t *tx) (*document, error) { return t.submit(doctype, name) })
}

// Cancel cancels a submitted document.
func (s *Sandbox) Cancel(doctype, name string) (map[string]any, error) {
	return s.do(Administrator, func(t *tx) (*document, error) { return t.cancel(doctype, name) })
}

// Delete deletes a document (on_trash webhooks fire).
func (s *Sandbox) Delete(doctype, name string) error {
	return s.run(Administrator, func(t *tx) error { return t.delete(doctype, name) })
}

// SetStatus is ERPNext's update_status for a submitted Sales Order or
// Purchase Order: "Closed", "On Hold", or "Draft" to re-open. Like ERPNext
// it writes through db_set (only on_change fires) and rebooks the Bins.
func (s *Sandbox) SetStatus(doctype, name, status string) (map[string]any, error) {
	return s.do(Administrator, func(t *tx) (*document, error) { return t.updateStatus(doctype, name, status) })
}

// List runs frappe.client.get_list as Administrator. filters and fields take
// the forms REST accepts (docs/erpnext.md#lists-and-filters); pageLength 0 means all.
func (s *Sandbox) List(doctype string, fields []string, filters any, orderBy string, pageLength int) ([]map[string]any, error) {
	var out []map[string]any
	err := s.read(Administrator, func(t *tx) error {
		fs := make([]any, len(fields))
		for i, f := range fields {
			fs[i] = f
		}
		if len(fs) == 0 {
			fs = nil
		}
		parent := ""
		if m := t.s.metas[doctype]; m != nil && m.IsTable {
			for pname, pm := range t.s.metas {
				for _, tf := range pm.tableFields() {
					if tf.Options == doctype {
						parent = pname
					}
				}
			}
		}
		if filters != nil {
			if _, isString := filters.(string); !isString {
				b, err := json.Marshal(filters)
				if err != nil {
					return validationErr(fmt.Sprintf("filters: %v", err))
				}
				filters = string(b)
			}
		}
		rows, err := t.getList(listArgs{Doctype: doctype, Fields: fs, Filters: filters, OrderBy: orderBy, PageLen: pageLength, Parent: parent})
		if err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, plain(r).(map[string]any))
		}
		return nil
	})
	return out, err
}

func (s *Sandbox) do(user string, fn func(t *tx) (*document, error)) (map[string]any, error) {
	var out map[string]any
	err := s.run(user, func(t *tx) error {
		d, err := fn(t)
		if err != nil {
			return err
		}
		out = plain(t.s.asDict(d, true)).(map[string]any)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// copyVals copies the caller's map (and nested rows) so the sandbox never
// keeps or changes it; []map[string]any rows are accepted too.
func copyVals(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	for k, v := range in {
		switch x := v.(type) {
		case []map[string]any:
			rows := make([]any, len(x))
			for i, r := range x {
				rows[i] = copyVals(r)
			}
			out[k] = rows
		case []any:
			rows := make([]any, len(x))
			for i, r := range x {
				if m, ok := r.(map[string]any); ok {
					rows[i] = copyVals(m)
				} else {
					rows[i] = r
				}
			}
			out[k] = rows
		default:
			out[k] = v
		}
	}
	return out
}
