package drift

// ColumnKind is the Evidently column type that drives test selection.
type ColumnKind int

const (
	// KindNumerical is a numerical feature ("num").
	KindNumerical ColumnKind = iota
	// KindCategorical is a categorical feature ("cat"), given to this
	// package as numeric category codes.
	KindCategorical
)

// String returns "num" or "cat", Evidently's names.
func (k ColumnKind) String() string {
	if k == KindCategorical {
		return "cat"
	}
	return "num"
}

// Test names a drift test; the values are Evidently's stattest names.
type Test string

// The drift tests this package implements.
const (
	TestKS            Test = "ks"
	TestChiSquare     Test = "chisquare"
	TestZ             Test = "z"
	TestWasserstein   Test = "wasserstein"
	TestJensenShannon Test = "jensenshannon"
	TestPSI           Test = "psi"
)

// Evidently's default selection switches: reference sizes up to
// smallReference use p-value tests, larger ones distances.
const (
	smallReference    = 1000
	binaryMaxUnique   = 2
	smallNumMaxUnique = 5
)

// Select returns Evidently's default drift test (registry.py
// _get_default_stattest) for a column whose reference has nRef finite
// values and whose reference ∪ current has nUniq distinct values:
//
//	nRef ≤ 1000: numerical nUniq > 5 → ks; nUniq ≤ 2 → z; otherwise chisquare
//	             (categorical: nUniq ≤ 2 → z, else chisquare)
//	nRef > 1000: numerical nUniq > 5 → wasserstein; otherwise jensenshannon
func Select(nRef int, kind ColumnKind, nUniq int) Test {
	if nRef <= smallReference {
		if kind == KindNumerical && nUniq > smallNumMaxUnique {
			return TestKS
		}
		if nUniq > binaryMaxUnique {
			return TestChiSquare
		}
		return TestZ
	}
	if kind == KindNumerical && nUniq > smallNumMaxUnique {
		return TestWasserstein
	}
	return TestJensenShannon
}

// IsPValue reports whether the test's score is a p-value (drift when it is
// small) rather than a distance (drift when it is large).
func (t Test) IsPValue() bool {
	return t == TestKS || t == TestChiSquare || t == TestZ
}

// DefaultThreshold is Evidently's default threshold for the test: 0.05 for
// the p-value tests, 0.1 for the distances. It returns 0 for an unknown test.
func (t Test) DefaultThreshold() float64 {
	switch t {
	case TestKS, TestChiSquare, TestZ:
		return 0.05
	case TestWasserstein, TestJensenShannon, TestPSI:
		return 0.1
	}
	return 0
}

// drifted applies Evidently's direction for the test: ks drifts when
// p ≤ threshold, chisquare and z when p < threshold, distances when
// score ≥ threshold.
func (t Test) drifted(score, threshold float64) bool {
	switch t {
	case TestKS:
		return score <= threshold
	case TestChiSquare, TestZ:
		return score < threshold
	}
	return score >= threshold
}
