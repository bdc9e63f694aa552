package xgboost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

func loadFixture(t testing.TB, path string) *Model {
	t.Helper()
	m, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// maxDiff is the largest absolute difference of got and want.
func maxDiff(got, want []float64) float64 {
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(got[i]-want[i]))
	}
	return d
}

var fixtures = []struct {
	name      string
	booster   string
	objective string
	task      modelrt.Task
	outputs   int
	relTol    float64 // for large regression values (float32 sums)
}{
	{"binary_logistic", "gbtree", "binary:logistic", modelrt.Binary, 1, 0},
	{"binary_logistic_base03", "gbtree", "binary:logistic", modelrt.Binary, 1, 0},
	{"binary_logitraw", "gbtree", "binary:logitraw", modelrt.Binary, 1, 0},
	{"multi_softprob", "gbtree", "multi:softprob", modelrt.Multiclass, 3, 0},
	{"multi_softmax", "gbtree", "multi:softmax", modelrt.Multiclass, 1, 0},
	{"reg_squarederror", "gbtree", "reg:squarederror", modelrt.Regression, 1, 1e-7},
	{"rank_pairwise", "gbtree", "rank:pairwise", modelrt.Ranking, 1, 0},
	{"count_poisson", "gbtree", "count:poisson", modelrt.Regression, 1, 1e-7},
	{"reg_logistic", "gbtree", "reg:logistic", modelrt.Regression, 1, 0},
	{"reg_gamma", "gbtree", "reg:gamma", modelrt.Regression, 1, 1e-7},
	{"reg_tweedie", "gbtree", "reg:tweedie", modelrt.Regression, 1, 1e-7},
	{"binary_hinge", "gbtree", "binary:hinge", modelrt.Binary, 1, 0},
	{"dart_binary", "dart", "binary:logistic", modelrt.Binary, 1, 0},
	{"rf_binary", "gbtree", "binary:logistic", modelrt.Binary, 1, 0},
	{"gblinear_reg", "gblinear", "reg:squarederror", modelrt.Regression, 1, 1e-7},
	{"gblinear_multi", "gblinear", "multi:softprob", modelrt.Multiclass, 3, 0},
	{"categorical_multi", "gbtree", "multi:softprob", modelrt.Multiclass, 3, 0},
	{"bench_100x6", "gbtree", "binary:logistic", modelrt.Binary, 1, 0},
}

// TestOracle compares every fixture, in every format XGBoost 1.7.4 wrote
// it, with XGBoost's own predictions and margins.
func TestOracle(t *testing.T) {
	for _, fx := range fixtures {
		base := filepath.Join("testdata", fx.name)
		x, rows, nf := modelrttest.ReadTable(t, base+".rows.tsv", 0)
		pred, _, _ := modelrttest.ReadTable(t, base+".pred.tsv", 0)
		margin, _, ng := modelrttest.ReadTable(t, base+".margin.tsv", 0)
		for _, ext := range []string{".json", ".ubj", ".model"} {
			path := base + ext
			if _, err := os.Stat(path); err != nil {
				continue
			}
			t.Run(fx.name+ext, func(t *testing.T) {
				m := loadFixture(t, path)
				sig := m.Signature()
				if sig.Objective != fx.objective || sig.Task != fx.task || sig.Outputs != fx.outputs ||
					len(sig.Inputs) != nf || m.Booster() != fx.booster || m.NumGroups() != ng {
					t.Fatalf("signature %+v booster %s groups %d; want %s %s %d outputs, %d inputs, booster %s, %d groups",
						sig, m.Booster(), m.NumGroups(), fx.objective, fx.task, fx.outputs, nf, fx.booster, ng)
				}
				modelrttest.Run(t, modelrttest.Case{Name: path, Model: m, X: x, Rows: rows, Want: pred, RelTol: fx.relTol})
				if fx.outputs == ng {
					modelrttest.Run(t, modelrttest.Case{Name: path + " raw", Model: m, X: x, Rows: rows, Want: margin, Raw: true, RelTol: fx.relTol})
				}
				got := make([]float64, rows*ng)
				if err := m.PredictMargins(x, rows, got); err != nil {
					t.Fatal(err)
				}
				d := maxDiff(got, margin)
				if d > 1e-6 && fx.relTol == 0 {
					t.Errorf("margins differ by up to %g", d)
				}
				p := make([]float64, rows*fx.outputs)
				if err := m.Predict(x, rows, p, false); err != nil {
					t.Fatal(err)
				}
				t.Logf("max abs diff: predictions %.3g, margins %.3g", maxDiff(p, pred), d)
			})
		}
	}
}

func TestSignatureFromJSON(t *testing.T) {
	m := loadFixture(t, "testdata/categorical_multi.json")
	want := []modelrt.Feature{
		{Name: "sepal_length", Type: modelrt.Float},
		{Name: "sepal_width", Type: modelrt.Float},
		{Name: "petal_length", Type: modelrt.Float},
		{Name: "width_bin", Type: modelrt.Categorical},
		{Name: "flag", Type: modelrt.Integer},
	}
	got := m.Signature().Inputs
	if len(got) != len(want) {
		t.Fatalf("inputs %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("input %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if m.NumTrees() != 18 {
		t.Errorf("%d trees, want 18", m.NumTrees())
	}
	// The legacy binary format names no features.
	b := loadFixture(t, "testdata/binary_logistic.model")
	if in := b.Signature().Inputs; len(in) != 30 || in[0] != (modelrt.Feature{Type: modelrt.Float}) {
		t.Errorf("binary inputs %v", in)
	}
}

// TestSoftmaxMargins checks multi:softmax's class margins.
func TestSoftmaxMargins(t *testing.T) {
	x, rows, _ := modelrttest.ReadTable(t, "testdata/multi_softmax.rows.tsv", 0)
	margin, _, ng := modelrttest.ReadTable(t, "testdata/multi_softmax.margin.tsv", 0)
	m := loadFixture(t, "testdata/multi_softmax.ubj")
	got := make([]float64, rows*ng)
	if err := m.PredictMargins(x, rows, got); err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got, margin); d > 1e-6 {
		t.Errorf("margins differ by %g", d)
	}
	if err := m.PredictMargins(x, rows, got[1:]); err == nil {
		t.Error("short output accepted")
	}
}

// sharedDir returns the directory of the leaves project's reference
// models (see its INDEX.md), outside the repository; without it the test
// is skipped, except under CI.
func sharedDir(t *testing.T) string { return modelrttest.ReferenceDir(t) }

// TestReferenceModels runs the legacy binary models of the leaves project
// (written by XGBoost 0.7x) against the predictions XGBoost made for
// them. Per the leaves README, xg_dart_agaricus is in fact a gbtree model
// whose expected values are the margins of its first 10 rounds
// (predict(output_margin=True, ntree_limit=10)), and xgdermatology's
// (multi:softmax, 6 classes) are the class margins.
func TestReferenceModels(t *testing.T) {
	dir := sharedDir(t)
	for _, c := range []struct {
		model, data, want string
		raw               bool
		booster           string
		rounds            int  // 0: all
		margins           bool // compare PredictMargins
	}{
		{"xgagaricus.model", "agaricus_test.libsvm", "xgagaricus_true_predictions.txt", false, "gbtree", 0, false},
		{"xg_dart_agaricus.model", "agaricus_test.libsvm", "xg_dart_agaricus_true_predictions.txt", true, "gbtree", 10, false},
		{"xgdermatology.model", "dermatology_test.libsvm", "xgdermatology_true_predictions.txt", true, "gbtree", 0, true},
		{"xgblin_agaricus.model", "agaricus_test.libsvm", "xgblin_agaricus_true_predictions.txt", false, "gblinear", 0, false},
		{"xgblin_agaricus.model", "agaricus_test.libsvm", "xgblin_agaricus_true_raw_predictions.txt", true, "gblinear", 0, false},
	} {
		t.Run(c.want, func(t *testing.T) {
			m := loadFixture(t, filepath.Join(dir, c.model))
			if m.Booster() != c.booster {
				t.Errorf("booster %s, want %s", m.Booster(), c.booster)
			}
			if c.rounds > 0 {
				var err error
				if m, err = m.FirstRounds(c.rounds); err != nil {
					t.Fatal(err)
				}
			}
			nf := len(m.Signature().Inputs)
			x, rows := modelrttest.ReadLibSVM(t, filepath.Join(dir, c.data), nf, math.NaN())
			want, wrows, _ := modelrttest.ReadTable(t, filepath.Join(dir, c.want), 0)
			if wrows != rows {
				t.Fatalf("%d rows, %d predictions", rows, wrows)
			}
			got := make([]float64, len(want))
			if c.margins {
				if err := m.PredictMargins(x, rows, got); err != nil {
					t.Fatal(err)
				}
				d := maxDiff(got, want)
				if d > 1e-6 {
					t.Errorf("margins differ by up to %g", d)
				}
				t.Logf("%s: %d rows, margins: max abs diff %.3g", c.model, rows, d)
				want = nil
				for r := range rows { // the class index is the margins' argmax
					want = append(want, float64(argmax64(got[r*m.NumGroups():(r+1)*m.NumGroups()])))
				}
				got = got[:rows]
			}
			modelrttest.Run(t, modelrttest.Case{Name: c.model, Model: m, X: x, Rows: rows, Want: want, Raw: c.raw})
			if !c.margins {
				if err := m.Predict(x, rows, got, c.raw); err != nil {
					t.Fatal(err)
				}
				t.Logf("%s: %d rows, max abs diff %.3g", c.model, rows, maxDiff(got, want))
			}
		})
	}
}

func argmax64(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestFirstRounds(t *testing.T) {
	m := loadFixture(t, "testdata/multi_softprob.json")
	if m.NumTrees() != 24 {
		t.Fatalf("%d trees", m.NumTrees())
	}
	f, err := m.FirstRounds(2)
	if err != nil || f.NumTrees() != 6 || m.NumTrees() != 24 {
		t.Fatalf("FirstRounds(2): %v, %d trees", err, f.NumTrees())
	}
	for _, n := range []int{0, 9, -1} {
		if _, err := m.FirstRounds(n); err == nil {
			t.Errorf("FirstRounds(%d) accepted", n)
		}
	}
	rf := loadFixture(t, "testdata/rf_binary.ubj")
	if f, err := rf.FirstRounds(1); err != nil || f.NumTrees() != 3 {
		t.Errorf("random forest FirstRounds(1): %v", err)
	}
}

func TestLoadFails(t *testing.T) {
	load := func(b []byte) (modelrt.Model, error) { return Load(b) }
	for _, name := range []string{"binary_logistic.json", "binary_logistic.ubj", "binary_logistic.model",
		"dart_binary.model", "gblinear_multi.model", "gblinear_multi.ubj", "categorical_multi.json", "count_poisson.model"} {
		good, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		modelrttest.LoadFails(t, load, good, nil)
	}

	js, err := os.ReadFile("testdata/binary_logistic.json")
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile("testdata/binary_logistic.model")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := os.ReadFile("testdata/categorical_multi.json")
	if err != nil {
		t.Fatal(err)
	}
	replace := func(b []byte, old, new string) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q not in the fixture", old)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	setU32 := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	// Offsets in binary_logistic.model: "binf" (4) + learner params (136)
	// + objective (8+15) + booster (8+6) = 177: the gbtree params.
	const gbp = 4 + 136 + 8 + 15 + 8 + 6
	const tree0 = gbp + 160
	const node0 = tree0 + 148
	corrupt := map[string][]byte{
		"empty":                   {},
		"wrong magic":             []byte("XGBOOST MODEL v1\x00\x00\x00"),
		"json not an object":      []byte(`[1,2,3]`),
		"json garbage":            []byte(`{"learner": {`),
		"json trailing":           append(bytes.Clone(js), []byte(` {}`)...),
		"unsupported objective":   replace(js, `"name":"binary:logistic"`, `"name":"reg:mystery"`),
		"unsupported booster":     replace(js, `"name":"gbtree"`, `"name":"gbforest"`),
		"no num_feature":          replace(js, `"num_class":"0","num_feature":"30"`, `"num_class":"0","nf":"30"`),
		"absurd num_feature":      replace(js, `"num_class":"0","num_feature":"30"`, `"num_class":"0","num_feature":"99999999999"`),
		"feature out of range":    replace(js, `"num_class":"0","num_feature":"30"`, `"num_class":"0","num_feature":"2"`),
		"num_trees mismatch":      replace(js, `"num_trees":"10"`, `"num_trees":"11"`),
		"child out of range":      replace(js, `"left_children":[1,`, `"left_children":[100,`),
		"cycle":                   replace(js, `"left_children":[1,`, `"left_children":[0,`),
		"nan threshold":           replace(js, `"split_conditions":[1.1445E2,`, `"split_conditions":[NaN,`),
		"nan leaf":                replace(js, `"base_score":"5E-1"`, `"base_score":"NaN"`),
		"bad base_score":          replace(js, `"base_score":"5E-1"`, `"base_score":"2"`),
		"vector leaf":             replace(js, `"size_leaf_vector":"0"}`, `"size_leaf_vector":"3"}`),
		"multi-target":            replace(js, `"num_target":"1"`, `"num_target":"2"`),
		"categories out of range": replace(cat, `"categories_segments":[0`, `"categories_segments":[1000`),
		"binary absurd num_trees": setU32(bin, gbp, 1<<30),
		"binary absurd num_nodes": setU32(bin, tree0+4, 1<<30),
		"binary negative nodes":   setU32(bin, tree0+4, 0xffffffff),
		"binary child range":      setU32(bin, node0+4, 5000),
		"binary cycle":            setU32(bin, node0+4, 0),
		"binary feature range":    setU32(bin, node0+12, 5000),
		"binary nan threshold":    setU32(bin, node0+16, 0x7fc00000),
		"binary objective":        append(append(bytes.Clone(bin[:144]), "\x0f\x00\x00\x00\x00\x00\x00\x00binary:mystery!"...), bin[144+23:]...),
		"binary trailing":         append(bytes.Clone(bin), 0),
		"ubjson deep":             append([]byte("{"), bytes.Repeat([]byte("i\x01a["), 100)...),
		"ubjson huge count":       []byte("{i\x01a[$d#L\x7f\xff\xff\xff\xff\xff\xff\xff"),
	}
	modelrttest.LoadFails(t, load, nil, corrupt)
	if dir, ok := modelrttest.FindReferenceDir(); ok {
		for _, name := range []string{"xgagaricus.model", "xgdermatology.model", "xgblin_agaricus.model"} {
			good, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			modelrttest.LoadFails(t, load, good, nil)
		}
	}

	// Messages name what is wrong.
	for name, want := range map[string]string{
		"unsupported objective":   `unsupported objective "reg:mystery"`,
		"unsupported booster":     `unsupported booster "gbforest"`,
		"cycle":                   "reached twice",
		"nan threshold":           "NaN",
		"binary absurd num_trees": "num_trees",
		"feature out of range":    "split feature",
	} {
		_, err := Load(corrupt[name])
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, want)
		}
	}
}

// tinyCat is a hand-made model: one categorical split on feature 0 with
// the set {1, 3}, missing going left; leaves -1 (left) and +1 (right).
const tinyCat = `{"learner":{"learner_model_param":{"base_score":"%s","num_class":"0","num_feature":"2"},
 "feature_names":["c","x"],"feature_types":["c","q"],
 "objective":{"name":"reg:squarederror"},
 "gradient_booster":{"name":"gbtree","model":{"gbtree_model_param":{"num_trees":"1","num_parallel_tree":"1"},
  "tree_info":[0],"trees":[{"tree_param":{"num_nodes":"3","size_leaf_vector":"0"},
  "left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],
  "split_conditions":[NaN,-1.0,1.0],"default_left":[1,0,0],"split_type":[1,0,0],
  "categories_nodes":[0],"categories_segments":[0],"categories_sizes":[2],"categories":[3,1]}]}}},
 "version":[2,1,0]}`

func TestCategoricalSplit(t *testing.T) {
	// XGBoost 3.x writes base_score as "[5E-1]".
	for _, bs := range []string{"0", "[0E0]"} {
		m, err := Load(fmt.Appendf(nil, tinyCat, bs))
		if err != nil {
			t.Fatal(err)
		}
		if in := m.Signature().Inputs; in[0].Type != modelrt.Categorical || in[1].Name != "x" {
			t.Errorf("inputs %+v", in)
		}
		for _, c := range []struct{ x, want float64 }{
			{1, 1}, {3, 1}, {3.7, 1}, {0, -1}, {2, -1}, {4, -1}, {-1, -1}, {1e9, -1},
			{math.NaN(), -1}, {math.Inf(1), -1}, {math.Inf(-1), -1},
		} {
			out := []float64{0}
			if err := m.Predict([]float64{c.x, 0}, 1, out, false); err != nil {
				t.Fatal(err)
			}
			if out[0] != c.want {
				t.Errorf("base %s: category %v went to %v, want %v", bs, c.x, out[0], c.want)
			}
		}
	}
}

func TestPredictErrors(t *testing.T) {
	m := loadFixture(t, "testdata/multi_softprob.json")
	if err := m.Predict(make([]float64, 4), 1, make([]float64, 2), false); err == nil {
		t.Error("short output accepted")
	}
	if err := m.Predict(make([]float64, 4), math.MaxInt/2, make([]float64, 3), false); err == nil {
		t.Error("huge row count accepted")
	}
	if _, err := LoadFile("testdata/does-not-exist.json"); err == nil || errors.Is(err, modelrt.ErrBadModel) {
		t.Errorf("missing file: %v", err)
	}
}

func TestQuoteNonFinite(t *testing.T) {
	for in, want := range map[string]string{
		`[1,NaN,2]`:                  `[1,"NaN",2]`,
		`{"a":"NaN \" NaN","b":NaN}`: `{"a":"NaN \" NaN","b":"NaN"}`,
		`[Infinity,-Infinity]`:       `["Infinity","-Infinity"]`,
		`[1,2]`:                      `[1,2]`,
	} {
		if got := string(quoteNonFinite([]byte(in))); got != want {
			t.Errorf("quoteNonFinite(%s) = %s, want %s", in, got, want)
		}
	}
}

// BenchmarkPredictRow predicts one row at a time with 100 trees of depth
// 6 on 30 features (breast_cancer, binary:logistic).
func BenchmarkPredictRow(b *testing.B) {
	m := loadFixture(b, "testdata/bench_100x6.ubj")
	if m.NumTrees() != 100 || len(m.Signature().Inputs) != 30 {
		b.Fatalf("%d trees, %d features", m.NumTrees(), len(m.Signature().Inputs))
	}
	x, rows, nf := modelrttest.ReadTable(b, "testdata/bench_100x6.rows.tsv", 0)
	out := make([]float64, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r := i % rows
		if err := m.Predict(x[r*nf:(r+1)*nf], 1, out, false); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range []string{"binary_logistic.model", "gblinear_multi.model", "gblinear_multi.json",
		"gblinear_multi.ubj", "dart_binary.model", "binary_logistic_base03.ubj"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"learner":{"learner_model_param":{"base_score":"5E-1","num_feature":"1"},"objective":{"name":"reg:squarederror"},"gradient_booster":{"name":"gbtree","model":{"gbtree_model_param":{"num_trees":"1"},"tree_info":[0],"trees":[{"tree_param":{"num_nodes":"3"},"left_children":[1,-1,-1],"right_children":[2,-1,-1],"split_indices":[0,0,0],"split_conditions":[0.5,1,2],"default_left":[1,0,0],"split_type":[1,0,0],"categories_nodes":[0],"categories_segments":[0],"categories_sizes":[1],"categories":[3]}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			if !errors.Is(err, modelrt.ErrBadModel) {
				t.Fatalf("error %v does not match ErrBadModel", err)
			}
			return
		}
		sig := m.Signature()
		x := make([]float64, len(sig.Inputs))
		for i := range x {
			x[i] = float64(i%5) - 1
		}
		if err := m.Predict(x, 1, make([]float64, sig.Outputs), false); err != nil {
			t.Fatal(err)
		}
		if err := m.PredictMargins(x, 1, make([]float64, m.NumGroups())); err != nil {
			t.Fatal(err)
		}
	})
}
