package dataset

import (
	"math"
	"math/bits"
)

// hllP is the HyperLogLog precision: 2^14 = 16384 one-byte registers, a
// relative standard error of 1.04/√16384 ≈ 0.81%.
const hllP = 14

// hll is a HyperLogLog distinct counter over 64-bit hashes. Like
// HyperLogLog++ (Heule, Nunkesser & Hall 2013) it hashes to 64 bits, so no
// large-range correction is needed, and it uses linear counting for small
// cardinalities (estimate ≤ 2.5·m); unlike HLL++ it has no sparse
// representation and no empirical bias-correction tables (Ferry only
// switches to it past DistinctExactLimit distinct values, where linear
// counting is still accurate to about 1%).
type hll struct {
	reg [1 << hllP]uint8
}

func (h *hll) add(x uint64) {
	idx := x >> (64 - hllP)
	w := x<<hllP | 1<<(hllP-1) // guard bit bounds the run length
	rho := uint8(bits.LeadingZeros64(w) + 1)
	if rho > h.reg[idx] {
		h.reg[idx] = rho
	}
}

func (h *hll) estimate() int64 {
	const m = float64(1 << hllP)
	sum, zeros := 0.0, 0
	for _, r := range h.reg {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(math.Round(e))
}

// hashBytes is FNV-1a followed by MurmurHash3's 64-bit finaliser, which
// spreads FNV's weak high bits for HyperLogLog. It is deterministic (no
// per-process seed), so profiles are reproducible.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
