package validate

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"sort"
	"time"
)

// mapEval is a per-row check (GE's column map expectations).
type mapEval struct {
	cfg     ExpectationConfig
	sev     Severity
	col     int
	nulls   nullSet
	notNull bool              // the null check itself: nulls are the unexpected values
	test    func(string) bool // for the others: nulls are skipped
	mostly  *float64
	limit   int

	missing, unexpected int
	values              []any
	indexes             []int
}

func (m *mapEval) observe(cells []string, idx int) {
	v := cells[m.col]
	if m.nulls[v] {
		m.missing++
		if m.notNull {
			m.addUnexpected(nil, idx)
		}
		return
	}
	if !m.notNull && !m.test(v) {
		m.addUnexpected(v, idx)
	}
}

func (m *mapEval) addUnexpected(v any, idx int) {
	m.unexpected++
	if len(m.values) < m.limit {
		m.values = append(m.values, v)
		m.indexes = append(m.indexes, idx)
	}
}

func (m *mapEval) finish(rows int) Result {
	if m.notNull {
		// GE: nulls are what is counted, so the denominator is every row and
		// the missing_* fields are left out.
		return mapResult(m.cfg, m.sev, rows, nil, m.unexpected, m.values, m.indexes, m.mostly)
	}
	nonnull := rows - m.missing
	return mapResult(m.cfg, m.sev, rows, &nonnull, m.unexpected, m.values, m.indexes, m.mostly)
}

// mapResult follows GE's _format_map_output and _mostly_success: success
// when the passing fraction of the denominator (non-null cells, or all rows
// when nonnull is nil) is at least mostly (1 when unset); vacuously true
// when the denominator is 0.
func mapResult(cfg ExpectationConfig, sev Severity, rows int, nonnull *int, unexpected int, values []any, idx []int, mostly *float64) Result {
	denom := rows
	if nonnull != nil {
		denom = *nonnull
	}
	success := true
	if denom > 0 {
		if mostly == nil {
			success = unexpected == 0
		} else {
			success = float64(denom-unexpected)/float64(denom) >= *mostly
		}
	}
	d := Detail{
		ElementCount:               ptr(rows),
		UnexpectedCount:            ptr(unexpected),
		PartialUnexpectedList:      values,
		PartialUnexpectedIndexList: idx,
	}
	if d.PartialUnexpectedList == nil {
		d.PartialUnexpectedList = []any{}
		d.PartialUnexpectedIndexList = []int{}
	}
	if rows > 0 {
		total := pct(unexpected, rows)
		d.UnexpectedPercentTotal = &total
		d.UnexpectedPercent = &total
	}
	if nonnull != nil {
		d.MissingCount = ptr(rows - *nonnull)
		if rows > 0 {
			d.MissingPercent = ptr(pct(rows-*nonnull, rows))
		}
		d.UnexpectedPercent = nil
		if *nonnull > 0 {
			nm := pct(unexpected, *nonnull)
			d.UnexpectedPercentNonmissing = &nm
			d.UnexpectedPercent = &nm
		}
	}
	return Result{Success: success, Config: cfg, Severity: sev, Result: d}
}

func ptr[T any](v T) *T { return &v }

func pct(n, d int) float64 { return 100 * float64(n) / float64(d) }

// uniqueEval finds duplicated values (or tuples of values) by 64-bit hash.
// Every occurrence of a duplicated value is unexpected, as in GE.
type uniqueEval struct {
	cfg    ExpectationConfig
	sev    Severity
	cols   []int
	nulls  nullSet
	mostly *float64
	limit  int
	seed   maphash.Seed

	firsts  map[uint64]firstSeen
	missing int
	unexp   int
	found   []foundDup
}

// firstSeen is the row of a value's first occurrence (its value equals the
// duplicate's, so only the index is kept).
type firstSeen struct {
	idx int
	dup bool
}

type foundDup struct {
	idx   int
	value any
}

func newUniqueEval(cfg ExpectationConfig, sev Severity, cols []int, nulls nullSet, mostly *float64, limit int) *uniqueEval {
	return &uniqueEval{cfg: cfg, sev: sev, cols: cols, nulls: nulls, mostly: mostly, limit: limit,
		seed: maphash.MakeSeed(), firsts: map[uint64]firstSeen{}}
}

func (u *uniqueEval) observe(cells []string, idx int) {
	var h maphash.Hash
	h.SetSeed(u.seed)
	allNull := true
	for _, c := range u.cols {
		v := cells[c]
		if !u.nulls[v] {
			allNull = false
		}
		// Length-prefix each cell so ("a,b","c") and ("a","b,c") differ.
		var n [8]byte
		for i := range 8 {
			n[i] = byte(len(v) >> (8 * i))
		}
		h.Write(n[:])
		h.WriteString(v)
	}
	// Single columns skip null cells; compound keys skip all-null rows (GE's
	// ignore_row_if="all_values_are_missing").
	if allNull {
		u.missing++
		return
	}
	key := h.Sum64()
	f, ok := u.firsts[key]
	if !ok {
		u.firsts[key] = firstSeen{idx: idx}
		return
	}
	if !f.dup {
		f.dup = true
		u.firsts[key] = f
		u.unexp++
		if len(u.found) < u.limit {
			u.found = append(u.found, foundDup{f.idx, u.value(cells)})
		}
	}
	u.unexp++
	if len(u.found) < u.limit {
		u.found = append(u.found, foundDup{idx, u.value(cells)})
	}
}

func (u *uniqueEval) value(cells []string) any {
	if len(u.cols) == 1 {
		return cells[u.cols[0]]
	}
	vs := make([]string, len(u.cols))
	for i, c := range u.cols {
		vs[i] = cells[c]
	}
	return vs
}

func (u *uniqueEval) finish(rows int) Result {
	sort.SliceStable(u.found, func(i, j int) bool { return u.found[i].idx < u.found[j].idx })
	vals := make([]any, len(u.found))
	idx := make([]int, len(u.found))
	for i, f := range u.found {
		vals[i], idx[i] = f.value, f.idx
	}
	nonnull := rows - u.missing
	return mapResult(u.cfg, u.sev, rows, &nonnull, u.unexp, vals, idx, u.mostly)
}

type aggKind int

const (
	aggMin aggKind = iota
	aggMax
	aggMean
	aggQuantile
	aggNullFraction
)

// aggEval computes one aggregate over the numeric non-null cells of a column.
type aggEval struct {
	cfg     ExpectationConfig
	sev     Severity
	col     int
	nulls   nullSet
	kind    aggKind
	r       Range
	q       float64
	maxVals int

	n, missing, nonNumeric int
	min, max, sum          float64
	vals                   []float64
	overflow               bool
}

func (a *aggEval) observe(cells []string, _ int) {
	v := cells[a.col]
	if a.nulls[v] {
		a.missing++
		return
	}
	if a.kind == aggNullFraction {
		return
	}
	f, ok := parseNumber(v)
	if !ok {
		a.nonNumeric++
		return
	}
	if a.n == 0 || f < a.min {
		a.min = f
	}
	if a.n == 0 || f > a.max {
		a.max = f
	}
	a.n++
	a.sum += f
	if a.kind == aggQuantile && !a.overflow {
		if len(a.vals) >= a.maxVals {
			a.overflow, a.vals = true, nil
		} else {
			a.vals = append(a.vals, f)
		}
	}
}

func (a *aggEval) finish(rows int) Result {
	res := Result{Config: a.cfg, Severity: a.sev}
	var obs float64
	switch a.kind {
	case aggNullFraction:
		if rows == 0 {
			res.ExceptionInfo = &ExceptionInfo{RaisedException: true, ExceptionMessage: "no rows: null fraction undefined"}
			return res
		}
		obs = float64(a.missing) / float64(rows)
	default:
		if a.overflow {
			res.ExceptionInfo = &ExceptionInfo{RaisedException: true, ExceptionMessage: fmt.Sprintf("more than %d values: exact quantile not computed", a.maxVals)}
			return res
		}
		if a.n == 0 {
			res.ExceptionInfo = &ExceptionInfo{RaisedException: true, ExceptionMessage: "column has no numeric values"}
			return res
		}
		switch a.kind {
		case aggMin:
			obs = a.min
		case aggMax:
			obs = a.max
		case aggMean:
			obs = a.sum / float64(a.n)
		case aggQuantile:
			obs = quantile(a.vals, a.q)
		}
	}
	res.Success = a.r.Contains(obs)
	res.Result.ObservedValue = obs
	res.Result.ElementCount = ptr(rows)
	res.Result.MissingCount = ptr(a.missing)
	if a.nonNumeric > 0 {
		res.Result.Details = map[string]any{"non_numeric_count": a.nonNumeric}
	}
	return res
}

// quantile is numpy's default (linear interpolation between closest ranks).
func quantile(xs []float64, q float64) float64 {
	slices.Sort(xs)
	pos := q * float64(len(xs)-1)
	lo := math.Floor(pos)
	i := int(lo)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	return xs[i] + (pos-lo)*(xs[i+1]-xs[i])
}

// freshEval checks that the latest timestamp is at or after cutoff.
type freshEval struct {
	cfg    ExpectationConfig
	sev    Severity
	col    int
	nulls  nullSet
	cutoff time.Time

	latest     time.Time
	seen       bool
	missing    int
	unparsable int
}

func (f *freshEval) observe(cells []string, _ int) {
	v := cells[f.col]
	if f.nulls[v] {
		f.missing++
		return
	}
	t, ok := parseTime(v)
	if !ok {
		f.unparsable++
		return
	}
	if !f.seen || t.After(f.latest) {
		f.latest, f.seen = t, true
	}
}

func (f *freshEval) finish(rows int) Result {
	res := Result{Config: f.cfg, Severity: f.sev}
	if !f.seen {
		res.ExceptionInfo = &ExceptionInfo{RaisedException: true, ExceptionMessage: "column has no timestamp values"}
		return res
	}
	res.Success = !f.latest.Before(f.cutoff)
	res.Result.ObservedValue = f.latest.UTC().Format(time.RFC3339Nano)
	res.Result.ElementCount = ptr(rows)
	res.Result.MissingCount = ptr(f.missing)
	if f.unparsable > 0 {
		res.Result.Details = map[string]any{"unparsable_count": f.unparsable}
	}
	return res
}

type rowCountEval struct {
	cfg ExpectationConfig
	sev Severity
	r   Range
}

func (rowCountEval) observe([]string, int) {}

func (e *rowCountEval) finish(rows int) Result {
	return Result{Success: e.r.Contains(float64(rows)), Config: e.cfg, Severity: e.sev, Result: Detail{ObservedValue: rows}}
}
