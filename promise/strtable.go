package promise

import "math/bits"

// strTable finds a small id by a string that the caller keeps (an item
// code, an order name): an open-addressing hash table of ids only. A Go
// map of strings costs a few times more a lookup, and its string keys are
// pointers the garbage collector scans and write-barriers; this holds no
// pointers.
type strTable struct {
	// Each slot holds id+1 (0 for an empty slot) and above it the high
	// bits of its key's hash, so that a probe compares a string only when
	// they match. A power of two long, at most half full.
	slots []uint64
	n     int
}

func newStrTable(n int) strTable {
	size := 8
	for size < 2*n {
		size <<= 1
	}
	return strTable{slots: make([]uint64, size)}
}

// strHash hashes s eight bytes at a time (the loads combine into one),
// the last eight overlapping the ones before. Item codes and order names
// are short; the probes only need the slots spread (a key found by its
// hash is still compared).
func strHash(s string) uint64 {
	const k = 0x9E3779B97F4A7C15
	h := uint64(len(s)) * k
	if len(s) < 8 {
		var x uint64
		for i := range len(s) {
			x |= uint64(s[i]) << (8 * i)
		}
		return mix(h^x, k)
	}
	for t := s; len(t) > 8; t = t[8:] {
		h = mix(h^load64(t), k)
	}
	return mix(h^load64(s[len(s)-8:]), k)
}

func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func mix(x, k uint64) uint64 {
	hi, lo := bits.Mul64(x, k)
	return hi ^ lo
}

// probe is where find stopped: the slot insert puts a new key in, and its tag.
type probe struct {
	slot int
	tag  uint64
}

// find returns the id whose key (keyOf) is s, or -1 and where insert puts it.
func (t *strTable) find(s string, keyOf func(int32) string) (int32, probe) {
	h := strHash(s)
	tag := h &^ (1<<32 - 1)
	mask := len(t.slots) - 1
	i := int(h) & mask
	for {
		v := t.slots[i]
		if v == 0 {
			return -1, probe{i, tag}
		}
		if v&^(1<<32-1) == tag {
			if id := int32(uint32(v)) - 1; keyOf(id) == s {
				return id, probe{i, tag}
			}
		}
		i = (i + 1) & mask
	}
}

// insert puts id where find stopped for its key; it grows the table
// (rehashing every key with keyOf) once it is half full.
func (t *strTable) insert(at probe, id int32, keyOf func(int32) string) {
	t.slots[at.slot] = at.tag | uint64(uint32(id+1))
	t.n++
	if 2*t.n <= len(t.slots) {
		return
	}
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := len(t.slots) - 1
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := int(strHash(keyOf(int32(uint32(v))-1))) & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = v
	}
}
