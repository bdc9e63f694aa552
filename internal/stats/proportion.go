package stats

import "math"

// TwoProportionZTest compares two success proportions p1 = success1/n1 and
// p2 = success2/n2 with the pooled two-sided z-test:
//
//	P = (success1+success2)/(n1+n2)
//	z = (p1 − p2) / sqrt(P(1−P)(1/n1 + 1/n2)),  p = 2·NormalSF(|z|)
//
// The p-value equals scipy's chi2_contingency([[s1, n1−s1], [s2, n2−s2]],
// correction=False) (z² is that χ²). Result.Statistic is z, Result.DF is 0.
//
// Degenerate case: when the pooled proportion is 0 or 1 (both groups all
// failures or all successes) there is no variance and no evidence of a
// difference, so the result is {Statistic: 0, PValue: 1} rather than an
// error. This is what Evidently's z-test returns; scipy instead raises
// because an expected frequency is zero. Returning p = 1 lets a rollout gate
// treat "nobody converted in either arm" as "no difference" without a
// special case.
//
// Errors: n1 < 1 or n2 < 1 → ErrTooFewSamples; a negative success count or
// one above its n → ErrInvalidInput.
func TwoProportionZTest(success1, n1, success2, n2 int) (Result, error) {
	if n1 < 1 || n2 < 1 {
		return Result{}, newError(ErrTooFewSamples, "two-proportion z-test needs n ≥ 1 in both groups, got n1=%d, n2=%d", n1, n2)
	}
	if success1 < 0 || success1 > n1 || success2 < 0 || success2 > n2 {
		return Result{}, newError(ErrInvalidInput, "success counts must lie in [0, n], got %d/%d and %d/%d", success1, n1, success2, n2)
	}
	fs1, fn1 := float64(success1), float64(n1)
	fs2, fn2 := float64(success2), float64(n2)
	s := fs1 + fs2
	n := fn1 + fn2
	f := n - s
	if s == 0 || f == 0 {
		return Result{Statistic: 0, PValue: 1}, nil
	}
	p1, p2 := fs1/fn1, fs2/fn2
	// P(1−P) = s·f/n², exact in the counts.
	pooled := (s / n) * (f / n)
	se := math.Sqrt(pooled * (1/fn1 + 1/fn2))
	z := (p1 - p2) / se
	return Result{Statistic: z, PValue: math.Erfc(math.Abs(z) / math.Sqrt2)}, nil
}
