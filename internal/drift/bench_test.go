package drift

import (
	"testing"
)

// benchPool returns n pseudo-normal values (sum of three uniforms) from
// which benchmarks cut overlapping windows, so that 20 features of 10⁶ rows
// do not need 20 separate buffers.
func benchPool(n int, seed uint64) []float64 {
	g := &splitMix64{s: seed}
	xs := make([]float64, n)
	for i := range xs {
		s := 0.0
		for range 3 {
			s += float64(g.next()>>11) / (1 << 53)
		}
		xs[i] = s
	}
	return xs
}

// BenchmarkDataset20x1M is the drift check of 1,000,000 current rows × 20
// numerical features against a 100,000-row reference with Evidently's
// default tests (normed Wasserstein at this size). One op is the whole
// dataset; run with GOMAXPROCS=1 for the single-core figure.
func BenchmarkDataset20x1M(b *testing.B) {
	const features, nRef, nCur = 20, 100_000, 1_000_000
	ref := benchPool(nRef+features*97, 1)
	cur := benchPool(nCur+features*97, 2)
	for i := range cur {
		cur[i] += 0.01 // a small shift
	}
	b.ResetTimer()
	for range b.N {
		results := make([]Result, 0, features)
		for f := range features {
			r, err := Column(ref[f*97:f*97+nRef], cur[f*97:f*97+nCur], Options{})
			if err != nil {
				b.Fatal(err)
			}
			results = append(results, r)
		}
		Dataset(results, 0)
		if results[0].Test != TestWasserstein {
			b.Fatalf("test %q, want wasserstein", results[0].Test)
		}
	}
}

// BenchmarkKSExact1000 is the exact KS p-value path at Evidently's largest
// KS reference (1000) against 5000 current rows.
func BenchmarkKSExact1000(b *testing.B) {
	ref, cur := benchPool(1000, 3), benchPool(5003, 4)
	for range b.N {
		if _, _, err := KS(ref, cur); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJensenShannon1M is the histogram Jensen–Shannon path (as an
// override) for 100k reference and 1M current values.
func BenchmarkJensenShannon1M(b *testing.B) {
	ref, cur := benchPool(100_000, 5), benchPool(1_000_000, 6)
	for range b.N {
		if _, err := JensenShannon(ref, cur, KindNumerical); err != nil {
			b.Fatal(err)
		}
	}
}
