package stats

import "math"

// NormalCDF returns P(Z ≤ x) for a standard normal Z, computed as
// ½·erfc(−x/√2) so that the lower tail keeps full relative precision.
// NormalCDF(NaN) is NaN.
func NormalCDF(x float64) float64 {
	return 0.5 * math.Erfc(-x/math.Sqrt2)
}

// NormalSF returns the survival function P(Z > x) = 1 − NormalCDF(x) for a
// standard normal Z, computed as ½·erfc(x/√2) so that the upper tail keeps
// full relative precision. NormalSF(NaN) is NaN.
func NormalSF(x float64) float64 {
	return 0.5 * math.Erfc(x/math.Sqrt2)
}
