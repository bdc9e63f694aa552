package dataset

import (
	"fmt"
	"math"
	"slices"

	"github.com/ferry-ml/ferry/internal/stats"
)

// Thresholds decide which column shifts a diff flags.
type Thresholds struct {
	// PSI flags a column whose PSI exceeds it (default 0.2, the usual
	// "significant shift" level).
	PSI float64 `json:"psi"`
	// NullFraction flags a column whose null fraction changes by more than
	// it (default 0.05).
	NullFraction float64 `json:"null_fraction"`
}

// DefaultThresholds are the thresholds Diff uses.
var defaultThresholds = Thresholds{PSI: 0.2, NullFraction: 0.05}

// DefaultThresholds returns PSI 0.2 and null fraction 0.05.
func DefaultThresholds() Thresholds { return defaultThresholds }

// ProfileDiff compares two profiles, A (before) and B (after).
type ProfileDiff struct {
	DigestA string `json:"digest_a"`
	DigestB string `json:"digest_b"`
	RowsA   int64  `json:"rows_a"`
	RowsB   int64  `json:"rows_b"`
	// Identical is true when the two contents are byte-for-byte equal.
	Identical  bool           `json:"identical"`
	Added      []SchemaColumn `json:"added,omitempty"`
	Removed    []SchemaColumn `json:"removed,omitempty"`
	Changed    []ColumnChange `json:"changed,omitempty"`
	Columns    []ColumnShift  `json:"columns"`
	Thresholds Thresholds     `json:"thresholds"`
}

// ColumnChange is a column present in both profiles whose type or
// nullability changed.
type ColumnChange struct {
	Name      string     `json:"name"`
	TypeA     ColumnType `json:"type_a"`
	TypeB     ColumnType `json:"type_b"`
	NullableA bool       `json:"nullable_a"`
	NullableB bool       `json:"nullable_b"`
}

// ColumnShift is the distribution shift of a column present in both
// profiles. Numeric measures are set when both sides are numeric,
// categorical ones when both are string or boolean.
type ColumnShift struct {
	Name      string  `json:"name"`
	NullFracA float64 `json:"null_fraction_a"`
	NullFracB float64 `json:"null_fraction_b"`
	// PSI is the Population Stability Index of B against A, nil when it
	// cannot be computed (no values, different kinds, overflow).
	PSI *float64 `json:"psi,omitempty"`
	// KS is the two-sample Kolmogorov–Smirnov statistic sup|F_A − F_B|.
	KS    *float64 `json:"ks,omitempty"`
	MeanA float64  `json:"mean_a,omitempty"`
	MeanB float64  `json:"mean_b,omitempty"`
	StdA  float64  `json:"std_a,omitempty"`
	StdB  float64  `json:"std_b,omitempty"`
	// Shares are the shares among non-null values of the categories in
	// either top list, largest change first.
	Shares []ShareChange `json:"shares,omitempty"`
	// Approximate is true when a measure comes from a compacted sketch or
	// a Space-Saving summary rather than every value.
	Approximate bool     `json:"approximate,omitempty"`
	Flagged     bool     `json:"flagged"`
	Reasons     []string `json:"reasons,omitempty"`
}

// ShareChange is one category's share of non-null values in A and B.
type ShareChange struct {
	Value  string  `json:"value"`
	ShareA float64 `json:"share_a"`
	ShareB float64 `json:"share_b"`
}

// Diff compares b against a with DefaultThresholds.
func Diff(a, b *Profile) *ProfileDiff { return DiffWith(a, b, defaultThresholds) }

// DiffWith compares b against a: schema changes (columns added, removed,
// retyped, nullability changed) and, for every column in both, the shift
// of its distribution. Everything is computed from the profiles:
//
//   - Numeric PSI is internal/stats.PSI (Evidently's binning) over the
//     values themselves while both sketches are exact. Otherwise the same
//     bins (per distinct value when A has ≤ 20, else Sturges' count of
//     equal-width bins over the combined range) are filled with the
//     retained items' weights: each bin share is then off by at most the
//     sketch's rank error (twice SketchRankError per bin).
//   - KS is sup|F_A(x) − F_B(x)| over every retained item x of either
//     sketch: scipy.stats.ks_2samp's statistic exactly while both sketches
//     are exact, within the sum of the two rank errors (≤ 2%) after.
//   - Categorical PSI is over the union of the two top lists plus one
//     "other" bin (the rest of the non-null values), with Evidently's
//     smoothing of empty bins.
func DiffWith(a, b *Profile, th Thresholds) *ProfileDiff {
	d := &ProfileDiff{
		DigestA: a.Digest, DigestB: b.Digest, RowsA: a.Rows, RowsB: b.Rows,
		Identical: a.Digest != "" && a.Digest == b.Digest, Thresholds: th,
	}
	byName := func(p *Profile) map[string]*ColumnProfile {
		m := make(map[string]*ColumnProfile, len(p.Columns))
		for i := range p.Columns {
			m[p.Columns[i].Name] = &p.Columns[i]
		}
		return m
	}
	am, bm := byName(a), byName(b)
	for _, c := range a.Columns {
		if bm[c.Name] == nil {
			d.Removed = append(d.Removed, SchemaColumn{c.Name, c.Type, c.Nulls > 0})
		}
	}
	for i := range b.Columns {
		cb := &b.Columns[i]
		ca := am[cb.Name]
		if ca == nil {
			d.Added = append(d.Added, SchemaColumn{cb.Name, cb.Type, cb.Nulls > 0})
			continue
		}
		if ca.Type != cb.Type || (ca.Nulls > 0) != (cb.Nulls > 0) {
			d.Changed = append(d.Changed, ColumnChange{cb.Name, ca.Type, cb.Type, ca.Nulls > 0, cb.Nulls > 0})
		}
		d.Columns = append(d.Columns, shift(ca, cb, th))
	}
	return d
}

func shift(a, b *ColumnProfile, th Thresholds) ColumnShift {
	s := ColumnShift{Name: b.Name, NullFracA: a.NullFraction(), NullFracB: b.NullFraction()}
	if dn := math.Abs(s.NullFracB - s.NullFracA); dn > th.NullFraction {
		s.Flagged = true
		s.Reasons = append(s.Reasons, fmt.Sprintf("null fraction %.3f → %.3f (change %.3f > %.3g)", s.NullFracA, s.NullFracB, dn, th.NullFraction))
	}
	switch {
	case a.Numeric != nil && b.Numeric != nil && (a.Type == TypeDatetime) == (b.Type == TypeDatetime):
		na, nb := a.Numeric, b.Numeric
		s.MeanA, s.MeanB, s.StdA, s.StdB = na.Mean, nb.Mean, na.Std, nb.Std
		if na.Sketch != nil && nb.Sketch != nil && na.Sketch.N > 0 && nb.Sketch.N > 0 {
			s.Approximate = !na.Sketch.IsExact() || !nb.Sketch.IsExact()
			if psi, ok := numericPSI(na.Sketch, nb.Sketch, a.Distinct); ok {
				s.PSI = &psi
			}
			ks := ksStatistic(na.Sketch, nb.Sketch)
			s.KS = &ks
		}
	case (a.Type == TypeString || a.Type == TypeBoolean) && (b.Type == TypeString || b.Type == TypeBoolean):
		s.Approximate = !a.TopExact || !b.TopExact || a.TopPartial > 0 || b.TopPartial > 0
		var psi float64
		s.Shares, psi = categoricalShift(a, b)
		if a.Count > 0 && b.Count > 0 {
			s.PSI = &psi
		}
	}
	if s.PSI != nil && *s.PSI > th.PSI {
		s.Flagged = true
		s.Reasons = append(s.Reasons, fmt.Sprintf("psi %.3f > %.3g", *s.PSI, th.PSI))
	}
	return s
}

// numericPSI is stats.PSI on the values while both sketches are exact.
// Otherwise it bins the retained items by weight the way stats.PSI bins
// values: one bin per distinct value when A has at most 20 distinct values,
// else Sturges' number of equal-width bins over the combined range.
func numericPSI(a, b *Sketch, distinctA int64) (float64, bool) {
	if a.IsExact() && b.IsExact() {
		psi, err := stats.PSI(a.Exact, b.Exact, 0)
		return psi, err == nil && isFinite(psi)
	}
	var ca, cb []int64
	if distinctA <= 20 {
		va, wa := a.weighted()
		vb, wb := b.weighted()
		idx := map[float64]int{}
		for _, v := range append(slices.Clone(va), vb...) {
			if _, ok := idx[v]; !ok {
				idx[v] = len(idx)
			}
		}
		ca, cb = make([]int64, len(idx)), make([]int64, len(idx))
		for i, v := range va {
			ca[idx[v]] += wa[i]
		}
		for i, v := range vb {
			cb[idx[v]] += wb[i]
		}
	} else {
		lo, hi := math.Min(a.Min, b.Min), math.Max(a.Max, b.Max)
		if !isFinite(hi - lo) {
			return 0, false
		}
		bins := int(math.Ceil(math.Log2(float64(a.N+b.N)))) + 1
		edges := make([]float64, bins+1)
		for i := range edges {
			edges[i] = lo + (hi-lo)*float64(i)/float64(bins)
		}
		edges[bins] = hi
		ca, cb = a.binCounts(edges), b.binCounts(edges)
	}
	psi := psiCounts(ca, cb, a.N, b.N)
	return psi, isFinite(psi)
}

// ksStatistic walks the retained items of both sketches in order.
func ksStatistic(a, b *Sketch) float64 {
	va, wa := a.weighted()
	vb, wb := b.weighted()
	var ca, cb int64
	i, j, d := 0, 0, 0.0
	for i < len(va) || j < len(vb) {
		x := math.Inf(1)
		if i < len(va) {
			x = va[i]
		}
		if j < len(vb) && vb[j] < x {
			x = vb[j]
		}
		for i < len(va) && va[i] == x {
			ca += wa[i]
			i++
		}
		for j < len(vb) && vb[j] == x {
			cb += wb[j]
			j++
		}
		d = math.Max(d, math.Abs(float64(ca)/float64(a.N)-float64(cb)/float64(b.N)))
	}
	return d
}

// categoricalShift returns the top-category shares of both columns and the
// PSI over those categories plus "other".
func categoricalShift(a, b *ColumnProfile) ([]ShareChange, float64) {
	idx := map[string]int{}
	var shares []ShareChange
	var ca, cb []int64
	add := func(top []CategoryCount, side int) {
		for _, t := range top {
			i, ok := idx[t.Value]
			if !ok {
				i = len(shares)
				idx[t.Value] = i
				shares = append(shares, ShareChange{Value: t.Value})
				ca, cb = append(ca, 0), append(cb, 0)
			}
			if side == 0 {
				ca[i] = t.Count
			} else {
				cb[i] = t.Count
			}
		}
	}
	add(a.Top, 0)
	add(b.Top, 1)
	// Categories in one top list only may still occur on the other side,
	// below its top N: leave them in "other" there, so the shares stay a
	// partition; the PSI is then a lower bound of the full one.
	var sa, sb int64
	for i := range shares {
		sa += ca[i]
		sb += cb[i]
		if a.Count > 0 {
			shares[i].ShareA = float64(ca[i]) / float64(a.Count)
		}
		if b.Count > 0 {
			shares[i].ShareB = float64(cb[i]) / float64(b.Count)
		}
	}
	ca = append(ca, max(a.Count-sa, 0))
	cb = append(cb, max(b.Count-sb, 0))
	slices.SortStableFunc(shares, func(x, y ShareChange) int {
		dx, dy := math.Abs(x.ShareB-x.ShareA), math.Abs(y.ShareB-y.ShareA)
		switch {
		case dx > dy:
			return -1
		case dx < dy:
			return 1
		}
		return 0
	})
	if a.Count == 0 || b.Count == 0 {
		return shares, 0
	}
	return shares, psiCounts(ca, cb, a.Count, b.Count)
}

// psiCounts is Σ (r−c)·ln(r/c) over bins with Evidently's smoothing of
// empty bins, as internal/stats.PSI does: a zero share becomes
// min_nonzero/1e6 if the smallest non-zero share is ≤ 1e-4, else 1e-4.
func psiCounts(ref, cur []int64, nRef, nCur int64) float64 {
	shares := func(c []int64, n int64) []float64 {
		s := make([]float64, len(c))
		minNZ := math.Inf(1)
		for i, x := range c {
			s[i] = float64(x) / float64(n)
			if s[i] > 0 {
				minNZ = math.Min(minNZ, s[i])
			}
		}
		fill := 1e-4
		if minNZ <= 1e-4 {
			fill = minNZ / 1e6
		}
		for i := range s {
			if s[i] == 0 {
				s[i] = fill
			}
		}
		return s
	}
	r, c := shares(ref, nRef), shares(cur, nCur)
	psi := 0.0
	for i := range r {
		psi += (r[i] - c[i]) * math.Log(r[i]/c[i])
	}
	return psi
}
