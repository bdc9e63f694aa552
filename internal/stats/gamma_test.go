package stats

import (
	"math"
	"testing"
)

// GammaQ against closed forms: both of its paths (series below a+1,
// continued fraction above) for integer a, where
// Q(n, x) = e⁻ˣ Σ_{k<n} xᵏ/k!, and its edges.
func TestGammaQ(t *testing.T) {
	closed := func(n int, x float64) float64 {
		sum, term := 0.0, 1.0
		for k := 0; k < n; k++ {
			if k > 0 {
				term *= x / float64(k)
			}
			sum += term
		}
		return math.Exp(-x) * sum
	}
	for _, n := range []int{2, 3, 7} {
		for _, x := range []float64{0.01, 0.5, 1, float64(n), float64(n) + 0.999, float64(n) + 1, 12.5, 40} {
			if q, want := GammaQ(float64(n), x), closed(n, x); math.Abs(q-want) > 1e-14*math.Max(1, want) {
				t.Errorf("Q(%d, %v) = %v, want %v", n, x, q, want)
			}
		}
	}
	if q := GammaQ(0.5, 2); q != math.Erfc(math.Sqrt(2)) {
		t.Errorf("Q(1/2, 2) = %v", q)
	}
	for _, c := range [][2]float64{{0, 1}, {-1, 1}, {1, -1}, {math.NaN(), 1}, {1, math.NaN()}} {
		if q := GammaQ(c[0], c[1]); !math.IsNaN(q) {
			t.Errorf("Q(%v, %v) = %v, want NaN", c[0], c[1], q)
		}
	}
	if GammaQ(3, 0) != 1 || GammaQ(3, math.Inf(1)) != 0 {
		t.Error("Q(a, 0) must be 1 and Q(a, ∞) 0")
	}
}
