package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenNow is the reference time for fresh_within in golden runs.
var goldenNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func runSuiteFile(t *testing.T, suitePath, csvPath string) *Report {
	t.Helper()
	src, err := os.ReadFile(suitePath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSuite(src)
	if err != nil {
		t.Fatalf("parse %s: %v", suitePath, err)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := NewCSVRows(f)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Validate(context.Background(), s, rows, Options{Now: goldenNow})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	return rep
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s differs from the run; got:\n%s", path, got)
	}
}

func TestGoldenReports(t *testing.T) {
	for _, name := range []string{"transactions", "iris"} {
		t.Run(name, func(t *testing.T) {
			rep := runSuiteFile(t, filepath.Join("testdata", name+".yaml"), filepath.Join("testdata", name+".csv"))
			js, err := rep.JSON()
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", name+".golden.json"), append(js, '\n'))
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join("testdata", name+".golden.txt"), text.Bytes())
		})
	}
}

// oracleEntry is what testdata/oracle.py computes with pandas, independently
// of this package, for each expectation (by position in the report).
type oracleEntry struct {
	Type            string   `json:"expectation_type"`
	Success         *bool    `json:"success"`
	UnexpectedCount *int     `json:"unexpected_count"`
	MissingCount    *int     `json:"missing_count"`
	Observed        *float64 `json:"observed_value"`
	Indexes         []int    `json:"partial_unexpected_index_list"`
}

func TestReportsAgreeWithPandasOracle(t *testing.T) {
	for _, name := range []string{"transactions", "iris"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", name+".oracle.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []oracleEntry
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			rep := runSuiteFile(t, filepath.Join("testdata", name+".yaml"), filepath.Join("testdata", name+".csv"))
			if len(rep.Results) != len(want) {
				t.Fatalf("%d results, oracle has %d", len(rep.Results), len(want))
			}
			for i, w := range want {
				g := rep.Results[i]
				if g.Config.ExpectationType != w.Type {
					t.Errorf("#%d type %s, oracle %s", i, g.Config.ExpectationType, w.Type)
					continue
				}
				if w.Success != nil && g.Success != *w.Success {
					t.Errorf("#%d %s success %v, oracle %v", i, w.Type, g.Success, *w.Success)
				}
				if w.UnexpectedCount != nil && (g.Result.UnexpectedCount == nil || *g.Result.UnexpectedCount != *w.UnexpectedCount) {
					t.Errorf("#%d %s unexpected_count %v, oracle %d", i, w.Type, deref(g.Result.UnexpectedCount), *w.UnexpectedCount)
				}
				if w.MissingCount != nil && (g.Result.MissingCount == nil || *g.Result.MissingCount != *w.MissingCount) {
					t.Errorf("#%d %s missing_count %v, oracle %d", i, w.Type, deref(g.Result.MissingCount), *w.MissingCount)
				}
				if w.Indexes != nil && !equalInts(g.Result.PartialUnexpectedIndexList, w.Indexes) {
					t.Errorf("#%d %s indexes %v, oracle %v", i, w.Type, g.Result.PartialUnexpectedIndexList, w.Indexes)
				}
				if w.Observed != nil {
					f, ok := toFloat(g.Result.ObservedValue)
					if !ok || !closeTo(f, *w.Observed) {
						t.Errorf("#%d %s observed %v, oracle %v", i, w.Type, g.Result.ObservedValue, *w.Observed)
					}
				}
			}
		})
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

func closeTo(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= 1e-9*(1+max(a, -a, b, -b))
}
