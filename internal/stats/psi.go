package stats

import (
	"math"
	"slices"
)

// MaxPSIBins caps the bins argument of PSI so that a request cannot make the
// server allocate an arbitrarily large histogram.
const MaxPSIBins = 10_000

// evidentlyMinUnique is Evidently's switch between histogram and per-value
// bins: a numerical column is histogrammed only if its reference has more
// than 20 distinct values.
const evidentlyMinUnique = 20

// PSI returns the Population Stability Index of current against reference,
//
//	PSI = Σᵢ (rᵢ − cᵢ)·ln(rᵢ/cᵢ)
//
// where rᵢ and cᵢ are the shares of each sample in bin i, computed the way
// Evidently's numerical "psi" drift test does
// (evidently/legacy/calculations/stattests/psi.py and utils.get_binned_data):
//
//   - bins == 0 selects Evidently's binning exactly. If the reference has more
//     than 20 distinct values, the bins are equal-width over [min, max] of
//     reference and current combined, their number chosen by Sturges' rule
//     (numpy.histogram_bin_edges(ref ∪ cur, bins="sturges"): about
//     ⌈log2(n_ref+n_cur) + 1⌉ bins, rounded exactly as numpy rounds them).
//     Evidently ignores its own n_bins=30 argument, and despite its
//     docstring the bins are not reference quantiles.
//     Otherwise every distinct value of either sample is its own bin.
//   - bins > 0 always uses that many equal-width bins over the combined
//     [min, max] (numpy.histogram_bin_edges(ref ∪ cur, bins=bins)). bins may
//     not exceed MaxPSIBins.
//
// In both cases each bin is [left, right) except the last, which also holds
// its right edge, as in numpy.histogram. A share is count/len(sample). Empty
// bins are smoothed separately for each sample, as Evidently does: zero
// shares become min_nonzero/1e6 if the smallest non-zero share is ≤ 1e-4,
// else 1e-4, and shares are not renormalised afterwards.
//
// NaN values are ignored (Evidently drops them before the test). ±Inf values
// are rejected with ErrNonFinite (Evidently silently drops them too; here an
// infinite feature value is treated as a bug to surface). An empty sample
// after dropping NaN returns ErrTooFewSamples (Evidently returns NaN).
func PSI(reference, current []float64, bins int) (float64, error) {
	if bins < 0 || bins > MaxPSIBins {
		return 0, newError(ErrInvalidInput, "psi bins must be in [0, %d], got %d", MaxPSIBins, bins)
	}
	ref, err := scanSample(reference, "reference")
	if err != nil {
		return 0, err
	}
	cur, err := scanSample(current, "current")
	if err != nil {
		return 0, err
	}
	if ref.n == 0 || cur.n == 0 {
		return 0, newError(ErrTooFewSamples, "psi needs at least one non-NaN value in each sample, got %d reference and %d current", ref.n, cur.n)
	}
	if bins == 0 && !hasMoreDistinct(reference, evidentlyMinUnique) {
		return psiDistinctValues(reference, current, ref.n, cur.n), nil
	}
	lo, hi := math.Min(ref.min, cur.min), math.Max(ref.max, cur.max)
	if math.IsInf(hi-lo, 0) {
		return 0, newError(ErrNonFinite, "psi value range [%g, %g] overflows float64; rescale the values", lo, hi)
	}
	if bins == 0 {
		bins = SturgesBins(lo, hi, ref.n+cur.n)
	}
	edges := HistogramEdges(lo, hi, bins)
	counts := make([]int, 2*bins)
	refCounts, curCounts := counts[:bins], counts[bins:]
	histogram(reference, edges, refCounts)
	histogram(current, edges, curCounts)
	return psiFromCounts(refCounts, curCounts, ref.n, cur.n), nil
}

// PSICategorical returns the Population Stability Index of two samples of
// class labels: every label seen in either sample is one bin, and shares,
// smoothing and the sum are as in [PSI]. An empty sample returns
// ErrTooFewSamples.
func PSICategorical(reference, current []int) (float64, error) {
	if len(reference) == 0 || len(current) == 0 {
		return 0, newError(ErrTooFewSamples, "psi needs at least one value in each sample, got %d reference and %d current", len(reference), len(current))
	}
	return psiByKey(reference, current, len(reference), len(current), func(int) bool { return false }), nil
}

// sampleScan is what PSI needs to know about a sample before binning it.
type sampleScan struct {
	n        int
	min, max float64
}

func scanSample(xs []float64, name string) (sampleScan, error) {
	s := sampleScan{min: math.Inf(1), max: math.Inf(-1)}
	for _, x := range xs {
		if math.IsNaN(x) {
			continue
		}
		if math.IsInf(x, 0) {
			return sampleScan{}, newError(ErrNonFinite, "psi %s sample contains %v", name, x)
		}
		s.n++
		s.min = math.Min(s.min, x)
		s.max = math.Max(s.max, x)
	}
	return s, nil
}

// hasMoreDistinct reports whether xs holds more than limit distinct non-NaN
// values (pandas' nunique() > limit), without allocating.
func hasMoreDistinct(xs []float64, limit int) bool {
	var seen [evidentlyMinUnique + 1]float64
	n := 0
	for _, x := range xs {
		if math.IsNaN(x) || slices.Contains(seen[:n], x) {
			continue
		}
		if n == limit {
			return true
		}
		seen[n] = x
		n++
	}
	return false
}

// SturgesBins is numpy's bin count for bins="sturges": the width is
// ptp/(log2(n)+1) and the count ⌈ptp/width⌉, both rounded as numpy rounds
// them (the count can exceed ⌈log2(n)+1⌉ by one through rounding).
func SturgesBins(lo, hi float64, n int) int {
	ptp := hi - lo
	width := ptp / (math.Log2(float64(n)) + 1)
	if width == 0 {
		return 1
	}
	return int(math.Ceil(ptp / width))
}

// HistogramEdges returns numpy.histogram_bin_edges' edges for bins equal-width
// bins over [lo, hi]: linspace(lo, hi, bins+1), with an empty range widened
// to [lo−0.5, hi+0.5].
func HistogramEdges(lo, hi float64, bins int) []float64 {
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	edges := make([]float64, bins+1)
	delta := hi - lo
	step := delta / float64(bins)
	for i := range bins {
		if step == 0 { // numpy's special case for subnormal ranges
			edges[i] = float64(float64(i)/float64(bins)*delta) + lo
			continue
		}
		// The conversion stops multiply-add fusion, which numpy does not do.
		edges[i] = float64(float64(i)*step) + lo
	}
	edges[bins] = hi
	return edges
}

// histogram adds the non-NaN values of xs to counts with numpy.histogram's
// rule for explicit edges: value x falls in bin i when
// edges[i] ≤ x < edges[i+1], the last bin also holding x == edges[last];
// values outside [edges[0], edges[last]] are not counted.
func histogram(xs, edges []float64, counts []int) {
	last := len(edges) - 1
	for _, x := range xs {
		if math.IsNaN(x) || x < edges[0] || x > edges[last] {
			continue
		}
		// j = number of edges ≤ x; x lies in bin j−1.
		j, hi := 0, len(edges)
		for j < hi {
			mid := int(uint(j+hi) >> 1)
			if edges[mid] <= x {
				j = mid + 1
			} else {
				hi = mid
			}
		}
		bin := j - 1
		if bin >= last {
			bin = last - 1
		}
		counts[bin]++
	}
}

// psiDistinctValues is PSI with one bin per distinct non-NaN value of either
// sample (Evidently's path for columns with few distinct values).
func psiDistinctValues(reference, current []float64, nRef, nCur int) float64 {
	return psiByKey(reference, current, nRef, nCur, math.IsNaN)
}

// psiByKey counts each distinct key of reference and current (skipping keys
// for which skip is true) and returns the PSI over those bins, visiting them
// in ascending key order so the sum is deterministic.
func psiByKey[K int | float64](reference, current []K, nRef, nCur int, skip func(K) bool) float64 {
	index := make(map[K]int)
	var counts []int // interleaved: counts[2i] reference, counts[2i+1] current
	add := func(xs []K, side int) {
		for _, x := range xs {
			if skip(x) {
				continue
			}
			i, ok := index[x]
			if !ok {
				i = len(counts) / 2
				index[x] = i
				counts = append(counts, 0, 0)
			}
			counts[2*i+side]++
		}
	}
	add(reference, 0)
	add(current, 1)
	keys := make([]K, 0, len(index))
	for k := range index {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	refCounts := make([]int, len(keys))
	curCounts := make([]int, len(keys))
	for j, k := range keys {
		i := index[k]
		refCounts[j], curCounts[j] = counts[2*i], counts[2*i+1]
	}
	return psiFromCounts(refCounts, curCounts, nRef, nCur)
}

// psiFromCounts turns bin counts into shares, smooths empty bins the way
// Evidently's get_binned_data(feel_zeroes=True) does, and sums the PSI terms.
func psiFromCounts(refCounts, curCounts []int, nRef, nCur int) float64 {
	refFill := emptyBinShare(refCounts, nRef)
	curFill := emptyBinShare(curCounts, nCur)
	sum := 0.0
	for i := range refCounts {
		r, c := refFill, curFill
		if refCounts[i] != 0 {
			r = float64(refCounts[i]) / float64(nRef)
		}
		if curCounts[i] != 0 {
			c = float64(curCounts[i]) / float64(nCur)
		}
		sum += (r - c) * math.Log(r/c)
	}
	return sum
}

// emptyBinShare is the share Evidently substitutes for an empty bin:
// min_nonzero/1e6 if the smallest non-zero share is ≤ 1e-4, else 1e-4.
func emptyBinShare(counts []int, n int) float64 {
	minCount := 0
	for _, c := range counts {
		if c != 0 && (minCount == 0 || c < minCount) {
			minCount = c
		}
	}
	minShare := float64(minCount) / float64(n)
	if minShare <= 0.0001 {
		return minShare / 1e6
	}
	return 0.0001
}
