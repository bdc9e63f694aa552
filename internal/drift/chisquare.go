package drift

import (
	"math"

	"github.com/ferry-ml/ferry/internal/stats"
)

// ChiSquare is Evidently's "chisquare" drift test: a chi-square goodness of
// fit of the current category counts against the reference counts scaled to
// the current total,
//
//	E_k = ref_count_k · n_cur/n_ref,  O_k = cur_count_k,
//	χ² = Σ (O_k − E_k)²/E_k,  df = K − 1,  p = χ²_sf(χ², df)
//
// over the K distinct finite values of reference ∪ current (as
// scipy.stats.chisquare(O, E)). A category that occurs in current but not
// in reference has E = 0: the statistic is +Inf and p = 0, i.e. drift
// (scipy 1.10 itself raises because the sums of O and E differ). A single
// category overall gives {0, 1}. Values are category codes; NaN/±Inf are
// dropped. An empty window returns ErrNotEnoughData.
func ChiSquare(ref, cur []float64) (stat, p float64, err error) {
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, notEnough("chisquare", len(a), len(b))
	}
	stat, p = chiSquareSorted(a, b)
	return stat, p, nil
}

func chiSquareSorted(a, b []float64) (stat, p float64) {
	refCounts, curCounts := distinctCounts(a, b)
	k := len(refCounts)
	if k < 2 {
		return 0, 1
	}
	norm := float64(len(b)) / float64(len(a))
	for i := range refCounts {
		e := float64(refCounts[i]) * norm
		o := float64(curCounts[i])
		if e == 0 {
			return math.Inf(1), 0
		}
		stat += (o - e) * (o - e) / e
	}
	return stat, ChiSquareSF(stat, float64(k-1))
}

// distinctCounts returns, for each distinct value of the union of two
// sorted samples in ascending order, its count in a and in b.
func distinctCounts(a, b []float64) (ca, cb []int) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		v := nextValue(a, b, i, j)
		i0, j0 := i, j
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		ca = append(ca, i-i0)
		cb = append(cb, j-j0)
	}
	return ca, cb
}

// ChiSquareSF is the chi-square survival function P(X ≥ x) with df degrees
// of freedom, Q(df/2, x/2). It returns NaN for df ≤ 0.
func ChiSquareSF(x, df float64) float64 {
	if !(df > 0) {
		return math.NaN()
	}
	if math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	return stats.GammaQ(df/2, x/2)
}
