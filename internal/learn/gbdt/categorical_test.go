package gbdt

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// positive is the category set of catData's label.
var positive = []int{1, 4, 7}

// catData makes rows of (category 0..11 with some missing, noise, a
// 3-category column); the label is 1 iff the category is in positive or
// missing, flipped for a fraction noise of the rows. No single threshold
// on the category code separates the classes.
func catData(rows int, seed uint64, noise float64) *Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	d := &Dataset{Rows: rows, Cols: 3, X: make([]float64, rows*3), Y: make([]float64, rows),
		Categorical: []bool{true, false, true}}
	for r := range rows {
		c := float64(rng.IntN(12))
		y := 0.0
		if slices.Contains(positive, int(c)) {
			y = 1
		}
		if rng.Float64() < 0.05 {
			c, y = math.NaN(), 1
		}
		if rng.Float64() < noise {
			y = 1 - y
		}
		d.X[r*3], d.X[r*3+1], d.X[r*3+2] = c, rng.NormFloat64(), float64(rng.IntN(3))
		d.Y[r] = y
	}
	return d
}

func accuracy(t *testing.T, m *Model, d *Dataset) float64 {
	t.Helper()
	p, err := m.Predict(d.X, d.Rows)
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for r, v := range p {
		if (v > 0.5) == (d.Y[r] == 1) {
			ok++
		}
	}
	return float64(ok) / float64(d.Rows)
}

func TestCategoricalBeatsNumeric(t *testing.T) {
	tr, te := catData(3000, 1, 0.03), catData(2000, 2, 0)
	for _, c := range []struct {
		name           string
		depth, rounds  int
		minCat, minGap float64
	}{
		{"stump", 1, 1, 0.99, 0.15},
		{"depth2", 2, 1, 0.99, 0.1},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := DefaultParams(BinaryLogistic)
			p.MaxDepth, p.NumRounds = c.depth, c.rounds
			cat := accuracy(t, train(t, tr, nil, p), te)
			num := *tr
			num.Categorical = nil
			numTe := *te
			numTe.Categorical = nil
			plain := accuracy(t, train(t, &num, nil, p), &numTe)
			t.Logf("accuracy: categorical %.4f, numeric %.4f", cat, plain)
			if cat < c.minCat || cat-plain < c.minGap {
				t.Errorf("categorical %.4f, numeric %.4f: want ≥ %v and ahead by ≥ %v", cat, plain, c.minCat, c.minGap)
			}
		})
	}
}

// TestCategoricalRootSplit checks the root split a stump chooses with
// each MaxCatToOnehot: the set {1,4,7} (or its complement) with the
// missing values on its side when partitioning, a single category when
// one-hot.
func TestCategoricalRootSplit(t *testing.T) {
	tr := catData(3000, 3, 0)
	for _, c := range []struct {
		onehot int
		sets   [][]int // acceptable right-hand sets
	}{
		{0, [][]int{positive, {0, 2, 3, 5, 6, 8, 9, 10, 11}}},
		{4, [][]int{positive, {0, 2, 3, 5, 6, 8, 9, 10, 11}}},
		{12, [][]int{{1}, {4}, {7}}},
		{64, [][]int{{1}, {4}, {7}}},
	} {
		t.Run("onehot="+strconv.Itoa(c.onehot), func(t *testing.T) {
			p := DefaultParams(BinaryLogistic)
			p.MaxDepth, p.NumRounds, p.MaxCatToOnehot = 1, 1, c.onehot
			m := train(t, tr, nil, p)
			root := m.trees[0].nodes[0]
			if !root.cat || root.feat != 0 {
				t.Fatalf("root splits feature %d (categorical %v), want categorical feature 0", root.feat, root.cat)
			}
			got := root.set.codes()
			ok := false
			for _, s := range c.sets {
				ok = ok || slices.Equal(got, s)
			}
			if !ok {
				t.Fatalf("root set %v, want one of %v", got, c.sets)
			}
			if slices.Equal(got, positive) && root.defLeft {
				t.Error("missing values (all positive) go left, away from {1,4,7}")
			}
		})
	}
}

// catProbe is te plus rows with categories the training set never had
// (12..20, 64, 100: they go left), and, unless intOnly, negative, huge
// and fractional ones.
func catProbe(te *Dataset, intOnly bool) *Dataset {
	d := *te
	d.X = slices.Clone(te.X)
	d.Y = slices.Clone(te.Y)
	extra := []float64{12, 13, 20, 64, 100, math.NaN(), 0, 1, 4, 7, 11}
	if !intOnly {
		extra = append(extra, -1, 1e9, 3.7, 4.2, -0.5)
	}
	for i, c := range extra {
		d.X = append(d.X, c, float64(i)/10-0.5, float64(i%5))
		d.Y = append(d.Y, 0)
		d.Rows++
	}
	return &d
}

func catModel(t *testing.T, obj Objective, names bool) (*Model, *Dataset) {
	t.Helper()
	tr, te := catData(2000, 4, 0.03), catData(300, 5, 0)
	if obj == MultiSoftprob {
		for _, d := range []*Dataset{tr, te} {
			for r := range d.Rows {
				if d.X[r*3+2] == 2 {
					d.Y[r] = 2
				}
			}
		}
	}
	if names {
		tr.FeatureNames = []string{"colour", "x", "size"}
		te.FeatureNames = tr.FeatureNames
	}
	p := DefaultParams(obj)
	p.NumRounds = 30
	return train(t, tr, nil, p), te
}

func TestCategoricalRoundTripRuntime(t *testing.T) {
	for _, obj := range []Objective{BinaryLogistic, MultiSoftprob, RegSquaredError} {
		t.Run(string(obj), func(t *testing.T) {
			m, te := catModel(t, obj, obj != MultiSoftprob)
			b := checkRuntime(t, m, catProbe(te, false))
			for _, want := range []string{`"feature_types":["c","float","c"]`, `"split_type":[1,`} {
				if !bytes.Contains(b, []byte(want)) {
					t.Errorf("model lacks %s", want)
				}
			}
		})
	}
}

func TestCategoricalUnseenGoLeft(t *testing.T) {
	n := treeNode{cat: true, set: catSet(1<<1 | 1<<3), defLeft: false}
	for _, c := range []struct {
		x    float64
		left bool
	}{
		{1, false}, {3, false}, {3.7, false}, {0, true}, {2, true}, {4, true}, {63, true},
		{64, true}, {-1, true}, {-0.5, true}, {1e9, true}, {math.Inf(1), true}, {math.Inf(-1), true},
		{math.NaN(), false},
	} {
		if got := n.goesLeft(c.x); got != c.left {
			t.Errorf("category %v: left %v, want %v", c.x, got, c.left)
		}
	}
}

func TestCategoricalErrors(t *testing.T) {
	for _, bad := range []float64{-1, 64, 2.5, 1e9} {
		d := catData(50, 6, 0)
		d.X[3*10] = bad
		_, err := Train(t.Context(), d, nil, DefaultParams(BinaryLogistic))
		if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "category code") {
			t.Errorf("category %v: error %v, want an invalid-argument one about category codes", bad, err)
		}
	}
	p := DefaultParams(BinaryLogistic)
	p.MaxCatToOnehot = -1
	if _, err := Train(t.Context(), catData(50, 6, 0), nil, p); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("MaxCatToOnehot -1: error %v", err)
	}
}

func TestCategoricalDeterministic(t *testing.T) {
	d := catData(3000, 8, 0.05)
	p := DefaultParams(BinaryLogistic)
	p.NumRounds = 15
	p.Subsample, p.ColsampleByTree, p.Seed = 0.8, 0.7, 42
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	a := modelBytes(t, train(t, d, nil, p))
	runtime.GOMAXPROCS(2)
	if b := modelBytes(t, train(t, d, nil, p)); !bytes.Equal(a, b) {
		t.Fatal("the same data and params gave different model bytes")
	}
}

// pythonPandas is pythonXGBoost for tests that also need pandas.
func pythonPandas(t testing.TB) {
	t.Helper()
	pythonXGBoost(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import pandas").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: /usr/bin/python3 with pandas is required: %v", err)
		}
		t.Skipf("no /usr/bin/python3 with pandas: %v", err)
	}
}

func TestCategoricalPythonXGBoostAgrees(t *testing.T) {
	pythonPandas(t)
	for _, c := range []struct {
		obj   Objective
		names bool
	}{{BinaryLogistic, true}, {MultiSoftprob, false}, {RegSquaredError, true}} {
		t.Run(string(c.obj), func(t *testing.T) {
			m, te := catModel(t, c.obj, c.names)
			te = catProbe(te, true)
			dir := t.TempDir()
			model, rows := filepath.Join(dir, "model.json"), filepath.Join(dir, "rows.tsv")
			if err := os.WriteFile(model, modelBytes(t, m), 0o644); err != nil {
				t.Fatal(err)
			}
			writeRows(t, rows, te)
			out, err := exec.Command("/usr/bin/python3", "testdata/check_with_xgboost.py", model, rows).Output()
			if err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					t.Fatalf("check_with_xgboost.py: %v\n%s", err, ee.Stderr)
				}
				t.Fatal(err)
			}
			want, err := m.Predict(te.X, te.Rows)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != te.Rows {
				t.Fatalf("python printed %d lines for %d rows", len(lines), te.Rows)
			}
			k := m.Outputs()
			for r, l := range lines {
				f := strings.Split(l, "\t")
				if len(f) != k {
					t.Fatalf("row %d: %d values, want %d", r, len(f), k)
				}
				for j, s := range f {
					v, err := strconv.ParseFloat(s, 64)
					if err != nil {
						t.Fatal(err)
					}
					if math.Abs(v-want[r*k+j]) > 1e-6 {
						t.Fatalf("row %d (%v) output %d: xgboost %v, trainer %v", r, te.Row(r), j, v, want[r*k+j])
					}
				}
			}
		})
	}
}

// FuzzCategoricalTrain trains on small datasets made of the fuzz input
// (column 0 categorical, codes 0..63 or missing) and checks that
// training does not fail or panic and that the runtime predicts what the
// trainer does.
func FuzzCategoricalTrain(f *testing.F) {
	f.Add([]byte{1, 4, 7, 2, 0xff, 9, 1, 4}, uint8(2))
	f.Add([]byte{0, 0, 0, 0}, uint8(0))
	f.Add([]byte{63, 62, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(64))
	f.Fuzz(func(t *testing.T, raw []byte, onehot uint8) {
		if len(raw) < 2 || len(raw) > 400 {
			return
		}
		d := &Dataset{Rows: len(raw), Cols: 2, X: make([]float64, 2*len(raw)), Y: make([]float64, len(raw)),
			Categorical: []bool{true, false}}
		for r, v := range raw {
			c := float64(v % 64)
			if v >= 0xf0 {
				c = math.NaN()
			}
			d.X[2*r], d.X[2*r+1] = c, float64(v>>6)
			d.Y[r] = float64(v>>1) / 16
		}
		p := DefaultParams(RegSquaredError)
		p.NumRounds, p.MaxDepth, p.MaxCatToOnehot = 3, 3, int(onehot%65)
		p.MinChildWeight = 0
		m, err := Train(t.Context(), d, nil, p)
		if err != nil {
			t.Fatal(err)
		}
		checkRuntime(t, m, d)
	})
}
