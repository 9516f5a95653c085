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
	mn, lz []float64 // per node: minimum of its range, pending addition
}

// reset loads values (one per coordinate), reusing r's arrays.
func (r *residual) reset(coords []Date, values []float64) {
	r.coords = coords
	r.n = len(coords)
	size := 1
	for size < r.n {
		size <<= 1
	}
	r.mn = growFloats(r.mn, 2*size)
	r.lz = growFloats(r.lz, 2*size)
	clear(r.lz)
	if r.n > 0 {
		r.build(1, 0, r.n-1, values)
	}
}

func growFloats(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

func (r *residual) build(node, lo, hi int, values []float64) {
	if lo == hi {
		r.mn[node] = values[lo]
		return
	}
	mid := (lo + hi) / 2
	r.build(2*node, lo, mid, values)
	r.build(2*node+1, mid+1, hi, values)
	r.mn[node] = math.Min(r.mn[2*node], r.mn[2*node+1])
}

func (r *residual) push(node int) {
	if v := r.lz[node]; v != 0 {
		for _, c := range [2]int{2 * node, 2*node + 1} {
			r.mn[c] += v
			r.lz[c] += v
		}
		r.lz[node] = 0
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
		r.mn[node] += v
		r.lz[node] += v
		return
	}
	r.push(node)
	mid := (lo + hi) / 2
	r.addFrom(2*node, lo, mid, from, v)
	r.addFrom(2*node+1, mid+1, hi, from, v)
	r.mn[node] = math.Min(r.mn[2*node], r.mn[2*node+1])
}

// atp returns ATP(d) = min over t >= d of S(t) − B(t).
func (r *residual) atp(d Date) float64 {
	if d <= r.coords[0] {
		return r.mn[1] // from the first event day: the whole tree
	}
	return r.minFrom(1, 0, r.n-1, r.at(d))
}

func (r *residual) minFrom(node, lo, hi, from int) float64 {
	if hi < from {
		return math.Inf(1)
	}
	if lo >= from {
		return r.mn[node]
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
	if r.mn[node] >= q {
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
