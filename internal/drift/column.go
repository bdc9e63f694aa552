package drift

import (
	"math"

	"github.com/ferry-ml/ferry/internal/stats"
)

// DefaultDriftShare is Evidently's default share of drifted columns from
// which a whole dataset counts as drifted.
const DefaultDriftShare = 0.5

// Options tunes Column. The zero value is Evidently's default behaviour
// for a numerical column.
type Options struct {
	// Kind is the column type used for test selection and binning.
	Kind ColumnKind
	// Test overrides the default selection (e.g. TestPSI); empty selects
	// with Select.
	Test Test
	// Threshold overrides the test's DefaultThreshold when > 0.
	Threshold float64
}

// Result is the drift verdict for one column.
type Result struct {
	// Test is the test that ran.
	Test Test `json:"test"`
	// Statistic is the test statistic (D for ks, χ² for chisquare, z for
	// z) or, for distance tests, the distance itself.
	Statistic float64 `json:"statistic"`
	// PValue is set for the p-value tests (ks, chisquare, z) only.
	PValue *float64 `json:"p_value,omitempty"`
	// Threshold is the threshold the score was compared with.
	Threshold float64 `json:"threshold"`
	// Drifted is the verdict: p below the threshold (ks: at or below) for
	// p-value tests, distance at or above it otherwise.
	Drifted bool `json:"drifted"`
	// NRef and NCur are the finite values compared.
	NRef int `json:"n_ref"`
	NCur int `json:"n_cur"`
}

// Score is the value compared with Threshold: the p-value for p-value
// tests, the statistic otherwise (Evidently's drift_score).
func (r Result) Score() float64 {
	if r.PValue != nil {
		return *r.PValue
	}
	return r.Statistic
}

// Column runs a drift test on one column the way Evidently's data-drift
// metric does: NaN and ±Inf are dropped from both windows, the test is
// opts.Test or else Select(n_ref, opts.Kind, nunique(ref ∪ cur)), and the
// verdict uses the test's threshold and direction. Categorical columns are
// passed as numeric category codes (any distinct value per category).
//
// An empty window after dropping non-finite values returns
// ErrNotEnoughData; values whose range overflows float64 (wasserstein,
// jensenshannon, psi) return ErrInvalidInput (psi: stats.ErrNonFinite); an
// unknown test, or ks/wasserstein on a categorical
// column, returns ErrUnknownTest; a negative or NaN threshold
// ErrInvalidInput.
func Column(ref, cur []float64, opts Options) (Result, error) {
	if math.IsNaN(opts.Threshold) || opts.Threshold < 0 {
		return Result{}, newError(ErrInvalidInput, "threshold must be ≥ 0, got %v", opts.Threshold)
	}
	test := opts.Test
	if test != "" && test.DefaultThreshold() == 0 {
		return Result{}, newError(ErrUnknownTest, "%q (want ks, chisquare, z, wasserstein, jensenshannon or psi)", test)
	}
	if opts.Kind == KindCategorical && (test == TestKS || test == TestWasserstein) {
		return Result{}, newError(ErrUnknownTest, "%s does not apply to a categorical column", test)
	}
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return Result{}, notEnough("drift", len(a), len(b))
	}
	if test == "" {
		// Only whether nunique exceeds 5 matters to Select.
		test = Select(len(a), opts.Kind, countDistinctUnion(a, b, smallNumMaxUnique))
	}
	r := Result{Test: test, Threshold: opts.Threshold, NRef: len(a), NCur: len(b)}
	if r.Threshold == 0 {
		r.Threshold = test.DefaultThreshold()
	}
	switch test {
	case TestKS:
		d, p := ksSorted(a, b)
		r.Statistic, r.PValue = d, &p
	case TestChiSquare:
		s, p := chiSquareSorted(a, b)
		r.Statistic, r.PValue = s, &p
	case TestZ:
		z, p := zTestSorted(a, b)
		r.Statistic, r.PValue = z, &p
	case TestWasserstein, TestJensenShannon, TestPSI:
		var err error
		switch test {
		case TestWasserstein:
			r.Statistic, err = wassersteinSorted(a, b)
		case TestJensenShannon:
			r.Statistic, err = jensenShannonSorted(a, b, opts.Kind)
		default:
			r.Statistic, err = psi(a, b, opts.Kind)
		}
		if err != nil {
			return Result{}, err
		}
	}
	r.Drifted = test.drifted(r.Score(), r.Threshold)
	return r, nil
}

// psi is Evidently's "psi" test through internal/stats: Evidently's binning
// for numerical columns, one bin per category code otherwise.
func psi(a, b []float64, kind ColumnKind) (float64, error) {
	if kind == KindNumerical {
		return stats.PSI(a, b, 0)
	}
	codes := make(map[float64]int)
	toInts := func(xs []float64) []int {
		out := make([]int, len(xs))
		for i, x := range xs {
			c, ok := codes[x]
			if !ok {
				c = len(codes)
				codes[x] = c
			}
			out[i] = c
		}
		return out
	}
	return stats.PSICategorical(toInts(a), toInts(b))
}

// Dataset applies Evidently's dataset-level rule (get_dataset_drift): the
// dataset drifts when n_drifted/n_columns ≥ driftShare. driftShare ≤ 0 or
// NaN selects DefaultDriftShare. No columns means no drift and share 0.
func Dataset(results []Result, driftShare float64) (drifted bool, share float64) {
	if !(driftShare > 0) {
		driftShare = DefaultDriftShare
	}
	if len(results) == 0 {
		return false, 0
	}
	n := 0
	for _, r := range results {
		if r.Drifted {
			n++
		}
	}
	share = float64(n) / float64(len(results))
	return share >= driftShare, share
}
