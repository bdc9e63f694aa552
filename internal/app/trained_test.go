package app_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestServeAModelTrainedNow is the serving issue's first done-when: a
// model trained here by python3-xgboost and saved as
// mlflow.xgboost.log_model does with XGBoost 1.x (MLmodel + model.xgb in
// the legacy binary format) is logged to a run, registered, deployed
// with `ferry deploy`, and answers every row of the data set — over the
// Open Inference Protocol, MLflow's /invocations and `ferry predict` —
// with the library's own predictions.
func TestServeAModelTrainedNow(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import xgboost, sklearn").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-xgboost and python3-sklearn are required in CI: %v", err)
		}
		t.Skip("Debian's python3-xgboost and python3-sklearn are not installed")
	}
	work := t.TempDir()
	if out, err := exec.Command("/usr/bin/python3", "testdata/train_xgboost.py", work).CombinedOutput(); err != nil {
		t.Fatalf("training: %v\n%s", err, out)
	}
	s := &testServer{t: t, dir: t.TempDir()}
	s.start()
	defer s.stop()
	run := newRun(t, s.srv, 0.99)
	for _, f := range []string{"MLmodel", "model.xgb"} {
		b, err := os.ReadFile(filepath.Join(work, "model", f))
		if err != nil {
			t.Fatal(err)
		}
		upload(t, s.srv.URL, run, "model/"+f, b)
	}
	mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/registered-models/create", map[string]any{"name": "cancer"}))
	mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/model-versions/create", map[string]any{
		"name": "cancer", "source": "runs:/" + run + "/model", "run_id": run}))
	mustOK(t, call(t, s.srv, "POST", "/api/2.0/mlflow/registered-models/alias", map[string]any{"name": "cancer", "alias": "champion", "version": "1"}))
	if code, out := runCLI(s.srv.URL, "deploy", "cancer", "--model", "models:/cancer@champion"); code != 0 {
		t.Fatalf("ferry deploy: %d %s", code, out)
	}

	f, err := os.Open(filepath.Join(work, "rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	names, rows := recs[0], recs[1:]
	var x []any // row-major, null for missing
	var split [][]any
	for _, r := range rows {
		var row []any
		for _, c := range r {
			if c == "" {
				row = append(row, nil)
				continue
			}
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				t.Fatal(err)
			}
			row = append(row, v)
		}
		x = append(x, row...)
		split = append(split, row)
	}
	b, _ := os.ReadFile(filepath.Join(work, "expected.txt"))
	var want []float64
	for _, l := range strings.Fields(string(b)) {
		v, _ := strconv.ParseFloat(l, 64)
		want = append(want, v)
	}
	compare := func(what string, got []float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d predictions for %d rows", what, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6 {
				t.Fatalf("%s row %d: %v, python3-xgboost said %v", what, i, got[i], want[i])
			}
		}
	}

	body, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"name": "input-0", "shape": []int{len(rows), len(names)}, "datatype": "FP64", "data": x}}})
	status, out := post(t, s.srv.URL+"/v2/models/cancer/infer", "application/json", string(body))
	if status != 200 {
		t.Fatalf("infer: %d %v", status, out)
	}
	compare("OIP", floats(out["outputs"].([]any)[0].(map[string]any)["data"]))

	body, _ = json.Marshal(map[string]any{"dataframe_split": map[string]any{"columns": names, "data": split}})
	status, out = post(t, s.srv.URL+"/endpoints/cancer/invocations", "application/json", string(body))
	if status != 200 {
		t.Fatalf("invocations: %d %v", status, out)
	}
	compare("MLflow /invocations", floats(out["predictions"]))

	scores := filepath.Join(work, "scores.csv")
	if code, out := runCLI(s.srv.URL, "predict", "--model", "models:/cancer@champion", "--input", filepath.Join(work, "rows.csv"), "--output", scores, "--quiet"); code != 0 {
		t.Fatalf("ferry predict: %d %s", code, out)
	}
	b, _ = os.ReadFile(scores)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if lines[0] != "prediction" {
		t.Fatalf("ferry predict header %q", lines[0])
	}
	var got []float64
	for _, l := range lines[1:] {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			t.Fatal(fmt.Errorf("ferry predict output: %w", err))
		}
		got = append(got, v)
	}
	compare("ferry predict", got)
}

func floats(v any) []float64 {
	var out []float64
	for _, x := range v.([]any) {
		out = append(out, x.(float64))
	}
	return out
}
