package stats

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// encodeFloats and decodeFloats map fuzzer bytes to float64 samples, eight
// little-endian bytes per value, so the fuzzer reaches NaN, ±Inf, subnormals
// and huge magnitudes.
func encodeFloats(xs ...float64) []byte {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func decodeFloats(b []byte) []float64 {
	xs := make([]float64, len(b)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return xs
}

// checkFuzzErr fails unless err is one of the package's documented kinds.
func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	known := errors.Is(err, ErrTooFewSamples) || errors.Is(err, ErrZeroVariance) ||
		errors.Is(err, ErrNonFinite) || errors.Is(err, ErrInvalidInput)
	if !known || !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("undocumented error %v", err)
	}
}

func FuzzWelchTTest(f *testing.F) {
	f.Add(encodeFloats(1, 2, 3), encodeFloats(4, 5, 6, 7))
	f.Add(encodeFloats(1, math.NaN(), 3), encodeFloats(4, 4))
	f.Add(encodeFloats(1e308, -1e308), encodeFloats(5e-324, 0))
	f.Add(encodeFloats(2, 2), encodeFloats(2, 2))
	f.Add(encodeFloats(1e6+0.1, 1e6+0.2, 1e6+0.3), encodeFloats(math.Inf(1), 1))
	f.Add([]byte{}, encodeFloats(1))
	f.Fuzz(func(t *testing.T, rawA, rawB []byte) {
		a, b := decodeFloats(rawA), decodeFloats(rawB)
		res, err := WelchTTest(a, b)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if math.IsNaN(res.PValue) || res.PValue < 0 || res.PValue > 1 {
			t.Fatalf("p = %v outside [0, 1] for a=%v b=%v", res.PValue, a, b)
		}
		if math.IsNaN(res.Statistic) || math.IsInf(res.Statistic, 0) {
			t.Fatalf("t = %v for a=%v b=%v", res.Statistic, a, b)
		}
		if math.IsNaN(res.DF) || math.IsInf(res.DF, 0) || res.DF <= 0 {
			t.Fatalf("df = %v for a=%v b=%v", res.DF, a, b)
		}
	})
}

func FuzzPSI(f *testing.F) {
	f.Add(encodeFloats(1, 2, 3), encodeFloats(2, 3, 4), 0)
	f.Add(encodeFloats(0, 0, 1, 1), encodeFloats(0, 1, 1, 1), 0)
	f.Add(encodeFloats(1, math.NaN(), 3), encodeFloats(math.Inf(1)), 5)
	f.Add(encodeFloats(-1e308, 1e308), encodeFloats(0), 3)
	f.Add(encodeFloats(5e-324, 1e-320, 0), encodeFloats(0), 2)
	f.Add(encodeFloats(1, 2), encodeFloats(3), -4)
	ramp := make([]float64, 40)
	for i := range ramp {
		ramp[i] = float64(i) * 0.37
	}
	f.Add(encodeFloats(ramp...), encodeFloats(ramp[5:]...), 0)
	f.Fuzz(func(t *testing.T, rawRef, rawCur []byte, bins int) {
		ref, cur := decodeFloats(rawRef), decodeFloats(rawCur)
		v, err := PSI(ref, cur, bins)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("PSI = %v for ref=%v cur=%v bins=%d", v, ref, cur, bins)
		}
	})
}

func FuzzPSICategorical(f *testing.F) {
	f.Add([]byte{0, 1, 1, 2}, []byte{1, 2, 2, 3})
	f.Add([]byte{}, []byte{1})
	f.Fuzz(func(t *testing.T, rawRef, rawCur []byte) {
		labels := func(b []byte) []int {
			out := make([]int, len(b))
			for i, v := range b {
				out[i] = int(v) - 128
			}
			return out
		}
		v, err := PSICategorical(labels(rawRef), labels(rawCur))
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			t.Fatalf("PSICategorical = %v", v)
		}
	})
}

func FuzzTwoProportionZTest(f *testing.F) {
	f.Add(45, 100, 55, 100)
	f.Add(0, 0, 1, 1)
	f.Add(math.MaxInt, math.MaxInt, 0, math.MaxInt)
	f.Fuzz(func(t *testing.T, s1, n1, s2, n2 int) {
		res, err := TwoProportionZTest(s1, n1, s2, n2)
		if err != nil {
			checkFuzzErr(t, err)
			return
		}
		if math.IsNaN(res.PValue) || res.PValue < 0 || res.PValue > 1 || math.IsNaN(res.Statistic) || math.IsInf(res.Statistic, 0) {
			t.Fatalf("TwoProportionZTest(%d, %d, %d, %d) = %+v", s1, n1, s2, n2, res)
		}
	})
}

func FuzzRegIncBeta(f *testing.F) {
	f.Add(2.0, 3.0, 0.4)
	f.Add(1e5, 0.5, 0.99995)
	f.Add(1e300, 1e-300, 0.5)
	f.Add(0.01, 1e6, 1e-8)
	f.Fuzz(func(t *testing.T, a, b, x float64) {
		v := RegIncBeta(a, b, x)
		valid := a > 0 && b > 0 && !math.IsInf(a, 0) && !math.IsInf(b, 0) && x >= 0 && x <= 1
		if !valid {
			if !math.IsNaN(v) {
				t.Fatalf("RegIncBeta(%g, %g, %g) = %g, want NaN", a, b, x, v)
			}
			return
		}
		if math.IsNaN(v) || v < 0 || v > 1 {
			t.Fatalf("RegIncBeta(%g, %g, %g) = %g outside [0, 1]", a, b, x, v)
		}
	})
}

func FuzzQuantile(f *testing.F) {
	f.Add(encodeFloats(3, 1, 2), 0.5)
	f.Add(encodeFloats(math.NaN(), 1), 0.0)
	f.Fuzz(func(t *testing.T, raw []byte, q float64) {
		xs := decodeFloats(raw)
		slices.Sort(xs) // NaNs first
		v := Quantile(xs, q)
		finite := xs[:0:0]
		for _, x := range xs {
			if !math.IsNaN(x) {
				finite = append(finite, x)
			}
		}
		if len(finite) == 0 || !(q >= 0 && q <= 1) {
			if !math.IsNaN(v) {
				t.Fatalf("Quantile(%v, %g) = %g, want NaN", xs, q, v)
			}
			return
		}
		lo, hi := finite[0], finite[len(finite)-1]
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return // interpolating with infinities may give NaN, as in numpy
		}
		if !(v >= lo && v <= hi) && !(math.IsInf(v, 0) && math.IsInf(hi-lo, 0)) {
			t.Fatalf("Quantile(%v, %g) = %g outside [%g, %g]", xs, q, v, lo, hi)
		}
	})
}
