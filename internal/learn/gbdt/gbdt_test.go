package gbdt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

var dataSets = []string{"breast_cancer", "wine", "diabetes"}

func train(t testing.TB, d *Dataset, valid *Dataset, p Params) *Model {
	t.Helper()
	m, err := Train(context.Background(), d, valid, p)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func modelBytes(t testing.TB, m *Model) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := m.WriteXGBoostJSON(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkRuntime loads the written model with Ferry's XGBoost runtime and
// checks that it predicts what the trainer does on d.
func checkRuntime(t *testing.T, m *Model, d *Dataset) []byte {
	t.Helper()
	b := modelBytes(t, m)
	rt, err := xgboost.Load(b)
	if err != nil {
		t.Fatalf("runtime rejects the model: %v", err)
	}
	if rt.NumTrees() != m.NumTrees() || rt.NumGroups() != m.NumGroups() {
		t.Fatalf("runtime: %d trees, %d groups; trainer: %d, %d", rt.NumTrees(), rt.NumGroups(), m.NumTrees(), m.NumGroups())
	}
	want, err := m.Predict(d.X, d.Rows)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, len(want))
	if err := rt.Predict(d.X, d.Rows, got, false); err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6 {
			t.Fatalf("prediction %d: runtime %v, trainer %v", i, got[i], want[i])
		}
	}
	return b
}

func TestRoundTripRuntime(t *testing.T) {
	g := loadGolden(t)
	for _, name := range dataSets {
		t.Run(name, func(t *testing.T) {
			d := loadSet(t, name)
			tr, te := trainTest(d, g[name].TestIdx)
			m := train(t, tr, nil, paramsFor(g[name]))
			if m.NumTrees() != 100*m.NumGroups() {
				t.Errorf("%d trees, want %d", m.NumTrees(), 100*m.NumGroups())
			}
			checkRuntime(t, m, te)
			checkRuntime(t, m, tr)
		})
	}
}

func TestQualityVersusScikitLearn(t *testing.T) {
	g := loadGolden(t)
	for _, name := range dataSets {
		t.Run(name, func(t *testing.T) {
			d := loadSet(t, name)
			tr, te := trainTest(d, g[name].TestIdx)
			m := train(t, tr, nil, paramsFor(g[name]))
			s := score(t, m, te)
			t.Logf("%s: Go %.4f, sklearn HGB %.4f, xgboost %.4f", name, s, g[name].HGBScore, g[name].XGBScore)
			if s < g[name].HGBScore-0.02 {
				t.Errorf("test score %.4f is more than 0.02 below scikit-learn's %.4f", s, g[name].HGBScore)
			}
		})
	}
}

func TestMissingValues(t *testing.T) {
	g := loadGolden(t)
	for _, name := range dataSets {
		t.Run(name, func(t *testing.T) {
			d := withNaNs(loadSet(t, name), 0.2, 7)
			tr, te := trainTest(d, g[name].TestIdx)
			m := train(t, tr, nil, paramsFor(g[name]))
			b := checkRuntime(t, m, te)
			left, right := defaultDirections(t, b)
			if left == 0 || right == 0 {
				t.Errorf("splits send missing values left %d times, right %d times: the direction is not learned", left, right)
			}
			s := score(t, m, te)
			t.Logf("%s with 20%% missing: %.4f (sklearn without: %.4f)", name, s, g[name].HGBScore)
			// Still learns: well above chance / the mean.
			floor := map[string]float64{"breast_cancer": 0.85, "wine": 0.8, "diabetes": 0.05}[name]
			if s < floor {
				t.Errorf("score %.4f with missing values, want ≥ %.2f", s, floor)
			}
		})
	}
}

// defaultDirections counts the splits of a written model whose missing
// values go left and right.
func defaultDirections(t *testing.T, b []byte) (left, right int) {
	t.Helper()
	var doc struct {
		Learner struct {
			GradientBooster struct {
				Model struct {
					Trees []struct {
						LeftChildren []int `json:"left_children"`
						DefaultLeft  []int `json:"default_left"`
					} `json:"trees"`
				} `json:"model"`
			} `json:"gradient_booster"`
		} `json:"learner"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tr := range doc.Learner.GradientBooster.Model.Trees {
		for i, l := range tr.LeftChildren {
			if l < 0 {
				continue
			}
			if tr.DefaultLeft[i] == 1 {
				left++
			} else {
				right++
			}
		}
	}
	return left, right
}

func TestJSONFloat(t *testing.T) {
	tests := []struct {
		in   float32
		want string
	}{
		{0.5, "5E-1"}, {0, "0E0"}, {float32(math.Copysign(0, -1)), "-0E0"}, {1, "1E0"},
		{114.45, "1.1445E2"}, {152.13348, "1.5213348E2"}, {-1.2e-30, "-1.2E-30"},
		{math.MaxFloat32, "3.4028235E38"}, {math.SmallestNonzeroFloat32, "1E-45"},
	}
	for _, tc := range tests {
		got := jsonFloat(tc.in)
		if got != tc.want {
			t.Errorf("jsonFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := strconv.ParseFloat(got, 32)
		if err != nil || float32(back) != tc.in {
			t.Errorf("%q reads back as %v (%v)", got, back, err)
		}
	}
}

func TestMissingDirectionLearned(t *testing.T) {
	// y is 1 exactly where x0 is missing: only the default direction can
	// tell, so a right model must route NaN to the positive side.
	d := &Dataset{Rows: 200, Cols: 2}
	for r := range d.Rows {
		x0, y := float64(r%10), 0.0
		if r%3 == 0 {
			x0, y = math.NaN(), 1
		}
		d.X = append(d.X, x0, float64(r%7))
		d.Y = append(d.Y, y)
	}
	m := train(t, d, nil, DefaultParams(BinaryLogistic))
	p, err := m.Predict([]float64{math.NaN(), 3, 4, 3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(p[0] > 0.95 && p[1] < 0.05) {
		t.Errorf("P(y=1 | missing) = %v, P(y=1 | 4) = %v", p[0], p[1])
	}
	checkRuntime(t, m, d)
}

func TestEarlyStopping(t *testing.T) {
	d := synthetic(3000, 10, 3)
	tr, va := subset(d, seq(0, 2000)), subset(d, seq(2000, 3000))
	p := DefaultParams(BinaryLogistic)
	p.NumRounds = 500
	p.LearningRate = 0.5
	p.EarlyStoppingRounds = 5
	m := train(t, tr, va, p)
	best := m.BestIteration()
	if best < 0 || best >= 495 || m.NumTrees() != best+1 {
		t.Fatalf("best iteration %d, %d trees", best, m.NumTrees())
	}
	b := checkRuntime(t, m, va)
	rt, err := xgboost.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	if rt.BestRounds() != best+1 {
		t.Errorf("runtime BestRounds %d, want %d", rt.BestRounds(), best+1)
	}
	// The kept rounds are the ones a full run makes first.
	p.EarlyStoppingRounds = 0
	p.NumRounds = best + 1
	full := train(t, tr, nil, p)
	if !bytes.Equal(stripAttrs(modelBytes(t, full)), stripAttrs(b)) {
		t.Error("early-stopped model differs from a run of best+1 rounds")
	}
	if _, err := Train(context.Background(), tr, nil, DefaultParamsES()); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("early stopping without a validation set: %v", err)
	}
}

func DefaultParamsES() Params {
	p := DefaultParams(BinaryLogistic)
	p.EarlyStoppingRounds = 3
	return p
}

func stripAttrs(b []byte) []byte {
	i := bytes.Index(b, []byte(`"attributes":{`))
	j := bytes.Index(b, []byte(`"feature_names"`))
	return append(append([]byte{}, b[:i]...), b[j:]...)
}

func seq(a, b int) []int {
	s := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		s = append(s, i)
	}
	return s
}

func TestDeterministic(t *testing.T) {
	d := withNaNs(synthetic(5000, 12, 5), 0.05, 9)
	for _, obj := range []Objective{BinaryLogistic, MultiSoftprob, RegSquaredError} {
		t.Run(string(obj), func(t *testing.T) {
			p := DefaultParams(obj)
			p.NumRounds = 20
			p.Subsample, p.ColsampleByTree, p.Seed = 0.8, 0.7, 42
			dd := *d
			if obj == MultiSoftprob {
				dd.Y = make([]float64, d.Rows)
				for r := range dd.Y {
					dd.Y[r] = float64(r % 3)
					if d.X[r*d.Cols] > 0.5 {
						dd.Y[r] = 2
					}
				}
			}
			prev := runtime.GOMAXPROCS(1)
			defer runtime.GOMAXPROCS(prev)
			a := modelBytes(t, train(t, &dd, nil, p))
			runtime.GOMAXPROCS(2)
			b := modelBytes(t, train(t, &dd, nil, p))
			c := modelBytes(t, train(t, &dd, nil, p))
			if !bytes.Equal(a, b) || !bytes.Equal(b, c) {
				t.Fatal("the same data and params gave different model bytes")
			}
			p.Seed = 43
			if bytes.Equal(a, modelBytes(t, train(t, &dd, nil, p))) {
				t.Error("another seed gave the same model")
			}
		})
	}
}

func TestDegenerateInputs(t *testing.T) {
	nan := math.NaN()
	bin := DefaultParams(BinaryLogistic)
	tests := []struct {
		name    string
		d       *Dataset
		p       Params
		wantErr bool
	}{
		{"one row", &Dataset{Rows: 1, Cols: 2, X: []float64{1, 2}, Y: []float64{1}}, bin, false},
		{"constant feature", &Dataset{Rows: 4, Cols: 2, X: []float64{1, 0, 1, 1, 1, 2, 1, 3}, Y: []float64{0, 0, 1, 1}}, bin, false},
		{"all constant", &Dataset{Rows: 3, Cols: 1, X: []float64{5, 5, 5}, Y: []float64{0, 1, 1}}, bin, false},
		{"one class", &Dataset{Rows: 3, Cols: 1, X: []float64{1, 2, 3}, Y: []float64{1, 1, 1}}, bin, false},
		{"all-NaN column", &Dataset{Rows: 4, Cols: 2, X: []float64{nan, 1, nan, 2, nan, 3, nan, 4}, Y: []float64{0, 0, 1, 1}}, bin, false},
		{"all NaN", &Dataset{Rows: 2, Cols: 1, X: []float64{nan, nan}, Y: []float64{3, 4}}, DefaultParams(RegSquaredError), false},
		{"multi one class", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 0}}, DefaultParams(MultiSoftprob), true},
		{"no rows", &Dataset{Rows: 0, Cols: 1}, bin, true},
		{"short X", &Dataset{Rows: 2, Cols: 2, X: []float64{1, 2, 3}, Y: []float64{0, 1}}, bin, true},
		{"short Y", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0}}, bin, true},
		{"label 2 binary", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 2}}, bin, true},
		{"NaN label", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, nan}}, DefaultParams(RegSquaredError), true},
		{"infinite value", &Dataset{Rows: 2, Cols: 1, X: []float64{math.Inf(1), 2}, Y: []float64{0, 1}}, bin, true},
		{"float32 overflow", &Dataset{Rows: 2, Cols: 1, X: []float64{1e300, 2}, Y: []float64{0, 1}}, bin, true},
		{"bad names", &Dataset{Rows: 2, Cols: 2, X: []float64{1, 2, 3, 4}, Y: []float64{0, 1}, FeatureNames: []string{"a", "a"}}, bin, true},
		{"bad objective", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 1}}, Params{Objective: "rank:ndcg"}, true},
		{"zero params", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 1}}, Params{Objective: BinaryLogistic}, true},
		{"fractional class", &Dataset{Rows: 2, Cols: 1, X: []float64{1, 2}, Y: []float64{0, 1.5}}, DefaultParams(MultiSoftprob), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.NumRounds = min(tc.p.NumRounds, 5)
			m, err := Train(context.Background(), tc.d, nil, tc.p)
			if tc.wantErr {
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Fatalf("error %v, want an invalid-argument error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkRuntime(t, m, tc.d)
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Train(ctx, synthetic(100, 3, 1), nil, DefaultParams(BinaryLogistic)); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestThresholdsSeparateValues(t *testing.T) {
	// Neighbouring float32 values must land in different bins, and
	// float32(x) < cut must agree with the bin of every value.
	vals := []float32{1, math.Nextafter32(1, 2), 2, 2, 3, -0.5, 1e-30, 0}
	sorted := append([]float32(nil), vals...)
	slicesSort(sorted)
	for _, maxBin := range []int{2, 3, 256} {
		cuts := makeCuts(sorted, maxBin)
		for k := 1; k < len(cuts); k++ {
			if !(cuts[k] > cuts[k-1]) {
				t.Fatalf("maxBin %d: cuts not ascending: %v", maxBin, cuts)
			}
		}
		if maxBin == 256 && len(cuts) != 6 {
			t.Errorf("%d cuts for 7 distinct values: %v", len(cuts), cuts)
		}
		for _, x := range vals {
			b := binOf(cuts, x)
			for k, c := range cuts {
				if (x < c) != (b <= k) {
					t.Fatalf("x %v bin %d cut %d = %v disagree", x, b, k, c)
				}
			}
		}
	}
}

// pythonXGBoost reports whether /usr/bin/python3 can import xgboost;
// under CI a missing one fails the test instead of skipping it.
func pythonXGBoost(t testing.TB) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import xgboost").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: /usr/bin/python3 with xgboost is required: %v", err)
		}
		t.Skipf("no /usr/bin/python3 with xgboost: %v", err)
	}
}

func writeRows(t testing.TB, path string, d *Dataset) {
	t.Helper()
	var sb strings.Builder
	for r := range d.Rows {
		for c := range d.Cols {
			if c > 0 {
				sb.WriteByte('\t')
			}
			v := d.X[r*d.Cols+c]
			if math.IsNaN(v) {
				sb.WriteString("nan")
			} else {
				sb.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		sb.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPythonXGBoostAgrees(t *testing.T) {
	pythonXGBoost(t)
	g := loadGolden(t)
	for _, name := range dataSets {
		for _, missing := range []float64{0, 0.15} {
			t.Run(name+"/missing="+strconv.FormatFloat(missing, 'g', -1, 64), func(t *testing.T) {
				d := loadSet(t, name)
				if missing > 0 {
					d = withNaNs(d, missing, 11)
				}
				if name == "wine" {
					for c := range d.Cols {
						d.FeatureNames = append(d.FeatureNames, "feature "+strconv.Itoa(c))
					}
				}
				tr, te := trainTest(d, g[name].TestIdx)
				m := train(t, tr, nil, paramsFor(g[name]))
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
							t.Fatalf("row %d output %d: xgboost %v, trainer %v", r, j, v, want[r*k+j])
						}
					}
				}
			})
		}
	}
}
