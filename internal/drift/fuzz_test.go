package drift

import (
	"encoding/binary"
	"math"
	"testing"
)

// floatsFrom splits fuzz bytes into two float64 samples at cut.
func floatsFrom(data []byte, cut uint16) (a, b []float64) {
	xs := make([]float64, len(data)/8)
	for i := range xs {
		xs[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
	}
	k := int(cut) % (len(xs) + 1)
	return xs[:k], xs[k:]
}

func FuzzKS(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}, uint16(1))
	f.Add(make([]byte, 64), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		a, b := floatsFrom(data, cut)
		d, p, err := KS(a, b)
		if err != nil {
			return
		}
		if !(d >= 0 && d <= 1) || !(p >= 0 && p <= 1) {
			t.Fatalf("KS = %v, %v outside [0, 1]", d, p)
		}
		for _, kind := range []ColumnKind{KindNumerical, KindCategorical} {
			r, err := Column(a, b, Options{Kind: kind})
			if err != nil {
				t.Fatalf("Column after KS succeeded: %v", err)
			}
			if s := r.Score(); math.IsNaN(s) || (r.PValue != nil && (s < 0 || s > 1)) {
				t.Fatalf("Column %+v: bad score %v", r, s)
			}
		}
	})
}
