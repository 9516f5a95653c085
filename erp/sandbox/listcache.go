package sandbox

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A client pages through a long list with one request per page, and each
// page would otherwise filter and sort every row again: O(rows × pages).
// The list cache keeps a query's filtered, sorted rows for the store's
// current version, so the later pages are slices of it. Any write bumps the
// version (put, remove, a meta change, a rollback), so a page read after a
// write sees the rows a fresh SQL query with LIMIT and OFFSET would see.

// maxCachedLists bounds the queries cached for one version; the pages of a
// report interleave a few queries, not hundreds.
const maxCachedLists = 16

// listCache holds the sorted rows of recent queries, all of one version.
// Reads fill it under the shared database lock, so it has a lock of its
// own. Two reads of the same query may both build its rows; either's are
// right for the version, and the cached rows are never changed.
type listCache struct {
	mu      sync.Mutex
	version int64
	rows    map[string][]row
}

func (c *listCache) get(version int64, key string) ([]row, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version {
		return nil, false
	}
	rows, ok := c.rows[key]
	return rows, ok
}

func (c *listCache) put(version int64, key string, rows []row) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.version != version || c.rows == nil || len(c.rows) >= maxCachedLists {
		c.version, c.rows = version, make(map[string][]row, 4)
	}
	c.rows[key] = rows
}

// changed records a change to the store: every cached list is stale.
func (s *Sandbox) changed() { s.version++ }

// cacheKey names everything the sorted rows depend on besides the store:
// the doctype (or parent, for child rows), the user (User rows are
// visible per user), the joined tables in join order, the conditions and
// the order terms. Values are written with their Go types, because "1" and
// 1.0 compare differently against a text column.
func (q *query) cacheKey(parent string, conds, orConds []condition, order []orderTerm) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q %t %q", q.m.Name, parent, q.t.user, q.isRows, q.joins)
	for _, set := range [][]condition{conds, orConds} {
		b.WriteString(" |")
		for _, c := range set {
			fmt.Fprintf(&b, " %q.%q:%q %q ", c.ref.Table, c.ref.Field, c.ref.Type, c.op)
			writeKeyValue(&b, c.value)
		}
	}
	b.WriteString(" |")
	for _, o := range order {
		fmt.Fprintf(&b, " %q.%q:%q %t", o.ref.Table, o.ref.Field, o.ref.Type, o.desc)
	}
	return b.String()
}

// writeKeyValue writes a filter value with its type, unambiguously.
func writeKeyValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			writeKeyValue(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case []string:
		b.WriteString("[]string[")
		for _, e := range x {
			b.WriteString(strconv.Quote(e))
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for _, k := range keys {
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeKeyValue(b, x[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%T(%q)", x, fmt.Sprint(x))
	}
}
