package validate

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// runOne validates a one-check suite over a single column "x" and returns
// the check's result (the last one).
func runOne(t *testing.T, check string, values ...string) Result {
	t.Helper()
	s, err := ParseSuite([]byte("suite: t\nchecks:\n  - " + check + "\n"))
	if err != nil {
		t.Fatalf("parse %q: %v", check, err)
	}
	data := make([][]string, len(values))
	for i, v := range values {
		data[i] = []string{v}
	}
	rep, err := Validate(context.Background(), s, &SliceRows{Header: []string{"x"}, Data: data}, Options{Now: goldenNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 {
		t.Fatalf("got %d results", len(rep.Results))
	}
	return rep.Results[0]
}

func TestMapChecks(t *testing.T) {
	tests := []struct {
		name       string
		check      string
		values     []string
		success    bool
		unexpected int
		missing    int // -1: field absent (not_null)
		pct        float64
		idx        []int
	}{
		{"not_null all present", "{column: x, not_null: true}", []string{"a", "b"}, true, 0, -1, 0, nil},
		{"not_null counts nulls over all rows", "{column: x, not_null: true}", []string{"a", "", "b", ""}, false, 2, -1, 50, []int{1, 3}},
		{"not_null mostly boundary met", "{column: x, not_null: true, mostly: 0.75}", []string{"a", "", "b", "c"}, true, 1, -1, 25, []int{1}},
		{"not_null mostly boundary missed", "{column: x, not_null: true, mostly: 0.76}", []string{"a", "", "b", "c"}, false, 1, -1, 25, []int{1}},
		{"not_null empty table is vacuous", "{column: x, not_null: true}", nil, true, 0, -1, 0, nil},
		{"between inclusive", "{column: x, between: {min: 1, max: 3}}", []string{"1", "2", "3"}, true, 0, 0, 0, nil},
		{"between strict", "{column: x, between: {min: 1, max: 3, strict_min: true, strict_max: true}}", []string{"1", "2", "3"}, false, 2, 0, 100 * 2.0 / 3, []int{0, 2}},
		{"between open max", "{column: x, between: {min: 0}}", []string{"5", "1e9", "-1"}, false, 1, 0, 100.0 / 3, []int{2}},
		{"between non-numeric is unexpected", "{column: x, between: {min: 0, max: 9}}", []string{"1", "x", "NaN"}, false, 2, 0, 100 * 2.0 / 3, []int{1, 2}},
		// GE: nulls are excluded from the mostly denominator of value checks.
		{"between nulls excluded from mostly", "{column: x, between: {max: 5}, mostly: 0.5}", []string{"", "", "", "1", "9"}, true, 1, 3, 50, []int{4}},
		{"between mostly just missed", "{column: x, between: {max: 5}, mostly: 0.51}", []string{"", "", "", "1", "9"}, false, 1, 3, 50, []int{4}},
		{"between all null is vacuous", "{column: x, between: {max: 5}}", []string{"", ""}, true, 0, 2, 0, nil},
		{"in_set", "{column: x, in_set: [DE, FR]}", []string{"DE", "UK", "", "FR", "de"}, false, 2, 1, 50, []int{1, 4}},
		{"in_set mostly", "{column: x, in_set: [DE, FR], mostly: 0.5}", []string{"DE", "UK", "", "FR", "de"}, true, 2, 1, 50, []int{1, 4}},
		{"regex search semantics", "{column: x, regex: 'b+'}", []string{"abc", "xyz", "bb"}, false, 1, 0, 100.0 / 3, []int{1}},
		{"regex anchored", "{column: x, regex: '^[^@]+@[^@]+$', mostly: 0.6}", []string{"a@b", "a@@b", "c@d", ""}, true, 1, 1, 100.0 / 3, []int{1}},
		{"unique marks every occurrence", "{column: x, unique: true}", []string{"1", "2", "1", "3", "1", ""}, false, 3, 1, 60, []int{0, 2, 4}},
		{"unique ignores null duplicates", "{column: x, unique: true}", []string{"1", "", "", "2"}, true, 0, 2, 0, nil},
		{"unique mostly", "{column: x, unique: true, mostly: 0.5}", []string{"1", "1", "2", "3"}, true, 2, 0, 50, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOne(t, tt.check, tt.values...)
			if r.ExceptionInfo != nil {
				t.Fatalf("exception: %s", r.ExceptionInfo.ExceptionMessage)
			}
			d := r.Result
			if r.Success != tt.success {
				t.Errorf("success = %v, want %v", r.Success, tt.success)
			}
			if *d.ElementCount != len(tt.values) {
				t.Errorf("element_count = %d", *d.ElementCount)
			}
			if *d.UnexpectedCount != tt.unexpected {
				t.Errorf("unexpected_count = %d, want %d", *d.UnexpectedCount, tt.unexpected)
			}
			if tt.missing < 0 {
				if d.MissingCount != nil || d.UnexpectedPercentNonmissing != nil {
					t.Errorf("not_null must leave out missing_*: %+v", d)
				}
			} else if *d.MissingCount != tt.missing {
				t.Errorf("missing_count = %d, want %d", *d.MissingCount, tt.missing)
			}
			if d.UnexpectedPercent != nil && !closeTo(*d.UnexpectedPercent, tt.pct) {
				t.Errorf("unexpected_percent = %v, want %v", *d.UnexpectedPercent, tt.pct)
			}
			if !slices.Equal(d.PartialUnexpectedIndexList, tt.idx) && !(len(tt.idx) == 0 && len(d.PartialUnexpectedIndexList) == 0) {
				t.Errorf("partial_unexpected_index_list = %v, want %v", d.PartialUnexpectedIndexList, tt.idx)
			}
			if len(d.PartialUnexpectedList) != len(d.PartialUnexpectedIndexList) {
				t.Errorf("value and index lists differ in length")
			}
		})
	}
}

func TestPartialListIsCapped(t *testing.T) {
	vals := make([]string, 50)
	for i := range vals {
		vals[i] = "bad"
	}
	r := runOne(t, "{column: x, in_set: [good]}", vals...)
	if *r.Result.UnexpectedCount != 50 || len(r.Result.PartialUnexpectedList) != 20 || r.Result.PartialUnexpectedIndexList[19] != 19 {
		t.Fatalf("got count %d, %d values", *r.Result.UnexpectedCount, len(r.Result.PartialUnexpectedList))
	}
}

func TestAggregateChecks(t *testing.T) {
	tests := []struct {
		name     string
		check    string
		values   []string
		success  bool
		observed float64
	}{
		{"min", "{column: x, min: {min: 1}}", []string{"3", "", "1", "2"}, true, 1},
		{"max fails", "{column: x, max: {max: 2}}", []string{"3", "", "1", "2"}, false, 3},
		{"mean skips nulls", "{column: x, mean: {min: 2, max: 2}}", []string{"3", "", "1", "2"}, true, 2},
		{"mean strict", "{column: x, mean: {min: 2, strict_min: true}}", []string{"3", "1"}, false, 2},
		{"median interpolates", "{column: x, quantile: {q: 0.5, min: 2.5, max: 2.5}}", []string{"4", "1", "3", "2"}, true, 2.5},
		{"q 0.9 linear", "{column: x, quantile: {q: 0.9, max: 10}}", []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, true, 9.1},
		{"q 1 is max", "{column: x, quantile: {q: 1, max: 10}}", []string{"11", "2"}, false, 11},
		{"null fraction", "{column: x, null_fraction: {max: 0.25}}", []string{"", "a", "b", "c"}, true, 0.25},
		{"null fraction over", "{column: x, null_fraction: {max: 0.2}}", []string{"", "a", "b", "c"}, false, 0.25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOne(t, tt.check, tt.values...)
			if r.ExceptionInfo != nil {
				t.Fatalf("exception: %s", r.ExceptionInfo.ExceptionMessage)
			}
			got, ok := toFloat(r.Result.ObservedValue)
			if !ok || !closeTo(got, tt.observed) {
				t.Errorf("observed_value = %v, want %v", r.Result.ObservedValue, tt.observed)
			}
			if r.Success != tt.success {
				t.Errorf("success = %v, want %v", r.Success, tt.success)
			}
		})
	}
}

func TestAggregateWithoutNumbersFails(t *testing.T) {
	r := runOne(t, "{column: x, mean: {min: 0}}", "", "a")
	if r.Success || r.ExceptionInfo == nil || !strings.Contains(r.ExceptionInfo.ExceptionMessage, "no numeric") {
		t.Fatalf("got %+v", r)
	}
}

func TestQuantileBound(t *testing.T) {
	s, err := ParseSuite([]byte("suite: t\nchecks:\n  - {column: x, quantile: {q: 0.5, max: 9}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows := &SliceRows{Header: []string{"x"}, Data: [][]string{{"1"}, {"2"}, {"3"}}}
	rep, err := Validate(context.Background(), s, rows, Options{MaxQuantileValues: 2})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Results[0]; r.Success || r.ExceptionInfo == nil {
		t.Fatalf("over the bound must fail with an exception, got %+v", r)
	}
}

func TestFreshness(t *testing.T) {
	tests := []struct {
		check   string
		values  []string
		success bool
	}{
		{"{column: x, fresh_within: 24h}", []string{"2026-12-01", "2026-12-03T12:00:00Z", ""}, true}, // exactly at the cutoff
		{"{column: x, fresh_within: 23h}", []string{"2026-12-01", "2026-12-03T12:00:00Z"}, false},
		{"{column: x, fresh_within: 2d}", []string{"2026-12-02 12:00:00"}, true},
		{"{column: x, fresh_within: 90m}", []string{"2026-12-04T11:00:00+01:00"}, false}, // 10:00Z
	}
	for _, tt := range tests {
		r := runOne(t, tt.check, tt.values...)
		if r.Success != tt.success {
			t.Errorf("%s over %v: success = %v (observed %v)", tt.check, tt.values, r.Success, r.Result.ObservedValue)
		}
	}
}

func TestRowCountAndSeverity(t *testing.T) {
	src := "suite: t\nchecks:\n  - {table: row_count, between: {min: 3}}\n  - {table: row_count, between: {max: 1}, severity: warn}\n"
	s, err := ParseSuite([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rows := &SliceRows{Header: []string{"x"}, Data: [][]string{{"1"}, {"2"}, {"3"}}}
	rep, err := Validate(context.Background(), s, rows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Results[0].Success || rep.Results[0].Result.ObservedValue != 3 || rep.Results[1].Success {
		t.Fatalf("results %+v", rep.Results)
	}
	if !rep.Success {
		t.Errorf("a failed warn check must not fail the suite")
	}
	st := rep.Statistics
	if st.EvaluatedExpectations != 2 || st.SuccessfulExpectations != 1 || st.UnsuccessfulExpectations != 1 || st.SuccessPercent != 50 {
		t.Errorf("statistics %+v", st)
	}
}

func TestSchema(t *testing.T) {
	src := `suite: t
columns:
  - {name: id, type: int, nullable: false}
  - {name: when, type: timestamp}
  - {name: ok, type: bool}
  - {name: gone}
strict: true
`
	s, err := ParseSuite([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rows := &SliceRows{Header: []string{"id", "when", "ok", "extra"}, Data: [][]string{
		{"1", "2026-01-01", "true", "a"},
		{"1.5", "yesterday", "TRUE", "b"},
		{"", "", "yes", "c"},
	}}
	rep, err := Validate(context.Background(), s, rows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]Result{}
	for _, r := range rep.Results {
		byType[r.Config.ExpectationType] = append(byType[r.Config.ExpectationType], r)
	}
	types := byType["expect_column_values_to_be_of_type"]
	if len(types) != 3 {
		t.Fatalf("of_type results: %d", len(types))
	}
	for i, want := range []int{1, 1, 1} { // 1.5; yesterday; yes
		if *types[i].Result.UnexpectedCount != want {
			t.Errorf("%v: unexpected %d", types[i].Config.Kwargs, *types[i].Result.UnexpectedCount)
		}
	}
	if nn := byType["expect_column_values_to_not_be_null"]; len(nn) != 1 || nn[0].Success {
		t.Errorf("nullable: false must fail on the null id: %+v", nn)
	}
	exist := byType["expect_column_to_exist"]
	if len(exist) != 4 || exist[3].Success || exist[3].ExceptionInfo == nil {
		t.Errorf("missing column gone must fail: %+v", exist)
	}
	set := byType["expect_table_columns_to_match_set"]
	if len(set) != 1 || set[0].Success {
		t.Fatalf("strict must fail: %+v", set)
	}
	mm := set[0].Result.Details["mismatched"].(map[string]any)
	if !slices.Equal(mm["unexpected"].([]string), []string{"extra"}) || !slices.Equal(mm["missing"].([]string), []string{"gone"}) {
		t.Errorf("mismatched = %v", mm)
	}
	if rep.Success {
		t.Errorf("suite must fail")
	}
}

func TestUnknownColumnIsAFailedCheck(t *testing.T) {
	for _, check := range []string{
		"{column: nope, not_null: true}", "{column: nope, mean: {min: 1}}", "{columns: [x, nope], unique: true}",
		"{column: nope, unique: true}", "{column: nope, fresh_within: 1h}",
	} {
		r := runOne(t, check, "1")
		if r.Success || r.ExceptionInfo == nil || !strings.Contains(r.ExceptionInfo.ExceptionMessage, `column "nope" is not in the data`) {
			t.Errorf("%s: %+v", check, r)
		}
		if r.Config.ExpectationType == "" {
			t.Errorf("%s: expectation type missing", check)
		}
	}
}

func TestCompoundUnique(t *testing.T) {
	s, err := ParseSuite([]byte("suite: t\nchecks:\n  - {columns: [a, b], unique: true}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows := &SliceRows{Header: []string{"a", "b"}, Data: [][]string{
		{"x", "1"}, {"x", "2"}, {"x", "1"}, {"", ""}, {"", ""}, {"x,1", ""}, {"x", ",1"}, {"", "2"}, {"", "2"},
	}}
	rep, err := Validate(context.Background(), s, rows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Results[0].Result
	// rows 0 and 2 duplicate; 3 and 4 are all-null (skipped); 5 and 6 only
	// collide if cells were joined naively; 7 and 8 duplicate with one null.
	if *d.UnexpectedCount != 4 || *d.MissingCount != 2 || !slices.Equal(d.PartialUnexpectedIndexList, []int{0, 2, 7, 8}) {
		t.Fatalf("got %d unexpected, %d missing, idx %v", *d.UnexpectedCount, *d.MissingCount, d.PartialUnexpectedIndexList)
	}
}

func TestNullValues(t *testing.T) {
	s, err := ParseSuite([]byte("suite: t\nnull_values: [NA, '']\nchecks:\n  - {column: x, not_null: true}\n  - {column: x, between: {min: 0}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows := &SliceRows{Header: []string{"x"}, Data: [][]string{{"NA"}, {""}, {"1"}}}
	rep, err := Validate(context.Background(), s, rows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if *rep.Results[0].Result.UnexpectedCount != 2 || !rep.Results[1].Success || *rep.Results[1].Result.MissingCount != 2 {
		t.Fatalf("results %+v", rep.Results)
	}
}

func TestCSVWrongFieldCount(t *testing.T) {
	s, _ := ParseSuite([]byte("suite: t\n"))
	rows, err := NewCSVRows(strings.NewReader("a,b\n1,2\n3\n4,5\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Validate(context.Background(), s, rows, Options{})
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewCSVRows(strings.NewReader("")); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("empty input: %v", err)
	}
	if _, err := NewCSVRows(strings.NewReader("a,a\n")); err == nil {
		t.Errorf("duplicate header accepted")
	}
	rows, _ = NewCSVRows(strings.NewReader("a\n\"x\n"))
	if _, err := Validate(context.Background(), s, rows, Options{}); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bare quote: %v", err)
	}
}

func TestCSVLineNumbers(t *testing.T) {
	rows, err := NewCSVRows(strings.NewReader("a\n\"multi\nline\"\nb\n"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for {
		_, line, err := rows.Next()
		if err != nil {
			break
		}
		lines = append(lines, line)
	}
	if !slices.Equal(lines, []int{2, 4}) {
		t.Fatalf("lines %v", lines)
	}
}

func TestValidateHonoursContext(t *testing.T) {
	s, _ := ParseSuite([]byte("suite: t\n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Validate(ctx, s, &SliceRows{Header: []string{"x"}, Data: [][]string{{"1"}}}, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestReportText(t *testing.T) {
	r := runOne(t, "{column: x, in_set: [a], severity: warn}", "a", "b")
	rep := &Report{Suite: "t", Success: true, Results: []Result{r}, Statistics: Statistics{1, 0, 1, 0}}
	var b strings.Builder
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"suite t: PASSED", "WARN expect_column_values_to_be_in_set(column=x", `row 1: "b"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}

// shortRows is a Rows that breaks its contract by returning a short row.
type shortRows struct{ done bool }

func (s *shortRows) Columns() []string { return []string{"a", "b"} }
func (s *shortRows) Next() ([]string, int, error) {
	if s.done {
		return nil, 0, io.EOF
	}
	s.done = true
	return []string{"1"}, 7, nil
}

func TestShortRowFromCustomSource(t *testing.T) {
	s, _ := ParseSuite([]byte("suite: t\nchecks:\n  - {column: b, not_null: true}\n"))
	if _, err := Validate(context.Background(), s, &shortRows{}, Options{}); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := Infer(context.Background(), &shortRows{}, InferOptions{}); !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "line 7") {
		t.Fatalf("Infer: %v", err)
	}
}
