// Package ops holds the pipeline operations that need no server, for
// `uses:` steps: split a CSV file into train and test sets, train a
// built-in learner, and evaluate a model on labelled data. They read
// their settings from the step's `with:` and write the outputs a step
// declares:
//
//   - name: split
//     uses: split
//     with: {data: data/cancer.csv, target: diagnosis, task: binary, test_fraction: "0.25", seed: "7"}
//     outputs: [train.csv, test.csv]
//   - name: train
//     uses: train
//     with: {data: "${{ steps.split.outputs.train.csv }}", target: diagnosis, task: binary,
//     learner: gbdt, n_estimators: "100", max_depth: "6", learning_rate: "0.3", seed: "7"}
//     outputs: [model.json, metrics.json]
//   - name: evaluate
//     uses: evaluate
//     with: {model: "${{ steps.train.outputs.model.json }}", data: "${{ steps.split.outputs.test.csv }}",
//     target: diagnosis, task: binary}
//     outputs: [metrics.json]
//
// A gbdt model is written as XGBoost JSON (Ferry serves it as it is); a
// linear model (logistic, linear, ridge) in Ferry's linear JSON format.
// metrics.json holds the metrics scikit-learn users know (accuracy, f1,
// roc_auc, log_loss, rmse, r2, ...). Relative paths are read from the
// pipeline's directory.
package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/learn"
	"github.com/ferry-ml/ferry/internal/learn/gbdt"
	"github.com/ferry-ml/ferry/internal/learn/linear"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/validate"
)

// Learning returns the operations that need no server: split, train,
// evaluate and validate.
func Learning() pipeline.Ops {
	return pipeline.Ops{
		"split":    pipeline.OpFunc(split),
		"train":    pipeline.OpFunc(train),
		"evaluate": pipeline.OpFunc(evaluate),
		"validate": pipeline.OpFunc(validateData),
	}
}

// validateData checks a CSV file against a validation suite
// (internal/validate), writes report.json, and fails the step when a
// check of severity error failed.
func validateData(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	data, suitePath := a.path("data"), a.path("suite")
	if a.err != nil {
		return a.err
	}
	src, err := os.ReadFile(suitePath)
	if err != nil {
		return err
	}
	suite, err := validate.ParseSuite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(suitePath), err)
	}
	f, err := os.Open(data)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := validate.NewCSVRows(f)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(data), err)
	}
	rep, err := validate.Validate(ctx, suite, rows, validate.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(data), err)
	}
	b, err := rep.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Outputs, "report.json"), b, 0o644); err != nil {
		return err
	}
	if err := rep.WriteText(c.Log); err != nil {
		return err
	}
	if !rep.Success {
		return fmt.Errorf("%s does not pass suite %s: %d of %d expectations failed (see the step's log)", filepath.Base(data),
			suite.Name, rep.Statistics.UnsuccessfulExpectations, rep.Statistics.EvaluatedExpectations)
	}
	return nil
}

// args reads a step's with values, remembering the first error.
type args struct {
	c   pipeline.OpCall
	err error
}

func (a *args) str(key, def string) string {
	if v, ok := a.c.With[key]; ok && v != "" {
		return v
	}
	if def == "" && a.err == nil {
		a.err = errdefs.InvalidArgument("step %q: with.%s is required", a.c.Step, key)
	}
	return def
}

func (a *args) num(key string, def float64) float64 {
	v, ok := a.c.With[key]
	if !ok || v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if (err != nil || math.IsNaN(f)) && a.err == nil {
		a.err = errdefs.InvalidArgument("step %q: with.%s: %q is not a number", a.c.Step, key, v)
	}
	return f
}

func (a *args) path(key string) string {
	p := a.str(key, "")
	if p != "" && !filepath.IsAbs(p) {
		p = filepath.Join(a.c.Workdir, p)
	}
	return p
}

func (a *args) task() learn.Task {
	t := learn.Task(a.str("task", ""))
	switch t {
	case learn.Binary, learn.Multiclass, learn.Regression, "":
	default:
		if a.err == nil {
			a.err = errdefs.InvalidArgument("step %q: with.task must be binary, multiclass or regression, got %q", a.c.Step, t)
		}
	}
	return t
}

func (a *args) table(key, target string, task learn.Task) learn.Table {
	p := a.path(key)
	if a.err != nil {
		return learn.Table{}
	}
	f, err := os.Open(p)
	if err != nil {
		a.err = err
		return learn.Table{}
	}
	defer f.Close()
	t, err := learn.ReadCSV(f, target, task)
	if err != nil {
		a.err = fmt.Errorf("%s: %w", filepath.Base(p), err)
		return t
	}
	// with.categorical names the columns that hold category codes
	// (0..63), split by category by the gbdt learner.
	if cats := a.c.With["categorical"]; cats != "" {
		t.Categorical = make([]bool, t.Cols)
		for _, name := range strings.Split(cats, ",") {
			j := slices.Index(t.FeatureNames, strings.TrimSpace(name))
			if j < 0 {
				a.err = errdefs.InvalidArgument("step %q: with.categorical: no feature column %q", a.c.Step, strings.TrimSpace(name))
				return t
			}
			t.Categorical[j] = true
		}
	}
	return t
}

func split(_ context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	task, target := a.task(), a.str("target", "")
	frac := a.num("test_fraction", 0.2)
	seed := a.num("seed", 0)
	t := a.table("data", target, task)
	if a.err != nil {
		return a.err
	}
	trainIdx, testIdx, err := learn.SplitIndices(t.Rows, t.Y, frac, uint64(seed), task != learn.Regression)
	if err != nil {
		return err
	}
	for name, idx := range map[string][]int{"train.csv": trainIdx, "test.csv": testIdx} {
		var b bytes.Buffer
		if err := t.WriteCSV(&b, target, idx); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(c.Outputs, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.Log, "split %d rows: %d train, %d test\n", t.Rows, len(trainIdx), len(testIdx))
	return nil
}

func train(ctx context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	task, target := a.task(), a.str("target", "")
	learner := a.str("learner", "gbdt")
	t := a.table("data", target, task)
	if a.err != nil {
		return a.err
	}
	var model []byte
	var predict func(x []float64, rows int) ([]float64, error)
	switch learner {
	case "gbdt":
		obj := gbdt.RegSquaredError
		switch task {
		case learn.Binary:
			obj = gbdt.BinaryLogistic
		case learn.Multiclass:
			obj = gbdt.MultiSoftprob
		}
		p := gbdt.DefaultParams(obj)
		p.NumRounds = int(a.num("n_estimators", float64(p.NumRounds)))
		p.MaxDepth = int(a.num("max_depth", float64(p.MaxDepth)))
		p.LearningRate = a.num("learning_rate", p.LearningRate)
		p.MinChildWeight = a.num("min_child_weight", p.MinChildWeight)
		p.Lambda = a.num("reg_lambda", p.Lambda)
		p.Subsample = a.num("subsample", p.Subsample)
		p.Seed = uint64(a.num("seed", 0))
		if a.err != nil {
			return a.err
		}
		if task == learn.Multiclass {
			p.NumClass = len(t.Classes)
		}
		m, err := gbdt.Train(ctx, &t.Dataset, nil, p)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := m.WriteXGBoostJSON(&b); err != nil {
			return err
		}
		model, predict = b.Bytes(), m.Predict
	case "logistic", "linear", "ridge":
		kind := map[string]linear.Kind{"logistic": linear.Logistic, "linear": linear.OLS, "ridge": linear.Ridge}[learner]
		if (kind == linear.Logistic) != (task != learn.Regression) {
			return errdefs.InvalidArgument("step %q: learner %s does not do %s", c.Step, learner, task)
		}
		p := linear.Params{Kind: kind, C: a.num("C", 0), Alpha: a.num("alpha", 0)}
		if a.err != nil {
			return a.err
		}
		m, err := linear.Fit(ctx, t.Dataset, p)
		if err != nil {
			return err
		}
		if model, err = m.MarshalJSON(); err != nil {
			return err
		}
		predict = func(x []float64, rows int) ([]float64, error) {
			out := make([]float64, rows*m.Outputs())
			return out, m.Predict(x, rows, out)
		}
	default:
		return errdefs.InvalidArgument("step %q: with.learner must be gbdt, logistic, linear or ridge, got %q", c.Step, learner)
	}
	out, err := predict(t.X, t.Rows)
	if err != nil {
		return err
	}
	metrics, err := learn.Evaluate(task, t.Y, out)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(c.Outputs, "model.json"), model, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "trained %s on %d rows × %d features: training %s\n", learner, t.Rows, t.Cols, formatMetrics(metrics))
	return writeMetrics(c, metrics)
}

func evaluate(_ context.Context, c pipeline.OpCall) error {
	a := &args{c: c}
	task, target := a.task(), a.str("target", "")
	mpath := a.path("model")
	t := a.table("data", target, task)
	if a.err != nil {
		return a.err
	}
	b, err := os.ReadFile(mpath)
	if err != nil {
		return err
	}
	var out []float64
	if m, err := xgboost.Load(b); err == nil {
		out = make([]float64, t.Rows*m.Signature().Outputs)
		if err := m.Predict(t.X, t.Rows, out, false); err != nil {
			return err
		}
	} else if lm, lerr := linear.Unmarshal(b); lerr == nil {
		out = make([]float64, t.Rows*lm.Outputs())
		if err := lm.Predict(t.X, t.Rows, out); err != nil {
			return err
		}
	} else {
		return errdefs.InvalidArgument("step %q: %s is neither an XGBoost model (%v) nor a linear one (%v)", c.Step, filepath.Base(mpath), err, lerr)
	}
	metrics, err := learn.Evaluate(task, t.Y, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Log, "evaluated on %d rows: %s\n", t.Rows, formatMetrics(metrics))
	return writeMetrics(c, metrics)
}

func writeMetrics(c pipeline.OpCall, m map[string]float64) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(c.Outputs, "metrics.json"), append(b, '\n'), 0o644)
}

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.4g", k, m[k])
	}
	return b.String()
}
