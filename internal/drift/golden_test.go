package drift

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// tol is the agreement required with scipy/numpy on statistics and
// p-values.
const tol = 1e-6

type goldenSpec struct {
	Seed  uint64
	N     int
	Dist  string
	R     uint64
	Shift int
}

func (s *goldenSpec) UnmarshalJSON(b []byte) error {
	var raw [5]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for i, dst := range []any{&s.Seed, &s.N, &s.Dist, &s.R, &s.Shift} {
		if err := json.Unmarshal(raw[i], dst); err != nil {
			return err
		}
	}
	return nil
}

type goldenCase struct {
	Name        string
	Kind        string
	Ref, Cur    goldenSpec
	KSStat      float64 `json:"ks_stat"`
	KSP         float64 `json:"ks_p"`
	Wasserstein float64
	JS          float64
	ChiStat     any     `json:"chi_stat"` // number or "inf"
	ChiP        float64 `json:"chi_p"`
	ZStat       float64 `json:"z_stat"`
	ZP          float64 `json:"z_p"`
	DefaultTest Test    `json:"default_test"`
}

type golden struct {
	Scipy   string
	Cases   []goldenCase
	KStwoSF []struct {
		N     int
		X, SF float64
	} `json:"kstwo_sf"`
	Chi2SF []struct{ DF, X, SF float64 } `json:"chi2_sf"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 || len(g.KStwoSF) == 0 || len(g.Chi2SF) == 0 {
		t.Fatal("golden.json is incomplete")
	}
	return g
}

// splitMix64 mirrors the generator in testdata/golden.py.
type splitMix64 struct{ s uint64 }

func (g *splitMix64) next() uint64 {
	g.s += 0x9E3779B97F4A7C15
	z := g.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// sample rebuilds golden.py's sample(): exact multiples of 1/1024.
func (s goldenSpec) sample() []float64 {
	g := &splitMix64{s: s.Seed}
	out := make([]float64, s.N)
	for i := range out {
		if s.Dist == "irwin" {
			k := 0
			for range 4 {
				k += int(g.next() % s.R)
			}
			out[i] = float64(k+s.Shift) / 1024
		} else {
			out[i] = float64(int(g.next()%s.R) + s.Shift)
		}
	}
	return out
}

func (c goldenCase) kind() ColumnKind {
	if c.Kind == "cat" {
		return KindCategorical
	}
	return KindNumerical
}

// maxDiff tracks the largest absolute difference seen per quantity, logged
// at the end so the report can quote it.
type maxDiff map[string]float64

func (m maxDiff) check(t *testing.T, what, name string, got, want, tolerance float64) {
	t.Helper()
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		if got != want {
			t.Errorf("%s %s = %v, want %v", name, what, got, want)
		}
		return
	}
	d := math.Abs(got - want)
	if !(d <= tolerance) {
		t.Errorf("%s %s = %.17g, want %.17g (|diff| %.3g > %g)", name, what, got, want, d, tolerance)
	}
	if d > m[what] {
		m[what] = d
	}
}

func TestGoldenTests(t *testing.T) {
	g := loadGolden(t)
	md := maxDiff{}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			ref, cur := c.Ref.sample(), c.Cur.sample()
			d, p, err := KS(ref, cur)
			if err != nil {
				t.Fatal(err)
			}
			md.check(t, "ks_stat", c.Name, d, c.KSStat, tol)
			md.check(t, "ks_p", c.Name, p, c.KSP, tol)

			w, err := Wasserstein(ref, cur)
			if err != nil {
				t.Fatal(err)
			}
			md.check(t, "wasserstein", c.Name, w, c.Wasserstein, tol)

			js, err := JensenShannon(ref, cur, c.kind())
			if err != nil {
				t.Fatal(err)
			}
			md.check(t, "js", c.Name, js, c.JS, tol)

			chi, chiP, err := ChiSquare(ref, cur)
			if err != nil {
				t.Fatal(err)
			}
			wantChi := math.Inf(1)
			if f, ok := c.ChiStat.(float64); ok {
				wantChi = f
			}
			md.check(t, "chi_stat", c.Name, chi, wantChi, tol*math.Max(1, math.Abs(wantChi)))
			md.check(t, "chi_p", c.Name, chiP, c.ChiP, tol)

			z, zp, err := ZTest(ref, cur)
			if err != nil {
				t.Fatal(err)
			}
			md.check(t, "z_stat", c.Name, z, c.ZStat, tol)
			md.check(t, "z_p", c.Name, zp, c.ZP, tol)

			r, err := Column(ref, cur, Options{Kind: c.kind()})
			if err != nil {
				t.Fatal(err)
			}
			if r.Test != c.DefaultTest {
				t.Fatalf("Column chose %q, Evidently chooses %q", r.Test, c.DefaultTest)
			}
			want := map[Test]float64{TestKS: c.KSP, TestChiSquare: c.ChiP, TestZ: c.ZP,
				TestWasserstein: c.Wasserstein, TestJensenShannon: c.JS}[r.Test]
			md.check(t, "column_score", c.Name, r.Score(), want, tol)
			if wantDrift := r.Test.drifted(want, r.Test.DefaultThreshold()); r.Drifted != wantDrift {
				t.Errorf("Drifted = %v, want %v (score %v)", r.Drifted, wantDrift, want)
			}
		})
	}
	for k, v := range md {
		t.Logf("max |diff| %-12s %.3g", k, v)
	}
}

func TestGoldenKolmogorovSF(t *testing.T) {
	g := loadGolden(t)
	worst := 0.0
	for _, c := range g.KStwoSF {
		got := kolmogorovSF(c.N, c.X)
		d := math.Abs(got - c.SF)
		worst = math.Max(worst, d)
		if !(d <= tol) {
			t.Errorf("kstwo.sf(%v, %d) = %.17g, want %.17g", c.X, c.N, got, c.SF)
		}
	}
	t.Logf("max |diff| kstwo.sf %.3g over %d points", worst, len(g.KStwoSF))
}

func TestGoldenChiSquareSF(t *testing.T) {
	g := loadGolden(t)
	worst := 0.0
	for _, c := range g.Chi2SF {
		got := ChiSquareSF(c.X, c.DF)
		d := math.Abs(got - c.SF)
		worst = math.Max(worst, d)
		if !(d <= 1e-12) {
			t.Errorf("chi2.sf(%v, %v) = %.17g, want %.17g", c.X, c.DF, got, c.SF)
		}
	}
	t.Logf("max |diff| chi2.sf %.3g over %d points", worst, len(g.Chi2SF))
}
