package drift

import (
	"math"
)

// ksMaxExactN is scipy's MAX_AUTO_N: method="auto" computes the exact
// p-value when both samples have at most this many values.
const ksMaxExactN = 10000

// KS is the two-sample two-sided Kolmogorov–Smirnov test, equal to
// scipy.stats.ks_2samp(ref, cur) with its defaults (alternative="two-sided",
// method="auto", scipy 1.10):
//
//   - stat is D = supₓ |F_ref(x) − F_cur(x)| over the empirical CDFs;
//   - if max(n_ref, n_cur) ≤ 10000 the p-value is exact (Hodges'
//     lattice-path counting, _compute_prob_outside_square for equal sizes,
//     _compute_outer_prob_inside_method otherwise) and, as scipy does, stat
//     is then rounded to the nearest multiple of 1/lcm(n_ref, n_cur);
//   - otherwise p = kstwo.sf(D, round(n_ref·n_cur/(n_ref+n_cur))), the exact
//     one-sample Kolmogorov distribution (Simard & L'Ecuyer's selection of
//     algorithms, scipy.stats._ksstats.kolmogn).
//
// NaN and ±Inf values are dropped first. An empty sample returns
// ErrNotEnoughData.
func KS(ref, cur []float64) (stat, p float64, err error) {
	a, b := cleanSorted(ref), cleanSorted(cur)
	if len(a) == 0 || len(b) == 0 {
		return 0, 0, notEnough("ks", len(a), len(b))
	}
	stat, p = ksSorted(a, b)
	return stat, p, nil
}

func notEnough(test string, nRef, nCur int) error {
	return newError(ErrNotEnoughData, "%s needs at least one finite value in each window, got %d reference and %d current", test, nRef, nCur)
}

// ksSorted is KS on two non-empty ascending samples of finite values.
func ksSorted(a, b []float64) (stat, p float64) {
	n1, n2 := len(a), len(b)
	fn1, fn2 := float64(n1), float64(n2)
	var maxS, minDiff float64
	i, j := 0, 0
	for i < n1 || j < n2 {
		v := nextValue(a, b, i, j)
		for i < n1 && a[i] <= v {
			i++
		}
		for j < n2 && b[j] <= v {
			j++
		}
		d := float64(i)/fn1 - float64(j)/fn2
		maxS = math.Max(maxS, d)
		minDiff = math.Min(minDiff, d)
	}
	minS := math.Min(-minDiff, 1)
	d := maxS
	if minS > maxS {
		d = minS
	}
	if max(n1, n2) <= ksMaxExactN {
		if dd, prob, ok := ksExact(n1, n2, d); ok {
			return dd, clip01(prob)
		}
	}
	m, n := max(fn1, fn2), min(fn1, fn2)
	en := m * n / (m + n)
	return d, clip01(kolmogorovSF(int(math.RoundToEven(en)), d))
}

func clip01(p float64) float64 {
	return math.Min(math.Max(p, 0), 1)
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ksExact is scipy's _attempt_exact_2kssamp for the two-sided alternative.
// It returns the statistic rounded to the lattice and ok=false when the
// computation is not usable (scipy then falls back to the asymptotic
// distribution).
func ksExact(n1, n2 int, d float64) (float64, float64, bool) {
	g := gcd(n1, n2)
	lcm := (n1 / g) * n2
	h := int(math.RoundToEven(d * float64(lcm)))
	d = float64(h) / float64(lcm)
	if h == 0 {
		return d, 1, true
	}
	var prob float64
	if n1 == n2 {
		prob = probOutsideSquare(n1, h)
	} else {
		prob = outerProbInside(n1, n2, g, h)
	}
	if math.IsNaN(prob) || math.IsInf(prob, 0) || prob < 0 || prob > 1 {
		return d, prob, false
	}
	return d, prob, true
}

// probOutsideSquare is scipy's _compute_prob_outside_square: the share of
// lattice paths from (0,0) to (n,n) that leave the band |x−y| < h, computed
// with a Horner-like scheme to avoid cancellation.
func probOutsideSquare(n, h int) float64 {
	P := 0.0
	for k := n / h; k >= 0; k-- {
		p1 := 1.0
		for j := range h {
			p1 = float64(n-k*h-j) * p1 / float64(n+k*h+j+1)
		}
		P = p1 * (1 - P)
	}
	return 2 * P
}

// outerProbInside is scipy's _compute_outer_prob_inside_method (Viehmann's
// recursion for 1 − the share of paths staying strictly inside
// |x/m − y/n| < h/lcm(m, n)).
func outerProbInside(m, n, g, h int) float64 {
	if m < n {
		m, n = n, m
	}
	mg, ng := m/g, n/g
	minj, maxj := 0, min(int(math.Ceil(float64(h)/float64(mg))), n+1)
	curlen := maxj - minj
	lenA := min(2*maxj+2, n+1)
	A := make([]float64, lenA)
	for k := range A {
		A[k] = 1
	}
	for k := minj; k < maxj; k++ {
		A[k] = 0
	}
	for i := 1; i <= m; i++ {
		lastminj, lastlen := minj, curlen
		minj = max(int(math.Floor(float64(ng*i-h)/float64(mg)))+1, 0)
		minj = min(minj, n)
		maxj = min(int(math.Ceil(float64(ng*i+h)/float64(mg))), n+1)
		if maxj <= minj {
			return 1
		}
		val := 1.0
		if minj == 0 {
			val = 0
		}
		fi := float64(i)
		for jj := range maxj - minj {
			j := jj + minj
			val = (A[jj+minj-lastminj]*fi + val*float64(j)) / (fi + float64(j))
			A[jj] = val
		}
		curlen = maxj - minj
		if lastlen > curlen {
			for k := maxj - minj; k < maxj-minj+(lastlen-curlen) && k < lenA; k++ {
				A[k] = 1
			}
		}
	}
	return A[maxj-minj-1]
}
