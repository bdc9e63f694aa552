package stats

import "math"

// WelchTTest runs Welch's two-sided t-test for equal means of two samples
// with possibly unequal variances, matching
// scipy.stats.ttest_ind(a, b, equal_var=False) (with nan_policy="omit").
// Result.Statistic is t (positive when mean(a) > mean(b)), Result.DF the
// Welch–Satterthwaite degrees of freedom.
//
// NaN values are ignored; ±Inf values are rejected with ErrNonFinite.
//
// Errors:
//   - fewer than 2 non-NaN values in either sample → ErrTooFewSamples;
//   - both samples constant → ErrZeroVariance. scipy returns t = NaN,
//     p = NaN here when the means are equal and t = ±Inf, p = 0 (with a
//     made-up df of 1) when they differ. Neither is a usable number for a
//     caller (NaN and ±Inf do not even encode as JSON), so this is an error
//     and callers can compare the two constants themselves;
//   - values so large that the statistic overflows → ErrNonFinite.
//
// It does not allocate.
func WelchTTest(a, b []float64) (Result, error) {
	// Both samples are summarized relative to a common shift (a value of the
	// data), so that the difference of means of data such as 1e6 + noise is
	// not computed from two rounded means of magnitude 1e6.
	shift := firstNonNaN(a)
	if math.IsNaN(shift) {
		shift = firstNonNaN(b)
	}
	if math.IsInf(shift, 0) || math.IsNaN(shift) {
		shift = 0 // summarize rejects the infinity or finds no values
	}
	sa, err := summarize(a, shift)
	if err != nil {
		return Result{}, err
	}
	sb, err := summarize(b, shift)
	if err != nil {
		return Result{}, err
	}
	if sa.n < 2 || sb.n < 2 {
		return Result{}, newError(ErrTooFewSamples, "welch t-test needs at least 2 non-NaN values per sample, got %d and %d", sa.n, sb.n)
	}
	if sa.variance == 0 && sb.variance == 0 {
		return Result{}, newError(ErrZeroVariance, "both samples are constant (%g and %g); the t statistic is undefined", shift+sa.mean, shift+sb.mean)
	}
	n1, n2 := float64(sa.n), float64(sb.n)
	vn1, vn2 := sa.variance/n1, sb.variance/n2
	// Welch–Satterthwaite df, scaled by max(vn1, vn2) so that tiny or huge
	// variances neither underflow nor overflow when squared.
	scale := math.Max(vn1, vn2)
	r1, r2 := vn1/scale, vn2/scale
	df := (r1 + r2) * (r1 + r2) / (r1*r1/(n1-1) + r2*r2/(n2-1))
	t := (sa.mean - sb.mean) / math.Sqrt(vn1+vn2)
	if math.IsNaN(t) || math.IsInf(t, 0) || math.IsNaN(df) || math.IsInf(df, 0) {
		return Result{}, newError(ErrNonFinite, "welch t-test overflowed (t=%g, df=%g); rescale the values", t, df)
	}
	return Result{Statistic: t, PValue: studentTBothTails(t, df), DF: df}, nil
}

// summary holds the size, mean and unbiased (ddof=1) variance of the non-NaN
// values of a sample; mean is relative to the shift passed to summarize.
type summary struct {
	n        int
	mean     float64
	variance float64
}

// summarize computes a summary of xs − shift in two passes (mean, then the
// corrected two-pass sum of squares). A constant sample gets exactly its
// value as mean and exactly 0 as variance, which a floating-point mean would
// not give.
func summarize(xs []float64, shift float64) (summary, error) {
	var (
		n        int
		sum      float64
		first    float64
		constant = true
	)
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if math.IsInf(x, 0) {
			return summary{}, newError(ErrNonFinite, "sample contains %v", x)
		}
		if n == 0 {
			first = x
		} else if x != first {
			constant = false
		}
		n++
		sum += x - shift
	}
	if n == 0 {
		return summary{}, nil
	}
	if constant {
		return summary{n: n, mean: first - shift}, nil
	}
	if math.IsInf(sum, 0) {
		return summary{}, newError(ErrNonFinite, "sample sum overflows float64; rescale the values")
	}
	fn := float64(n)
	mean := sum / fn
	var ss, comp float64
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		d := (x - shift) - mean
		ss += d * d
		comp += d
	}
	if math.IsInf(ss, 0) || math.IsNaN(ss) {
		return summary{}, newError(ErrNonFinite, "sample sum of squares overflows float64; rescale the values")
	}
	variance := (ss - comp*comp/fn) / (fn - 1)
	if variance < 0 {
		variance = 0
	}
	return summary{n: n, mean: mean + comp/fn, variance: variance}, nil
}

func firstNonNaN(xs []float64) float64 {
	for _, x := range xs {
		if !math.IsNaN(x) {
			return x
		}
	}
	return math.NaN()
}
