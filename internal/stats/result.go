package stats

// Result is the outcome of a two-sample hypothesis test.
type Result struct {
	// Statistic is the test statistic: z for TwoProportionZTest, t for
	// WelchTTest. Its sign follows "first sample minus second".
	Statistic float64 `json:"statistic"`
	// PValue is the two-sided p-value, in [0, 1].
	PValue float64 `json:"p_value"`
	// DF is the degrees of freedom of the reference distribution: the
	// Welch–Satterthwaite value for WelchTTest, 0 (not applicable) for
	// z-tests.
	DF float64 `json:"df"`
}
