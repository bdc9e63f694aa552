package stats

import "math"

// gammaQSmallA returns the regularized upper incomplete gamma function
// Q(a, u) = Γ(a, u)/Γ(a) for 0 < a ≤ 1 and u ≥ 0: the series for P = 1 − Q
// when u < a + 1, Legendre's continued fraction (modified Lentz) otherwise.
// a = ½ and a = 1 use their closed forms.
func gammaQSmallA(a, u float64) float64 {
	switch {
	case u <= 0:
		return 1
	case a == 0.5:
		return math.Erfc(math.Sqrt(u))
	case a == 1:
		return math.Exp(-u)
	}
	lgA, _ := math.Lgamma(a)
	logPrefix := a*math.Log(u) - u - lgA // ln(u^a e^−u / Γ(a))
	if u < a+1 {
		// P = u^a e^−u / Γ(a+1) · Σ u^n / ((a+1)…(a+n)).
		term := 1 / a
		sum := term
		for n := 1; n < 1000; n++ {
			term *= u / (a + float64(n))
			sum += term
			if term < sum*1e-17 {
				break
			}
		}
		return 1 - math.Exp(logPrefix)*sum
	}
	const tiny = 1e-300
	b := u + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) <= 3e-16 {
			break
		}
	}
	return math.Exp(logPrefix) * h
}
