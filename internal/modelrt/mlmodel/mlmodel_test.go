package mlmodel

// The MLmodel files in testdata and below are written by hand in the
// layout MLflow 2.x writes: mlflow/models/model.py (Model.to_dict, saved
// with yaml.safe_dump, keys sorted: artifact_path, flavors, mlflow_version,
// model_size_bytes, model_uuid, run_id, signature {inputs, outputs, params
// as JSON strings, from ModelSignature.to_dict}, utc_time_created quoted),
// mlflow/xgboost/__init__.py save_model (flavor keys code, data
// "model.<model_format>", model_class, model_format, xgb_version; the
// python_function flavor with loader_module mlflow.xgboost),
// mlflow/lightgbm/__init__.py save_model (code, data "model.lgb",
// lgb_version, model_class) and mlflow/types/schema.py (ColSpec
// {"type", "name", "required"}, TensorSpec {"type": "tensor",
// "tensor-spec": {"dtype", "shape"}}). The model data they name is read
// in place from ../xgboost/testdata and the shared reference models.

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/lightgbm"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

// files maps paths relative to a model directory to files on disk or to
// contents, like an artifact store.
type files struct {
	disk   map[string]string
	inline map[string]string
}

func (f files) read(ctx context.Context, rel string) ([]byte, error) {
	if s, ok := f.inline[rel]; ok {
		return []byte(s), nil
	}
	if p, ok := f.disk[rel]; ok {
		return os.ReadFile(p)
	}
	return nil, &fs.PathError{Op: "open", Path: rel, Err: fs.ErrNotExist}
}

func xgbTestdata(name string) string { return filepath.Join("..", "xgboost", "testdata", name) }

func mustLoad(t *testing.T, f files) *Model {
	t.Helper()
	m, err := Load(context.Background(), f.read)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestXGBoostBoosterJSON(t *testing.T) {
	m := mustLoad(t, files{disk: map[string]string{
		"MLmodel":    "testdata/xgb_booster_json/MLmodel",
		"model.json": xgbTestdata("binary_logistic.json"),
	}})
	if m.Flavor != "xgboost" || m.ModelClass != "xgboost.core.Booster" || m.ModelFormat != "json" ||
		m.DataPath != "model.json" || m.ClassifierLabels || !m.SignatureFromMLmodel {
		t.Errorf("model %+v", m)
	}
	in := m.Info
	if in.RunID != "8c2b7a6f5e4d4c3b9a1f0e2d3c4b5a69" || in.MLflowVersion != "2.9.2" || in.ArtifactPath != "model" ||
		in.FlavorVersions["xgboost"] != "1.7.4" || in.FlavorVersions["python_function"] != "3.10.12" ||
		in.Created.Format("2006-01-02T15:04:05.000000") != "2024-01-15T09:30:12.345678" || in.ModelSizeBytes != 45213 ||
		strings.Join(in.Flavors, ",") != "python_function,xgboost" {
		t.Errorf("info %+v", in)
	}
	sig := m.Signature()
	if len(sig.Inputs) != 30 || sig.Inputs[0].Type != modelrt.Float || sig.Task != modelrt.Binary || sig.Outputs != 1 {
		t.Errorf("signature %+v", sig)
	}
	x, rows, _ := modelrttest.ReadTable(t, xgbTestdata("binary_logistic.rows.tsv"), 0)
	want, _, _ := modelrttest.ReadTable(t, xgbTestdata("binary_logistic.pred.tsv"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "mlflow xgboost json", Model: m, X: x, Rows: rows, Want: want})
	margin, _, _ := modelrttest.ReadTable(t, xgbTestdata("binary_logistic.margin.tsv"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "mlflow xgboost json raw", Model: m, X: x, Rows: rows, Want: margin, Raw: true})

	// Same predictions as the runtime loaded directly.
	direct, err := xgboost.LoadFile(xgbTestdata("binary_logistic.json"))
	if err != nil {
		t.Fatal(err)
	}
	sameAsRuntime(t, m, direct, x, rows)
}

func sameAsRuntime(t *testing.T, m *Model, rt modelrt.Model, x []float64, rows int) {
	t.Helper()
	no := rt.Signature().Outputs
	for _, raw := range []bool{false, true} {
		a, b := make([]float64, rows*no), make([]float64, rows*no)
		if err := m.Predict(x, rows, a, raw); err != nil {
			t.Fatal(err)
		}
		if err := rt.Predict(x, rows, b, raw); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("raw=%v: value %d = %v, runtime says %v", raw, i, a[i], b[i])
			}
		}
	}
}

func TestXGBoostClassifierUBJ(t *testing.T) {
	m := mustLoad(t, files{disk: map[string]string{
		"MLmodel":   "testdata/xgb_classifier_ubj/MLmodel",
		"model.ubj": xgbTestdata("multi_softprob.ubj"),
	}})
	if !m.ClassifierLabels || m.ModelClass != "xgboost.sklearn.XGBClassifier" || m.Info.ArtifactPath != "iris_model" {
		t.Errorf("model %+v", m)
	}
	sig := m.Signature()
	names := []string{"sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"}
	if len(sig.Inputs) != 4 || sig.Outputs != 3 || sig.Task != modelrt.Multiclass {
		t.Fatalf("signature %+v", sig)
	}
	for i, n := range names {
		if sig.Inputs[i] != (modelrt.Feature{Name: n, Type: modelrt.Float}) {
			t.Errorf("input %d = %+v, want %q float", i, sig.Inputs[i], n)
		}
	}
	x, rows, _ := modelrttest.ReadTable(t, xgbTestdata("multi_softprob.rows.tsv"), 0)
	want, _, _ := modelrttest.ReadTable(t, xgbTestdata("multi_softprob.pred.tsv"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "mlflow XGBClassifier", Model: m, X: x, Rows: rows, Want: want})

	// Labels: the argmax of XGBoost's own probabilities.
	labels := make([]float64, rows)
	if err := m.PredictLabels(x, rows, labels); err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		p := want[r*3 : r*3+3]
		best := 0
		for i := range p {
			if p[i] > p[best] {
				best = i
			}
		}
		if labels[r] != float64(best) {
			t.Errorf("row %d: label %v, want %d (probabilities %v)", r, labels[r], best, p)
		}
	}
	if err := m.PredictLabels(x, rows, make([]float64, rows+1)); err == nil {
		t.Error("wrong label buffer accepted")
	}
}

func TestXGBoostLegacyAndBinaryLabels(t *testing.T) {
	m := mustLoad(t, files{disk: map[string]string{
		"MLmodel":   "testdata/xgb_legacy/MLmodel",
		"model.xgb": xgbTestdata("binary_logistic.model"),
	}})
	if m.SignatureFromMLmodel || m.ClassifierLabels || m.Info.Created.Year() != 2023 {
		t.Errorf("model %+v", m)
	}
	direct, err := xgboost.LoadFile(xgbTestdata("binary_logistic.model"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Signature(), direct.Signature(); len(got.Inputs) != len(want.Inputs) || got.Outputs != want.Outputs {
		t.Errorf("signature %+v, runtime's %+v", got, want)
	}
	x, rows, _ := modelrttest.ReadTable(t, xgbTestdata("binary_logistic.rows.tsv"), 0)
	want, _, _ := modelrttest.ReadTable(t, xgbTestdata("binary_logistic.pred.tsv"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "mlflow xgboost legacy", Model: m, X: x, Rows: rows, Want: want})
	sameAsRuntime(t, m, direct, x, rows)

	labels := make([]float64, rows)
	if err := m.PredictLabels(x, rows, labels); err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		w := 0.0
		if want[r] > 0.5 {
			w = 1
		}
		if labels[r] != w {
			t.Errorf("row %d: label %v for probability %v", r, labels[r], want[r])
		}
	}
}

func TestLightGBMBooster(t *testing.T) {
	dir, ok := modelrttest.FindReferenceDir()
	if !ok {
		t.Skip("reference models not found; set FERRY_TREE_MODELS")
	}
	ref := func(n string) string { return filepath.Join(dir, n) }
	m := mustLoad(t, files{disk: map[string]string{
		"MLmodel":   "testdata/lgb_booster/MLmodel",
		"model.lgb": ref("lgmulticlass.model"),
	}})
	if m.Flavor != "lightgbm" || m.ModelClass != "lightgbm.basic.Booster" || m.Info.FlavorVersions["lightgbm"] != "4.1.0" {
		t.Errorf("model %+v", m)
	}
	x, rows, _ := modelrttest.ReadTable(t, ref("multiclass_test.tsv"), 1)
	want, _, _ := modelrttest.ReadTable(t, ref("lgmulticlass_true_predictions.txt"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "mlflow lightgbm", Model: m, X: x, Rows: rows, Want: want, RelTol: 1e-12})
	direct, err := lightgbm.LoadFile(ref("lgmulticlass.model"))
	if err != nil {
		t.Fatal(err)
	}
	sameAsRuntime(t, m, direct, x, rows)

	// A ColSpec signature renames LightGBM's default Column_N features.
	doc, _ := os.ReadFile("testdata/lgb_booster/MLmodel")
	var cols []string
	for i := range 28 {
		cols = append(cols, `{"type": "double", "name": "f`+strconv.Itoa(i)+`", "required": true}`)
	}
	withSig := string(doc) + "signature:\n  inputs: '[" + strings.Join(cols, ", ") + "]'\n  outputs: null\n  params: null\n"
	m2 := mustLoad(t, files{inline: map[string]string{"MLmodel": withSig}, disk: map[string]string{"model.lgb": ref("lgmulticlass.model")}})
	if s := m2.Signature(); s.Inputs[5].Name != "f5" || s.Outputs != 5 {
		t.Errorf("signature %+v", s)
	}

	// Pickled scikit-learn models are refused.
	pkl := strings.Replace(strings.ReplaceAll(string(doc), "model.lgb", "model.pkl"), "lightgbm.basic.Booster", "lightgbm.sklearn.LGBMClassifier", 1)
	_, err = Load(context.Background(), files{inline: map[string]string{"MLmodel": pkl, "model.pkl": "\x80\x05"}}.read)
	if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "cloudpickle") {
		t.Errorf("LGBMClassifier: %v", err)
	}
}

func TestDirReader(t *testing.T) {
	dir := t.TempDir()
	doc, err := os.ReadFile("testdata/xgb_booster_json/MLmodel")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(xgbTestdata("binary_logistic.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "MLmodel"), doc, 0o644)
	os.WriteFile(filepath.Join(dir, "model.json"), data, 0o644)
	if _, err := Load(context.Background(), DirReader(dir, 0)); err != nil {
		t.Fatal(err)
	}
	// A limit below the data's size refuses it.
	_, err = LoadWith(context.Background(), DirReader(dir, 1000), Options{MaxDataBytes: 1000})
	if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("size limit: %v", err)
	}
	// The root refuses a symlink out of the directory.
	os.Symlink(xgbTestdata("binary_logistic.json"), filepath.Join(dir, "link.json"))
	abs, _ := filepath.Abs(xgbTestdata("binary_logistic.json"))
	os.Remove(filepath.Join(dir, "link.json"))
	os.Symlink(abs, filepath.Join(dir, "link.json"))
	if _, err := DirReader(dir, 0)(context.Background(), "link.json"); err == nil {
		t.Error("symlink out of the directory followed")
	}
}

const baseXGB = `artifact_path: model
flavors:
  python_function:
    data: model.json
    loader_module: mlflow.xgboost
    python_version: 3.10.12
  xgboost:
    data: model.json
    model_class: xgboost.core.Booster
    model_format: json
    xgb_version: 1.7.4
mlflow_version: 2.9.2
run_id: abc
utc_time_created: '2024-01-15 09:30:12.345678'
`

func TestLoadErrors(t *testing.T) {
	jsonModel := xgbTestdata("binary_logistic.json")
	ubjModel := xgbTestdata("binary_logistic.ubj")
	col := func(typ string, n int) string {
		var c []string
		for i := range n {
			c = append(c, `{"type": "`+typ+`", "name": "c`+strconv.Itoa(i)+`", "required": true}`)
		}
		return "signature:\n  inputs: '[" + strings.Join(c, ", ") + "]'\n  outputs: null\n  params: null\n"
	}
	for _, c := range []struct {
		name, mlmodel string
		disk          map[string]string
		want          string
	}{
		{"missing MLmodel", "", nil, "MLmodel"},
		{"bad yaml", "flavors:\n  xgboost:\n    data: [model.json\n", nil, "line"},
		{"bad yaml indentation", "artifact_path: model\nflavors:\n  xgboost:\n data: x\n  bad\n", nil, "line"},
		{"not a mapping", "- 1\n- 2\n", nil, "MLmodel"},
		{"no flavors", "artifact_path: model\n", nil, "no flavors"},
		{"pyfunc only", "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n    python_model: python_model.pkl\n", nil, "only the xgboost and lightgbm flavors are served natively"},
		{"sklearn flavor", "flavors:\n  sklearn:\n    pickled_model: model.pkl\n    sklearn_version: 1.3.0\n", nil, "only the xgboost and lightgbm"},
		{"traversal", strings.ReplaceAll(baseXGB, "data: model.json", "data: ../../etc/passwd"), nil, "leaves the model directory"},
		{"inner traversal", strings.ReplaceAll(baseXGB, "data: model.json", "data: a/../../model.json"), nil, "leaves the model directory"},
		{"absolute", strings.ReplaceAll(baseXGB, "data: model.json", "data: /etc/passwd"), nil, "not a relative path"},
		{"windows absolute", strings.ReplaceAll(baseXGB, "data: model.json", `data: C:\model.json`), nil, "not a relative path"},
		{"no data", strings.ReplaceAll(baseXGB, "    data: model.json\n    model_class", "    model_class"), nil, "data is missing"},
		{"data missing", baseXGB, nil, "model.json"},
		{"format mismatch", baseXGB, map[string]string{"model.json": ubjModel}, `model_format "json" but the file is UBJSON`},
		{"format mismatch ubj", strings.ReplaceAll(baseXGB, "model_format: json", "model_format: ubj"), map[string]string{"model.json": jsonModel}, `model_format "ubj" but the file is JSON`},
		{"unknown format", strings.ReplaceAll(baseXGB, "model_format: json", "model_format: pkl"), map[string]string{"model.json": jsonModel}, "model_format"},
		{"unknown class", strings.ReplaceAll(baseXGB, "xgboost.core.Booster", "my.CustomModel"), map[string]string{"model.json": jsonModel}, "model_class"},
		{"custom pyfunc", strings.ReplaceAll(baseXGB, "loader_module: mlflow.xgboost", "loader_module: mlflow.pyfunc.model"), map[string]string{"model.json": jsonModel}, "loader_module"},
		{"corrupt data", strings.ReplaceAll(baseXGB, "model_format: json", "model_format: xgb"), map[string]string{"model.json": "testdata/README.md"}, "xgboost"},
		{"too few columns", baseXGB + col("double", 29), map[string]string{"model.json": jsonModel}, "29 input columns"},
		{"too many columns", baseXGB + col("double", 31), map[string]string{"model.json": jsonModel}, "31 input columns"},
		{"string column", baseXGB + col("string", 30), map[string]string{"model.json": jsonModel}, `type "string" is not a number`},
		{"tensor shape", baseXGB + "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1, 3]}}]'\n", map[string]string{"model.json": jsonModel}, "3 input columns"},
		{"tensor dtype", baseXGB + "signature:\n  inputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"str\", \"shape\": [-1, 30]}}]'\n", map[string]string{"model.json": jsonModel}, "not numeric"},
		{"bad signature json", baseXGB + "signature:\n  inputs: '[{\"type\": '\n", map[string]string{"model.json": jsonModel}, "signature.inputs"},
		{"flavor not a mapping", "flavors:\n  xgboost: 3\n", nil, "MLmodel"},
		{"data not a string", strings.ReplaceAll(baseXGB, "data: model.json", "data: [a, b]"), nil, "not a string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := files{inline: map[string]string{}, disk: c.disk}
			if c.mlmodel != "" {
				f.inline["MLmodel"] = c.mlmodel
			}
			_, err := Load(context.Background(), f.read)
			if err == nil || !errors.Is(err, modelrt.ErrBadModel) {
				t.Fatalf("error %v, want one matching modelrt.ErrBadModel", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestReadErrorPassedThrough(t *testing.T) {
	boom := errors.New("store unavailable")
	_, err := Load(context.Background(), func(context.Context, string) ([]byte, error) { return nil, boom })
	if !errors.Is(err, boom) || errors.Is(err, modelrt.ErrBadModel) {
		t.Errorf("error %v", err)
	}
}

func TestCheckPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"model.xgb": true, "data/model.lgb": true, "./model.xgb": true, "a//b": true,
		"": false, ".": false, "..": false, "../x": false, "a/../x": false, "/x": false,
		`a\b`: false, "C:x": false, "a\x00": false,
	} {
		if _, err := checkPath("xgboost", p); (err == nil) != ok {
			t.Errorf("%q: %v", p, err)
		}
	}
}

func TestUnquotedScalars(t *testing.T) {
	// Hand-edited files may leave the time and versions unquoted; they
	// decode as YAML timestamps and floats.
	doc := "flavors:\n  xgboost:\n    data: m\n    xgb_version: 2.0\nutc_time_created: 2024-01-15 09:30:12.5\nrun_id: 123\n"
	m, err := ParseMLmodel([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	in := m.Info()
	if in.Created.IsZero() || in.FlavorVersions["xgboost"] != "2" && in.FlavorVersions["xgboost"] != "2.0" || in.RunID != "123" {
		t.Errorf("info %+v", in)
	}
}

func FuzzParseMLmodel(f *testing.F) {
	for _, p := range []string{"xgb_booster_json", "xgb_classifier_ubj", "xgb_legacy", "lgb_booster"} {
		b, err := os.ReadFile(filepath.Join("testdata", p, "MLmodel"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(baseXGB))
	f.Add([]byte("a: &a [*a, *a]\nflavors: {x: {data: *a}}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMLmodel(b)
		if err != nil {
			if !errors.Is(err, modelrt.ErrBadModel) {
				t.Fatalf("error %v does not match ErrBadModel", err)
			}
			return
		}
		_ = m.Info()
		for name, conf := range m.Flavors {
			if d, err := confString(conf, name, "data"); err == nil {
				if c, err := checkPath(name, d); err == nil && (strings.Contains(c, "..") && !fs.ValidPath(c)) {
					t.Fatalf("path %q accepted as %q", d, c)
				}
			}
		}
		if m.Signature != nil && m.Signature.Inputs != nil {
			if feats, err := ParseInputs(*m.Signature.Inputs); err == nil && len(feats) == 0 {
				t.Fatal("empty inputs accepted")
			}
		}
	})
}

// TestXGBoostClassifierEarlyStopping: an XGBClassifier saved after early
// stopping predicts with the trees up to its best_iteration, as its own
// predict and predict_proba do (testdata/xgb_early_stopping, made by
// python3-xgboost 1.7.4); the plain Booster would use every tree.
func TestXGBoostClassifierEarlyStopping(t *testing.T) {
	const dir = "testdata/xgb_early_stopping"
	m, err := Load(context.Background(), DirReader(dir, 0))
	if err != nil {
		t.Fatal(err)
	}
	x, rows, _ := modelrttest.ReadTable(t, filepath.Join(dir, "rows.tsv"), 0)
	proba, _, _ := modelrttest.ReadTable(t, filepath.Join(dir, "predict_proba.tsv"), 0)
	labels, _, _ := modelrttest.ReadTable(t, filepath.Join(dir, "predict.tsv"), 0)
	modelrttest.Run(t, modelrttest.Case{Name: "early stopping", Model: m, X: x, Rows: rows, Want: proba})
	got := make([]float64, rows)
	if err := m.PredictLabels(x, rows, got); err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != labels[i] {
			t.Fatalf("row %d: label %v, want %v", i, got[i], labels[i])
		}
	}
	full, err := xgboost.LoadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	if full.BestRounds() != 17 || full.NumTrees() != 22 {
		t.Fatalf("best rounds %d of %d trees, want 17 of 22", full.BestRounds(), full.NumTrees())
	}
	all := make([]float64, rows)
	if err := full.Predict(x, rows, all, false); err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range all {
		same = same && math.Abs(all[i]-proba[i]) < 1e-9
	}
	if same {
		t.Fatal("all 22 trees give the early-stopped predictions: the fixture proves nothing")
	}
}
