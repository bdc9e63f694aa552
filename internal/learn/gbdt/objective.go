package gbdt

import "math"

// gh is a gradient/hessian pair; histograms sum them in float64.
type gh struct{ g, h float64 }

// minHess keeps hessians positive, as XGBoost's kRtEps-guarded objectives do.
const minHess = 1e-16

// sigmoid is XGBoost's (and the runtime's) float32 logistic function.
func sigmoid(s float32) float32 {
	return float32(1) / (float32(1) + float32(math.Exp(float64(-s))))
}

// logit is XGBoost's ProbToMargin of binary:logistic in float32.
func logit(b float32) float32 {
	d := float32(1)/b - float32(1)
	return -float32(math.Log(float64(d)))
}

// softmax turns margins into probabilities in place, as XGBoost does.
func softmax(v []float32) {
	wmax := v[0]
	for _, x := range v[1:] {
		if x > wmax {
			wmax = x
		}
	}
	var wsum float64
	for i, x := range v {
		e := float32(math.Exp(float64(x - wmax)))
		v[i] = e
		wsum += float64(e)
	}
	for i := range v {
		v[i] /= float32(wsum)
	}
}

// gradients writes the gradient pairs of group k (of ng) for every row
// given the margins (row-major, ng per row).
func gradients(obj Objective, y []float64, margin []float32, ng, k int, out []gh, prob []float32) {
	switch obj {
	case BinaryLogistic:
		for r, m := range margin {
			p := float64(sigmoid(m))
			out[r] = gh{p - y[r], max(p*(1-p), minHess)}
		}
	case RegSquaredError:
		for r, m := range margin {
			out[r] = gh{float64(m) - y[r], 1}
		}
	case MultiSoftprob:
		for r := range y {
			p := float64(prob[r*ng+k])
			t := 0.0
			if int(y[r]) == k {
				t = 1
			}
			out[r] = gh{p - t, max(2*p*(1-p), minHess)}
		}
	}
}

// evalLoss is the validation metric: logloss, mlogloss or rmse.
func evalLoss(obj Objective, y []float64, margin []float32, ng int) float64 {
	const eps = 1e-16
	var s float64
	switch obj {
	case BinaryLogistic:
		for r, m := range margin {
			p := float64(sigmoid(m))
			if y[r] != 0 {
				s -= math.Log(max(p, eps))
			} else {
				s -= math.Log(max(1-p, eps))
			}
		}
		return s / float64(len(y))
	case MultiSoftprob:
		buf := make([]float32, ng)
		for r := range y {
			copy(buf, margin[r*ng:(r+1)*ng])
			softmax(buf)
			s -= math.Log(max(float64(buf[int(y[r])]), eps))
		}
		return s / float64(len(y))
	}
	for r, m := range margin {
		d := float64(m) - y[r]
		s += d * d
	}
	return math.Sqrt(s / float64(len(y)))
}
