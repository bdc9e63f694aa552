package lightgbm

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

// withSizes fills in the tree_sizes line of a model text (the byte length
// of each "Tree=" block, as LightGBM writes it).
func withSizes(s string) string {
	starts := regexp.MustCompile(`(?m)^Tree=`).FindAllStringIndex(s, -1)
	end := strings.Index(s, "end of trees")
	var sizes []string
	for i, st := range starts {
		next := end
		if i+1 < len(starts) {
			next = starts[i+1][0]
		}
		sizes = append(sizes, strconv.Itoa(next-st[0]))
	}
	return strings.Replace(s, "tree_sizes=\n", "tree_sizes="+strings.Join(sizes, " ")+"\n", 1)
}

const header = `tree
version=v3
num_class=%d
num_tree_per_iteration=%d
label_index=0
max_feature_idx=3
objective=%s
%sfeature_names=a b c d
feature_infos=[0:1] [-1:1] none 0:2:32
tree_sizes=

`

// trailer ends like a model saved by LightGBM's C++ code; Python adds a
// last line "pandas_categorical:null" and a cut just before it is a
// complete model that loads.
const trailer = `end of trees

feature_importances:
a=1
d=1

parameters:
[boosting: gbdt]
[objective: regression]
end of parameters
`

// semanticTrees exercises every kind of decision: missing type none,
// zero-as-missing with default left, NaN-as-missing with default right,
// and a categorical bitset {0, 2, 32}.
const semanticTrees = `Tree=0
num_leaves=2
num_cat=0
split_feature=0
split_gain=1
threshold=1.5
decision_type=0
left_child=-1
right_child=-2
leaf_value=1 2
leaf_weight=1 1
leaf_count=10 10
internal_value=0
internal_weight=0
internal_count=20
is_linear=0
shrinkage=1


Tree=1
num_leaves=2
num_cat=0
split_feature=1
threshold=-0.5
decision_type=6
left_child=-1
right_child=-2
leaf_value=10 20
shrinkage=1


Tree=2
num_leaves=2
num_cat=0
split_feature=2
threshold=0.5
decision_type=8
left_child=-1
right_child=-2
leaf_value=100 200
shrinkage=1


Tree=3
num_leaves=3
num_cat=1
split_feature=3 0
threshold=0 0.25
decision_type=1 2
left_child=-1 -2
right_child=1 -3
leaf_value=1000 2000 3000
cat_boundaries=0 2
cat_threshold=5 1
shrinkage=1


`

func semanticModel() string {
	return withSizes(fmt.Sprintf(header, 1, 1, "regression", "") + semanticTrees + trailer)
}

func mustLoad(t testing.TB, s string) *Model {
	t.Helper()
	m, err := Load([]byte(s))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return m
}

func TestDecisions(t *testing.T) {
	m := mustLoad(t, semanticModel())
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		tree int
		x    float64
		leaf int
	}{
		// Missing type none: NaN is read as 0; x <= threshold goes left.
		{0, 1.5, 0}, {0, math.Nextafter(1.5, 2), 1}, {0, nan, 0}, {0, -inf, 0}, {0, inf, 1},
		// Zero as missing, default left: |x| <= 1e-35f and NaN go left.
		{1, 0, 0}, {1, 1e-36, 0}, {1, -1e-36, 0}, {1, nan, 0}, {1, -1, 0}, {1, 1, 1}, {1, 1e-30, 1}, {1, kZeroThreshold, 0},
		// NaN as missing, default right.
		{2, nan, 1}, {2, 0, 0}, {2, 0.5, 0}, {2, 0.6, 1},
		// Categorical {0, 2, 32}: truncation toward zero, NaN, negative
		// and out-of-range categories go right (then feature a = 0 <= 0.25
		// sends them to leaf 1).
		{3, 0, 0}, {3, 2, 0}, {3, 2.9, 0}, {3, -0.5, 0}, {3, 32, 0}, {3, 1, 1}, {3, -1, 1}, {3, 64, 1},
		{3, 33, 1}, {3, nan, 1}, {3, 1e10, 1}, {3, inf, 1}, {3, -inf, 1}, {3, 4294967298, 1},
	} {
		row := []float64{0, 5, 5, 7} // leaves 0, 1, 1, 1 by default
		row[c.tree] = c.x
		leaves := make([]int, 4)
		if err := m.PredictLeaves(row, 1, leaves); err != nil {
			t.Fatal(err)
		}
		if leaves[c.tree] != c.leaf {
			t.Errorf("tree %d, x=%v: leaf %d, want %d", c.tree, c.x, leaves[c.tree], c.leaf)
		}
	}
	// The raw score is the sum of the leaves.
	out := make([]float64, 1)
	if err := m.Predict([]float64{0, 5, 5, 7}, 1, out, false); err != nil {
		t.Fatal(err)
	}
	if out[0] != 1+20+200+2000 {
		t.Errorf("sum %v", out[0])
	}
	s := m.Signature()
	want := []modelrt.Feature{{Name: "a", Type: modelrt.Float}, {Name: "b", Type: modelrt.Float}, {Name: "c", Type: modelrt.Float}, {Name: "d", Type: modelrt.Categorical}}
	if fmt.Sprint(s.Inputs) != fmt.Sprint(want) || s.Task != modelrt.Regression || s.Outputs != 1 || s.Objective != "regression" {
		t.Errorf("signature %+v", s)
	}
	modelrttest.Run(t, modelrttest.Case{Name: "semantic", Model: m, X: []float64{0, 5, 5, 7, 2, 0, nan, 2}, Rows: 2, Want: []float64{2221, 2 + 10 + 200 + 1000}})
}

// oneLeaf is a model of n one-leaf trees with the given leaf values.
func oneLeaf(numClass int, objective, extra string, leaves ...float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, header, numClass, numClass, objective, extra)
	for i, v := range leaves {
		fmt.Fprintf(&b, "Tree=%d\nnum_leaves=1\nnum_cat=0\nsplit_feature=\nsplit_gain=\nthreshold=\ndecision_type=\nleft_child=\nright_child=\nleaf_value=%v\nleaf_weight=\nleaf_count=\ninternal_value=\ninternal_weight=\ninternal_count=\nis_linear=0\nshrinkage=1\n\n\n", i, v)
	}
	return withSizes(b.String() + trailer)
}

func TestObjectives(t *testing.T) {
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	for _, c := range []struct {
		objective string
		numClass  int
		extra     string
		leaves    []float64
		task      modelrt.Task
		raw, want []float64
	}{
		{"binary sigmoid:2", 1, "", []float64{0.25, 0.25}, modelrt.Binary, []float64{0.5}, []float64{sig(1)}},
		{"regression", 1, "", []float64{-1.5}, modelrt.Regression, []float64{-1.5}, []float64{-1.5}},
		{"regression sqrt", 1, "", []float64{-1.5}, modelrt.Regression, []float64{-1.5}, []float64{-2.25}},
		{"regression_l1", 1, "", []float64{3}, modelrt.Regression, []float64{3}, []float64{3}},
		{"huber", 1, "", []float64{3}, modelrt.Regression, []float64{3}, []float64{3}},
		{"fair", 1, "", []float64{3}, modelrt.Regression, []float64{3}, []float64{3}},
		{"quantile", 1, "", []float64{3}, modelrt.Regression, []float64{3}, []float64{3}},
		{"poisson", 1, "", []float64{1, 0.5}, modelrt.Regression, []float64{1.5}, []float64{math.Exp(1.5)}},
		{"gamma", 1, "", []float64{-1}, modelrt.Regression, []float64{-1}, []float64{math.Exp(-1)}},
		{"tweedie", 1, "", []float64{2}, modelrt.Regression, []float64{2}, []float64{math.Exp(2)}},
		{"cross_entropy", 1, "", []float64{2}, modelrt.Binary, []float64{2}, []float64{sig(2)}},
		{"cross_entropy_lambda", 1, "", []float64{2}, modelrt.Regression, []float64{2}, []float64{math.Log1p(math.Exp(2))}},
		{"lambdarank", 1, "", []float64{2}, modelrt.Ranking, []float64{2}, []float64{2}},
		{"rank_xendcg", 1, "", []float64{2}, modelrt.Ranking, []float64{2}, []float64{2}},
		{"multiclass num_class:3", 3, "", []float64{1, 2, 3, 1, 0, 0}, modelrt.Multiclass, []float64{2, 2, 3},
			[]float64{math.Exp(-1) / (2*math.Exp(-1) + 1), math.Exp(-1) / (2*math.Exp(-1) + 1), 1 / (2*math.Exp(-1) + 1)}},
		{"multiclassova num_class:2 sigmoid:1", 2, "", []float64{1, -2}, modelrt.Multiclass, []float64{1, -2}, []float64{sig(1), sig(-2)}},
		// Random forest: v3 files transform the average.
		{"binary sigmoid:1", 1, "average_output\n", []float64{1, 2, 3}, modelrt.Binary, []float64{2}, []float64{sig(2)}},
	} {
		m := mustLoad(t, oneLeaf(c.numClass, c.objective, c.extra, c.leaves...))
		s := m.Signature()
		if s.Task != c.task || s.Outputs != len(c.want) {
			t.Errorf("%s: task %s outputs %d", c.objective, s.Task, s.Outputs)
			continue
		}
		x := []float64{0, 0, 0, 0}
		for _, raw := range []bool{true, false} {
			want := c.want
			if raw {
				want = c.raw
			}
			got := make([]float64, len(want))
			if err := m.Predict(x, 1, got, raw); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if math.Abs(got[i]-want[i]) > 1e-15 {
					t.Errorf("%s raw=%v: output %d = %v, want %v", c.objective, raw, i, got[i], want[i])
				}
			}
		}
	}
}

func TestRandomForestV2(t *testing.T) {
	s := strings.Replace(oneLeaf(1, "binary sigmoid:1", "average_output\n", 0.25, 0.75, 0.8), "version=v3", "version=v2", 1)
	for _, c := range []struct {
		opt  RFOutput
		want float64
	}{{RFAuto, 0.6}, {RFAverage, 0.6}, {RFTransform, 1 / (1 + math.Exp(-0.6))}} {
		m, err := LoadWith([]byte(s), Options{RandomForest: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, 1)
		if err := m.Predict(make([]float64, 4), 1, out, false); err != nil {
			t.Fatal(err)
		}
		if math.Abs(out[0]-c.want) > 1e-15 {
			t.Errorf("option %d: %v, want %v", c.opt, out[0], c.want)
		}
	}
}

// fragment wraps one of the reference tree fragments (a bare "Tree=" block)
// into a model with nf features.
func fragment(t *testing.T, name string, nf int) *Model {
	t.Helper()
	b, err := os.ReadFile(ref(t, name))
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`^Tree=\d+`).ReplaceAllString(strings.TrimSpace(string(b)), "Tree=0")
	names := make([]string, nf)
	infos := make([]string, nf)
	for i := range names {
		names[i], infos[i] = fmt.Sprintf("f%d", i), "[0:1]"
	}
	s := fmt.Sprintf("tree\nversion=v3\nnum_class=1\nnum_tree_per_iteration=1\nlabel_index=0\nmax_feature_idx=%d\nobjective=regression\nfeature_names=%s\nfeature_infos=%s\n\n%s\n\n\nend of trees\n",
		nf-1, strings.Join(names, " "), strings.Join(infos, " "), body)
	return mustLoad(t, s)
}

func predictOne(t *testing.T, m *Model, row ...float64) float64 {
	t.Helper()
	out := make([]float64, m.Signature().Outputs)
	if err := m.Predict(row, 1, out, true); err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestEdgeCaseFragments(t *testing.T) {
	m := fragment(t, "tree_1leaf.txt", 1)
	if got := predictOne(t, m, 42); got != 0.123 {
		t.Errorf("tree_1leaf: %v", got)
	}
	m = fragment(t, "tree_2leaves.txt", 1)
	if a, b := predictOne(t, m, 5), predictOne(t, m, 5.5); a != 0.43 || b != 0.59 {
		t.Errorf("tree_2leaves: %v %v", a, b)
	}
	m = fragment(t, "tree_3leaves.txt", 2)
	// Category 100 (bit 4 of word 3) goes left; others by f0 <= 756.
	for _, c := range []struct{ f0, f1, want float64 }{{0, 100, 0.54}, {0, 99, 0.35}, {800, 3, 0.38}, {0, math.NaN(), 0.35}, {0, -1, 0.35}} {
		if got := predictOne(t, m, c.f0, c.f1); got != c.want {
			t.Errorf("tree_3leaves(%v, %v) = %v, want %v", c.f0, c.f1, got, c.want)
		}
	}
}

func TestModelSimple(t *testing.T) {
	m := load(t, "model_simple.txt")
	s := m.Signature()
	if s.Inputs[0] != (modelrt.Feature{Name: "X1", Type: modelrt.Float}) || s.Inputs[1] != (modelrt.Feature{Name: "X2", Type: modelrt.Categorical}) || s.Task != modelrt.Binary {
		t.Errorf("signature %+v", s)
	}
	l0 := 0.56697267424823339 + 0.12883103567558912
	l1 := 0.3584987837673016 + -0.063872842243335157
	l2 := 0.41213915936587919 + -0.016484332942214807
	for _, c := range []struct{ x1, x2, want float64 }{{0, 100, l0}, {0, 3, l1}, {500, -1, l2}, {340.5, math.NaN(), l1}, {math.NaN(), 0, l1}} {
		if got := predictOne(t, m, c.x1, c.x2); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("model_simple(%v, %v) = %v, want %v", c.x1, c.x2, got, c.want)
		}
	}
}

// badInputs are hand-made corrupt models, each with a part of the message
// it must give.
func badInputs() map[string]struct {
	data []byte
	msg  string
} {
	good := semanticModel()
	edit := func(old, new string) []byte {
		if !strings.Contains(good, old) {
			panic("test edit not found: " + old)
		}
		return []byte(strings.Replace(good, old, new, 1))
	}
	noSizes := func(s string) string { return regexp.MustCompile(`tree_sizes=.*\n`).ReplaceAllString(s, "") }
	ed := func(old, new string) []byte { return []byte(noSizes(string(edit(old, new)))) }
	type bad = struct {
		data []byte
		msg  string
	}
	return map[string]bad{
		"empty":                  {nil, "empty"},
		"not a model":            {[]byte("hello\nworld\n"), `want "tree"`},
		"no end of trees":        {[]byte(strings.Replace(good, "end of trees", "", 1)), "is not key=value"},
		"cut before end":         {[]byte(good[:strings.Index(good, "end of trees")]), "truncated"},
		"child out of range":     {ed("left_child=-1 -2", "left_child=-1 5"), "Tree=3, line"},
		"leaf out of range":      {ed("right_child=1 -3", "right_child=1 -4"), "right_child"},
		"cycle":                  {ed("left_child=-1 -2", "left_child=-1 1"), "reached twice"},
		"root as child":          {ed("left_child=-1 -2", "left_child=-1 0"), "reached twice"},
		"leaf twice":             {ed("left_child=-1 -2", "left_child=-1 -3"), "leaf 2 is reached twice"},
		"leaf count disagrees":   {ed("leaf_value=10 20", "leaf_value=10 20 30"), "leaf_value: 3 values, want 2"},
		"split count disagrees":  {ed("threshold=0 0.25", "threshold=0"), "threshold: 1 values, want 2"},
		"optional count":         {ed("leaf_count=10 10", "leaf_count=10"), "leaf_count"},
		"absurd num_leaves":      {ed("num_leaves=2\nnum_cat=0\nsplit_feature=0\n", "num_leaves=2000000000\nnum_cat=0\nsplit_feature=0\n"), "leaf_value: 2 values, want 2000000000"},
		"negative num_leaves":    {ed("num_leaves=2\nnum_cat=0\nsplit_feature=0\n", "num_leaves=-3\nnum_cat=0\nsplit_feature=0\n"), "num_leaves"},
		"bad number":             {ed("threshold=1.5", "threshold=1.5x"), `threshold: value 0 ("1.5x") is not a number`},
		"bad integer":            {ed("split_feature=3 0", "split_feature=3 0.5"), "split_feature"},
		"feature out of range":   {ed("split_feature=3 0", "split_feature=9 0"), "split_feature"},
		"unsupported objective":  {edit("objective=regression", "objective=frobnicate"), `unsupported objective "frobnicate"`},
		"class count mismatch":   {edit("num_class=1\nnum_tree_per_iteration=1", "num_class=2\nnum_tree_per_iteration=2"), "num_class=2"},
		"feature names count":    {edit("feature_names=a b c d", "feature_names=a b c"), "feature_names has 3"},
		"no feature_infos":       {edit("feature_infos=", "feature_inf="), "no feature_infos"},
		"bad feature_infos":      {edit("0:2:32", "0:x:32"), "feature_infos"},
		"unsupported version":    {edit("version=v3", "version=v9"), "unsupported version"},
		"linear tree":            {ed("is_linear=0", "is_linear=1"), "linear trees are not supported"},
		"NaN leaf":               {ed("leaf_value=100 200", "leaf_value=NaN 200"), "leaf_value"},
		"NaN threshold":          {ed("threshold=0.5", "threshold=nan"), "threshold is NaN"},
		"missing type 3":         {ed("decision_type=8", "decision_type=12"), "missing type 3"},
		"categorical w/o cats":   {ed("decision_type=0", "decision_type=1"), "num_cat=0"},
		"cat index out of range": {ed("threshold=0 0.25", "threshold=1 0.25"), "category set index"},
		"cat boundaries":         {ed("cat_boundaries=0 2", "cat_boundaries=0 3"), "cat_boundaries"},
		"cat threshold number":   {ed("cat_threshold=5 1", "cat_threshold=5 -1"), "cat_threshold"},
		"duplicate key":          {ed("shrinkage=1\n", "shrinkage=1\nshrinkage=1\n"), "repeated"},
		"tree numbering":         {ed("Tree=2", "Tree=7"), "Tree=2 was expected"},
		"tree size":              {edit("threshold=1.5", "threshold=1.50"), "tree_sizes says"},
		"tree count":             {[]byte(strings.Replace(good, semanticTrees[strings.Index(semanticTrees, "Tree=3"):], "", 1)), "3 trees, tree_sizes lists 4"},
		"not key=value":          {ed("shrinkage=1\n", "shrinkage\n"), "not key=value"},
		"trees per iteration":    {[]byte(noSizes(strings.Replace(strings.Replace(good, "num_class=1\nnum_tree_per_iteration=1", "num_class=3\nnum_tree_per_iteration=3", 1), "objective=regression", "objective=multiclass num_class:3", 1))), "not a multiple"},
		"no trees":               {[]byte(fmt.Sprintf(header, 1, 1, "regression", "") + "end of trees\n"), "no trees"},
		"params unterminated":    {[]byte(strings.Replace(good, "end of parameters", "", 1)), "end of parameters"},
		"pandas truncated":       {[]byte(good + "\npandas_categorical:nu"), "pandas_categorical"},
		"bad sigmoid":            {edit("objective=regression", "objective=binary sigmoid:-1"), "sigmoid"},
	}
}

func TestBadInputs(t *testing.T) {
	inputs := badInputs()
	for name, c := range inputs {
		_, err := Load(c.data)
		if err == nil || !errors.Is(err, modelrt.ErrBadModel) {
			t.Errorf("%s: error %v, want ErrBadModel", name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not say %q", name, err, c.msg)
		}
	}
	bad := map[string][]byte{}
	for name, c := range inputs {
		bad[name] = c.data
	}
	loader := func(b []byte) (modelrt.Model, error) {
		m, err := Load(b)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	modelrttest.LoadFails(t, loader, []byte(semanticModel()), bad)
	// Truncations of every reference model at every step are refused too.
	{
		for _, name := range []string{"model_simple.txt", "lg_breast_cancer.txt", "lg_dart_breast_cancer.model", "lg_rf_iris.model", "lgmulticlass.model", "lg_kddcup99.model", "genlin_fmtp_tweedie_PurePremium.model"} {
			good, err := os.ReadFile(ref(t, name))
			if err != nil {
				t.Fatal(err)
			}
			modelrttest.LoadFails(t, loader, good, nil)
		}
	}
}

// TestTruncatedAtTreeBoundary cuts a model just before each "Tree=" and
// before "end of trees" and appends an "end of trees": tree_sizes gives
// the count away.
func TestTruncatedAtTreeBoundary(t *testing.T) {
	good := semanticModel()
	for _, i := range regexp.MustCompile(`(?m)^Tree=[1-9]`).FindAllStringIndex(good, -1) {
		_, err := Load([]byte(good[:i[0]] + "end of trees\n"))
		if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "tree_sizes") {
			t.Errorf("cut at %d: %v", i[0], err)
		}
	}
}

// TestLoadAllocationBound checks that absurd counts in a small file do not
// make Load allocate in proportion to the counts.
func TestLoadAllocationBound(t *testing.T) {
	for _, s := range []string{
		strings.Replace(semanticModel(), "num_leaves=3", "num_leaves=2147483647", 1),
		strings.Replace(semanticModel(), "max_feature_idx=3", "max_feature_idx=2147483646", 1),
		strings.Replace(strings.Replace(semanticModel(), "num_class=1", "num_class=2000000000", 1), "num_tree_per_iteration=1", "num_tree_per_iteration=2000000000", 1),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Load([]byte(s))
		runtime.ReadMemStats(&after)
		if !errors.Is(err, modelrt.ErrBadModel) {
			t.Errorf("loaded: %v", err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Errorf("Load of %d bytes allocated %d bytes", len(s), d)
		}
	}
}

func TestPredictDoesNotAllocate(t *testing.T) {
	for _, s := range []string{semanticModel(), oneLeaf(3, "multiclass num_class:3", "", 1, 2, 3)} {
		m := mustLoad(t, s)
		x := []float64{0, 1, math.NaN(), 2, 1, 1, 1, 1}
		out := make([]float64, 2*m.Signature().Outputs)
		if n := testing.AllocsPerRun(100, func() { _ = m.Predict(x, 2, out, false) }); n != 0 {
			t.Errorf("Predict allocates %v times per call", n)
		}
	}
}

func TestLoadFile(t *testing.T) {
	if _, err := LoadFile("does/not/exist.txt"); err == nil || errors.Is(err, modelrt.ErrBadModel) {
		t.Errorf("missing file: %v", err)
	}
	p := t.TempDir() + "/bad.txt"
	if err := os.WriteFile(p, []byte("tree\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(p); !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), p) {
		t.Errorf("bad file: %v", err)
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(semanticModel()))
	f.Add([]byte(oneLeaf(3, "multiclass num_class:3", "", 1, 2, 3)))
	f.Add([]byte(oneLeaf(1, "binary sigmoid:1", "average_output\n", 1, 2, 3)))
	if dir, ok := modelrttest.FindReferenceDir(); ok {
		for _, name := range []string{"model_simple.txt", "lg_rf_iris.model"} {
			if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Load(data)
		if err != nil {
			if !errors.Is(err, modelrt.ErrBadModel) {
				t.Fatalf("error %v does not match ErrBadModel", err)
			}
			return
		}
		s := m.Signature()
		nf := len(s.Inputs)
		if nf > 1<<16 {
			return
		}
		x := make([]float64, 3*nf)
		for i := range x {
			x[i] = []float64{0, math.NaN(), 1e300, -3, 2.5, math.Inf(1)}[i%6]
		}
		out := make([]float64, 3*s.Outputs)
		if err := m.Predict(x, 3, out, false); err != nil {
			t.Fatal(err)
		}
		leaves := make([]int, 3*m.NumTrees())
		if err := m.PredictLeaves(x, 3, leaves); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkPredictRow(b *testing.B) {
	m := load(b, "lg_breast_cancer.txt")
	x := flat(readTable(b, ref(b, "lg_breast_cancer_data.txt"), 0))
	nf := len(m.Signature().Inputs)
	rows := len(x) / nf
	out := make([]float64, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := i % rows
		if err := m.Predict(x[r*nf:(r+1)*nf], 1, out, false); err != nil {
			b.Fatal(err)
		}
	}
}
