package linear

import (
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// fitLeastSquares solves OLS or ridge exactly. With the columns centred
// (so the intercept is not penalised) and, for conditioning only, scaled
// to unit deviation — Z = (X − x̄)/s, w = v/s — it solves the normal
// equations (ZᵀZ + alpha·diag(1/s²))·v = Zᵀ(y − ȳ) by Cholesky; then
// b = ȳ − x̄ᵀw. A constant column gets weight 0 (as the minimum-norm
// least-squares solution gives it). Collinear columns make OLS an error.
func (m *Model) fitLeastSquares(d learn.Dataset) error {
	n, p := d.Rows, d.Cols
	alpha := 0.0
	if m.params.Kind == Ridge {
		alpha = m.params.Alpha
	}
	mean := make([]float64, p)
	scale := make([]float64, p)
	var ym float64
	for i := range n {
		for j, v := range d.Row(i) {
			mean[j] += v
		}
		ym += d.Y[i]
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	ym /= float64(n)
	for i := range n {
		for j, v := range d.Row(i) {
			e := v - mean[j]
			scale[j] += e * e
		}
	}
	// The columns that vary; the others keep weight 0.
	var cols []int
	for j := range scale {
		scale[j] = math.Sqrt(scale[j])
		if scale[j] > 1e-12*max(1, math.Abs(mean[j]))*math.Sqrt(float64(n)) {
			cols = append(cols, j)
		}
	}
	q := len(cols)
	a := make([]float64, q*q)
	rhs := make([]float64, q)
	zrow := make([]float64, q)
	for i := range n {
		row := d.Row(i)
		for u, j := range cols {
			zrow[u] = (row[j] - mean[j]) / scale[j]
		}
		r := d.Y[i] - ym
		for u := range q {
			rhs[u] += zrow[u] * r
			for v := 0; v <= u; v++ {
				a[u*q+v] += zrow[u] * zrow[v]
			}
		}
	}
	for u, j := range cols {
		a[u*q+u] += alpha / (scale[j] * scale[j])
	}
	v, ok := choleskySolve(a, rhs, q)
	if !ok {
		return errdefs.InvalidArgument("fit %s: the features are collinear, so least squares has no unique solution; drop a column or use %s", m.params.Kind, Ridge)
	}
	m.coef = make([]float64, p)
	b := ym
	for u, j := range cols {
		w := v[u] / scale[j]
		m.coef[j] = w
		b -= w * mean[j]
	}
	m.intercept = []float64{b}
	m.converged = true
	return nil
}

// choleskySolve solves A·x = b for the symmetric positive-definite q×q
// matrix whose lower triangle a holds (row-major). It reports false when
// A is not numerically positive definite.
func choleskySolve(a, b []float64, q int) ([]float64, bool) {
	l := make([]float64, q*q)
	for i := range q {
		for j := 0; j <= i; j++ {
			s := a[i*q+j]
			for k := range j {
				s -= l[i*q+k] * l[j*q+k]
			}
			if i == j {
				if !(s > 1e-10*a[i*q+i]) {
					return nil, false
				}
				l[i*q+i] = math.Sqrt(s)
			} else {
				l[i*q+j] = s / l[j*q+j]
			}
		}
	}
	x := make([]float64, q)
	for i := range q { // L·t = b
		s := b[i]
		for k := range i {
			s -= l[i*q+k] * x[k]
		}
		x[i] = s / l[i*q+i]
	}
	for i := q - 1; i >= 0; i-- { // Lᵀ·x = t
		s := x[i]
		for k := i + 1; k < q; k++ {
			s -= l[k*q+i] * x[k]
		}
		x[i] = s / l[i*q+i]
	}
	return x, true
}
