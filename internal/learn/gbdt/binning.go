package gbdt

import (
	"math"
	"slices"
	"sort"
)

// binned is the training matrix cut into bins, column-major.
type binned struct {
	rows, cols int
	cuts       [][]float32 // per feature, ascending split thresholds
	cat        []bool      // per feature: categorical, one bin per code
	bins       []uint16    // bins[f*rows+r]; missing is len(cuts[f])+1
	off        []int       // histogram offset of each feature
	slots      int         // histogram slots in all: Σ (len(cuts[f]) + 2)
}

// nbins is the number of value bins of feature f; slot nbins(f) of its
// histogram holds the missing values.
func (b *binned) nbins(f int) int { return len(b.cuts[f]) + 1 }

// binOf is the bin of x among cuts: the number of cuts ≤ float32(x), so
// that float32(x) < cuts[k] iff binOf(x) ≤ k.
func binOf(cuts []float32, x float32) int {
	return sort.Search(len(cuts), func(i int) bool { return cuts[i] > x })
}

// between returns a float32 threshold c with a < c ≤ b (a < b).
func between(a, b float32) float32 {
	m := float32((float64(a) + float64(b)) / 2)
	if !(m > a) {
		return b
	}
	return m
}

// makeCuts returns at most maxBin-1 thresholds cutting the sorted
// non-missing values vals into quantile bins; every threshold lies
// strictly between two distinct values.
func makeCuts(vals []float32, maxBin int) []float32 {
	if len(vals) == 0 {
		return nil
	}
	distinct := slices.Compact(slices.Clone(vals))
	if len(distinct) <= maxBin {
		cuts := make([]float32, 0, len(distinct)-1)
		for i := 1; i < len(distinct); i++ {
			cuts = append(cuts, between(distinct[i-1], distinct[i]))
		}
		return cuts
	}
	cuts := make([]float32, 0, maxBin-1)
	for k := 1; k < maxBin; k++ {
		v := vals[int(int64(k)*int64(len(vals))/int64(maxBin))]
		j, _ := slices.BinarySearch(distinct, v)
		if j == 0 {
			continue
		}
		c := between(distinct[j-1], distinct[j])
		if len(cuts) == 0 || c > cuts[len(cuts)-1] {
			cuts = append(cuts, c)
		}
	}
	return cuts
}

// binMatrix cuts every feature of d into at most maxBin bins, working on
// features in parallel.
func binMatrix(d *Dataset, maxBin, workers int) *binned {
	n, nf := d.Rows, d.Cols
	b := &binned{rows: n, cols: nf, cuts: make([][]float32, nf), cat: make([]bool, nf), bins: make([]uint16, n*nf), off: make([]int, nf)}
	parallelFor(nf, workers, func(f int) {
		vals := make([]float32, 0, n)
		for r := range n {
			if x := d.X[r*nf+f]; !math.IsNaN(x) {
				vals = append(vals, float32(x))
			}
		}
		slices.Sort(vals)
		var cuts []float32
		if isCat(d, f) {
			b.cat[f] = true
			if len(vals) > 0 {
				cuts = catCuts(int(vals[len(vals)-1]))
			}
		} else {
			cuts = makeCuts(vals, maxBin)
		}
		b.cuts[f] = cuts
		col := b.bins[f*n : (f+1)*n]
		missing := uint16(len(cuts) + 1)
		for r := range n {
			x := d.X[r*nf+f]
			if math.IsNaN(x) {
				col[r] = missing
			} else {
				col[r] = uint16(binOf(cuts, float32(x)))
			}
		}
	})
	for f := range nf {
		b.off[f] = b.slots
		b.slots += len(b.cuts[f]) + 2
	}
	return b
}
