package stats

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The golden values come from testdata/golden.py (scipy 1.10, numpy 1.24,
// mpmath at 40 digits, and a numpy re-implementation of Evidently's PSI).
// Regenerate with: /usr/bin/python3 internal/stats/testdata/golden.py

// Tolerances against scipy/numpy, as the package promises.
const (
	pRel    = 1e-9  // p-values, relative ...
	pAbs    = 1e-12 // ... or absolute
	statRel = 1e-9  // statistics, relative
	// Against the 40-digit mpmath values: the package's own accuracy.
	mpRel = 1e-12
	mpAbs = 1e-15
)

// nfloat is a float64 that decodes JSON null as NaN.
type nfloat float64

func (f *nfloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = nfloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = nfloat(v)
	return nil
}

func floats(xs []nfloat) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

type normalCase struct {
	X     nfloat `json:"x"`
	CDF   nfloat `json:"cdf"`
	SF    nfloat `json:"sf"`
	MPCDF nfloat `json:"mp_cdf"`
	MPSF  nfloat `json:"mp_sf"`
}

type welchCase struct {
	Name        string   `json:"name"`
	A           []nfloat `json:"a"`
	B           []nfloat `json:"b"`
	Statistic   nfloat   `json:"statistic"`
	PValue      nfloat   `json:"pvalue"`
	DF          nfloat   `json:"df"`
	MPStatistic nfloat   `json:"mp_statistic"`
	MPPValue    nfloat   `json:"mp_pvalue"`
	MPDF        nfloat   `json:"mp_df"`
	Error       string   `json:"error"`
	ScipyResult string   `json:"scipy_result"`
}

type golden struct {
	Normal     []normalCase `json:"normal"`
	RegIncBeta []struct {
		A, B, X, Value, MP nfloat
	} `json:"reg_inc_beta"`
	StudentTSF []struct {
		T, DF, SF, MP nfloat
	} `json:"student_t_sf"`
	Welch []welchCase `json:"welch"`
	ZTest []struct {
		S1, N1, S2, N2 int
		Degenerate     bool
		Chi2, PValue   nfloat
	} `json:"ztest"`
	Quantile []struct {
		Name   string
		Data   []nfloat
		Q      []float64
		Values []nfloat
	} `json:"quantile"`
	PSI []struct {
		Name               string
		Reference, Current []nfloat
		Bins               int
		Value              float64
	} `json:"psi"`
	PSICategorical []struct {
		Name               string
		Reference, Current []int
		Value              float64
	} `json:"psi_categorical"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatalf("read golden values: %v", err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("decode golden values: %v", err)
	}
	for name, n := range map[string]int{
		"normal": len(g.Normal), "reg_inc_beta": len(g.RegIncBeta), "student_t_sf": len(g.StudentTSF),
		"welch": len(g.Welch), "ztest": len(g.ZTest), "quantile": len(g.Quantile),
		"psi": len(g.PSI), "psi_categorical": len(g.PSICategorical),
	} {
		if n < 5 {
			t.Fatalf("golden section %q has only %d cases", name, n)
		}
	}
	return &g
}

// diffTracker records the largest relative and absolute differences seen, for
// the log (go test -v) and the report.
type diffTracker struct {
	name           string
	maxRel, maxAbs float64
}

func (d *diffTracker) observe(got, want float64) {
	abs := math.Abs(got - want)
	d.maxAbs = math.Max(d.maxAbs, abs)
	if want != 0 {
		d.maxRel = math.Max(d.maxRel, abs/math.Abs(want))
	}
}

func (d *diffTracker) log(t *testing.T) {
	t.Logf("%-34s max rel diff %.3g, max abs diff %.3g", d.name, d.maxRel, d.maxAbs)
}

// near reports whether got is within rel (relative) or abs (absolute) of
// want; NaN matches only NaN.
func near(got, want, rel, abs float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if got == want {
		return true
	}
	d := math.Abs(got - want)
	return d <= abs || d <= rel*math.Abs(want)
}

func TestGoldenNormal(t *testing.T) {
	g := loadGolden(t)
	scipyDiff := diffTracker{name: "NormalCDF/SF vs scipy"}
	mpDiff := diffTracker{name: "NormalCDF/SF vs mpmath"}
	for _, c := range g.Normal {
		x := float64(c.X)
		for _, v := range []struct {
			name      string
			got       float64
			scipy, mp nfloat
		}{
			{"NormalCDF", NormalCDF(x), c.CDF, c.MPCDF},
			{"NormalSF", NormalSF(x), c.SF, c.MPSF},
		} {
			scipyDiff.observe(v.got, float64(v.scipy))
			mpDiff.observe(v.got, float64(v.mp))
			if !near(v.got, float64(v.scipy), pRel, pAbs) {
				t.Errorf("%s(%g) = %.17g, scipy %.17g", v.name, x, v.got, float64(v.scipy))
			}
			if !near(v.got, float64(v.mp), mpRel, 0) {
				t.Errorf("%s(%g) = %.17g, mpmath %.17g", v.name, x, v.got, float64(v.mp))
			}
		}
	}
	scipyDiff.log(t)
	mpDiff.log(t)
}

func TestGoldenRegIncBeta(t *testing.T) {
	g := loadGolden(t)
	scipyDiff := diffTracker{name: "RegIncBeta vs scipy"}
	mpDiff := diffTracker{name: "RegIncBeta vs mpmath"}
	for _, c := range g.RegIncBeta {
		a, b, x := float64(c.A), float64(c.B), float64(c.X)
		got := RegIncBeta(a, b, x)
		scipyDiff.observe(got, float64(c.Value))
		mpDiff.observe(got, float64(c.MP))
		if !near(got, float64(c.Value), pRel, pAbs) {
			t.Errorf("RegIncBeta(%g, %g, %.17g) = %.17g, scipy %.17g", a, b, x, got, float64(c.Value))
		}
		if !near(got, float64(c.MP), mpRel, mpAbs) {
			t.Errorf("RegIncBeta(%g, %g, %.17g) = %.17g, mpmath %.17g (rel %.3g)", a, b, x, got, float64(c.MP), math.Abs(got-float64(c.MP))/float64(c.MP))
		}
	}
	scipyDiff.log(t)
	mpDiff.log(t)
}

func TestGoldenStudentTSF(t *testing.T) {
	g := loadGolden(t)
	scipyDiff := diffTracker{name: "StudentTSF vs scipy"}
	mpDiff := diffTracker{name: "StudentTSF vs mpmath"}
	for _, c := range g.StudentTSF {
		tv, df := float64(c.T), float64(c.DF)
		got := StudentTSF(tv, df)
		scipyDiff.observe(got, float64(c.SF))
		mpDiff.observe(got, float64(c.MP))
		if !near(got, float64(c.SF), pRel, pAbs) {
			t.Errorf("StudentTSF(%g, %g) = %.17g, scipy %.17g", tv, df, got, float64(c.SF))
		}
		if !near(got, float64(c.MP), mpRel, mpAbs) {
			t.Errorf("StudentTSF(%g, %g) = %.17g, mpmath %.17g", tv, df, got, float64(c.MP))
		}
	}
	scipyDiff.log(t)
	mpDiff.log(t)
}

func TestGoldenWelchTTest(t *testing.T) {
	g := loadGolden(t)
	tDiff := diffTracker{name: "WelchTTest t vs scipy"}
	pDiff := diffTracker{name: "WelchTTest p vs scipy"}
	dfDiff := diffTracker{name: "WelchTTest df vs scipy"}
	mpTDiff := diffTracker{name: "WelchTTest t vs mpmath"}
	mpPDiff := diffTracker{name: "WelchTTest p vs mpmath"}
	for _, c := range g.Welch {
		t.Run(c.Name, func(t *testing.T) {
			res, err := WelchTTest(floats(c.A), floats(c.B))
			switch c.Error {
			case "too_few":
				if !errors.Is(err, ErrTooFewSamples) {
					t.Fatalf("err = %v, want ErrTooFewSamples", err)
				}
				return
			case "zero_variance":
				if !errors.Is(err, ErrZeroVariance) {
					t.Fatalf("err = %v, want ErrZeroVariance (scipy: %s)", err, c.ScipyResult)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			tDiff.observe(res.Statistic, float64(c.Statistic))
			pDiff.observe(res.PValue, float64(c.PValue))
			dfDiff.observe(res.DF, float64(c.DF))
			mpTDiff.observe(res.Statistic, float64(c.MPStatistic))
			mpPDiff.observe(res.PValue, float64(c.MPPValue))
			// The 40-digit values check the package's own accuracy, which
			// beats scipy's where float64 moments lose digits (offset_1e6).
			if !near(res.Statistic, float64(c.MPStatistic), mpRel, 0) ||
				!near(res.PValue, float64(c.MPPValue), mpRel, mpAbs) ||
				!near(res.DF, float64(c.MPDF), mpRel, 0) {
				t.Errorf("got t=%.17g p=%.17g df=%.17g, mpmath t=%.17g p=%.17g df=%.17g",
					res.Statistic, res.PValue, res.DF, float64(c.MPStatistic), float64(c.MPPValue), float64(c.MPDF))
			}
			checkAgainstScipy(t, "t", res.Statistic, float64(c.Statistic), float64(c.MPStatistic), statRel, 0)
			checkAgainstScipy(t, "p", res.PValue, float64(c.PValue), float64(c.MPPValue), pRel, pAbs)
			if !near(res.DF, float64(c.DF), statRel, 0) {
				t.Errorf("df = %.17g, scipy %.17g", res.DF, float64(c.DF))
			}
		})
	}
	tDiff.log(t)
	pDiff.log(t)
	dfDiff.log(t)
	mpTDiff.log(t)
	mpPDiff.log(t)
}

// checkAgainstScipy requires got to be within the promised tolerance of
// scipy's value, unless scipy's float64 arithmetic is itself more than 1e-10
// (relative) off the exact 40-digit value, as for data around 1e6; then got
// must be closer to the exact value than scipy is.
func checkAgainstScipy(t *testing.T, what string, got, scipy, exact, rel, abs float64) {
	t.Helper()
	scipyErr := math.Abs(scipy-exact) / math.Abs(exact)
	if scipyErr > 1e-10 {
		if gotErr := math.Abs(got-exact) / math.Abs(exact); gotErr >= scipyErr {
			t.Errorf("%s = %.17g is %.3g off the exact %.17g, scipy (%.17g) only %.3g", what, got, gotErr, exact, scipy, scipyErr)
		} else {
			t.Logf("%s: scipy is %.3g off the exact value, this package %.3g", what, scipyErr, gotErr)
		}
		return
	}
	if !near(got, scipy, rel, abs) {
		t.Errorf("%s = %.17g, scipy %.17g", what, got, scipy)
	}
}

func TestGoldenTwoProportionZTest(t *testing.T) {
	g := loadGolden(t)
	pDiff := diffTracker{name: "TwoProportionZTest p vs scipy"}
	zDiff := diffTracker{name: "TwoProportionZTest z² vs chi²"}
	for _, c := range g.ZTest {
		res, err := TwoProportionZTest(c.S1, c.N1, c.S2, c.N2)
		if err != nil {
			t.Errorf("TwoProportionZTest(%d, %d, %d, %d): %v", c.S1, c.N1, c.S2, c.N2, err)
			continue
		}
		if c.Degenerate {
			if res != (Result{Statistic: 0, PValue: 1}) {
				t.Errorf("TwoProportionZTest(%d, %d, %d, %d) = %+v, want z=0 p=1 for a pooled proportion of 0 or 1", c.S1, c.N1, c.S2, c.N2, res)
			}
			continue
		}
		z2 := res.Statistic * res.Statistic
		pDiff.observe(res.PValue, float64(c.PValue))
		zDiff.observe(z2, float64(c.Chi2))
		if !near(res.PValue, float64(c.PValue), pRel, pAbs) {
			t.Errorf("TwoProportionZTest(%d, %d, %d, %d) p = %.17g, scipy %.17g", c.S1, c.N1, c.S2, c.N2, res.PValue, float64(c.PValue))
		}
		if !near(z2, float64(c.Chi2), statRel, 1e-12) {
			t.Errorf("TwoProportionZTest(%d, %d, %d, %d) z² = %.17g, scipy chi² %.17g", c.S1, c.N1, c.S2, c.N2, z2, float64(c.Chi2))
		}
		p1, p2 := float64(c.S1)/float64(c.N1), float64(c.S2)/float64(c.N2)
		if (p1 > p2) != (res.Statistic > 0) {
			t.Errorf("TwoProportionZTest(%d, %d, %d, %d) z = %g has the wrong sign", c.S1, c.N1, c.S2, c.N2, res.Statistic)
		}
	}
	pDiff.log(t)
	zDiff.log(t)
}

func TestGoldenQuantile(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Quantile {
		data := floats(c.Data)
		for i, q := range c.Q {
			got, want := Quantile(data, q), float64(c.Values[i])
			// numpy's linear method is reproduced operation for operation.
			if got != want {
				t.Errorf("%s: Quantile(q=%g) = %.17g, numpy %.17g", c.Name, q, got, want)
			}
		}
	}
}

func TestGoldenPSI(t *testing.T) {
	g := loadGolden(t)
	diff := diffTracker{name: "PSI vs Evidently re-implementation"}
	for _, c := range g.PSI {
		got, err := PSI(floats(c.Reference), floats(c.Current), c.Bins)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		diff.observe(got, c.Value)
		if !near(got, c.Value, statRel, 1e-12) {
			t.Errorf("%s: PSI = %.17g, oracle %.17g", c.Name, got, c.Value)
		}
	}
	for _, c := range g.PSICategorical {
		got, err := PSICategorical(c.Reference, c.Current)
		if err != nil {
			t.Errorf("categorical %s: %v", c.Name, err)
			continue
		}
		diff.observe(got, c.Value)
		if !near(got, c.Value, statRel, 1e-12) {
			t.Errorf("categorical %s: PSICategorical = %.17g, oracle %.17g", c.Name, got, c.Value)
		}
	}
	diff.log(t)
}
