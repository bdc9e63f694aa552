package drift

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/stats"
)

func TestSelect(t *testing.T) {
	tests := []struct {
		nRef  int
		kind  ColumnKind
		nUniq int
		want  Test
	}{
		{1000, KindNumerical, 6, TestKS},
		{10, KindNumerical, 500, TestKS},
		{1000, KindNumerical, 5, TestChiSquare},
		{1000, KindNumerical, 3, TestChiSquare},
		{1000, KindNumerical, 2, TestZ},
		{1000, KindNumerical, 1, TestZ},
		{1000, KindCategorical, 50, TestChiSquare},
		{1000, KindCategorical, 3, TestChiSquare},
		{1000, KindCategorical, 2, TestZ},
		{1001, KindNumerical, 6, TestWasserstein},
		{1001, KindNumerical, 5, TestJensenShannon},
		{1001, KindNumerical, 2, TestJensenShannon},
		{1001, KindCategorical, 50, TestJensenShannon},
		{1001, KindCategorical, 2, TestJensenShannon},
	}
	for _, tt := range tests {
		if got := Select(tt.nRef, tt.kind, tt.nUniq); got != tt.want {
			t.Errorf("Select(%d, %v, %d) = %q, want %q", tt.nRef, tt.kind, tt.nUniq, got, tt.want)
		}
	}
}

func TestThresholdDirection(t *testing.T) {
	tests := []struct {
		test       Test
		score, thr float64
		want       bool
	}{
		{TestKS, 0.05, 0.05, true}, // ks: p ≤ thr
		{TestKS, 0.0501, 0.05, false},
		{TestChiSquare, 0.05, 0.05, false}, // chisquare: p < thr
		{TestChiSquare, 0.0499, 0.05, true},
		{TestZ, 0.05, 0.05, false},
		{TestZ, 0.01, 0.05, true},
		{TestWasserstein, 0.1, 0.1, true}, // distances: score ≥ thr
		{TestWasserstein, 0.0999, 0.1, false},
		{TestJensenShannon, 0.2, 0.1, true},
		{TestPSI, 0.05, 0.1, false},
	}
	for _, tt := range tests {
		if got := tt.test.drifted(tt.score, tt.thr); got != tt.want {
			t.Errorf("%s.drifted(%v, %v) = %v, want %v", tt.test, tt.score, tt.thr, got, tt.want)
		}
	}
	for test, want := range map[Test]float64{TestKS: 0.05, TestChiSquare: 0.05, TestZ: 0.05,
		TestWasserstein: 0.1, TestJensenShannon: 0.1, TestPSI: 0.1, "mannw": 0} {
		if got := test.DefaultThreshold(); got != want {
			t.Errorf("%s.DefaultThreshold() = %v, want %v", test, got, want)
		}
	}
}

func TestNotEnoughData(t *testing.T) {
	nonFinite := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	some := []float64{1, 2, 3}
	calls := map[string]func(a, b []float64) error{
		"KS":            func(a, b []float64) error { _, _, err := KS(a, b); return err },
		"ChiSquare":     func(a, b []float64) error { _, _, err := ChiSquare(a, b); return err },
		"ZTest":         func(a, b []float64) error { _, _, err := ZTest(a, b); return err },
		"Wasserstein":   func(a, b []float64) error { _, err := Wasserstein(a, b); return err },
		"JensenShannon": func(a, b []float64) error { _, err := JensenShannon(a, b, KindNumerical); return err },
		"Column":        func(a, b []float64) error { _, err := Column(a, b, Options{}); return err },
		"ColumnPSI":     func(a, b []float64) error { _, err := Column(a, b, Options{Test: TestPSI}); return err },
	}
	for name, call := range calls {
		for _, pair := range [][2][]float64{{nil, some}, {some, nil}, {nonFinite, some}, {some, nonFinite}, {nil, nil}} {
			err := call(pair[0], pair[1])
			if !errors.Is(err, ErrNotEnoughData) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%s(%v, %v) error = %v, want ErrNotEnoughData", name, pair[0], pair[1], err)
			}
		}
	}
}

func TestColumnDropsNonFinite(t *testing.T) {
	ref := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	cur := []float64{3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	dirty := func(xs []float64) []float64 {
		return append([]float64{math.NaN(), math.Inf(1)}, append(slices.Clone(xs), math.Inf(-1), math.NaN())...)
	}
	clean, err := Column(ref, cur, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Column(dirty(ref), dirty(cur), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Test != TestKS || got.NRef != 10 || got.NCur != 10 || got.Statistic != clean.Statistic || *got.PValue != *clean.PValue {
		t.Fatalf("dirty input gave %+v, clean %+v", got, clean)
	}
}

func TestColumnOverrides(t *testing.T) {
	ref := []float64{1, 2, 2, 3, 3, 3, 4, 4, 5, 9}
	cur := []float64{2, 3, 3, 4, 4, 4, 5, 5, 6, 9}
	r, err := Column(ref, cur, Options{Test: TestPSI, Threshold: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	want, err := stats.PSI(ref, cur, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Test != TestPSI || r.Statistic != want || r.Threshold != 0.2 || r.PValue != nil || r.Drifted != (want >= 0.2) {
		t.Fatalf("psi override = %+v, want statistic %v", r, want)
	}
	// Categorical PSI bins per code even with more than 20 codes.
	var refCat, curCat []float64
	for i := range 300 {
		refCat = append(refCat, float64(i%30))
		curCat = append(curCat, float64((i*7)%31))
	}
	rc, err := Column(refCat, curCat, Options{Kind: KindCategorical, Test: TestPSI})
	if err != nil {
		t.Fatal(err)
	}
	refInt, curInt := make([]int, len(refCat)), make([]int, len(curCat))
	for i := range refCat {
		refInt[i], curInt[i] = int(refCat[i]), int(curCat[i])
	}
	wantCat, _ := stats.PSICategorical(refInt, curInt)
	if math.Abs(rc.Statistic-wantCat) > 1e-12 || !rc.Drifted {
		t.Fatalf("categorical psi = %+v, want %v (drift)", rc, wantCat)
	}
	for _, tt := range []struct {
		opts Options
		want error
	}{
		{Options{Test: "mannw"}, ErrUnknownTest},
		{Options{Kind: KindCategorical, Test: TestKS}, ErrUnknownTest},
		{Options{Kind: KindCategorical, Test: TestWasserstein}, ErrUnknownTest},
		{Options{Threshold: -1}, ErrInvalidInput},
		{Options{Threshold: math.NaN()}, ErrInvalidInput},
	} {
		if _, err := Column(ref, cur, tt.opts); !errors.Is(err, tt.want) {
			t.Errorf("Column(%+v) error = %v, want %v", tt.opts, err, tt.want)
		}
	}
}

func TestNewCategoryIsDrift(t *testing.T) {
	ref := []float64{0, 1, 2, 0, 1, 2, 0, 1, 2}
	cur := []float64{0, 1, 2, 3, 0, 1, 2, 0, 1}
	r, err := Column(ref, cur, Options{Kind: KindCategorical})
	if err != nil {
		t.Fatal(err)
	}
	if r.Test != TestChiSquare || !math.IsInf(r.Statistic, 1) || *r.PValue != 0 || !r.Drifted {
		t.Fatalf("new category: %+v, want chisquare +Inf, p 0, drift", r)
	}
}

func TestIdenticalWindowsDoNotDrift(t *testing.T) {
	for _, n := range []int{3, 500, 5000} {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64((i * 37) % 101)
		}
		for _, kind := range []ColumnKind{KindNumerical, KindCategorical} {
			r, err := Column(xs, xs, Options{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			if r.Drifted {
				t.Errorf("n=%d %v: identical windows drifted: %+v", n, kind, r)
			}
		}
	}
}

func TestDataset(t *testing.T) {
	res := func(drifted ...bool) []Result {
		out := make([]Result, len(drifted))
		for i, d := range drifted {
			out[i].Drifted = d
		}
		return out
	}
	tests := []struct {
		results   []Result
		share     float64
		wantDrift bool
		wantShare float64
	}{
		{res(true, false), 0, true, 0.5}, // ≥ 0.5 default
		{res(true, false, false), 0, false, 1.0 / 3},
		{res(true, false, false), 0.3, true, 1.0 / 3},
		{res(true, true, true, false), 0.8, false, 0.75},
		{nil, 0, false, 0},
		{res(false), math.NaN(), false, 0},
	}
	for _, tt := range tests {
		d, s := Dataset(tt.results, tt.share)
		if d != tt.wantDrift || s != tt.wantShare {
			t.Errorf("Dataset(%d results, %v) = %v, %v; want %v, %v", len(tt.results), tt.share, d, s, tt.wantDrift, tt.wantShare)
		}
	}
}

func TestSortFloats(t *testing.T) {
	g := &splitMix64{s: 99}
	for _, n := range []int{0, 1, 10, radixMin - 1, radixMin, 50000} {
		xs := make([]float64, n)
		for i := range xs {
			switch i % 5 {
			case 0:
				xs[i] = -float64(g.next()%1000) / 7
			case 1:
				xs[i] = math.Copysign(0, -1)
			case 2:
				xs[i] = math.Float64frombits(g.next() >> 2) // wide exponents
			default:
				xs[i] = float64(int64(g.next())) / 3
			}
		}
		want := slices.Clone(xs)
		slices.Sort(want)
		sortFloats(xs)
		for i := range xs {
			if xs[i] != want[i] {
				t.Fatalf("n=%d: sortFloats[%d] = %v, want %v", n, i, xs[i], want[i])
			}
		}
	}
}

func TestChiSquareSFEdges(t *testing.T) {
	if q := ChiSquareSF(0, 3); q != 1 {
		t.Errorf("χ²_sf(0, 3) = %v, want 1", q)
	}
}

func TestOverflowingRangeIsAnError(t *testing.T) {
	huge := make([]float64, 1500)
	for i := range huge {
		huge[i] = math.MaxFloat64 / float64(i%40+1)
		if i%2 == 0 {
			huge[i] = -huge[i]
		}
	}
	for _, test := range []Test{"", TestWasserstein, TestJensenShannon} {
		if _, err := Column(huge, huge, Options{Test: test}); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("Column(test %q) on ±MaxFloat64 error = %v, want ErrInvalidInput", test, err)
		}
	}
	if _, err := JensenShannon(huge, huge, KindNumerical); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("JensenShannon error = %v, want ErrInvalidInput", err)
	}
	// Categorical codes never need a range.
	if r, err := Column(huge, huge, Options{Kind: KindCategorical}); err != nil || r.Drifted || r.Statistic != 0 {
		t.Errorf("categorical huge codes: %+v, %v", r, err)
	}
}
