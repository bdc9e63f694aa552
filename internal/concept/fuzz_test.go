package concept

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzADWIN feeds arbitrary float streams and parameters: no panic, the
// width never negative and never above the number of finite inputs, and the
// estimation within [min, max] of the finite inputs seen.
func FuzzADWIN(f *testing.F) {
	seed := make([]byte, 0, 8*64)
	for i := range 64 {
		v := 0.0
		if i > 32 {
			v = 5
		}
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(v))
	}
	f.Add(seed, uint8(1), uint8(2))
	f.Add([]byte{1, 2, 3}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, clock, buckets uint8) {
		a, err := NewADWIN(ADWINConfig{Clock: int(clock%8) + 1, MaxBuckets: int(buckets%6) + 2, MinWindowLength: 1, GracePeriod: int(clock % 4)})
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		n := 0
		for len(data) >= 8 {
			x := math.Float64frombits(binary.LittleEndian.Uint64(data))
			data = data[8:]
			// Keep magnitudes where sums stay finite; the detector ignores NaN/Inf.
			if finite(x) && math.Abs(x) > 1e12 {
				x = math.Mod(x, 1e12)
			}
			a.Update(x)
			if finite(x) {
				n++
				lo, hi = min(lo, x), max(hi, x)
			}
			w := a.Width()
			if w < 0 || w > n {
				t.Fatalf("width %d after %d finite inputs", w, n)
			}
			if w > 0 {
				e := a.Estimation()
				slack := 1e-9 * math.Max(1, math.Max(math.Abs(lo), math.Abs(hi)))
				if e < lo-slack || e > hi+slack {
					t.Fatalf("estimation %v outside [%v, %v]", e, lo, hi)
				}
			}
		}
	})
}
