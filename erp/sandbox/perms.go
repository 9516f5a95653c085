package sandbox

import "fmt"

// can is frappe.has_permission with role DocPerms: Administrator may do
// anything; a child doctype takes its parent's permissions; a user may read
// their own User document.
func (t *tx) can(doctype, ptype string, d *document) bool {
	if t.isAdmin() {
		return true
	}
	m := t.s.metas[doctype]
	if m == nil {
		return false
	}
	if m.IsTable {
		if d != nil {
			if pt := str(d.V["parenttype"]); pt != "" {
				return t.can(pt, ptype, nil)
			}
		}
		for pname, pm := range t.s.metas {
			for _, tf := range pm.tableFields() {
				if tf.Options == doctype && t.can(pname, ptype, nil) {
					return true
				}
			}
		}
		return false
	}
	if doctype == "User" && d != nil && d.name() == t.user && ptype == "read" {
		return true
	}
	for _, p := range m.Perms {
		if !t.roles[p.Role] {
			continue
		}
		switch ptype {
		case "read", "select":
			if p.Read {
				return true
			}
		case "write":
			if p.Write {
				return true
			}
		case "create":
			if p.Create {
				return true
			}
		case "submit":
			if p.Submit {
				return true
			}
		case "cancel":
			if p.Cancel {
				return true
			}
		case "delete":
			if p.Delete {
				return true
			}
		}
	}
	return false
}

// noPermissionFor is what frappe.has_permission(doctype, throw=True) raises.
func (t *tx) noPermissionFor(doctype string) *Error {
	e := frappeErr("PermissionError", fmt.Sprintf("User <strong>%s</strong> does not have doctype access via role permission for document <strong>%s</strong>", t.user, doctype))
	e.ErrorMessage = "No permission for " + doctype
	e.Title = "Not permitted"
	return e
}

// checkParentPermission is frappe.client.check_parent_permission (reference
// docs/erpnext.md#child-tables): a child doctype is only readable with parent=<parent DocType>, the
// parent must really contain it, and the user must read the parent.
func (t *tx) checkParentPermission(parent, child string) error {
	if parent != "" {
		pm := t.s.metas[parent]
		contains := false
		if pm != nil {
			for _, tf := range pm.tableFields() {
				if tf.Options == child {
					contains = true
				}
			}
		}
		if !contains {
			return barePermissionErr()
		}
		if t.can(parent, "read", nil) {
			return nil
		}
	}
	return barePermissionErr()
}
