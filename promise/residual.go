package promise

import "math"

// residual is the cumulative supply minus claims of one item and warehouse,
// on the group's event days (today, lot days, fixed claim days): value i is
// what is left at the end of day coords[i]. It is a segment tree with lazy
// addition, so booking (subtracting on a suffix), ATP (the minimum over a
// suffix) and the earliest day that fits a quantity each cost O(log n):
// allocating a book is never quadratic in the number of orders on one item.
//
// Claims fall on any day, but the tree only has event days: a claim on day d
// is recorded at the last event day on or before d. That is exact for every
// question the engine asks, because ATP only rises on a lot day, so every
// answer, and every ATP the engine reads, is at an event day (see at).
type residual struct {
	coords []Date
	n      int
	nodes  []node
}

// node is a node of the tree: side by side, so that a step down the tree
// reads one cache line.
type node struct {
	mn, lz float64 // the minimum of its range, a pending addition to its children
}

// reset loads values (one per coordinate), reusing r's arrays.
func (r *residual) reset(coords []Date, values []float64) {
	r.coords = coords
	r.n = len(coords)
	if cap(r.nodes) < treeNodes(r.n) {
		r.nodes = make([]node, treeNodes(r.n))
	}
	r.nodes = r.nodes[:treeNodes(r.n)]
	clear(r.nodes)
	if r.n > 0 {
		r.build(1, 0, r.n-1, values)
	}
}

// treeNodes is the size of the node arrays of a residual of n days.
func treeNodes(n int) int {
	size := 1
	for size < n {
		size <<= 1
	}
	return 2 * size
}

func (r *residual) build(node, lo, hi int, values []float64) {
	if lo == hi {
		r.nodes[node].mn = values[lo]
		return
	}
	mid := (lo + hi) / 2
	r.build(2*node, lo, mid, values)
	r.build(2*node+1, mid+1, hi, values)
	r.pull(node)
}

// pull sets a node's minimum from its children's.
func (r *residual) pull(node int) {
	r.nodes[node].mn = math.Min(r.nodes[2*node].mn, r.nodes[2*node+1].mn)
}

func (r *residual) push(node int) {
	if v := r.nodes[node].lz; v != 0 {
		for _, c := range [2]int{2 * node, 2*node + 1} {
			r.nodes[c].mn += v
			r.nodes[c].lz += v
		}
		r.nodes[node].lz = 0
	}
}

// at returns the index of the last event day on or before d (0 for a day
// before the first: claims never fall before today, the first coordinate).
func (r *residual) at(d Date) int {
	lo, hi := 0, r.n // first index with coords[i] > d
	for lo < hi {
		m := (lo + hi) / 2
		if r.coords[m] <= d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return max(lo-1, 0)
}

// claim subtracts qty from day d on.
func (r *residual) claim(d Date, qty float64) {
	r.addFrom(1, 0, r.n-1, r.at(d), -qty)
}

func (r *residual) addFrom(node, lo, hi, from int, v float64) {
	if hi < from {
		return
	}
	if lo >= from {
		r.nodes[node].mn += v
		r.nodes[node].lz += v
		return
	}
	r.push(node)
	mid := (lo + hi) / 2
	r.addFrom(2*node, lo, mid, from, v)
	r.addFrom(2*node+1, mid+1, hi, from, v)
	r.pull(node)
}

// atp returns ATP(d) = min over t >= d of S(t) − B(t).
func (r *residual) atp(d Date) float64 {
	if d <= r.coords[0] {
		return r.atpAll()
	}
	return r.minFrom(1, 0, r.n-1, r.at(d))
}

// atpAll is ATP from the first event day (today): the whole tree's
// minimum. Placing a line asks it first, and reading no day saves a cache
// miss a line.
func (r *residual) atpAll() float64 { return r.nodes[1].mn }

func (r *residual) minFrom(node, lo, hi, from int) float64 {
	if hi < from {
		return math.Inf(1)
	}
	if lo >= from {
		return r.nodes[node].mn
	}
	r.push(node)
	mid := (lo + hi) / 2
	return math.Min(r.minFrom(2*node, lo, mid, from), r.minFrom(2*node+1, mid+1, hi, from))
}

// earliest returns the first event day with ATP >= q, if any. ATP never
// falls as the day moves on, so it is the day after the last one short of q.
func (r *residual) earliest(q float64) (Date, bool) {
	last := r.lastBelow(1, 0, r.n-1, q-eps)
	if last+1 >= r.n {
		return 0, false
	}
	return r.coords[last+1], true
}

// lastBelow returns the last index whose value is below q, or -1.
func (r *residual) lastBelow(node, lo, hi int, q float64) int {
	if r.nodes[node].mn >= q {
		return -1
	}
	if lo == hi {
		return lo
	}
	r.push(node)
	mid := (lo + hi) / 2
	if i := r.lastBelow(2*node+1, mid+1, hi, q); i >= 0 {
		return i
	}
	return r.lastBelow(2*node, lo, mid, q)
}

// horizon is the last event day.
func (r *residual) horizon() Date { return r.coords[r.n-1] }

// slab hands out small slices of larger arrays, so that the book's
// thousands of per-group arrays cost a few allocations. A slice it hands
// out has no spare capacity: appending to it copies, as for any slice.
type slab[T any] struct {
	free  []T
	chunk int // the size of the last array
}

// take returns n zeroed elements. Arrays double from 64 elements to 4,096,
// so that a small book allocates little; a request for more than a quarter
// of one gets an array of its own.
func (s *slab[T]) take(n int) []T {
	if n > len(s.free) {
		s.chunk = min(max(2*s.chunk, 64), 4096)
		if n > s.chunk/4 {
			return make([]T, n)
		}
		s.free = make([]T, s.chunk)
	}
	t := s.free[:n:n]
	s.free = s.free[n:]
	return t
}
