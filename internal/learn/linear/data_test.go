package linear

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/learn"
)

const dataDir = "../testdata/"

// open opens a data file, gunzipping a .gz.
func open(t testing.TB, name string) io.Reader {
	t.Helper()
	f, err := os.Open(dataDir + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if !strings.HasSuffix(name, ".gz") {
		return f
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// readRows reads lines of numbers split by sep, skipping `skip` lines.
func readRows(t testing.TB, r io.Reader, sep string, skip int) [][]float64 {
	t.Helper()
	var rows [][]float64
	sc := bufio.NewScanner(r)
	for line := 0; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if line < skip || text == "" {
			continue
		}
		var row []float64
		for _, f := range strings.FieldsFunc(text, func(c rune) bool { return strings.ContainsRune(sep, c) }) {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("line %d: %v", line+1, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// loadDataset loads breast_cancer, wine or diabetes from ../testdata.
func loadDataset(t testing.TB, name string) learn.Dataset {
	t.Helper()
	var x, y []float64
	var rows, cols int
	switch name {
	case "breast_cancer", "wine":
		file := map[string]string{"breast_cancer": "breast_cancer.csv.gz", "wine": "wine_data.csv"}[name]
		for _, r := range readRows(t, open(t, file), ",", 1) {
			cols = len(r) - 1
			x = append(x, r[:cols]...)
			y = append(y, r[cols])
			rows++
		}
	case "diabetes":
		for _, r := range readRows(t, open(t, "diabetes_data_raw.csv.gz"), " \t", 0) {
			cols = len(r)
			x = append(x, r...)
			rows++
		}
		for _, r := range readRows(t, open(t, "diabetes_target.csv.gz"), " ", 0) {
			y = append(y, r[0])
		}
	default:
		t.Fatalf("no dataset %q", name)
	}
	d, err := learn.NewDataset(x, rows, cols, y, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// golden is testdata/golden.json, written by testdata/make_golden.py.
type golden struct {
	Datasets []goldenDataset `json:"datasets"`
}

type goldenDataset struct {
	Name           string             `json:"name"`
	Classes        int                `json:"classes"`
	Train          []int              `json:"train"`
	Test           []int              `json:"test"`
	DefaultMetrics map[string]float64 `json:"default_metrics"`
	DefaultNIter   int                `json:"default_n_iter"`
	Tight          struct {
		CoefStd   [][]float64 `json:"coef_std"`
		Intercept []float64   `json:"intercept"`
		Mean      []float64   `json:"mean"`
		Scale     []float64   `json:"scale"`
		TestProba []float64   `json:"test_proba"`
	} `json:"tight"`
	Models map[string]struct {
		Coef      []float64          `json:"coef"`
		Intercept float64            `json:"intercept"`
		TestPred  []float64          `json:"test_pred"`
		Metrics   map[string]float64 `json:"metrics"`
	} `json:"models"`
}

func loadGolden(t testing.TB, name string) (goldenDataset, learn.Dataset, learn.Dataset) {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	for _, gd := range g.Datasets {
		if gd.Name == name {
			d := loadDataset(t, name)
			if len(gd.Train)+len(gd.Test) != d.Rows {
				t.Fatalf("%s: split of %d+%d rows for %d", name, len(gd.Train), len(gd.Test), d.Rows)
			}
			return gd, d.Subset(gd.Train), d.Subset(gd.Test)
		}
	}
	t.Fatalf("no golden for %s", name)
	return goldenDataset{}, learn.Dataset{}, learn.Dataset{}
}
