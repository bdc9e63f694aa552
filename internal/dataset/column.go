package dataset

import (
	"math"
	"slices"
	"strings"
	"time"
)

// column accumulates the statistics of one column in a single pass.
type column struct {
	name  string
	kinds uint8
	nulls int64
	count int64 // non-null values

	// Welford's running mean and sum of squared deviations, and the
	// quantile sketch, over numeric (and datetime) values; dropped when the
	// column becomes a string column.
	n        int64
	mean, m2 float64
	sketch   *Sketch

	// Exact phase: every distinct raw value and its count.
	exact  map[string]int32
	counts []int64
	// After DistinctExactLimit distinct values: HyperLogLog over the raw
	// bytes and, for string and boolean columns, Space-Saving.
	hll *hll
	ss  *spaceSaving
	// topFrom is the number of non-null values seen before category
	// counting (re)started: 0 when the counts cover the whole column.
	topFrom int64
}

func newColumn(name string) *column {
	return &column{name: name, exact: make(map[string]int32), sketch: NewSketch()}
}

func (c *column) add(v []byte) {
	if len(v) == 0 {
		c.nulls++
		return
	}
	c.count++
	c.track(v)
	if c.kinds&kindString != 0 {
		return
	}
	k, x := classify(v)
	c.kinds |= k
	if typeOf(c.kinds) == TypeString {
		c.kinds |= kindString
		c.dropNumeric(v)
		return
	}
	if k == kindBool {
		return
	}
	c.n++
	d := x - c.mean
	c.mean += d / float64(c.n)
	c.m2 += d * (x - c.mean)
	c.sketch.Add(x)
}

// track counts v for distinct values and categories.
func (c *column) track(v []byte) {
	if c.exact != nil {
		if i, ok := c.exact[string(v)]; ok {
			c.counts[i]++
			return
		}
		if len(c.counts) < DistinctExactLimit {
			c.exact[string(v)] = int32(len(c.counts))
			c.counts = append(c.counts, 1)
			return
		}
		c.overflow()
	}
	c.hll.add(hashBytes(v))
	if c.ss != nil {
		c.ss.add(v)
	}
}

// overflow leaves the exact phase: distinct values go to HyperLogLog;
// categories go to Space-Saving for string and boolean columns and are
// dropped for numeric ones (restarted if the column turns string).
func (c *column) overflow() {
	c.hll = new(hll)
	seed := make([]CategoryCount, 0, len(c.counts))
	for v, i := range c.exact {
		c.hll.add(hashBytes([]byte(v)))
		seed = append(seed, CategoryCount{Value: v, Count: c.counts[i]})
	}
	if t := typeOf(c.kinds); t == TypeString || t == TypeBoolean {
		c.ss = newSpaceSaving(seed)
	}
	c.exact, c.counts = nil, nil
}

// dropNumeric forgets numeric statistics when the column becomes a string
// column, and restarts category counting if it had been dropped.
// v is the value that made it a string column (already tracked).
func (c *column) dropNumeric(v []byte) {
	c.n, c.mean, c.m2, c.sketch = 0, 0, 0, nil
	if c.exact == nil && c.ss == nil {
		c.ss = newSpaceSaving(nil)
		c.topFrom = c.count - 1
		c.ss.add(v)
	}
}

// ColumnProfile is the profile of one column.
type ColumnProfile struct {
	Name string     `json:"name"`
	Type ColumnType `json:"type"`
	// Count is the number of non-null values, Nulls of empty fields.
	Count int64 `json:"count"`
	Nulls int64 `json:"nulls"`
	// Distinct counts distinct non-null values: by value for numeric,
	// boolean and datetime columns while exact, by spelling otherwise.
	Distinct      int64 `json:"distinct"`
	DistinctExact bool  `json:"distinct_exact"`
	// Numeric is set for integer, float and datetime (Unix seconds) columns.
	Numeric *NumericStats `json:"numeric,omitempty"`
	// Top holds the TopN most frequent values of string and boolean columns
	// (booleans as "true"/"false"). TopExact is false once Space-Saving
	// took over; TopPartial counts the leading values not counted at all
	// (a column that looked numeric past DistinctExactLimit values and then
	// turned string).
	Top        []CategoryCount `json:"top,omitempty"`
	TopExact   bool            `json:"top_exact,omitempty"`
	TopPartial int64           `json:"top_partial,omitempty"`
}

// NullFraction is Nulls / (Count + Nulls), 0 for an empty column.
func (c *ColumnProfile) NullFraction() float64 {
	if c.Count+c.Nulls == 0 {
		return 0
	}
	return float64(c.Nulls) / float64(c.Count+c.Nulls)
}

// NumericStats summarises the values of a numeric column.
type NumericStats struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation (ddof = 1, as pandas' std()),
	// 0 for fewer than two values.
	Std       float64    `json:"std"`
	Quantiles []Quantile `json:"quantiles"`
	// QuantilesExact is true while the sketch held every value.
	QuantilesExact bool      `json:"quantiles_exact"`
	Histogram      Histogram `json:"histogram"`
	// Sketch is the KLL sketch the quantiles and histogram come from; Diff
	// uses it for PSI and Kolmogorov–Smirnov.
	Sketch *Sketch `json:"sketch"`
}

// Quantile is one estimated quantile.
type Quantile struct {
	Q     float64 `json:"q"`
	Value float64 `json:"value"`
}

// ReportedQuantiles are the quantiles a profile reports.
var reportedQuantiles = [...]float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}

// HistogramBins is the number of histogram bins of a numeric column.
const HistogramBins = 20

func (c *column) profile() ColumnProfile {
	t := typeOf(c.kinds)
	p := ColumnProfile{Name: c.name, Type: t, Count: c.count, Nulls: c.nulls}
	if c.exact != nil {
		p.DistinctExact = true
		p.Distinct = c.exactDistinct(t)
	} else {
		p.Distinct = c.hll.estimate()
	}
	if t.Numeric() && c.n > 0 {
		p.Numeric = c.numeric()
	}
	if t == TypeString || t == TypeBoolean {
		p.Top, p.TopExact = c.top(t)
		p.TopPartial = c.topFrom
	}
	return p
}

func (c *column) numeric() *NumericStats {
	s := &NumericStats{Min: c.sketch.Min, Max: c.sketch.Max, Mean: c.mean, Sketch: c.sketch}
	if c.n > 1 {
		s.Std = math.Sqrt(c.m2 / float64(c.n-1))
	}
	if !isFinite(s.Mean) || !isFinite(s.Std) {
		// The running sums overflowed (values near ±1.8e308).
		s.Mean, s.Std = 0, 0
	}
	qs := c.sketch.Quantiles(reportedQuantiles[:])
	for i, q := range reportedQuantiles {
		s.Quantiles = append(s.Quantiles, Quantile{Q: q, Value: qs[i]})
	}
	s.QuantilesExact = c.sketch.IsExact()
	if isFinite(s.Max - s.Min) {
		s.Histogram = c.sketch.Histogram(HistogramBins)
	}
	return s
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// exactDistinct counts distinct values by value for typed columns.
func (c *column) exactDistinct(t ColumnType) int64 {
	switch t {
	case TypeInteger, TypeFloat, TypeDatetime, TypeBoolean:
		seen := make(map[float64]struct{}, len(c.exact))
		for v := range c.exact {
			_, x := classify([]byte(v))
			if t == TypeBoolean {
				b, _ := parseBool([]byte(v))
				x = 0
				if b {
					x = 1
				}
			}
			seen[x] = struct{}{}
		}
		return int64(len(seen))
	}
	return int64(len(c.exact))
}

// top returns the TopN categories: booleans folded to "true"/"false".
func (c *column) top(t ColumnType) ([]CategoryCount, bool) {
	var all []CategoryCount
	exact := c.exact != nil
	if exact {
		all = make([]CategoryCount, 0, len(c.exact))
		for v, i := range c.exact {
			all = append(all, CategoryCount{Value: v, Count: c.counts[i]})
		}
	} else if c.ss != nil {
		all = c.ss.top(len(c.ss.heap))
	}
	if t == TypeBoolean {
		var tf [2]CategoryCount
		tf[0].Value, tf[1].Value = "true", "false"
		for _, cc := range all {
			i := 1
			if strings.EqualFold(cc.Value, "true") {
				i = 0
			}
			tf[i].Count += cc.Count
			tf[i].Error += cc.Error
		}
		all = nil
		for _, cc := range tf {
			if cc.Count > 0 {
				all = append(all, cc)
			}
		}
	}
	slices.SortFunc(all, byCountDesc)
	return all[:min(TopN, len(all))], exact
}

// formatTime renders Unix seconds as RFC 3339 in UTC.
func formatTime(sec float64) string {
	s, frac := math.Modf(sec)
	// float64 seconds hold about a microsecond at today's dates: round.
	return time.Unix(int64(s), int64(frac*1e9)).UTC().Round(time.Millisecond).Format(time.RFC3339Nano)
}
