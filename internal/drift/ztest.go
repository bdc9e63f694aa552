package drift

import (
	"math"

	"github.com/ferry-ml/ferry/internal/stats"
)

// ZTest is Evidently's "z" drift test for binary columns
// (legacy/calculations/stattests/z_stattest.py): the smallest value of
// reference ∪ current maps to 0 and every other value to 1, and the pooled
// two-proportion z statistic is
//
//	P = (n₁p₁ + n₂p₂)/(n₁+n₂),  z = (p₁ − p₂)/√(P(1−P)(1/n₁ + 1/n₂))
//
// with two-sided p = 2(1 − Φ(|z|)), computed as Evidently does (so p
// bottoms out near 1e-16 instead of underflowing). If both windows hold the
// same single value, z = 0 and p = 1. NaN/±Inf are dropped; an empty
// window returns ErrNotEnoughData.
func ZTest(ref, cur []float64) (z, p float64, err error) {
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, notEnough("z", len(a), len(b))
	}
	z, p = zTestSorted(a, b)
	return z, p, nil
}

func zTestSorted(a, b []float64) (z, p float64) {
	key0 := math.Min(a[0], b[0])
	if a[0] == a[len(a)-1] && b[0] == b[len(b)-1] && a[0] == b[0] {
		return 0, 1
	}
	n1, n2 := float64(len(a)), float64(len(b))
	p1 := float64(countAbove(a, key0)) / n1
	p2 := float64(countAbove(b, key0)) / n2
	P := (p1*n1 + p2*n2) / (n1 + n2)
	z = (p1 - p2) / math.Sqrt(P*(1-P)*(1/n1+1/n2))
	return z, 2 * (1 - stats.NormalCDF(math.Abs(z)))
}

// countAbove counts the values of sorted xs that differ from key, its
// minimum or a value below it.
func countAbove(xs []float64, key float64) int {
	i := 0
	for i < len(xs) && xs[i] <= key {
		i++
	}
	return len(xs) - i
}
