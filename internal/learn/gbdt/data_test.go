package gbdt

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readGz returns the lines of a gzip-compressed text file in testdata.
func readGz(t testing.TB, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func parseFloats(t testing.TB, s string, sep func(rune) bool) []float64 {
	t.Helper()
	var out []float64
	for _, f := range strings.FieldsFunc(s, sep) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// loadSet reads one of the scikit-learn data sets shipped in testdata.
func loadSet(t testing.TB, name string) *Dataset {
	t.Helper()
	comma := func(r rune) bool { return r == ',' }
	space := func(r rune) bool { return r == ' ' || r == '\t' }
	d := &Dataset{}
	switch name {
	case "diabetes":
		for _, l := range readGz(t, "diabetes_data_raw.csv.gz") {
			row := parseFloats(t, l, space)
			d.Cols = len(row)
			d.X = append(d.X, row...)
			d.Rows++
		}
		for _, l := range readGz(t, "diabetes_target.csv.gz") {
			d.Y = append(d.Y, parseFloats(t, l, space)...)
		}
	default:
		lines := readGz(t, map[string]string{"breast_cancer": "breast_cancer.csv.gz", "wine": "wine_data.csv.gz"}[name])
		for _, l := range lines[1:] { // header: rows, cols, class names
			row := parseFloats(t, l, comma)
			d.Cols = len(row) - 1
			d.X = append(d.X, row[:d.Cols]...)
			d.Y = append(d.Y, row[d.Cols])
			d.Rows++
		}
	}
	if d.Rows == 0 || len(d.Y) != d.Rows {
		t.Fatalf("%s: %d rows, %d labels", name, d.Rows, len(d.Y))
	}
	return d
}

// golden is one entry of testdata/golden.json (see make_golden.py).
type golden struct {
	Task           string  `json:"task"`
	Objective      string  `json:"objective"`
	LearningRate   float64 `json:"learning_rate"`
	MaxDepth       int     `json:"max_depth"`
	MinChildWeight float64 `json:"min_child_weight"`
	Rounds         int     `json:"rounds"`
	TestIdx        []int   `json:"test_idx"`
	HGBScore       float64 `json:"hgb_score"`
	XGBScore       float64 `json:"xgb_score"`
}

func loadGolden(t testing.TB) map[string]golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

// subset returns the rows idx of d.
func subset(d *Dataset, idx []int) *Dataset {
	s := &Dataset{Rows: len(idx), Cols: d.Cols, FeatureNames: d.FeatureNames}
	for _, i := range idx {
		s.X = append(s.X, d.X[i*d.Cols:(i+1)*d.Cols]...)
		s.Y = append(s.Y, d.Y[i])
	}
	return s
}

// trainTest returns the training and test sets of the golden split.
func trainTest(d *Dataset, test []int) (*Dataset, *Dataset) {
	in := make(map[int]bool, len(test))
	for _, i := range test {
		in[i] = true
	}
	var train []int
	for i := range d.Rows {
		if !in[i] {
			train = append(train, i)
		}
	}
	return subset(d, train), subset(d, test)
}

func paramsFor(g golden) Params {
	p := DefaultParams(Objective(g.Objective))
	p.LearningRate = g.LearningRate
	p.MaxDepth = g.MaxDepth
	p.MinChildWeight = g.MinChildWeight
	p.NumRounds = g.Rounds
	return p
}

// score is the accuracy (classifiers) or R² (regression) of predictions.
func score(t testing.TB, m *Model, d *Dataset) float64 {
	t.Helper()
	pred, err := m.Predict(d.X, d.Rows)
	if err != nil {
		t.Fatal(err)
	}
	k := m.Outputs()
	switch m.Objective() {
	case BinaryLogistic, MultiSoftprob:
		right := 0
		for r := range d.Rows {
			var c float64
			if k == 1 {
				if pred[r] > 0.5 {
					c = 1
				}
			} else {
				best := 0
				for j := 1; j < k; j++ {
					if pred[r*k+j] > pred[r*k+best] {
						best = j
					}
				}
				c = float64(best)
			}
			if c == d.Y[r] {
				right++
			}
		}
		return float64(right) / float64(d.Rows)
	}
	var mean, ssTot, ssRes float64
	for _, y := range d.Y {
		mean += y
	}
	mean /= float64(d.Rows)
	for r, y := range d.Y {
		ssTot += (y - mean) * (y - mean)
		ssRes += (y - pred[r]) * (y - pred[r])
	}
	return 1 - ssRes/ssTot
}

// withNaNs returns a copy of d with a fraction of its values missing.
func withNaNs(d *Dataset, frac float64, seed uint64) *Dataset {
	c := *d
	c.X = append([]float64(nil), d.X...)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range c.X {
		if rng.Float64() < frac {
			c.X[i] = math.NaN()
		}
	}
	return &c
}

// synthetic makes a seeded classification problem like sklearn's
// make_classification: informative features from class-dependent
// Gaussian clusters, linear mixtures of them, and noise.
func synthetic(rows, cols int, seed uint64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 2))
	inf := min(cols, 10)
	centers := make([][]float64, 4) // two clusters per class
	for c := range centers {
		centers[c] = make([]float64, inf)
		for j := range centers[c] {
			centers[c][j] = 2 * (rng.Float64()*2 - 1)
		}
	}
	d := &Dataset{Rows: rows, Cols: cols, X: make([]float64, rows*cols), Y: make([]float64, rows)}
	for r := range rows {
		c := rng.IntN(4)
		d.Y[r] = float64(c % 2)
		row := d.X[r*cols : (r+1)*cols]
		for j := range inf {
			row[j] = centers[c][j] + rng.NormFloat64()
		}
		for j := inf; j < cols; j++ {
			if j < 2*inf {
				row[j] = row[j-inf]*0.5 - row[(j+1)%inf]*0.3 + 0.1*rng.NormFloat64()
			} else {
				row[j] = rng.NormFloat64()
			}
		}
		if rng.Float64() < 0.02 { // label noise
			d.Y[r] = 1 - d.Y[r]
		}
	}
	return d
}

func slicesSort(s []float32) { slices.Sort(s) }
