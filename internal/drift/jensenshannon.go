package drift

import (
	"math"
	"sort"

	"github.com/ferry-ml/ferry/internal/stats"
)

// evidentlyHistogramMinUnique is Evidently's switch in get_binned_data: a
// numerical column is histogrammed only if its reference has more than 20
// distinct values; otherwise every distinct value is its own bin.
const evidentlyHistogramMinUnique = 20

// JensenShannon is Evidently's "jensenshannon" drift score
// (legacy/calculations/stattests/jensenshannon.py): the shares of each
// window per bin of utils.get_binned_data(..., feel_zeroes=False) passed to
// scipy.spatial.distance.jensenshannon(p, q) with the natural logarithm,
//
//	p, q renormalised to sum 1,  m = (p+q)/2,
//	JS = √(½ KL(p‖m) + ½ KL(q‖m))   (at most √ln 2 ≈ 0.833).
//
// Bins: for KindNumerical with more than 20 distinct reference values,
// equal-width bins numpy.histogram_bin_edges(ref ∪ cur, bins="sturges");
// otherwise (and always for KindCategorical) one bin per distinct value of
// ref ∪ cur. Empty bins are not smoothed (feel_zeroes=False). NaN/±Inf are
// dropped; an empty window returns ErrNotEnoughData.
func JensenShannon(ref, cur []float64, kind ColumnKind) (float64, error) {
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return 0, notEnough("jensenshannon", len(a), len(b))
	}
	return jensenShannonSorted(a, b, kind)
}

func jensenShannonSorted(a, b []float64, kind ColumnKind) (float64, error) {
	ca, cb, err := binnedCounts(a, b, kind)
	if err != nil {
		return 0, err
	}
	return jensenShannonCounts(ca, cb, len(a), len(b)), nil
}

// binnedCounts is the counting half of Evidently's get_binned_data on two
// sorted samples.
func binnedCounts(a, b []float64, kind ColumnKind) (ca, cb []int, err error) {
	if kind == KindNumerical && countDistinctUnion(a, nil, evidentlyHistogramMinUnique) > evidentlyHistogramMinUnique {
		if err := checkRange(a, b); err != nil {
			return nil, nil, err
		}
		lo, hi := math.Min(a[0], b[0]), math.Max(a[len(a)-1], b[len(b)-1])
		edges := stats.HistogramEdges(lo, hi, stats.SturgesBins(lo, hi, len(a)+len(b)))
		return sortedHistogram(a, edges), sortedHistogram(b, edges), nil
	}
	ca, cb = distinctCounts(a, b)
	return ca, cb, nil
}

// checkRange rejects two sorted samples whose combined range max − min
// overflows float64: bin widths and Wasserstein areas are undefined there.
func checkRange(a, b []float64) error {
	lo, hi := math.Min(a[0], b[0]), math.Max(a[len(a)-1], b[len(b)-1])
	if math.IsInf(hi-lo, 0) {
		return newError(ErrInvalidInput, "value range [%g, %g] overflows float64; rescale the column", lo, hi)
	}
	return nil
}

func jensenShannonCounts(ca, cb []int, na, nb int) float64 {
	p := make([]float64, len(ca))
	q := make([]float64, len(cb))
	var sp, sq float64
	for i := range ca {
		p[i] = float64(ca[i]) / float64(na)
		q[i] = float64(cb[i]) / float64(nb)
		sp += p[i]
		sq += q[i]
	}
	js := 0.0
	for i := range p {
		pi, qi := p[i]/sp, q[i]/sq
		m := (pi + qi) / 2
		js += relEntr(pi, m) + relEntr(qi, m)
	}
	return math.Sqrt(math.Max(js/2, 0))
}

// relEntr is scipy.special.rel_entr for the non-negative arguments used here.
func relEntr(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x/y)
}

// sortedHistogram is numpy.histogram(xs, edges)[0] for sorted xs: bin i
// holds edges[i] ≤ x < edges[i+1], the last bin also x == edges[last].
func sortedHistogram(xs, edges []float64) []int {
	bins := len(edges) - 1
	counts := make([]int, bins)
	below := func(v float64) int { return sort.SearchFloat64s(xs, v) } // #x < v
	prev := below(edges[0])
	for i := 1; i <= bins; i++ {
		var upto int
		if i == bins {
			upto = sort.Search(len(xs), func(k int) bool { return xs[k] > edges[i] }) // #x ≤ last edge
		} else {
			upto = below(edges[i])
		}
		counts[i-1] = upto - prev
		prev = upto
	}
	return counts
}
