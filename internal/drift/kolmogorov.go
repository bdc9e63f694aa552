package drift

import "math"

// This file ports scipy.stats._ksstats (scipy 1.10): the survival function
// of the two-sided one-sample Kolmogorov statistic D_n, which scipy's
// ks_2samp uses (as kstwo.sf) for its asymptotic p-value.

var (
	ep128 = math.Ldexp(1, 128)
	em128 = math.Ldexp(1, -128)
)

// stirlingCoeffs are scipy's _STIRLING_COEFFS (highest degree first).
var stirlingCoeffs = [...]float64{-2.955065359477124183e-2, 6.4102564102564102564e-3,
	-1.9175269175269175269e-3, 8.4175084175084175084e-4,
	-5.952380952380952381e-4, 7.9365079365079365079e-4,
	-2.7777777777777777778e-3, 8.3333333333333333333e-2}

// logNFactDivNPowN is ln(n!/nⁿ) by Stirling's series.
func logNFactDivNPowN(n float64) float64 {
	rn := 1 / n
	x := rn / n
	poly := 0.0
	for _, c := range stirlingCoeffs {
		poly = poly*x + c
	}
	return math.Log(n)/2 - n + math.Log(2*math.Pi)/2 + rn*poly
}

// kolmogorovSF is P(D_n ≥ x), scipy's kolmogn(n, x, cdf=False).
func kolmogorovSF(n int, x float64) float64 {
	if n <= 0 || math.IsNaN(x) {
		return math.NaN()
	}
	if x >= 1 {
		return 0
	}
	if x <= 0 {
		return 1
	}
	fn := float64(n)
	t := fn * x
	if t <= 1 { // Ruben–Gambino
		if t <= 0.5 {
			return 1
		}
		var prob float64
		if n <= 140 {
			prob = 1
			for i := 1; i <= n; i++ {
				prob *= float64(i) * (1 / fn) * (2*t - 1)
			}
		} else {
			prob = math.Exp(logNFactDivNPowN(fn) + fn*math.Log(2*t-1))
		}
		return clip01(1 - prob)
	}
	if t >= fn-1 {
		return clip01(2 * math.Pow(1-x, fn))
	}
	if x >= 0.5 {
		return clip01(2 * smirnovSF(n, x))
	}
	nxSquared := t * x
	if n <= 140 {
		if nxSquared <= 0.754693 {
			return clip01(1 - clip01(kolmogorovDMTW(n, x)))
		}
		if nxSquared <= 4 {
			return clip01(1 - clip01(kolmogorovPomeranz(n, x)))
		}
		return clip01(2 * smirnovSF(n, x))
	}
	if nxSquared >= 370 {
		return 0
	}
	if nxSquared >= 2.2 {
		return clip01(2 * smirnovSF(n, x))
	}
	var cdf float64
	if n <= 100000 && fn*math.Pow(x, 1.5) <= 1.4 {
		cdf = kolmogorovDMTW(n, x)
	} else {
		cdf = kolmogorovPelzGood(n, x)
	}
	return clip01(1 - cdf)
}

// smirnovSF is the one-sided P(D⁺_n ≥ x) (scipy.special.smirnov) by the
// Birnbaum–Tingey sum, whose terms are all positive; they are evaluated in
// logarithms so that large n neither overflows nor underflows.
func smirnovSF(n int, x float64) float64 {
	if x <= 0 {
		return 1
	}
	if x >= 1 {
		return 0
	}
	fn := float64(n)
	lgN1, _ := math.Lgamma(fn + 1)
	jmax := int(math.Floor(fn * (1 - x)))
	sum := 0.0
	for j := 0; j <= jmax; j++ {
		fj := float64(j)
		a := 1 - x - fj/fn
		if a <= 0 {
			continue
		}
		lgJ, _ := math.Lgamma(fj + 1)
		lgNJ, _ := math.Lgamma(fn - fj + 1)
		logTerm := lgN1 - lgJ - lgNJ + (fn-fj)*math.Log(a) + (fj-1)*math.Log(x+fj/fn)
		sum += math.Exp(logTerm)
	}
	return x * sum
}

// kolmogorovDMTW is P(D_n ≤ d) by the Durbin matrix algorithm as
// Marsaglia, Tsang and Wang compute it (scipy _kolmogn_DMTW).
func kolmogorovDMTW(n int, d float64) float64 {
	if d >= 1 {
		return 1
	}
	fn := float64(n)
	nd := fn * d
	if nd <= 0.5 {
		return 0
	}
	k := int(math.Ceil(nd))
	h := float64(k) - nd
	m := 2*k - 1
	H := newMatrix(m)
	v := make([]float64, m)
	w := make([]float64, m)
	fac := 1.0
	for j := 1; j <= m; j++ {
		v[j-1] = 1 - math.Pow(h, float64(j))
		w[j-1] = fac
		fac /= float64(j)
		v[j-1] *= fac
	}
	tt := math.Pow(math.Max(2*h-1, 0), float64(m)) - 2*math.Pow(h, float64(m))
	v[m-1] = (1 + tt) * fac
	for i := 1; i < m; i++ {
		for r := i - 1; r < m; r++ {
			H[r][i] = w[r-(i-1)]
		}
	}
	for r := range m {
		H[r][0] = v[r]
	}
	for c := range m {
		H[m-1][c] = v[m-1-c]
	}
	Hpwr := newMatrix(m)
	for i := range m {
		Hpwr[i][i] = 1
	}
	expnt, hExpnt := 0, 0
	tmp := newMatrix(m)
	for nn := n; nn > 0; nn /= 2 {
		if nn%2 == 1 {
			matMul(tmp, Hpwr, H)
			Hpwr, tmp = tmp, Hpwr
			expnt += hExpnt
		}
		matMul(tmp, H, H)
		H, tmp = tmp, H
		hExpnt *= 2
		if math.Abs(H[k-1][k-1]) > ep128 {
			for _, row := range H {
				for c := range row {
					row[c] /= ep128
				}
			}
			hExpnt += 128
		}
	}
	p := Hpwr[k-1][k-1]
	for i := 1; i <= n; i++ {
		p = float64(i) * p / fn
		if math.Abs(p) < em128 {
			p *= ep128
			expnt -= 128
		}
	}
	if expnt != 0 {
		p = math.Ldexp(p, expnt)
	}
	return clip01(p)
}

func newMatrix(m int) [][]float64 {
	cells := make([]float64, m*m)
	rows := make([][]float64, m)
	for i := range rows {
		rows[i] = cells[i*m : (i+1)*m]
	}
	return rows
}

// matMul sets dst = a·b (dst must not alias a or b).
func matMul(dst, a, b [][]float64) {
	m := len(a)
	for i := range m {
		row := dst[i]
		clear(row)
		for k := range m {
			aik := a[i][k]
			if aik == 0 {
				continue
			}
			bk := b[k]
			for j := range m {
				row[j] += aik * bk[j]
			}
		}
	}
}

// pomeranzJ1J2 is scipy's _pomeranz_compute_j1j2.
func pomeranzJ1J2(i, n, ll, ceilf, roundf int) (int, int) {
	var j1, j2 int
	if i == 0 {
		j1, j2 = -ll-ceilf-1, ll+ceilf-1
	} else {
		ip1div2, ip1mod2 := (i+1)/2, (i+1)%2
		if ip1mod2 == 0 {
			if ip1div2 == n+1 {
				j1, j2 = n-ll-ceilf-1, n+ll+ceilf-1
			} else {
				j1, j2 = ip1div2-1-ll-roundf-1, ip1div2+ll-1+ceilf-1
			}
		} else {
			j1, j2 = ip1div2-1-ll-1, ip1div2+ll+roundf-1
		}
	}
	return max(j1+2, 0), min(j2, n)
}

// kolmogorovPomeranz is P(D_n ≤ x) by Pomeranz's recursion (scipy
// _kolmogn_Pomeranz).
func kolmogorovPomeranz(n int, x float64) float64 {
	fn := float64(n)
	t := fn * x
	ll := int(math.Floor(t))
	f := t - float64(ll)
	g := math.Min(f, 1-f)
	ceilf, roundf := 0, 0
	if f > 0 {
		ceilf = 1
	}
	if f > 0.5 {
		roundf = 1
	}
	npwrs := 2 * (ll + 1)
	gpower := make([]float64, npwrs)
	twogpower := make([]float64, npwrs)
	onem2gpower := make([]float64, npwrs)
	gpower[0], twogpower[0], onem2gpower[0] = 1, 1, 1
	gOverN, twoGOverN, oneMinusTwoGOverN := g/fn, 2*g/fn, (1-2*g)/fn
	for m := 1; m < npwrs; m++ {
		fm := float64(m)
		gpower[m] = gpower[m-1] * gOverN / fm
		twogpower[m] = twogpower[m-1] * twoGOverN / fm
		onem2gpower[m] = onem2gpower[m-1] * oneMinusTwoGOverN / fm
	}
	V0 := make([]float64, npwrs)
	V1 := make([]float64, npwrs)
	V1[0] = 1
	V0s, V1s := 0, 0
	expnt := 0
	j1, j2 := pomeranzJ1J2(0, n, ll, ceilf, roundf)
	for i := 1; i < 2*n+2; i++ {
		k1 := j1
		V0, V1 = V1, V0
		V0s, V1s = V1s, V0s
		clear(V1)
		j1, j2 = pomeranzJ1J2(i, n, ll, ceilf, roundf)
		pwrs := onem2gpower
		switch {
		case i == 1 || i == 2*n+1:
			pwrs = gpower
		case i%2 == 1:
			pwrs = twogpower
		}
		ln2 := j2 - k1 + 1
		if ln2 <= 0 {
			continue
		}
		// a = V0[k1−V0s : k1−V0s+ln2] (truncated like a Python slice),
		// conv = numpy.convolve(a, pwrs[:ln2]); V1[:convLen] = conv[convStart:].
		lo := k1 - V0s
		hi := min(lo+ln2, len(V0))
		a := V0[lo:hi]
		b := pwrs[:min(ln2, len(pwrs))]
		convStart, convLen := j1-k1, j2-j1+1
		maxV := 0.0
		for c := range convLen {
			idx := convStart + c
			s := 0.0
			for ai := max(0, idx-len(b)+1); ai <= idx && ai < len(a); ai++ {
				s += a[ai] * b[idx-ai]
			}
			V1[c] = s
			maxV = math.Max(maxV, s)
		}
		if 0 < maxV && maxV < em128 {
			for c := range V1 {
				V1[c] *= ep128
			}
			expnt -= 128
		}
		V1s = V0s + j1 - k1
	}
	ans := V1[n-V1s]
	for m := 1; m <= n; m++ {
		if math.Abs(ans) > ep128 {
			ans *= em128
			expnt += 128
		}
		ans *= float64(m)
	}
	if expnt != 0 {
		ans = math.Ldexp(ans, expnt)
	}
	return clip01(ans)
}

// kolmogorovPelzGood is the Pelz–Good approximation of P(D_n ≤ x)
// (scipy _kolmogn_PelzGood).
func kolmogorovPelzGood(n int, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	fn := float64(n)
	z := math.Sqrt(fn) * x
	z2, z3, z4, z6 := z*z, z*z*z, z*z*z*z, math.Pow(z, 6)
	pi2 := math.Pi * math.Pi
	pi4, pi6 := pi2*pi2, pi2*pi2*pi2
	qlog := -pi2 / 8 / z2
	if qlog < -708 {
		return 0
	}
	q := math.Exp(qlog)
	k1a, k1b := -z2, pi2/4
	k2a := 6*z6 + 2*z4
	k2b := (2*z4 - 5*z2) * pi2 / 4
	k2c := pi4 * (1 - 2*z2) / 16
	k3d := pi6 * (5 - 30*z2) / 64
	k3c := pi4 * (-60*z2 + 212*z4) / 16
	k3b := pi2 * (135*z4 - 96*z6) / 4
	k3a := -30*z6 - 90*math.Pow(z, 8)
	var K [4]float64
	maxk := int(math.Ceil(16 * z / math.Pi))
	for k := maxk; k > 0; k-- {
		m := float64(2*k - 1)
		m2, m4, m6 := m*m, m*m*m*m, math.Pow(m, 6)
		qp := math.Pow(q, float64(8*k))
		coeffs := [4]float64{1, k1a + k1b*m2, k2a + k2b*m2 + k2c*m4, k3a + k3b*m2 + k3c*m4 + k3d*m6}
		for i := range K {
			K[i] = K[i]*qp + coeffs[i]
		}
	}
	sqrt2pi := math.Sqrt(2 * math.Pi)
	den := [4]float64{z, 6 * z4, 72 * math.Pow(z, 7), 6480 * math.Pow(z, 10)}
	for i := range K {
		K[i] = K[i] * q * sqrt2pi / den[i]
	}
	q = math.Exp(-pi2 / 2 / z2)
	var k2extra, k3extra float64
	sqrt3z := math.Sqrt(3) * z
	for k := maxk; k > 0; k-- {
		fk := float64(k)
		qk := math.Pow(q, fk*fk)
		k2extra += fk * fk * qk
		kspi := math.Pi * fk
		k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * fk * fk * qk
	}
	K[2] += k2extra * pi2 * sqrt2pi / (-36 * z3)
	K[3] += k3extra * pi2 * sqrt2pi / (216 * z6)
	sum := 0.0
	for i := range K {
		sum += K[i] / math.Pow(fn, float64(i)/2)
	}
	return sum
}
