package lightgbm

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

// ref returns the path of a reference file (modelrttest.ReferenceDir).
func ref(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(modelrttest.ReferenceDir(t), name)
}

// readTable reads a table of numbers as rows (modelrttest.ReadTable),
// dropping the first skip fields of each.
func readTable(t testing.TB, path string, skip int) [][]float64 {
	t.Helper()
	vals, rows, cols := modelrttest.ReadTable(t, path, skip)
	return split(vals, rows, cols)
}

// readLibsvm reads sparse rows (modelrttest.ReadLibSVM) as dense rows of
// nf features, absent indices set to absent.
func readLibsvm(t testing.TB, path string, nf int, absent float64) [][]float64 {
	t.Helper()
	vals, rows := modelrttest.ReadLibSVM(t, path, nf, absent)
	return split(vals, rows, nf)
}

func split(vals []float64, rows, cols int) [][]float64 {
	out := make([][]float64, rows)
	for r := range out {
		out[r] = vals[r*cols : (r+1)*cols]
	}
	return out
}

func flat(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func load(t testing.TB, name string) *Model {
	t.Helper()
	m, err := LoadFile(ref(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maxDiff is the largest absolute difference between the model's
// predictions and want, for the report.
func maxDiff(t *testing.T, m *Model, x []float64, rows int, want []float64, raw bool) float64 {
	t.Helper()
	got := make([]float64, len(want))
	if err := m.Predict(x, rows, got, raw); err != nil {
		t.Fatal(err)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(got[i]-want[i]))
	}
	return d
}

// runRef runs the conformance suite on one reference model and logs the
// largest difference from LightGBM's predictions.
func runRef(t *testing.T, name string, m *Model, x [][]float64, want [][]float64, raw bool) {
	t.Helper()
	if len(x) != len(want) {
		t.Fatalf("%s: %d rows of features, %d of predictions", name, len(x), len(want))
	}
	xs, ws := flat(x), flat(want)
	// The expected files hold LightGBM's float64 results printed with 17
	// to 19 significant digits, so they are exact to about 1e-16 relative;
	// the default absolute 1e-6 is far above that, and RelTol 1e-12 covers
	// the gamma model's outputs in the thousands.
	modelrttest.Run(t, modelrttest.Case{Name: name, Model: m, X: xs, Rows: len(x), Want: ws, Raw: raw, Tol: 1e-6, RelTol: 1e-12})
	t.Logf("%s: max abs diff vs LightGBM = %.3g over %d values", name, maxDiff(t, m, xs, len(x), ws, raw), len(ws))
}

func TestBreastCancerLeaves(t *testing.T) {
	m := load(t, "lg_breast_cancer.txt")
	x := readTable(t, ref(t, "lg_breast_cancer_data.txt"), 0)
	want := readTable(t, ref(t, "lg_breast_cancer_data_pred_leaves.txt"), 0)
	if len(x) != len(want) {
		t.Fatalf("%d rows, %d leaf rows", len(x), len(want))
	}
	nt := m.NumTrees()
	got := make([]int, len(x)*nt)
	if err := m.PredictLeaves(flat(x), len(x), got); err != nil {
		t.Fatal(err)
	}
	bad := 0
	for r := range want {
		if len(want[r]) != nt {
			t.Fatalf("row %d: %d leaves, model has %d trees", r, len(want[r]), nt)
		}
		for i, w := range want[r] {
			if got[r*nt+i] != int(w) {
				if bad < 5 {
					t.Errorf("row %d tree %d: leaf %d, LightGBM says %d", r, i, got[r*nt+i], int(w))
				}
				bad++
			}
		}
	}
	t.Logf("lg_breast_cancer: %d of %d leaf indices differ from LightGBM", bad, len(got))

	// The raw scores LightGBM's leaves imply, Σ leaf_value[tree][leaf],
	// are the reference for Predict (margins and probabilities).
	raw := make([][]float64, len(x))
	prob := make([][]float64, len(x))
	for r := range want {
		s := 0.0
		for i, w := range want[r] {
			s += m.leaves[int(m.trees[i].leafBase)+int(w)]
		}
		raw[r] = []float64{s}
		prob[r] = []float64{1 / (1 + math.Exp(-s))}
	}
	runRef(t, "lg_breast_cancer raw", m, x, raw, true)
	runRef(t, "lg_breast_cancer", m, x, prob, false)
}

func TestDartBreastCancer(t *testing.T) {
	m := load(t, "lg_dart_breast_cancer.model")
	x := readTable(t, ref(t, "breast_cancer_test.tsv"), 0)
	want := readTable(t, ref(t, "lg_dart_breast_cancer_true_predictions.txt"), 0)
	runRef(t, "lg_dart_breast_cancer", m, x, want, false)
}

func TestMulticlass(t *testing.T) {
	m := load(t, "lgmulticlass.model")
	// multiclass_test.tsv starts each row with the label.
	x := readTable(t, ref(t, "multiclass_test.tsv"), 1)
	runRef(t, "lgmulticlass", m, x, readTable(t, ref(t, "lgmulticlass_true_predictions.txt"), 0), false)
	runRef(t, "lgmulticlass raw", m, x, readTable(t, ref(t, "lgmulticlass_true_raw_predictions.txt"), 0), true)
	if s := m.Signature(); s.Outputs != 5 || s.Task != "multiclass" || s.Objective != "multiclass" {
		t.Errorf("signature %+v", s)
	}
}

func TestKDDCup99Categorical(t *testing.T) {
	m := load(t, "lg_kddcup99.model")
	x := readTable(t, ref(t, "kddcup99_test.tsv"), 0)
	runRef(t, "lg_kddcup99 raw", m, x, readTable(t, ref(t, "lg_kddcup99_true_predictions.txt"), 0), true)
	s := m.Signature()
	if s.Inputs[1].Type != "categorical" || s.Inputs[0].Type != "float" || s.Outputs != 13 {
		t.Errorf("signature inputs %v outputs %d", s.Inputs[:3], s.Outputs)
	}
}

func TestRandomForestIris(t *testing.T) {
	m := load(t, "lg_rf_iris.model")
	if !m.average {
		t.Fatal("average_output not read")
	}
	x := readLibsvm(t, ref(t, "iris_test.libsvm"), 4, math.NaN())
	runRef(t, "lg_rf_iris", m, x, readTable(t, ref(t, "lg_rf_iris_true_predictions.txt"), 0), false)
}

func TestGeneralizedLinear(t *testing.T) {
	for _, c := range []struct{ name, objective string }{
		{"genlin_fmtp_poisson_Frequency", "poisson"},
		{"genlin_fmtp_gamma_AvgClaimAmount", "gamma"},
		{"genlin_fmtp_tweedie_PurePremium", "tweedie"},
	} {
		t.Run(c.objective, func(t *testing.T) {
			m := load(t, c.name+".model")
			s := m.Signature()
			if s.Objective != c.objective || s.Task != "regression" || s.Outputs != 1 {
				t.Errorf("signature %+v", s)
			}
			if s.Inputs[0].Name != "VehBrand" || s.Inputs[0].Type != "categorical" || s.Inputs[8].Type != "float" {
				t.Errorf("inputs %v", s.Inputs)
			}
			x := readTable(t, ref(t, c.name+"_features.tsv"), 0)
			runRef(t, c.name, m, x, readTable(t, ref(t, c.name+"_true_predictions.txt"), 0), false)
		})
	}
}
