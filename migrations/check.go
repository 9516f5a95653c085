package migrations

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/erpnext-otp/otp/erp"
)

// Need is one read or write OTP makes in ERPNext.
type Need struct {
	DocType string
	Perm    string // "read", "write", "submit", "create", "delete"
	Why     string
	// Roles are the roles that grant it in a standard ERPNext v15 (the
	// DocPerms of the doctype; docs/erpnext.md#child-tables, #fields-otp-reads).
	Roles []string
	// Probe: a one-row list read tells for sure, whatever the roles.
	Probe bool
	// Required: OTP or otp migrate fails without it. Others degrade one feature.
	Required bool
	// Migrate: only otp migrate needs it; the API user may lose it afterwards.
	Migrate bool
}

// Needs returns the permissions OTP's API user needs, in the order check
// prints them.
func Needs() []Need { return slices.Clone(needs) }

var needs = []Need{
	{DocType: "Sales Order", Perm: "read", Why: "read the order to promise, and competing orders", Probe: true, Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Maintenance User", "Accounts User", "Stock User"}},
	{DocType: "Sales Order", Perm: "write", Why: "write the promise on draft orders", Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Maintenance User"}},
	{DocType: "Sales Order", Perm: "submit", Why: "write the promise on submitted orders (update after submit needs submit, docs/erpnext.md#updating-a-document)", Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Maintenance User"}},
	{DocType: "Bin", Perm: "read", Why: "stock on hand", Probe: true, Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Purchase User", "Purchase Manager", "Stock User", "Stock Manager", "Item Manager"}},
	{DocType: "Item", Perm: "read", Why: "lead times, stock items", Probe: true, Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Purchase User", "Purchase Manager", "Stock User", "Stock Manager", "Item Manager", "Accounts User", "Manufacturing User", "Maintenance User"}},
	{DocType: "Warehouse", Perm: "read", Why: "the company's warehouses", Probe: true, Required: true,
		Roles: []string{"Sales User", "Sales Manager", "Purchase User", "Purchase Manager", "Stock User", "Stock Manager", "Item Manager", "Accounts User", "Manufacturing User"}},
	{DocType: "Purchase Order", Perm: "read", Why: "incoming supply", Probe: true, Required: true,
		Roles: []string{"Purchase User", "Purchase Manager", "Stock User", "Accounts User"}},
	{DocType: "Company", Perm: "read", Why: "the company's holiday list", Probe: true, Required: true,
		Roles: []string{"System Manager", "Accounts User", "Accounts Manager", "Sales User", "Sales Manager", "Purchase User", "Purchase Manager", "Stock User", "Stock Manager", "HR Manager", "Projects User"}},
	{DocType: "Holiday List", Perm: "read", Why: "the working-day calendar; without it promises ignore public holidays", Probe: true, Required: true,
		Roles: []string{"HR Manager"}},
	{DocType: "Comment", Perm: "create", Why: "note a changed promise on the order's timeline", Required: true,
		Roles: []string{"All", "System Manager"}},
	{DocType: "Comment", Perm: "read", Why: "read OTP's last comment on an order, so a retry never posts one twice (without it OTP posts unchecked)", Probe: true,
		Roles: []string{"All", "System Manager"}},
	{DocType: "Material Request", Perm: "create", Why: "POST /otp/procurement-suggest only",
		Roles: []string{"Purchase User", "Purchase Manager", "Stock User", "Stock Manager", "Manufacturing User"}},
	{DocType: "Custom Field", Perm: "create", Why: "otp migrate: create, change and delete OTP's custom fields", Required: true, Migrate: true,
		Roles: []string{"System Manager"}},
	{DocType: "Webhook", Perm: "create", Why: "otp migrate: create, change and delete OTP's webhooks", Required: true, Migrate: true,
		Roles: []string{"System Manager"}},
	{DocType: "Client Script", Perm: "create", Why: "otp migrate: create, change and delete the promise indicator on the Sales Order form and list", Required: true, Migrate: true,
		Roles: []string{"System Manager"}},
}

// NeedResult is one Need checked for the API user.
type NeedResult struct {
	Need
	OK bool
	// How it was decided: "Administrator", "read probe", "role Sales User".
	How string
	// Grant says what to give the user when not OK.
	Grant string
}

// CheckResult is what Check found.
type CheckResult struct {
	User     string
	Roles    []string // nil when they could not be read
	Results  []NeedResult
	Warnings []string
}

// OK reports whether every required need is met.
func (r *CheckResult) OK() bool {
	for _, n := range r.Results {
		if n.Required && !n.OK {
			return false
		}
	}
	return true
}

// Check finds out which reads and writes OTP needs the configured API user
// may make: the logged-in user, its roles (Administrator may do anything),
// and a one-row list read of each doctype OTP reads. Writes are judged by
// role, since they cannot be tried without writing. cfg.APIUser, when set,
// is compared with the logged-in user.
func Check(ctx context.Context, c Client, cfg Config) (*CheckResult, error) {
	user, err := c.LoggedUser(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: check: who is the API user: %w", err)
	}
	r := &CheckResult{User: user}
	if cfg.APIUser != "" && cfg.APIUser != user {
		r.Warnings = append(r.Warnings, fmt.Sprintf("ERPNEXT_API_USER is %s but these credentials are %s: the webhooks skip saves by %s, so OTP's own write-backs by %s will come back as webhooks",
			cfg.APIUser, user, cfg.APIUser, user))
	}
	admin := user == "Administrator"
	if admin {
		r.Warnings = append(r.Warnings, "the API user is Administrator: the webhooks skip its saves, so orders edited by Administrator are not promised until the reconcile sweep; create a dedicated API user")
	}

	roles := map[string]bool{"All": true}
	if !admin {
		doc, err := c.GetDoc(ctx, "User", user)
		switch {
		case err == nil:
			rows, _ := doc["roles"].([]any)
			for _, row := range rows {
				if m, ok := row.(map[string]any); ok {
					if role := str(m["role"]); role != "" && !roles[role] {
						roles[role] = true
						r.Roles = append(r.Roles, role)
					}
				}
			}
			slices.Sort(r.Roles)
			if r.Roles == nil {
				r.Roles = []string{}
			}
		case errors.Is(err, erp.ErrPermission) || errors.Is(err, erp.ErrNotFound):
			roles = nil
			r.Warnings = append(r.Warnings, fmt.Sprintf("could not read User %s to see its roles (%v): writes are not judged", user, err))
		default:
			return nil, fmt.Errorf("migrations: check: read User %s: %w", user, err)
		}
	}

	probed := map[string]error{}
	for _, n := range needs {
		res := NeedResult{Need: n}
		switch {
		case admin:
			res.OK, res.How = true, "Administrator"
		case n.Probe:
			err, done := probed[n.DocType]
			if !done {
				_, err = c.List(ctx, n.DocType, erp.ListQuery{Fields: []string{"name"}, Limit: 1})
				probed[n.DocType] = err
			}
			switch {
			case err == nil:
				res.OK, res.How = true, "read probe"
			case errors.Is(err, erp.ErrPermission):
				res.How = "read probe: 403"
			default:
				return nil, fmt.Errorf("migrations: check: probe %s: %w", n.DocType, err)
			}
		case roles == nil:
			res.How = "roles unknown"
		default:
			for _, role := range n.Roles {
				if roles[role] {
					res.OK, res.How = true, "role "+role
					break
				}
			}
			if !res.OK {
				res.How = "no role grants it"
			}
		}
		if !res.OK {
			res.Grant = grant(n)
		}
		r.Results = append(r.Results, res)
	}
	return r, nil
}

// grant says what to give the user for n.
func grant(n Need) string {
	roles := slices.DeleteFunc(slices.Clone(n.Roles), func(r string) bool { return r == "All" })
	g := "give the user the role " + roles[0]
	if len(roles) > 1 {
		g = "give the user one of the roles " + strings.Join(roles, ", ")
	}
	switch {
	case n.DocType == "Holiday List":
		g += ", or add a read permission on Holiday List for one of its roles (Role Permissions Manager)"
	case n.Migrate:
		g += " while running otp migrate (it may be removed afterwards)"
	}
	return g
}
