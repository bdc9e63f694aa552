package stats

import "math"

// Quantile returns the q-th quantile (0 ≤ q ≤ 1) of sorted, an ascending
// sample, with numpy's default method 'linear' (Hyndman & Fan type 7):
// with h = (n−1)·q, the result interpolates between sorted[⌊h⌋] and
// sorted[⌊h⌋+1] exactly as numpy.quantile does, so results agree bit for bit
// for finite data.
//
// NaN values are ignored, like numpy.nanquantile; they must sit at the ends
// of the slice, where sort.Float64s and slices.Sort put them. Quantile returns
// NaN when no non-NaN value remains or q is NaN or outside [0, 1]. It does not
// check that sorted is sorted and does not allocate.
func Quantile(sorted []float64, q float64) float64 {
	for len(sorted) > 0 && math.IsNaN(sorted[0]) {
		sorted = sorted[1:]
	}
	for len(sorted) > 0 && math.IsNaN(sorted[len(sorted)-1]) {
		sorted = sorted[:len(sorted)-1]
	}
	n := len(sorted)
	if n == 0 || math.IsNaN(q) || q < 0 || q > 1 {
		return math.NaN()
	}
	// The explicit float64 conversions keep the compiler from fusing
	// multiply-adds, which would round differently from numpy.
	h := float64(float64(n-1) * q)
	if h >= float64(n-1) {
		return sorted[n-1]
	}
	lo := math.Floor(h)
	i := int(lo)
	gamma := h - lo
	a, b := sorted[i], sorted[i+1]
	diff := b - a
	if gamma >= 0.5 {
		return b - float64(diff*(1-gamma))
	}
	return a + float64(diff*gamma)
}
