package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/stats"
)

func mustProfile(t *testing.T, csv string) *Profile {
	t.Helper()
	p, err := ProfileCSV(context.Background(), strings.NewReader(csv), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDiffSchema(t *testing.T) {
	a := mustProfile(t, "a,b,c\n1,1.5,x\n2,2.5,y\n")
	b := mustProfile(t, "a,c,d\n1.5,x,true\n2,,false\n")
	d := Diff(a, b)
	if len(d.Added) != 1 || d.Added[0] != (SchemaColumn{"d", TypeBoolean, false}) {
		t.Errorf("added %+v", d.Added)
	}
	if len(d.Removed) != 1 || d.Removed[0] != (SchemaColumn{"b", TypeFloat, false}) {
		t.Errorf("removed %+v", d.Removed)
	}
	want := []ColumnChange{
		{Name: "a", TypeA: TypeInteger, TypeB: TypeFloat},
		{Name: "c", TypeA: TypeString, TypeB: TypeString, NullableB: true},
	}
	if !slices.Equal(d.Changed, want) {
		t.Errorf("changed %+v, want %+v", d.Changed, want)
	}
	if d.Identical {
		t.Error("different files reported identical")
	}
	var text bytes.Buffer
	if err := WriteDiffText(&text, d); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"+ d boolean", "- b float", "~ a integer → float", "~ c string → string (nullable)"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, text.String())
		}
	}
}

// normalCSV returns n rows of x ~ N(mu, 1), a category with the given
// weights, and a column with the given null fraction.
func normalCSV(seed uint64, n int, mu float64, weights []float64, nullFrac float64) (string, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("x,cat,maybe\n")
	xs := make([]float64, n)
	cats := []string{"a", "b", "c", "d"}
	for i := range xs {
		xs[i] = math.Round((mu+rng.NormFloat64())*1e4) / 1e4
		u, k := rng.Float64(), 0
		for k < len(weights)-1 && u > weights[k] {
			u -= weights[k]
			k++
		}
		maybe := "1"
		if rng.Float64() < nullFrac {
			maybe = ""
		}
		b.WriteString(formatRow(xs[i], cats[k], maybe))
	}
	return b.String(), xs
}

func formatRow(x float64, cat, maybe string) string {
	return string(appendFloatRow(nil, x)[:len(appendFloatRow(nil, x))-1]) + "," + cat + "," + maybe + "\n"
}

// exactKS is scipy.stats.ks_2samp's statistic.
func exactKS(a, b []float64) float64 {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	d := 0.0
	for _, x := range append(slices.Clone(a), b...) {
		fa := float64(upperBound(a, x)) / float64(len(a))
		fb := float64(upperBound(b, x)) / float64(len(b))
		d = math.Max(d, math.Abs(fa-fb))
	}
	return d
}

// TestDiffShift: a shifted distribution, changed category shares and more
// nulls are flagged; a fresh sample of the same distributions is not. KS
// and PSI from the sketches stay near the exact values on the raw data.
func TestDiffShift(t *testing.T) {
	const n = 60_000
	baseCSV, base := normalCSV(1, n, 0, []float64{0.4, 0.3, 0.2, 0.1}, 0.01)
	sameCSV, same := normalCSV(2, n, 0, []float64{0.4, 0.3, 0.2, 0.1}, 0.01)
	moveCSV, moved := normalCSV(3, n, 0.6, []float64{0.1, 0.2, 0.3, 0.4}, 0.2)
	pa, ps, pm := mustProfile(t, baseCSV), mustProfile(t, sameCSV), mustProfile(t, moveCSV)

	calm := Diff(pa, ps)
	for _, c := range calm.Columns {
		if c.Flagged {
			t.Errorf("same distribution flagged: %s %v", c.Name, c.Reasons)
		}
	}
	shifted := Diff(pa, pm)
	flags := map[string]bool{}
	for _, c := range shifted.Columns {
		flags[c.Name] = c.Flagged
	}
	if !flags["x"] || !flags["cat"] || !flags["maybe"] {
		t.Errorf("flags %v, want x, cat and maybe flagged", flags)
	}

	for _, tc := range []struct {
		name string
		d    *ProfileDiff
		cur  []float64
	}{{"same", calm, same}, {"shifted", shifted, moved}} {
		x := tc.d.Columns[0]
		if !x.Approximate || x.KS == nil || x.PSI == nil {
			t.Fatalf("%s: %+v", tc.name, x)
		}
		ks := exactKS(base, tc.cur)
		if math.Abs(*x.KS-ks) > 2*SketchRankError {
			t.Errorf("%s: KS %.4f from sketches, exact %.4f", tc.name, *x.KS, ks)
		}
		psi, err := stats.PSI(base, tc.cur, 0)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(*x.PSI-psi) > 0.02+0.1*psi {
			t.Errorf("%s: PSI %.4f from sketches, exact %.4f", tc.name, *x.PSI, psi)
		}
		t.Logf("%s: KS %.4f (exact %.4f), PSI %.4f (exact %.4f)", tc.name, *x.KS, ks, *x.PSI, psi)
	}
	if cat := shifted.Columns[1]; cat.PSI == nil || *cat.PSI < 0.2 || len(cat.Shares) != 4 {
		t.Errorf("cat: %+v", cat)
	}
	if _, err := json.Marshal(shifted); err != nil {
		t.Fatal(err)
	}
}

// TestDiffExactSmall: with exact sketches PSI is internal/stats.PSI on the
// values and KS the exact two-sample statistic.
func TestDiffExactSmall(t *testing.T) {
	aCSV, a := normalCSV(5, 800, 0, []float64{1}, 0)
	bCSV, b := normalCSV(6, 900, 0.3, []float64{1}, 0)
	d := Diff(mustProfile(t, aCSV), mustProfile(t, bCSV))
	x := d.Columns[0]
	psi, _ := stats.PSI(a, b, 0)
	if x.Approximate || *x.PSI != psi || *x.KS != exactKS(a, b) {
		t.Errorf("psi %v ks %v approx %v, want %v %v", *x.PSI, *x.KS, x.Approximate, psi, exactKS(a, b))
	}
	self := Diff(mustProfile(t, aCSV), mustProfile(t, aCSV))
	if !self.Identical || *self.Columns[0].PSI != 0 || *self.Columns[0].KS != 0 {
		t.Errorf("self diff %+v", self.Columns[0])
	}
}
