package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Options tune a run. The zero value is usable.
type Options struct {
	// Now is the reference time for fresh_within; zero means time.Now().
	Now time.Time
	// PartialUnexpectedCount caps partial_unexpected_list; 0 means 20.
	PartialUnexpectedCount int
	// MaxQuantileValues caps the values kept for an exact quantile; 0 means
	// 1<<20.
	MaxQuantileValues int
}

func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.PartialUnexpectedCount <= 0 {
		o.PartialUnexpectedCount = 20
	}
	if o.MaxQuantileValues <= 0 {
		o.MaxQuantileValues = 1 << 20
	}
	return o
}

// evaluator consumes rows for one expectation and produces its result.
type evaluator interface {
	observe(cells []string, idx int)
	finish(rows int) Result
}

// Validate runs every expectation of s over rows in one pass. The error is
// non-nil only when the rows cannot be read (a malformed row, names its
// line) or ctx ends; failed expectations are reported in the Report.
func Validate(ctx context.Context, s *Suite, rows Rows, opts Options) (*Report, error) {
	opts = opts.withDefaults()
	cols := rows.Columns()
	index := make(map[string]int, len(cols))
	for i, c := range cols {
		index[c] = i
	}
	nulls := newNullSet(s.NullValues)
	evs := plan(s, cols, index, nulls, opts)

	n := 0
	for {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		cells, line, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("validate %s: %w", s.Name, err)
		}
		if len(cells) != len(cols) {
			return nil, errdefs.InvalidArgument("validate %s: line %d: %d fields, want %d", s.Name, line, len(cells), len(cols))
		}
		for _, e := range evs {
			e.observe(cells, n)
		}
		n++
	}

	rep := &Report{Suite: s.Name, Success: true, Results: make([]Result, 0, len(evs))}
	for _, e := range evs {
		r := e.finish(n)
		rep.Results = append(rep.Results, r)
		st := &rep.Statistics
		st.EvaluatedExpectations++
		if r.Success {
			st.SuccessfulExpectations++
		} else {
			st.UnsuccessfulExpectations++
			if r.Severity != SeverityWarn {
				rep.Success = false
			}
		}
	}
	if st := &rep.Statistics; st.EvaluatedExpectations > 0 {
		st.SuccessPercent = 100 * float64(st.SuccessfulExpectations) / float64(st.EvaluatedExpectations)
	} else {
		rep.Statistics.SuccessPercent = 100
	}
	return rep, nil
}

type nullSet map[string]bool

func newNullSet(vals []string) nullSet {
	if vals == nil {
		vals = []string{""}
	}
	ns := nullSet{}
	for _, v := range vals {
		ns[v] = true
	}
	return ns
}

// plan builds the evaluators: schema expectations first, then the checks.
func plan(s *Suite, cols []string, index map[string]int, nulls nullSet, opts Options) []evaluator {
	var evs []evaluator
	for _, c := range s.Columns {
		base := Result{
			Config:   ExpectationConfig{ExpectationType: "expect_column_to_exist", Kwargs: map[string]any{"column": c.Name}, SuiteLine: c.Pos.Line},
			Severity: SeverityError,
		}
		i, ok := index[c.Name]
		if !ok {
			r := base
			r.ExceptionInfo = &ExceptionInfo{RaisedException: true, ExceptionMessage: missingColumnMsg(c.Name, cols)}
			evs = append(evs, fixed{r})
			continue
		}
		base.Success = true
		evs = append(evs, fixed{base})
		if c.Type != "" && c.Type != TypeString {
			t := c.Type
			evs = append(evs, &mapEval{
				cfg:   ExpectationConfig{ExpectationType: "expect_column_values_to_be_of_type", Kwargs: map[string]any{"column": c.Name, "type_": string(t)}, SuiteLine: c.Pos.Line},
				sev:   SeverityError,
				col:   i,
				nulls: nulls,
				test:  func(v string) bool { return parses(t, v) },
				limit: opts.PartialUnexpectedCount,
			})
		}
		if !c.Nullable {
			evs = append(evs, &mapEval{
				cfg:     ExpectationConfig{ExpectationType: "expect_column_values_to_not_be_null", Kwargs: map[string]any{"column": c.Name}, SuiteLine: c.Pos.Line},
				sev:     SeverityError,
				col:     i,
				nulls:   nulls,
				notNull: true,
				limit:   opts.PartialUnexpectedCount,
			})
		}
	}
	if s.Strict {
		evs = append(evs, strictEval(s, cols))
	}
	for i := range s.Checks {
		evs = append(evs, checkEval(&s.Checks[i], cols, index, nulls, opts))
	}
	return evs
}

func missingColumnMsg(name string, cols []string) string {
	return fmt.Sprintf("column %q is not in the data (columns: %s)", name, strings.Join(cols, ", "))
}

func strictEval(s *Suite, cols []string) evaluator {
	want := make([]string, len(s.Columns))
	declared := map[string]bool{}
	for i, c := range s.Columns {
		want[i] = c.Name
		declared[c.Name] = true
	}
	var extra, missing []string
	present := map[string]bool{}
	for _, c := range cols {
		present[c] = true
		if !declared[c] {
			extra = append(extra, c)
		}
	}
	for _, c := range want {
		if !present[c] {
			missing = append(missing, c)
		}
	}
	observed := slices.Clone(cols)
	if observed == nil {
		observed = []string{}
	}
	r := Result{
		Success:  len(extra) == 0 && len(missing) == 0,
		Config:   ExpectationConfig{ExpectationType: "expect_table_columns_to_match_set", Kwargs: map[string]any{"column_set": want, "exact_match": true}},
		Severity: SeverityError,
		Result:   Detail{ObservedValue: observed},
	}
	if !r.Success {
		mm := map[string]any{}
		if extra != nil {
			mm["unexpected"] = extra
		}
		if missing != nil {
			mm["missing"] = missing
		}
		r.Result.Details = map[string]any{"mismatched": mm}
	}
	return fixed{r}
}

// fixed is an expectation decided before reading rows.
type fixed struct{ r Result }

func (f fixed) observe([]string, int)  {}
func (f fixed) finish(rows int) Result { return f.r }

func checkEval(c *Check, cols []string, index map[string]int, nulls nullSet, opts Options) evaluator {
	cfg := ExpectationConfig{Kwargs: map[string]any{}, SuiteLine: c.Pos.Line}
	sev := c.severity()
	if c.Mostly != nil {
		cfg.Kwargs["mostly"] = *c.Mostly
	}
	if c.Table == "row_count" {
		cfg.ExpectationType = "expect_table_row_count_to_be_between"
		rangeKwargs(cfg.Kwargs, c.Between)
		return &rowCountEval{cfg: cfg, sev: sev, r: *c.Between}
	}
	if c.Columns != nil {
		cfg.ExpectationType = "expect_compound_columns_to_be_unique"
		cfg.Kwargs["column_list"] = c.Columns
		idx := make([]int, len(c.Columns))
		for i, name := range c.Columns {
			j, ok := index[name]
			if !ok {
				return failed(cfg, sev, missingColumnMsg(name, cols))
			}
			idx[i] = j
		}
		return newUniqueEval(cfg, sev, idx, nulls, c.Mostly, opts.PartialUnexpectedCount)
	}
	cfg.Kwargs["column"] = c.Column
	col, ok := index[c.Column]
	me := &mapEval{cfg: cfg, sev: sev, col: col, nulls: nulls, mostly: c.Mostly, limit: opts.PartialUnexpectedCount}
	var ev evaluator = me
	switch {
	case c.NotNull:
		cfg.ExpectationType = "expect_column_values_to_not_be_null"
		me.notNull = true
	case c.Between != nil:
		cfg.ExpectationType = "expect_column_values_to_be_between"
		rangeKwargs(cfg.Kwargs, c.Between)
		r := *c.Between
		me.test = func(v string) bool {
			f, ok := parseNumber(v)
			return ok && r.Contains(f)
		}
	case c.InSet != nil:
		cfg.ExpectationType = "expect_column_values_to_be_in_set"
		cfg.Kwargs["value_set"] = c.InSet
		set := make(map[string]bool, len(c.InSet))
		for _, v := range c.InSet {
			set[v] = true
		}
		me.test = func(v string) bool { return set[v] }
	case c.Regex != "":
		cfg.ExpectationType = "expect_column_values_to_match_regex"
		cfg.Kwargs["regex"] = c.Regex
		re := c.re
		me.test = re.MatchString
	case c.Unique:
		cfg.ExpectationType = "expect_column_values_to_be_unique"
		ev = newUniqueEval(cfg, sev, []int{col}, nulls, c.Mostly, opts.PartialUnexpectedCount)
	case c.Min != nil:
		cfg.ExpectationType = "expect_column_min_to_be_between"
		rangeKwargs(cfg.Kwargs, c.Min)
		ev = &aggEval{cfg: cfg, sev: sev, col: col, nulls: nulls, kind: aggMin, r: *c.Min}
	case c.Max != nil:
		cfg.ExpectationType = "expect_column_max_to_be_between"
		rangeKwargs(cfg.Kwargs, c.Max)
		ev = &aggEval{cfg: cfg, sev: sev, col: col, nulls: nulls, kind: aggMax, r: *c.Max}
	case c.Mean != nil:
		cfg.ExpectationType = "expect_column_mean_to_be_between"
		rangeKwargs(cfg.Kwargs, c.Mean)
		ev = &aggEval{cfg: cfg, sev: sev, col: col, nulls: nulls, kind: aggMean, r: *c.Mean}
	case c.Quantile != nil:
		cfg.ExpectationType = "expect_column_quantile_values_to_be_between"
		cfg.Kwargs["quantile"] = c.Quantile.Q
		rangeKwargs(cfg.Kwargs, &c.Quantile.Range)
		ev = &aggEval{cfg: cfg, sev: sev, col: col, nulls: nulls, kind: aggQuantile, q: c.Quantile.Q, r: c.Quantile.Range, maxVals: opts.MaxQuantileValues}
	case c.NullFraction != nil:
		cfg.ExpectationType = "expect_column_null_fraction_to_be_between"
		rangeKwargs(cfg.Kwargs, c.NullFraction)
		ev = &aggEval{cfg: cfg, sev: sev, col: col, nulls: nulls, kind: aggNullFraction, r: *c.NullFraction}
	case c.FreshWithin > 0:
		cfg.ExpectationType = "expect_column_max_to_be_between"
		cutoff := opts.Now.Add(-c.FreshWithin).UTC()
		cfg.Kwargs["min_value"] = cutoff.Format(time.RFC3339)
		cfg.Kwargs["fresh_within"] = formatDuration(c.FreshWithin)
		ev = &freshEval{cfg: cfg, sev: sev, col: col, nulls: nulls, cutoff: cutoff}
	default:
		return failed(cfg, sev, "check has no assertion")
	}
	me.cfg = cfg
	if !ok {
		return failed(cfg, sev, missingColumnMsg(c.Column, cols))
	}
	return ev
}

func failed(cfg ExpectationConfig, sev Severity, msg string) evaluator {
	return fixed{Result{Config: cfg, Severity: sev, ExceptionInfo: &ExceptionInfo{RaisedException: true, ExceptionMessage: msg}}}
}

func rangeKwargs(kw map[string]any, r *Range) {
	if r.Min != nil {
		kw["min_value"] = *r.Min
	}
	if r.Max != nil {
		kw["max_value"] = *r.Max
	}
	if r.StrictMin {
		kw["strict_min"] = true
	}
	if r.StrictMax {
		kw["strict_max"] = true
	}
}

// parseNumber parses a finite decimal number.
func parseNumber(v string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// parseTime parses the timestamp layouts the package accepts; times without
// a zone are UTC.
func parseTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "false":
		return true
	}
	return false
}

func parses(t Type, v string) bool {
	switch t {
	case TypeInt:
		_, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return err == nil
	case TypeFloat:
		_, ok := parseNumber(v)
		return ok
	case TypeBool:
		return parseBool(v)
	case TypeTimestamp:
		_, ok := parseTime(v)
		return ok
	}
	return true
}
