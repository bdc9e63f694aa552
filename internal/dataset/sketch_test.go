package dataset

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// maxRankError returns the largest |rank(estimate) − q| over 99 percentiles.
func maxRankError(sk *Sketch, sorted []float64) float64 {
	qs := make([]float64, 99)
	for i := range qs {
		qs[i] = float64(i+1) / 100
	}
	worst := 0.0
	for i, est := range sk.Quantiles(qs) {
		lo := float64(lowerBound(sorted, est)) / float64(len(sorted))
		hi := float64(upperBound(sorted, est)) / float64(len(sorted))
		worst = math.Max(worst, math.Max(lo-qs[i], qs[i]-hi))
	}
	return worst
}

// TestSketchRankErrorSeeds checks the rank error bound over many seeds,
// sizes and distributions, for a sketch fed directly and for the merge of
// two sketches of halves, and after a JSON round trip plus more values.
func TestSketchRankErrorSeeds(t *testing.T) {
	worst := 0.0
	for seed := range 12 {
		rng := rand.New(rand.NewPCG(uint64(seed), 9))
		n := 20_000 + rng.IntN(300_000)
		gen := []func() float64{rng.NormFloat64, rng.ExpFloat64, func() float64 { return float64(rng.IntN(300)) }}[seed%3]
		xs := make([]float64, n)
		whole, a, b := NewSketch(), NewSketch(), NewSketch()
		for i := range xs {
			xs[i] = gen()
			whole.Add(xs[i])
			if i%2 == 0 {
				a.Add(xs[i])
			} else {
				b.Add(xs[i])
			}
		}
		a.Merge(b)
		if a.N != int64(n) || whole.N != int64(n) {
			t.Fatalf("N = %d, %d, want %d", a.N, whole.N, n)
		}
		enc, err := json.Marshal(whole)
		if err != nil {
			t.Fatal(err)
		}
		var dec Sketch
		if err := json.Unmarshal(enc, &dec); err != nil {
			t.Fatal(err)
		}
		extra := slices.Clone(xs[:5000])
		for _, x := range extra {
			dec.Add(x)
		}
		slices.Sort(xs)
		withExtra := append(slices.Clone(xs), extra...)
		slices.Sort(withExtra)
		for name, c := range map[string]struct {
			sk     *Sketch
			sorted []float64
		}{"whole": {whole, xs}, "merged": {a, xs}, "decoded+5000": {&dec, withExtra}} {
			e := maxRankError(c.sk, c.sorted)
			worst = math.Max(worst, e)
			if e > SketchRankError {
				t.Errorf("seed %d n=%d %s: rank error %.4f > %.2f", seed, n, name, e, SketchRankError)
			}
			if c.sk.Min != c.sorted[0] || c.sk.Max != c.sorted[len(c.sorted)-1] {
				t.Errorf("seed %d %s: min/max %v %v", seed, name, c.sk.Min, c.sk.Max)
			}
		}
	}
	t.Logf("worst normalised rank error %.4f (bound %.2f)", worst, SketchRankError)
}

// TestSketchHistogramMatchesNumpyRule: exact sketches bin like
// numpy.histogram (last bin closed, equal min and max widened by ±0.5).
func TestSketchHistogramMatchesNumpyRule(t *testing.T) {
	sk := NewSketch()
	for _, x := range []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10} {
		sk.Add(x)
	}
	h := sk.Histogram(5) // numpy: edges 0,2,4,6,8,10 counts 2,2,2,2,3
	if want := []int64{2, 2, 2, 2, 3}; !slices.Equal(h.Counts, want) {
		t.Errorf("counts %v, want %v", h.Counts, want)
	}
	one := NewSketch()
	one.Add(3)
	one.Add(3)
	h = one.Histogram(2)
	if !slices.Equal(h.Edges, []float64{2.5, 3, 3.5}) || !slices.Equal(h.Counts, []int64{0, 2}) {
		t.Errorf("constant: %+v", h)
	}
}

// TestHLLAccuracy: the distinct estimate stays within 3% (≈ 3.7 standard
// errors of 0.81%) from 20,000 to 2,000,000 distinct values.
func TestHLLAccuracy(t *testing.T) {
	for _, n := range []int{20_000, 45_000, 200_000, 2_000_000} {
		var h hll
		for i := range n {
			h.add(hashBytes(fmt.Appendf(nil, "user_%d", i)))
		}
		got := h.estimate()
		if rel := math.Abs(float64(got)-float64(n)) / float64(n); rel > 0.03 {
			t.Errorf("n=%d: estimate %d (%.2f%% off)", n, got, 100*rel)
		} else {
			t.Logf("n=%d: estimate %d (%.2f%% off)", n, got, 100*rel)
		}
	}
}

// TestSpaceSavingHeavyHitters: with a Zipf-like stream over 100,000 values
// the ten heaviest are found, each true count within [Count−Error, Count].
func TestSpaceSavingHeavyHitters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	z := rand.NewZipf(rng, 1.3, 1, 99_999)
	truth := map[string]int64{}
	ss := newSpaceSaving(nil)
	for range 300_000 {
		v := fmt.Appendf(nil, "v%d", z.Uint64())
		truth[string(v)]++
		ss.add(v)
	}
	type kv struct {
		k string
		n int64
	}
	var all []kv
	for k, n := range truth {
		all = append(all, kv{k, n})
	}
	slices.SortFunc(all, func(a, b kv) int { return int(b.n - a.n) })
	top := ss.top(TopN)
	for i, c := range top {
		if c.Value != all[i].k {
			t.Errorf("top[%d] = %q, want %q", i, c.Value, all[i].k)
		}
		if n := truth[c.Value]; n > c.Count || n < c.Count-c.Error {
			t.Errorf("%s: true %d outside [%d, %d]", c.Value, n, c.Count-c.Error, c.Count)
		}
	}
}
