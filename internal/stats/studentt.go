package stats

import "math"

// StudentTSF returns the one-sided survival function P(T > t) of Student's t
// distribution with df degrees of freedom (scipy.stats.t.sf(t, df)).
//
// It uses P(T > t) = ½·I_x(df/2, ½) with x = df/(df+t²) for t > 0, and
// 1 − that for t < 0, where I is [RegIncBeta]; 1 − x is passed as
// t²/(df+t²) so small |t| loses no precision. df may be fractional (Welch's
// test) and +Inf (the standard normal). It returns NaN for NaN arguments and
// df ≤ 0.
func StudentTSF(t, df float64) float64 {
	switch {
	case math.IsNaN(t) || math.IsNaN(df) || df <= 0:
		return math.NaN()
	case math.IsInf(df, 1):
		return NormalSF(t)
	case t == 0:
		return 0.5
	}
	tail := 0.5 * studentTBothTails(t, df)
	if t > 0 {
		return tail
	}
	return 1 - tail
}

// studentTBothTails returns P(|T| > |t|) = I_x(df/2, ½), the two-sided
// p-value, for finite df > 0 and t ≠ NaN.
func studentTBothTails(t, df float64) float64 {
	if math.IsInf(t, 0) {
		return 0
	}
	if t == 0 {
		return 1
	}
	// x = df/(df+t²), y = t²/(df+t²), computed without overflowing t².
	at := math.Abs(t)
	var x, y float64
	if at <= math.Sqrt(df) {
		r := (at / df) * at // t²/df ≤ 1
		x, y = 1/(1+r), r/(1+r)
	} else {
		r := (df / at) / at // df/t² < 1
		x, y = r/(1+r), 1/(1+r)
	}
	return regIncBeta(df/2, 0.5, x, y)
}
