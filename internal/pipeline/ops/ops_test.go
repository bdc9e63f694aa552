package ops_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
)

// cancerCSV writes scikit-learn's breast cancer data (BSD-3-Clause, in
// internal/learn/testdata) as a CSV with a header and a text label.
func cancerCSV(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open("../../learn/testdata/breast_cancer.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan() // "569,30,malignant,benign"
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "f%d,", i)
	}
	b.WriteString("diagnosis\n")
	for sc.Scan() {
		cells := strings.Split(sc.Text(), ",")
		label := map[string]string{"0": "malignant", "1": "benign"}[cells[30]]
		b.WriteString(strings.Join(cells[:30], ",") + "," + label + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

const learnPipeline = `name: cancer
params:
  depth: {type: int, default: 4}
steps:
  - name: split
    uses: split
    with: {data: cancer.csv, target: diagnosis, task: binary, test_fraction: "0.3", seed: "7"}
    inputs: [cancer.csv]
    outputs: [train.csv, test.csv]
  - name: gbdt
    uses: train
    with: {data: "${{ steps.split.outputs.train.csv }}", target: diagnosis, task: binary, learner: gbdt,
           n_estimators: "50", max_depth: "${{ params.depth }}", seed: "7"}
    outputs: [model.json, metrics.json]
  - name: logistic
    uses: train
    with: {data: "${{ steps.split.outputs.train.csv }}", target: diagnosis, task: binary, learner: logistic}
    outputs: [model.json, metrics.json]
  - name: eval_gbdt
    uses: evaluate
    with: {model: "${{ steps.gbdt.outputs.model.json }}", data: "${{ steps.split.outputs.test.csv }}", target: diagnosis, task: binary}
    outputs: [metrics.json]
  - name: eval_logistic
    uses: evaluate
    with: {model: "${{ steps.logistic.outputs.model.json }}", data: "${{ steps.split.outputs.test.csv }}", target: diagnosis, task: binary}
    outputs: [metrics.json]
`

func TestLearningPipeline(t *testing.T) {
	dir := t.TempDir()
	cancerCSV(t, filepath.Join(dir, "cancer.csv"))
	sp, err := pipeline.Parse([]byte(learnPipeline), ops.Learning())
	if err != nil {
		t.Fatal(err)
	}
	params, _ := sp.ResolveParams(nil)
	cache := &pipeline.Cache{Dir: t.TempDir()}
	runOnce := func() (*pipeline.Result, string) {
		x := &pipeline.Executor{Ops: ops.Learning(), Workdir: dir, RunDir: t.TempDir(), Cache: cache}
		res, err := x.Run(context.Background(), sp, params)
		if err != nil {
			t.Fatal(err)
		}
		return res, x.RunDir
	}
	res, runDir := runOnce()
	for _, s := range res.Steps {
		if s.Status != pipeline.StatusSucceeded {
			t.Fatalf("%s: %s %s", s.Name, s.Status, s.Error)
		}
	}
	for _, step := range []string{"eval_gbdt", "eval_logistic"} {
		b, _ := os.ReadFile(filepath.Join(runDir, "outputs", step, "metrics.json"))
		var m map[string]float64
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["accuracy"] < 0.9 || m["roc_auc"] < 0.95 {
			t.Fatalf("%s: %v", step, m)
		}
	}
	// The gbdt model is an XGBoost model Ferry serves.
	b, _ := os.ReadFile(filepath.Join(runDir, "outputs", "gbdt", "model.json"))
	if m, err := xgboost.Load(b); err != nil || m.Signature().Outputs != 1 {
		t.Fatalf("gbdt model: %v", err)
	}
	// Training is reproducible: a second run restores every step.
	res, _ = runOnce()
	for _, s := range res.Steps {
		if s.Status != pipeline.StatusCached {
			t.Fatalf("second run: %s %s", s.Name, s.Status)
		}
	}
}

func TestOpErrors(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("a,b,y\n1,2,0\n3,x,1\n"), 0o644)
	for _, tc := range []struct {
		with map[string]string
		want string
	}{
		{map[string]string{"data": "bad.csv", "target": "y", "task": "binary"}, `line 3, column "b": "x" is not a number`},
		{map[string]string{"data": "bad.csv", "target": "nope", "task": "binary"}, `no target column "nope"`},
		{map[string]string{"data": "bad.csv", "target": "y", "task": "ranking"}, "with.task must be"},
		{map[string]string{"target": "y", "task": "binary"}, "with.data is required"},
		{map[string]string{"data": "bad.csv", "target": "y", "task": "binary", "learner": "svm"}, ""},
	} {
		err := ops.Learning()["train"].Run(context.Background(), pipeline.OpCall{Step: "t", With: tc.with, Workdir: dir, Outputs: t.TempDir(), Log: os.Stderr})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.with, err, tc.want)
		}
	}
}

// with.categorical makes the trees split by category membership.
func TestTrainCategorical(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("c,x,y\n")
	for i := range 600 {
		c := i % 10
		y := 0
		if c == 2 || c == 5 || c == 8 {
			y = 1
		}
		fmt.Fprintf(&b, "%d,%d,%d\n", c, i%7, y)
	}
	_ = os.WriteFile(filepath.Join(dir, "d.csv"), []byte(b.String()), 0o644)
	acc := func(with map[string]string) float64 {
		out := t.TempDir()
		with["data"], with["target"], with["task"], with["n_estimators"], with["max_depth"] = "d.csv", "y", "binary", "1", "1"
		if err := ops.Learning()["train"].Run(context.Background(), pipeline.OpCall{Step: "t", With: with, Workdir: dir, Outputs: out, Log: io.Discard}); err != nil {
			t.Fatal(err)
		}
		var m map[string]float64
		b, _ := os.ReadFile(filepath.Join(out, "metrics.json"))
		_ = json.Unmarshal(b, &m)
		return m["accuracy"]
	}
	if num, cat := acc(map[string]string{}), acc(map[string]string{"categorical": "c"}); cat != 1 || num >= 1 {
		t.Fatalf("one stump: numeric accuracy %v, categorical %v", num, cat)
	}
	err := ops.Learning()["train"].Run(context.Background(), pipeline.OpCall{Step: "t", Workdir: dir, Outputs: t.TempDir(), Log: io.Discard,
		With: map[string]string{"data": "d.csv", "target": "y", "task": "binary", "categorical": "nope"}})
	if err == nil || !strings.Contains(err.Error(), `no feature column "nope"`) {
		t.Fatalf("unknown categorical column: %v", err)
	}
}
