package linear

import (
	"context"
	"math"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
)

// standardize returns the column means and population standard
// deviations of X (a zero deviation becomes 1, as StandardScaler does)
// and the standardised copy of X.
func standardize(d learn.Dataset) (z, mean, scale []float64) {
	n, p := d.Rows, d.Cols
	mean = make([]float64, p)
	scale = make([]float64, p)
	for i := range n {
		for j, v := range d.Row(i) {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := range n {
		for j, v := range d.Row(i) {
			e := v - mean[j]
			scale[j] += e * e
		}
	}
	for j := range scale {
		scale[j] = math.Sqrt(scale[j] / float64(n))
		if scale[j] < 10*0x1p-52 {
			scale[j] = 1
		}
	}
	z = make([]float64, n*p)
	for i := range n {
		for j, v := range d.Row(i) {
			z[i*p+j] = (v - mean[j]) / scale[j]
		}
	}
	return z, mean, scale
}

// fitLogistic minimises (1/n)·Σ log-loss + ‖W‖²/(2Cn) — scikit-learn's
// objective divided by C·n — over standardised features: one weight
// vector for binary, one per class (softmax) for multiclass. The
// parameter vector holds the weights row by row, then the intercepts.
func (m *Model) fitLogistic(ctx context.Context, d learn.Dataset) error {
	k, err := d.NumClasses()
	if err != nil {
		return err
	}
	if k < 2 {
		return errdefs.InvalidArgument("fit %s: needs at least two classes, the labels hold only class 0", Logistic)
	}
	m.classes = k
	outputs := k
	m.task = learn.Multiclass
	if k == 2 {
		outputs = 1
		m.task = learn.Binary
	}
	z, mean, scale := standardize(d)
	n, p := d.Rows, d.Cols
	y := make([]int, n)
	for i, v := range d.Y {
		y[i] = int(v)
	}
	lam := 1 / (m.params.C * float64(n))
	margins := make([]float64, outputs)
	obj := func(theta, grad []float64) float64 {
		w, b := theta[:outputs*p], theta[outputs*p:]
		gw, gb := grad[:outputs*p], grad[outputs*p:]
		clear(grad)
		var loss float64
		for i := range n {
			row := z[i*p : (i+1)*p]
			for c := range outputs {
				margins[c] = b[c] + dot(w[c*p:(c+1)*p], row)
			}
			if outputs == 1 {
				t := margins[0]
				// log(1+e^t) − y·t, stably.
				if t > 0 {
					loss += t + math.Log1p(math.Exp(-t))
				} else {
					loss += math.Log1p(math.Exp(t))
				}
				r := sigmoid(t)
				if y[i] == 1 {
					loss -= t
					r--
				}
				axpy(r, row, gw)
				gb[0] += r
				continue
			}
			lse := margins[y[i]]
			lse = softmax(margins) - lse
			loss += lse
			for c := range outputs {
				r := margins[c]
				if c == y[i] {
					r--
				}
				axpy(r, row, gw[c*p:(c+1)*p])
				gb[c] += r
			}
		}
		inv := 1 / float64(n)
		for j := range grad {
			grad[j] *= inv
		}
		loss *= inv
		for j, v := range w {
			loss += lam / 2 * v * v
			gw[j] += lam * v
		}
		return loss
	}
	theta := make([]float64, outputs*(p+1))
	res, err := minimize(ctx, obj, theta, m.params.MaxIter, m.params.Tol)
	if err != nil {
		return err
	}
	m.iterations, m.converged = res.iterations, res.converged
	// Fold the standardisation into the coefficients.
	m.mean, m.scale = mean, scale
	m.coef = make([]float64, outputs*p)
	m.intercept = make([]float64, outputs)
	for c := range outputs {
		b := theta[outputs*p+c]
		for j := range p {
			w := theta[c*p+j]
			m.coef[c*p+j] = w / scale[j]
			b -= w * mean[j] / scale[j]
		}
		m.intercept[c] = b
	}
	return nil
}
