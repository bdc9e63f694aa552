package dataset

import (
	"cmp"
	"slices"
)

// Category limits.
const (
	// DistinctExactLimit is how many distinct values of a column are counted
	// exactly (distinct count and category counts) before switching to
	// HyperLogLog and Space-Saving.
	DistinctExactLimit = 16384
	// TopCapacity is the number of counters of the Space-Saving summary.
	TopCapacity = 1024
	// TopN is how many categories a profile reports.
	TopN = 10
)

// CategoryCount is one frequent value of a column. Error bounds the
// overestimate of Count: 0 while counts are exact; after the Space-Saving
// switch the true count lies in [Count−Error, Count].
type CategoryCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	Error int64  `json:"error,omitempty"`
}

// spaceSaving is the Space-Saving heavy-hitters summary (Metwally, Agrawal
// & El Abbadi 2005): capacity counters in a min-heap by count; an unseen
// value replaces the smallest counter and inherits its count as error.
// The map points at counters, which never move; the heap orders their
// indices, so sifting does not touch the map.
type spaceSaving struct {
	index    map[string]int32 // value → counter
	counters []CategoryCount
	pos      []int32 // counter → heap position
	heap     []int32 // heap of counter indices
}

func newSpaceSaving(seed []CategoryCount) *spaceSaving {
	slices.SortFunc(seed, byCountDesc)
	if len(seed) > TopCapacity {
		seed = seed[:TopCapacity]
	}
	ss := &spaceSaving{index: make(map[string]int32, TopCapacity)}
	for _, c := range seed {
		ss.push(c)
	}
	return ss
}

func (ss *spaceSaving) push(c CategoryCount) {
	i := int32(len(ss.counters))
	ss.counters = append(ss.counters, c)
	ss.index[c.Value] = i
	ss.pos = append(ss.pos, int32(len(ss.heap)))
	ss.heap = append(ss.heap, i)
	ss.up(len(ss.heap) - 1)
}

func (ss *spaceSaving) add(v []byte) {
	if i, ok := ss.index[string(v)]; ok {
		ss.counters[i].Count++
		ss.down(int(ss.pos[i]))
		return
	}
	if len(ss.counters) < TopCapacity {
		ss.push(CategoryCount{Value: string(v), Count: 1})
		return
	}
	i := ss.heap[0]
	least := ss.counters[i]
	delete(ss.index, least.Value)
	ss.counters[i] = CategoryCount{Value: string(v), Count: least.Count + 1, Error: least.Count}
	ss.index[ss.counters[i].Value] = i
	ss.down(0)
}

func (ss *spaceSaving) less(i, j int) bool {
	a, b := &ss.counters[ss.heap[i]], &ss.counters[ss.heap[j]]
	return a.Count < b.Count || a.Count == b.Count && a.Value > b.Value
}

func (ss *spaceSaving) swap(i, j int) {
	ss.heap[i], ss.heap[j] = ss.heap[j], ss.heap[i]
	ss.pos[ss.heap[i]] = int32(i)
	ss.pos[ss.heap[j]] = int32(j)
}

func (ss *spaceSaving) down(i int) {
	n := len(ss.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && ss.less(r, l) {
			m = r
		}
		if !ss.less(m, i) {
			return
		}
		ss.swap(i, m)
		i = m
	}
}

func (ss *spaceSaving) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !ss.less(i, p) {
			return
		}
		ss.swap(i, p)
		i = p
	}
}

// top returns the n largest counters, largest first.
func (ss *spaceSaving) top(n int) []CategoryCount {
	out := slices.Clone(ss.counters)
	slices.SortFunc(out, byCountDesc)
	return out[:min(n, len(out))]
}

// byCountDesc orders categories by count, descending, then by value.
func byCountDesc(a, b CategoryCount) int {
	if c := cmp.Compare(b.Count, a.Count); c != 0 {
		return c
	}
	return cmp.Compare(a.Value, b.Value)
}
