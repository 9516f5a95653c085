package erp

import (
	"context"
	"fmt"
)

type wireComment struct {
	Name     string `json:"name"`
	Owner    string `json:"owner"`
	Creation string `json:"creation"`
	Content  string `json:"content"`
}

// LastComment returns the newest timeline Comment (comment_type "Comment")
// that owner posted on the document doctype/name, or nil when there is
// none: one list request, newest first, limit 1. OTP reads its own last
// comment before posting one, so a retry does not post it twice.
func (c *Client) LastComment(ctx context.Context, doctype, name, owner string) (*Comment, error) {
	if owner == "" {
		return nil, fmt.Errorf("erp: last comment on %s %s: no owner given", doctype, name)
	}
	var rows []wireComment
	err := c.list(ctx, "Comment", ListQuery{
		Fields: []string{"name", "owner", "creation", "content"},
		Filters: []any{
			[]any{"reference_doctype", "=", doctype},
			[]any{"reference_name", "=", name},
			[]any{"comment_type", "=", "Comment"},
			[]any{"owner", "=", owner},
		},
		OrderBy: "creation desc",
		Limit:   1,
	}, &rows)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &Comment{Name: r.Name, Owner: r.Owner, Creation: r.Creation, Content: r.Content}, nil
}
