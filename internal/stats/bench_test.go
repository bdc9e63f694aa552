package stats

import (
	"math/rand/v2"
	"testing"
)

func normalSample(rng *rand.Rand, n int, mean, sd float64) []float64 {
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = mean + sd*rng.NormFloat64()
	}
	return xs
}

// BenchmarkPSI measures PSI over 10,000 reference vs 10,000 current values
// with Evidently's default binning.
func BenchmarkPSI(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref, cur := normalSample(rng, 10_000, 0, 1), normalSample(rng, 10_000, 0.1, 1.1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PSI(ref, cur, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPSIBins100 is BenchmarkPSI with 100 explicit bins.
func BenchmarkPSIBins100(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ref, cur := normalSample(rng, 10_000, 0, 1), normalSample(rng, 10_000, 0.1, 1.1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PSI(ref, cur, 100); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPSICategorical measures 10,000 vs 10,000 labels from 12 classes.
func BenchmarkPSICategorical(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref, cur := make([]int, 10_000), make([]int, 10_000)
	for i := range ref {
		ref[i], cur[i] = rng.IntN(12), rng.IntN(12)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PSICategorical(ref, cur); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWelchTTest(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := normalSample(rng, 10_000, 0, 1), normalSample(rng, 10_000, 0.02, 3)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WelchTTest(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStudentTSF(b *testing.B) {
	for b.Loop() {
		_ = StudentTSF(2.1, 15_000)
	}
}
