package drift

import "math"

// minWassersteinNorm is Evidently's floor for the reference standard
// deviation that normalizes the Wasserstein distance.
const minWassersteinNorm = 0.001

// Wasserstein is Evidently's normed Wasserstein drift score
// (legacy/calculations/stattests/wasserstein_distance_norm.py):
//
//	W₁(ref, cur) / max(std(ref), 0.001)
//
// where W₁ = ∫|F_ref − F_cur| dx is scipy.stats.wasserstein_distance and std
// is the population standard deviation (ddof = 0). NaN/±Inf are dropped;
// an empty window returns ErrNotEnoughData.
func Wasserstein(ref, cur []float64) (float64, error) {
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return 0, notEnough("wasserstein", len(a), len(b))
	}
	return wassersteinSorted(a, b)
}

// wassersteinSorted rejects, with ErrInvalidInput, ranges so wide that the
// area or the standard deviation overflows float64.
func wassersteinSorted(a, b []float64) (float64, error) {
	if err := checkRange(a, b); err != nil {
		return 0, err
	}
	w := wasserstein1(a, b) / math.Max(stdPop(a), minWassersteinNorm)
	if math.IsNaN(w) || math.IsInf(w, 0) {
		return 0, newError(ErrInvalidInput, "wasserstein distance overflows float64; rescale the column")
	}
	return w, nil
}

// wasserstein1 is the first Wasserstein distance between two sorted
// samples: Σ |F_a − F_b|·Δx over consecutive distinct values of the union,
// as scipy's _cdf_distance(1, …) sums it.
func wasserstein1(a, b []float64) float64 {
	fa, fb := float64(len(a)), float64(len(b))
	i, j := 0, 0
	sum := 0.0
	v := nextValue(a, b, 0, 0)
	for {
		for i < len(a) && a[i] <= v {
			i++
		}
		for j < len(b) && b[j] <= v {
			j++
		}
		if i == len(a) && j == len(b) {
			return sum
		}
		next := nextValue(a, b, i, j)
		sum += math.Abs(float64(i)/fa-float64(j)/fb) * (next - v)
		v = next
	}
}

// stdPop is numpy.std(xs) (ddof = 0), with the mean computed first.
func stdPop(xs []float64) float64 {
	n := float64(len(xs))
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	mean /= n
	ss := 0.0
	for _, x := range xs {
		d := x - mean
		ss += d * d
	}
	return math.Sqrt(ss / n)
}
