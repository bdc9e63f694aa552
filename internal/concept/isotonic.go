package concept

import (
	"fmt"
	"slices"
	"sort"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Isotonic is a non-decreasing isotonic regression fitted with the
// pool-adjacent-violators algorithm. Prediction matches scikit-learn's
// IsotonicRegression(increasing=True, out_of_bounds="clip"): inputs are
// clipped to the fitted X range and linearly interpolated between the fitted
// points (one point per distinct X, ties in X pooled by weighted mean).
type Isotonic struct {
	xs, ys []float64
}

// FitIsotonic fits y ≈ f(x) with f non-decreasing, minimising Σ w·(y−f(x))².
// weights may be nil (all 1). Inputs must be finite and weights positive.
func FitIsotonic(x, y, weights []float64) (*Isotonic, error) {
	if len(x) != len(y) || (weights != nil && len(weights) != len(x)) {
		return nil, errdefs.InvalidArgument("isotonic: length mismatch x=%d y=%d weights=%d", len(x), len(y), len(weights))
	}
	if len(x) == 0 {
		return nil, errdefs.InvalidArgument("isotonic: no data")
	}
	idx := make([]int, len(x))
	for i := range x {
		if !finite(x[i]) || !finite(y[i]) {
			return nil, errdefs.InvalidArgument("isotonic: non-finite value at %d", i)
		}
		if weights != nil && !(weights[i] > 0 && finite(weights[i])) {
			return nil, errdefs.InvalidArgument("isotonic: weight at %d must be positive and finite", i)
		}
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	w := func(i int) float64 {
		if weights == nil {
			return 1
		}
		return weights[i]
	}
	// Pool ties in x: weighted mean of y, summed weight.
	var ux, uy, uw []float64
	for _, i := range idx {
		if n := len(ux); n > 0 && ux[n-1] == x[i] {
			uy[n-1] += w(i) * y[i]
			uw[n-1] += w(i)
			continue
		}
		ux = append(ux, x[i])
		uy = append(uy, w(i)*y[i])
		uw = append(uw, w(i))
	}
	for i := range uy {
		uy[i] /= uw[i]
	}
	return &Isotonic{xs: ux, ys: pav(uy, uw)}, nil
}

// pav returns the weighted least-squares non-decreasing fit of y.
func pav(y, w []float64) []float64 {
	type block struct {
		mean, weight float64
		n            int
	}
	blocks := make([]block, 0, len(y))
	for i := range y {
		blocks = append(blocks, block{y[i], w[i], 1})
		for len(blocks) > 1 {
			b, a := blocks[len(blocks)-1], blocks[len(blocks)-2]
			if a.mean <= b.mean {
				break
			}
			tw := a.weight + b.weight
			blocks = blocks[:len(blocks)-2]
			blocks = append(blocks, block{(a.mean*a.weight + b.mean*b.weight) / tw, tw, a.n + b.n})
		}
	}
	out := make([]float64, 0, len(y))
	for _, b := range blocks {
		for range b.n {
			out = append(out, b.mean)
		}
	}
	return out
}

// Predict maps one value through the fitted function (clip + interpolate).
// NaN maps to NaN.
func (m *Isotonic) Predict(t float64) float64 {
	n := len(m.xs)
	switch {
	case t != t:
		return t
	case t <= m.xs[0]:
		return m.ys[0]
	case t >= m.xs[n-1]:
		return m.ys[n-1]
	}
	j, _ := slices.BinarySearch(m.xs, t) // xs[j-1] < t <= xs[j]
	if m.xs[j] == t {
		return m.ys[j]
	}
	x0, x1, y0, y1 := m.xs[j-1], m.xs[j], m.ys[j-1], m.ys[j]
	// np.interp order of operations: slope·(t−x0) + y0.
	return (y1-y0)/(x1-x0)*(t-x0) + y0
}

// Points returns copies of the fitted (x, f(x)) points.
func (m *Isotonic) Points() (xs, ys []float64) {
	return slices.Clone(m.xs), slices.Clone(m.ys)
}

// String describes the fit.
func (m *Isotonic) String() string { return fmt.Sprintf("Isotonic(%d points)", len(m.xs)) }
