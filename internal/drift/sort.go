package drift

import (
	"math"
	"slices"
)

// radixMin is the sample size from which sortFloats uses a radix sort:
// below it the comparison sort is as fast and allocates nothing.
const radixMin = 4096

// cleanSorted returns the finite values of xs (NaN and ±Inf dropped, as
// Evidently drops them before a drift test) in a new ascending slice.
func cleanSorted(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	sortFloats(out)
	return out
}

// sortFloats sorts finite (NaN-free) values ascending. Large inputs use a
// least-significant-digit radix sort on the order-preserving bit pattern of
// each value (four 16-bit passes, skipping passes where every key has the
// same digit), which is several times faster than pdqsort at 10⁵–10⁶ values.
func sortFloats(xs []float64) {
	if len(xs) < radixMin {
		slices.Sort(xs)
		return
	}
	n := len(xs)
	keys := make([]uint64, 2*n)
	a, b := keys[:n], keys[n:]
	var counts [4][1 << 16]int
	for i, x := range xs {
		k := math.Float64bits(x)
		if k>>63 != 0 {
			k = ^k
		} else {
			k |= 1 << 63
		}
		a[i] = k
		for p := range 4 {
			counts[p][(k>>(16*p))&0xffff]++
		}
	}
	for p := range 4 {
		c := &counts[p]
		if c[(a[0]>>(16*p))&0xffff] == n {
			continue // every key has this digit: the pass would not move anything
		}
		sum := 0
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		shift := uint(16 * p)
		for _, k := range a {
			d := (k >> shift) & 0xffff
			b[c[d]] = k
			c[d]++
		}
		a, b = b, a
	}
	for i, k := range a {
		if k>>63 != 0 {
			k &^= 1 << 63
		} else {
			k = ^k
		}
		xs[i] = math.Float64frombits(k)
	}
}

// countDistinctUnion returns the number of distinct values in the union of
// two sorted samples (pandas' nunique() of their concatenation), counting
// at most limit+1 so that callers asking "more than limit?" stop early.
// Pass limit < 0 for an exact count.
func countDistinctUnion(a, b []float64, limit int) int {
	i, j, n := 0, 0, 0
	for i < len(a) || j < len(b) {
		v := nextValue(a, b, i, j)
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		n++
		if limit >= 0 && n > limit {
			return n
		}
	}
	return n
}

// nextValue is the smaller of a[i] and b[j], whichever exist.
func nextValue(a, b []float64, i, j int) float64 {
	switch {
	case i >= len(a):
		return b[j]
	case j >= len(b):
		return a[i]
	case a[i] <= b[j]:
		return a[i]
	default:
		return b[j]
	}
}
