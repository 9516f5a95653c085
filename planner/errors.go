package planner

import (
	"errors"
	"fmt"

	"github.com/erpnext-otp/otp/erp"
)

// Errors a quote can fail with because it names something ERPNext does not
// have. They come wrapped in *NotFoundError, which names the thing.
var (
	ErrUnknownItem      = errors.New("planner: unknown item")
	ErrUnknownWarehouse = errors.New("planner: unknown warehouse")
)

// ErrNothingToPromise means the order has no line left to deliver.
var ErrNothingToPromise = errors.New("planner: nothing left to deliver")

// NotFoundError names an item or warehouse a quote asked for that ERPNext
// does not have. errors.Is matches it against ErrUnknownItem or
// ErrUnknownWarehouse.
type NotFoundError struct {
	Kind string // "item" or "warehouse"
	Name string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("planner: unknown %s %q", e.Kind, e.Name)
}

// Is reports whether target is the sentinel of e's kind.
func (e *NotFoundError) Is(target error) bool {
	switch e.Kind {
	case kindItem:
		return target == ErrUnknownItem
	case kindWarehouse:
		return target == ErrUnknownWarehouse
	}
	return false
}

const (
	kindItem      = "item"
	kindWarehouse = "warehouse"
)

// isPermission reports a 403: the API user may not read that doctype.
func isPermission(err error) bool { return errors.Is(err, erp.ErrPermission) }

// isNotFound reports a 404: the document is not there.
func isNotFound(err error) bool { return errors.Is(err, erp.ErrNotFound) }
