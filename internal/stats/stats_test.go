package stats

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

var nan = math.NaN()

// sameFloat reports whether a and b are equal or both NaN.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// checkErr asserts err matches kind and errdefs.ErrInvalidArgument.
func checkErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("err = %v does not match errdefs.ErrInvalidArgument", err)
	}
}

func TestNormalEdges(t *testing.T) {
	for _, tc := range []struct {
		x, cdf, sf float64
	}{
		{nan, nan, nan},
		{math.Inf(1), 1, 0},
		{math.Inf(-1), 0, 1},
		{0, 0.5, 0.5},
		{-40, 0, 1}, // Φ(−40) ≈ 3.7e-350 underflows
	} {
		if got := NormalCDF(tc.x); !sameFloat(got, tc.cdf) {
			t.Errorf("NormalCDF(%g) = %g, want %g", tc.x, got, tc.cdf)
		}
		if got := NormalSF(tc.x); !sameFloat(got, tc.sf) {
			t.Errorf("NormalSF(%g) = %g, want %g", tc.x, got, tc.sf)
		}
	}
	for _, x := range []float64{-7.5, -1.3, 0.2, 2.9, 9} {
		if NormalCDF(-x) != NormalSF(x) {
			t.Errorf("NormalCDF(%g) = %g != NormalSF(%g) = %g", -x, NormalCDF(-x), x, NormalSF(x))
		}
		if s := NormalCDF(x) + NormalSF(x); math.Abs(s-1) > 1e-15 {
			t.Errorf("NormalCDF + NormalSF at %g = %.17g", x, s)
		}
	}
}

func TestRegIncBetaEdges(t *testing.T) {
	for _, tc := range []struct {
		a, b, x, want float64
	}{
		{nan, 1, 0.5, nan},
		{1, nan, 0.5, nan},
		{1, 1, nan, nan},
		{0, 1, 0.5, nan},
		{1, -2, 0.5, nan},
		{math.Inf(1), 1, 0.5, nan},
		{2, 3, -0.1, nan},
		{2, 3, 1.1, nan},
		{2, 3, 0, 0},
		{2, 3, 1, 1},
		{1, 1, 0.3, 0.3},
		{0.5, 0.5, 0.5, 0.5}, // arcsine distribution median
	} {
		if got := RegIncBeta(tc.a, tc.b, tc.x); !sameFloat(got, tc.want) && math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("RegIncBeta(%g, %g, %g) = %.17g, want %g", tc.a, tc.b, tc.x, got, tc.want)
		}
	}
}

func TestRegIncBetaClosedForms(t *testing.T) {
	params := []float64{0.05, 0.5, 1, 1.7, 4, 30, 250, 5000}
	xs := []float64{1e-6, 0.01, 0.25, 0.5, 0.75, 0.9, 0.999}
	for _, a := range params {
		for _, x := range xs {
			// I_x(a, 1) = x^a and I_x(1, a) = 1 − (1−x)^a.
			if got, want := RegIncBeta(a, 1, x), math.Pow(x, a); !near(got, want, 1e-13, 1e-300) {
				t.Errorf("RegIncBeta(%g, 1, %g) = %.17g, want x^a = %.17g", a, x, got, want)
			}
			if got, want := RegIncBeta(1, a, x), -math.Expm1(a*math.Log1p(-x)); !near(got, want, 1e-13, 1e-300) {
				t.Errorf("RegIncBeta(1, %g, %g) = %.17g, want 1-(1-x)^b = %.17g", a, x, got, want)
			}
			for _, b := range params {
				// Symmetry I_x(a, b) + I_{1−x}(b, a) = 1 (1 − x is exact for
				// these x ≥ 0.25, and both sides of every switch are hit).
				if x < 0.25 {
					continue
				}
				if s := RegIncBeta(a, b, x) + RegIncBeta(b, a, 1-x); math.Abs(s-1) > 1e-13 {
					t.Errorf("I_%g(%g, %g) + I_%g(%g, %g) = %.17g, want 1", x, a, b, 1-x, b, a, s)
				}
			}
		}
	}
}

func TestRegIncBetaMonotone(t *testing.T) {
	for _, ab := range [][2]float64{{0.3, 0.7}, {2, 5}, {40, 0.5}, {1e4, 1e4}, {1e5, 30}} {
		prev := 0.0
		for i := 0; i <= 1000; i++ {
			x := float64(i) / 1000
			v := RegIncBeta(ab[0], ab[1], x)
			if v < prev-1e-15 || v > 1 {
				t.Fatalf("RegIncBeta(%g, %g, ·) not monotone in [0, 1] at x=%g: %.17g after %.17g", ab[0], ab[1], x, v, prev)
			}
			prev = v
		}
	}
}

func TestStudentTSFEdges(t *testing.T) {
	for _, tc := range []struct {
		t, df, want float64
	}{
		{nan, 3, nan},
		{1, nan, nan},
		{1, 0, nan},
		{1, -1, nan},
		{0, 5, 0.5},
		{math.Inf(1), 5, 0},
		{math.Inf(-1), 5, 1},
		{1.5, math.Inf(1), NormalSF(1.5)},
		{1e300, 1e300, NormalSF(1e300)}, // no overflow in t²
	} {
		if got := StudentTSF(tc.t, tc.df); !sameFloat(got, tc.want) {
			t.Errorf("StudentTSF(%g, %g) = %.17g, want %.17g", tc.t, tc.df, got, tc.want)
		}
	}
	for _, x := range []float64{-30, -2, -0.1, 1e-9, 0.7, 3, 1e3} {
		// df = 1 is the Cauchy distribution, df = 2 has a closed form too.
		if got, want := StudentTSF(x, 1), 0.5-math.Atan(x)/math.Pi; !near(got, want, 1e-13, 1e-16) {
			t.Errorf("StudentTSF(%g, 1) = %.17g, want %.17g", x, got, want)
		}
		if got, want := StudentTSF(x, 2), 0.5-x/(2*math.Sqrt(2+x*x)); !near(got, want, 1e-12, 1e-16) {
			t.Errorf("StudentTSF(%g, 2) = %.17g, want %.17g", x, got, want)
		}
		if s := StudentTSF(x, 7.5) + StudentTSF(-x, 7.5); math.Abs(s-1) > 1e-15 {
			t.Errorf("StudentTSF(%g) + StudentTSF(%g) = %.17g, want 1", x, -x, s)
		}
	}
}

func TestTwoProportionZTest(t *testing.T) {
	for _, tc := range []struct {
		name           string
		s1, n1, s2, n2 int
		want           Result
	}{
		// P = 0.5, se = sqrt(0.25·0.02), z = −√2, p = erfc(1).
		{"hand computed", 45, 100, 55, 100, Result{Statistic: -math.Sqrt2, PValue: math.Erfc(1)}},
		{"no successes anywhere", 0, 10, 0, 20, Result{Statistic: 0, PValue: 1}},
		{"all successes", 5, 5, 7, 7, Result{Statistic: 0, PValue: 1}},
		{"equal proportions", 10, 40, 25, 100, Result{Statistic: 0, PValue: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TwoProportionZTest(tc.s1, tc.n1, tc.s2, tc.n2)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.Statistic, tc.want.Statistic, 1e-14, 1e-300) || !near(got.PValue, tc.want.PValue, 1e-14, 0) || got.DF != 0 {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			swapped, err := TwoProportionZTest(tc.s2, tc.n2, tc.s1, tc.n1)
			if err != nil {
				t.Fatal(err)
			}
			if swapped.Statistic != -got.Statistic || swapped.PValue != got.PValue {
				t.Fatalf("swapped groups give %+v, want z negated from %+v", swapped, got)
			}
		})
	}
}

func TestTwoProportionZTestErrors(t *testing.T) {
	for _, tc := range []struct {
		name           string
		s1, n1, s2, n2 int
		kind           error
	}{
		{"n1 zero", 0, 0, 1, 5, ErrTooFewSamples},
		{"n2 zero", 1, 5, 0, 0, ErrTooFewSamples},
		{"negative n", 0, -3, 1, 5, ErrTooFewSamples},
		{"negative successes", -1, 5, 1, 5, ErrInvalidInput},
		{"successes above n", 6, 5, 1, 5, ErrInvalidInput},
		{"second successes above n", 1, 5, 9, 8, ErrInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TwoProportionZTest(tc.s1, tc.n1, tc.s2, tc.n2)
			checkErr(t, err, tc.kind)
		})
	}
}

func TestWelchTTestErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []float64
		kind error
	}{
		{"nil samples", nil, nil, ErrTooFewSamples},
		{"one value", []float64{1}, []float64{1, 2, 3}, ErrTooFewSamples},
		{"second one value", []float64{1, 2, 3}, []float64{4}, ErrTooFewSamples},
		{"all NaN", []float64{nan, nan, nan}, []float64{1, 2}, ErrTooFewSamples},
		{"NaN leaves one", []float64{1, 2}, []float64{nan, 5, nan}, ErrTooFewSamples},
		{"positive infinity", []float64{1, math.Inf(1)}, []float64{1, 2}, ErrNonFinite},
		{"negative infinity", []float64{1, 2}, []float64{math.Inf(-1), 2}, ErrNonFinite},
		{"sum overflows", []float64{1e308, 1e308}, []float64{-1e308, 1e307}, ErrNonFinite},
		{"squares overflow", []float64{1e200, -1e200, 0}, []float64{1, 2}, ErrNonFinite},
		{"both constant, equal", []float64{2, 2, 2}, []float64{2, 2}, ErrZeroVariance},
		{"both constant, different", []float64{2, 2, 2}, []float64{3, 3, nan}, ErrZeroVariance},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := WelchTTest(tc.a, tc.b)
			if err == nil {
				t.Fatalf("got %+v, want error %v", res, tc.kind)
			}
			checkErr(t, err, tc.kind)
		})
	}
}

func TestWelchTTestProperties(t *testing.T) {
	a := []float64{4.1, 5.3, 2.2, 6.8, 5.0, 3.9, 4.4}
	b := []float64{6.2, 7.9, 5.5, 8.1, 9.4}
	base, err := WelchTTest(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !(base.Statistic < 0 && base.PValue > 0 && base.PValue < 0.05 && base.DF > 4 && base.DF < 10) {
		t.Fatalf("implausible result %+v for clearly shifted samples", base)
	}
	t.Run("NaN ignored", func(t *testing.T) {
		got, err := WelchTTest(append([]float64{nan}, a...), append(slices.Clone(b), nan, nan))
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.Statistic, base.Statistic, 1e-14, 0) || !near(got.PValue, base.PValue, 1e-14, 0) || got.DF != base.DF {
			t.Fatalf("with NaN %+v, without %+v", got, base)
		}
	})
	t.Run("swap negates t", func(t *testing.T) {
		got, err := WelchTTest(b, a)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.Statistic, -base.Statistic, 1e-14, 0) || !near(got.PValue, base.PValue, 1e-14, 0) || !near(got.DF, base.DF, 1e-14, 0) {
			t.Fatalf("swapped %+v, original %+v", got, base)
		}
	})
	t.Run("affine invariance", func(t *testing.T) {
		shift := func(xs []float64) []float64 {
			out := make([]float64, len(xs))
			for i, x := range xs {
				out[i] = 1e6 + 1000*x
			}
			return out
		}
		got, err := WelchTTest(shift(a), shift(b))
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.Statistic, base.Statistic, 1e-12, 0) || !near(got.PValue, base.PValue, 1e-12, 0) || !near(got.DF, base.DF, 1e-12, 0) {
			t.Fatalf("shifted and scaled %+v, original %+v", got, base)
		}
	})
	t.Run("one constant sample", func(t *testing.T) {
		got, err := WelchTTest([]float64{3, 3, 3, 3}, b)
		if err != nil {
			t.Fatal(err)
		}
		// Only b varies: t = (3 − mean(b))/sqrt(var(b)/n_b), df = n_b − 1.
		if !near(got.DF, float64(len(b)-1), 1e-14, 0) || got.Statistic >= 0 {
			t.Fatalf("got %+v, want df = %d and t < 0", got, len(b)-1)
		}
	})
	t.Run("identical samples", func(t *testing.T) {
		got, err := WelchTTest(a, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.Statistic != 0 || got.PValue != 1 {
			t.Fatalf("identical samples give %+v, want t = 0, p = 1", got)
		}
	})
}

func TestQuantileEdges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sorted []float64
		q      float64
		want   float64
	}{
		{"empty", nil, 0.5, nan},
		{"all NaN", []float64{nan, nan}, 0.5, nan},
		{"q below 0", []float64{1, 2}, -0.01, nan},
		{"q above 1", []float64{1, 2}, 1.01, nan},
		{"q NaN", []float64{1, 2}, nan, nan},
		{"single", []float64{7}, 0.3, 7},
		{"min", []float64{1, 2, 4}, 0, 1},
		{"max", []float64{1, 2, 4}, 1, 4},
		{"median even", []float64{1, 2, 4, 10}, 0.5, 3},
		{"interpolated", []float64{0, 10}, 0.25, 2.5},
		{"NaN first (slices.Sort order)", []float64{nan, 1, 2, 3}, 0.5, 2},
		{"NaN last (numpy order)", []float64{1, 2, 3, nan, nan}, 0.5, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quantile(tc.sorted, tc.q); !sameFloat(got, tc.want) {
				t.Fatalf("Quantile(%v, %g) = %g, want %g", tc.sorted, tc.q, got, tc.want)
			}
		})
	}
}

func TestPSIErrors(t *testing.T) {
	ok := []float64{1, 2, 3}
	for _, tc := range []struct {
		name     string
		ref, cur []float64
		bins     int
		kind     error
	}{
		{"negative bins", ok, ok, -1, ErrInvalidInput},
		{"too many bins", ok, ok, MaxPSIBins + 1, ErrInvalidInput},
		{"empty reference", nil, ok, 0, ErrTooFewSamples},
		{"empty current", ok, []float64{}, 0, ErrTooFewSamples},
		{"all NaN current", ok, []float64{nan}, 10, ErrTooFewSamples},
		{"infinite reference", []float64{1, math.Inf(1)}, ok, 0, ErrNonFinite},
		{"infinite current", ok, []float64{math.Inf(-1)}, 0, ErrNonFinite},
		{"range overflows", []float64{-1e308, 0}, []float64{1e308}, 5, ErrNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := PSI(tc.ref, tc.cur, tc.bins)
			if err == nil {
				t.Fatalf("got %g, want error %v", v, tc.kind)
			}
			checkErr(t, err, tc.kind)
		})
	}
	_, err := PSICategorical(nil, []int{1})
	checkErr(t, err, ErrTooFewSamples)
	_, err = PSICategorical([]int{1}, nil)
	checkErr(t, err, ErrTooFewSamples)
}

func TestPSIValues(t *testing.T) {
	ramp := make([]float64, 100)
	for i := range ramp {
		ramp[i] = float64(i) / 7
	}
	for _, tc := range []struct {
		name     string
		ref, cur []float64
		bins     int
		want     float64
	}{
		// Per-value bins: r = (.5, .5), c = (.25, .75):
		// .25·ln 2 − .25·ln(2/3) = .25·ln 3.
		{"hand computed", []float64{0, 0, 1, 1}, []float64{0, 1, 1, 1}, 0, 0.25 * math.Log(3)},
		// Empty current bin → 1e-4 (smallest non-zero share 1 > 1e-4), no
		// renormalisation: (−.5)·ln(.5) + (.5 − 1e-4)·ln(.5/1e-4).
		{"empty bin smoothing", []float64{0, 1}, []float64{0, 0}, 0, -0.5*math.Log(0.5) + (0.5-1e-4)*math.Log(0.5/1e-4)},
		{"identical samples", ramp, ramp, 0, 0},
		{"identical samples, explicit bins", ramp, ramp, 13, 0},
		{"one bin", ramp, ramp[:10], 1, 0},
		{"NaN ignored", append([]float64{nan}, 0, 0, 1, 1), []float64{0, 1, nan, 1, 1}, 0, 0.25 * math.Log(3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PSI(tc.ref, tc.cur, tc.bins)
			if err != nil {
				t.Fatal(err)
			}
			if !near(got, tc.want, 1e-14, 1e-300) {
				t.Fatalf("PSI = %.17g, want %.17g", got, tc.want)
			}
		})
	}
}

func TestPSIDistinctValuesMatchCategorical(t *testing.T) {
	// With at most 20 distinct reference values PSI bins per value, exactly
	// as PSICategorical does for labels.
	ref := []int{0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 7, 7}
	cur := []int{0, 0, 1, 2, 3, 3, 3, 9, 9, 7}
	asFloat := func(xs []int) []float64 {
		out := make([]float64, len(xs))
		for i, x := range xs {
			out[i] = float64(x)
		}
		return out
	}
	want, err := PSICategorical(ref, cur)
	if err != nil {
		t.Fatal(err)
	}
	got, err := PSI(asFloat(ref), asFloat(cur), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want <= 0 {
		t.Fatalf("PSI = %.17g, PSICategorical = %.17g", got, want)
	}
}

func TestHistogramMatchesNumpyRule(t *testing.T) {
	edges := []float64{0, 1, 2, 3}
	counts := make([]int, 3)
	// Left edges belong to their bin, the last right edge to the last bin,
	// values outside the edges are not counted.
	histogram([]float64{0, 0.5, 1, 2.999, 3, -0.1, 3.1, nan}, edges, counts)
	if want := []int{2, 1, 2}; !slices.Equal(counts, want) {
		t.Fatalf("counts = %v, want %v", counts, want)
	}
	// Sturges on 64 values: log2(64)+1 = 7 bins, except where numpy's
	// ceil(ptp / (ptp/7)) rounds up (range 0.07 gives 8 in numpy too).
	if got := SturgesBins(-1, 2, 64); got != 7 {
		t.Fatalf("SturgesBins(-1, 2, 64) = %d, want 7", got)
	}
	if got := SturgesBins(0, 0.07, 64); got != 8 {
		t.Fatalf("SturgesBins(0, 0.07, 64) = %d, want numpy's 8", got)
	}
	// A constant range is widened by ±0.5, as numpy does.
	if got := HistogramEdges(3, 3, 2); !slices.Equal(got, []float64{2.5, 3, 3.5}) {
		t.Fatalf("HistogramEdges(3, 3, 2) = %v", got)
	}
}

func TestNoAllocations(t *testing.T) {
	a := []float64{1, 2.5, 3, nan, 4.75, 2}
	b := []float64{2, 3.5, 5, 4, 6.25}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := WelchTTest(a, b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("WelchTTest allocates %v times per call, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Quantile(b, 0.3) }); n != 0 {
		t.Errorf("Quantile allocates %v times per call, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = TwoProportionZTest(3, 10, 5, 12) }); n != 0 {
		t.Errorf("TwoProportionZTest allocates %v times per call, want 0", n)
	}
	ref := make([]float64, 500)
	for i := range ref {
		ref[i] = math.Sin(float64(i))
	}
	// Histogram PSI needs its edges and counts: two allocations.
	if n := testing.AllocsPerRun(100, func() {
		if _, err := PSI(ref, ref[100:], 0); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("PSI allocates %v times per call, want at most 2", n)
	}
}
