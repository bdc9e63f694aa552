package cli_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/cli"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
)

// The fixtures: the breast-cancer XGBClassifier (early stopping) and the
// iris XGBClassifier trained by python3-xgboost, with the predictions the
// library made for their test rows.
const (
	esDir   = "../modelrt/mlmodel/testdata/xgb_early_stopping"
	xgbData = "../modelrt/xgboost/testdata"
)

// cancerFeatures are the breast cancer set's columns, in order.
var cancerFeatures = []string{"mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness",
	"mean compactness", "mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension",
	"radius error", "texture error", "perimeter error", "area error", "smoothness error", "compactness error",
	"concavity error", "concave points error", "symmetry error", "fractal dimension error", "worst radius",
	"worst texture", "worst perimeter", "worst area", "worst smoothness", "worst compactness", "worst concavity",
	"worst concave points", "worst symmetry", "worst fractal dimension"}

var irisFeatures = []string{"sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"}

// table is rows of numbers read from a fixture.
type table struct {
	x          []float64
	rows, cols int
}

func readTable(t *testing.T, path string, skip int) table {
	t.Helper()
	x, rows, cols := modelrttest.ReadTable(t, path, skip)
	return table{x, rows, cols}
}

func (tb table) row(r int) []float64 { return tb.x[r*tb.cols : (r+1)*tb.cols] }

// argmax is the class an XGBClassifier predicts from its probabilities.
func (tb table) argmax(r int) float64 {
	best := 0
	for i, v := range tb.row(r) {
		if v > tb.row(r)[best] {
			best = i
		}
	}
	return float64(best)
}

// predictFixture is a Ferry server with registered models:
//
//	cancer v1 (alias champion): MLmodel directory of an XGBClassifier
//	  with a named signature;
//	iris v1: MLmodel directory of a multiclass XGBClassifier, registered
//	  from a runs:/ source;
//	booster v1: a single XGBoost JSON file (binary:logistic, no feature
//	  names);
//	lgbm v1: an MLmodel directory of a LightGBM booster (when the shared
//	  reference models are there);
//	external v1: a directory with a ferry-runtime.yaml;
//	elsewhere v1: files outside Ferry's artifact store (s3://);
//	served v1: an external runtime at an http:// URL;
//	broken v1: an MLmodel whose data file is missing.
type predictFixture struct {
	*fixture
	dir    string // scratch directory for inputs and outputs
	lgbRef string // the reference models' directory, "" when absent
}

func newPredictFixture(t *testing.T) *predictFixture {
	t.Helper()
	f := &predictFixture{fixture: &fixture{t: t, url: newServer(t).URL, runs: map[string]string{}}, dir: t.TempDir()}
	run := f.createRun("0", "train", t0, "")
	put := func(rel, file string) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		f.api(http.MethodPut, "/api/2.0/mlflow-artifacts/artifacts/0/"+run+"/artifacts/"+rel, string(b))
	}
	register := func(name, source string) {
		t.Helper()
		f.post("registered-models/create", `{"name": %q}`, name)
		f.post("model-versions/create", `{"name": %q, "source": %q, "run_id": %q}`, name, source, run)
	}
	loc := "mlflow-artifacts:/0/" + run + "/artifacts/"

	put("cancer/MLmodel", "testdata/predict_cancer/MLmodel")
	put("cancer/model.json", filepath.Join(esDir, "model.json"))
	register("cancer", loc+"cancer")
	f.post("registered-models/alias", `{"name": "cancer", "alias": "champion", "version": "1"}`)

	put("iris/MLmodel", "../modelrt/mlmodel/testdata/xgb_classifier_ubj/MLmodel")
	put("iris/model.ubj", filepath.Join(xgbData, "multi_softprob.ubj"))
	register("iris", "runs:/"+run+"/iris")

	put("single/binary_logistic.json", filepath.Join(xgbData, "binary_logistic.json"))
	register("booster", loc+"single/binary_logistic.json")

	if dir, ok := modelrttest.FindReferenceDir(); ok {
		f.lgbRef = dir
		put("lgbm/MLmodel", "../modelrt/mlmodel/testdata/lgb_booster/MLmodel")
		put("lgbm/model.lgb", filepath.Join(dir, "lgmulticlass.model"))
		register("lgbm", loc+"lgbm")
	}

	put("external/MLmodel", "testdata/predict_cancer/MLmodel")
	put("external/ferry-runtime.yaml", "testdata/predict_cancer/README.md")
	register("external", loc+"external")
	register("elsewhere", "s3://bucket/models/cancer")
	register("served", "http://127.0.0.1:9/models/cancer")
	put("broken/MLmodel", "testdata/predict_cancer/MLmodel")
	register("broken", loc+"broken")
	return f
}

// write writes a scratch file and returns its path.
func (f *predictFixture) write(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// csvOf renders rows as CSV: cols names the columns (nil: no header row),
// cell gives the text of row r, column j.
func csvOf(cols []string, rows int, cell func(r, j int) string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	if cols != nil {
		_ = w.Write(cols)
	}
	n := len(cols)
	if n == 0 {
		n = -1
	}
	for r := range rows {
		var rec []string
		for j := 0; n < 0 || j < n; j++ {
			c, ok := "", true
			if n < 0 {
				c, ok = cellOrEnd(cell, r, j)
				if !ok {
					break
				}
			} else {
				c = cell(r, j)
			}
			rec = append(rec, c)
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return b.String()
}

// cellOrEnd reads a cell of a header-less table: "\x00" ends the row.
func cellOrEnd(cell func(r, j int) string, r, j int) (string, bool) {
	c := cell(r, j)
	return c, c != "\x00"
}

func num(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// readOutput parses a predict output: its header and rows.
func readOutput(t *testing.T, s string) ([]string, [][]string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("output is not CSV with a header (%v):\n%s", err, s)
	}
	return recs[0], recs[1:]
}

// near checks a cell against a prediction of the library, to 1e-6.
func near(t *testing.T, r int, col, got string, want float64) {
	t.Helper()
	v, err := strconv.ParseFloat(got, 64)
	if err != nil || math.Abs(v-want) > 1e-6 {
		t.Fatalf("row %d, %s = %q, the library predicted %v", r, col, got, want)
	}
}

var summaryLine = regexp.MustCompile(`(?m)(?:^|\r)(\d[\d,]*) rows in [0-9.]+(ms|s|µs|m\d+s)? \([\d,]+ rows/s\) → (.+)$`)

func TestPredict(t *testing.T) {
	f := newPredictFixture(t)
	cancer := readTable(t, filepath.Join(esDir, "rows.tsv"), 0)
	proba := readTable(t, filepath.Join(esDir, "predict_proba.tsv"), 0)
	labels := readTable(t, filepath.Join(esDir, "predict.tsv"), 0)
	iris := readTable(t, filepath.Join(xgbData, "multi_softprob.rows.tsv"), 0)
	irisProba := readTable(t, filepath.Join(xgbData, "multi_softprob.pred.tsv"), 0)
	blRows := readTable(t, filepath.Join(xgbData, "binary_logistic.rows.tsv"), 0)
	blPred := readTable(t, filepath.Join(xgbData, "binary_logistic.pred.tsv"), 0)
	blMargin := readTable(t, filepath.Join(xgbData, "binary_logistic.margin.tsv"), 0)

	// The cancer rows with the features in reverse order, an id column in
	// front and a free-text note (with a comma, a quote and a line break)
	// that the model does not know.
	reversed := slices.Clone(cancerFeatures)
	slices.Reverse(reversed)
	cols := append(append([]string{"id"}, reversed...), "note")
	cancerCSV := f.write("cancer.csv", csvOf(cols, cancer.rows, func(r, j int) string {
		switch {
		case j == 0:
			return fmt.Sprintf("patient-%03d", r)
		case j == len(cols)-1:
			return fmt.Sprintf("seen by \"Dr. %d\",\nward %d", r, r%3)
		}
		return num(cancer.row(r)[len(cancerFeatures)-j])
	}))
	// The same rows without a header: the features in order, then the id.
	cancerBare := f.write("cancer-bare.csv", csvOf(nil, cancer.rows, func(r, j int) string {
		switch {
		case j < len(cancerFeatures):
			return num(cancer.row(r)[j])
		case j == len(cancerFeatures):
			return fmt.Sprintf("patient-%03d", r)
		}
		return "\x00"
	}))
	irisCSV := f.write("iris.csv", csvOf(irisFeatures, iris.rows, func(r, j int) string { return num(iris.row(r)[j]) }))
	// A model without feature names takes f0, f1, ...; NaN cells stay empty.
	fnames := make([]string, blRows.cols)
	for i := range fnames {
		fnames[i] = "f" + strconv.Itoa(i)
	}
	boosterCSV := f.write("booster.csv", csvOf(fnames, blRows.rows, func(r, j int) string { return num(blRows.row(r)[j]) }))

	t.Run("labels, extra and reordered columns, keep ids", func(t *testing.T) {
		out := filepath.Join(f.dir, "labels.csv")
		stdout, stderr, code := f.ferry("predict", "--model", "models:/cancer@champion", "--input", cancerCSV, "--output", out,
			"--keep-columns", "id,note", "--batch-size", "7")
		if code != 0 || stdout != "" {
			t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		header, rows := readOutput(t, string(data))
		if strings.Join(header, "|") != "id|note|prediction" || len(rows) != cancer.rows {
			t.Fatalf("header %q, %d rows", header, len(rows))
		}
		for r, row := range rows {
			if row[0] != fmt.Sprintf("patient-%03d", r) || row[1] != fmt.Sprintf("seen by \"Dr. %d\",\nward %d", r, r%3) {
				t.Fatalf("row %d: kept %q", r, row[:2])
			}
			if row[2] != strconv.Itoa(int(labels.x[r])) {
				t.Fatalf("row %d: label %q, the classifier predicted %v", r, row[2], labels.x[r])
			}
		}
		m := summaryLine.FindStringSubmatch(stderr)
		if m == nil || m[1] != strconv.Itoa(cancer.rows) || m[3] != out {
			t.Errorf("no summary line for %d rows → %s:\n%s", cancer.rows, out, stderr)
		}
		if !strings.Contains(stderr, "Model cancer version 1 (xgboost.sklearn.XGBClassifier, 30 features) loaded in ") {
			t.Errorf("stderr does not describe the model:\n%s", stderr)
		}
		if strings.Contains(stderr, "\r") {
			t.Errorf("a progress bar was drawn on a stderr that is not a terminal:\n%q", stderr)
		}
	})

	t.Run("probabilities, on stdout", func(t *testing.T) {
		for _, args := range [][]string{
			{"--model", "models:/cancer/1", "--input", cancerCSV, "--proba"},
			{"--model", "models:/cancer/latest", "--input", cancerCSV, "--proba", "--output", "-", "--workers", "1", "--batch-size", "1"},
		} {
			stdout, stderr, code := f.ferry(append([]string{"predict"}, args...)...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, stderr)
			}
			header, rows := readOutput(t, stdout)
			if strings.Join(header, "|") != "prediction" || len(rows) != cancer.rows {
				t.Fatalf("%v: header %q, %d rows", args, header, len(rows))
			}
			for r, row := range rows {
				near(t, r, "prediction", row[0], proba.x[r])
			}
			if m := summaryLine.FindStringSubmatch(stderr); m == nil || m[3] != "stdout" {
				t.Errorf("%v: summary line:\n%s", args, stderr)
			}
		}
	})

	t.Run("no header, keep a column by number", func(t *testing.T) {
		stdout, stderr, code := f.ferry("predict", "--model", "models:/cancer/1", "--input", cancerBare, "--no-header", "--keep-columns", "31", "--quiet")
		if code != 0 || stderr != "" {
			t.Fatalf("exit %d, stderr (want none with --quiet):\n%s", code, stderr)
		}
		header, rows := readOutput(t, stdout)
		if strings.Join(header, "|") != "column_31|prediction" || len(rows) != cancer.rows {
			t.Fatalf("header %q, %d rows", header, len(rows))
		}
		for r, row := range rows {
			if row[0] != fmt.Sprintf("patient-%03d", r) || row[1] != strconv.Itoa(int(labels.x[r])) {
				t.Fatalf("row %d: %q, want label %v", r, row, labels.x[r])
			}
		}
	})

	t.Run("multiclass: labels and probability columns", func(t *testing.T) {
		stdout, stderr, code := f.ferry("predict", "--model", "models:/iris/1", "--input", irisCSV, "--proba")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		header, rows := readOutput(t, stdout)
		if strings.Join(header, "|") != "prediction_0|prediction_1|prediction_2" || len(rows) != iris.rows {
			t.Fatalf("header %q, %d rows", header, len(rows))
		}
		for r, row := range rows {
			for k := range 3 {
				near(t, r, header[k], row[k], irisProba.row(r)[k])
			}
		}
		stdout, stderr, code = f.ferry("predict", "--model", "models:/iris/1", "--input", irisCSV)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		header, rows = readOutput(t, stdout)
		if strings.Join(header, "|") != "prediction" || len(rows) != iris.rows {
			t.Fatalf("header %q, %d rows", header, len(rows))
		}
		for r, row := range rows {
			if row[0] != num(irisProba.argmax(r)) {
				t.Fatalf("row %d: label %q, want %v (the largest of %v)", r, row[0], irisProba.argmax(r), irisProba.row(r))
			}
		}
	})

	t.Run("single model file: predictions and raw margins", func(t *testing.T) {
		for _, tc := range []struct {
			flag string
			want table
		}{{"", blPred}, {"--raw", blMargin}} {
			args := []string{"predict", "--model", "models:/booster/latest", "--input", boosterCSV}
			if tc.flag != "" {
				args = append(args, tc.flag)
			}
			stdout, stderr, code := f.ferry(args...)
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", tc.flag, code, stderr)
			}
			header, rows := readOutput(t, stdout)
			if strings.Join(header, "|") != "prediction" || len(rows) != blRows.rows {
				t.Fatalf("%s: header %q, %d rows", tc.flag, header, len(rows))
			}
			for r, row := range rows {
				near(t, r, tc.flag+" prediction", row[0], tc.want.x[r])
			}
		}
	})

	t.Run("LightGBM MLmodel, five classes", func(t *testing.T) {
		if f.lgbRef == "" {
			t.Skip("reference models not found; set FERRY_TREE_MODELS")
		}
		rows := readTable(t, filepath.Join(f.lgbRef, "multiclass_test.tsv"), 1)
		want := readTable(t, filepath.Join(f.lgbRef, "lgmulticlass_true_predictions.txt"), 0)
		in := f.write("lgbm.csv", csvOf(nil, rows.rows, func(r, j int) string {
			if j < rows.cols {
				return num(rows.row(r)[j])
			}
			return "\x00"
		}))
		stdout, stderr, code := f.ferry("predict", "--model", "models:/lgbm/1", "--input", in, "--no-header")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		header, out := readOutput(t, stdout)
		if len(header) != 5 || header[4] != "prediction_4" || len(out) != rows.rows {
			t.Fatalf("header %q, %d rows", header, len(out))
		}
		for r, row := range out {
			for k := range 5 {
				near(t, r, header[k], row[k], want.row(r)[k])
			}
		}
	})

	t.Run("progress bar", func(t *testing.T) {
		out := filepath.Join(f.dir, "progress.csv")
		_, stderr, code := f.ferry("predict", "--model", "models:/cancer@champion", "--input", cancerCSV, "-o", out, "--progress")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		size, _ := os.Stat(cancerCSV)
		if !strings.Contains(stderr, "\r[========================] 100.0%") || !strings.Contains(stderr, fmt.Sprintf("%.1f KiB  40 rows", float64(size.Size())/1024)) {
			t.Errorf("no complete progress bar:\n%q", stderr)
		}
		if !summaryLine.MatchString(stderr) {
			t.Errorf("no summary after the bar:\n%q", stderr)
		}
	})

	t.Run("an existing output is replaced", func(t *testing.T) {
		out := f.write("replaced.csv", "old contents\n")
		if err := os.Chmod(out, 0o640); err != nil {
			t.Fatal(err)
		}
		if _, stderr, code := f.ferry("predict", "--model", "models:/iris/1", "--input", irisCSV, "-o", out); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		data, _ := os.ReadFile(out)
		fi, _ := os.Stat(out)
		if !strings.HasPrefix(string(data), "prediction\n") || fi.Mode().Perm() != 0o640 {
			t.Errorf("mode %v, contents:\n%s", fi.Mode(), data)
		}
	})

	t.Run("errors", func(t *testing.T) {
		missing := f.write("missing.csv", csvOf(slices.DeleteFunc(slices.Clone(cancerFeatures), func(s string) bool { return s == "mean area" }),
			1, func(r, j int) string { return "1" }))
		// Line 1 is the header; the note of row 0 spans lines 2-3, so row 5
		// starts on line 12.
		lines := strings.SplitAfter(string(must(os.ReadFile(cancerCSV))), "\n")
		radius := "," + num(cancer.row(5)[0]) + "," // mean radius is the last feature column
		i := strings.LastIndex(lines[11], radius)
		lines[11] = lines[11][:i] + ",abc," + lines[11][i+len(radius):]
		bad := f.write("bad.csv", strings.Join(lines, ""))
		ragged := f.write("ragged.csv", "mean radius,mean texture\n1,2\n3\n")
		empty := f.write("empty.csv", "")
		outDir := filepath.Join(f.dir, "out")
		if err := os.Mkdir(outDir, 0o755); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(outDir, "predictions.csv")
		tests := []struct {
			name   string
			args   []string
			code   int
			stderr []string
		}{
			{"missing feature", []string{"--model", "models:/cancer/1", "--input", missing, "-o", out}, 1,
				[]string{"missing.csv: CSV header: Missing feature 'mean area'"}},
			{"bad value", []string{"--model", "models:/cancer/1", "--input", bad, "-o", out, "--batch-size", "2"}, 1,
				[]string{`bad.csv: line 12: column "mean radius": "abc" is not a number`}},
			{"ragged row", []string{"--model", "models:/cancer/1", "--input", ragged, "-o", out}, 1,
				[]string{"Missing feature 'mean perimeter'"}},
			{"empty input", []string{"--model", "models:/cancer/1", "--input", empty, "-o", out}, 1,
				[]string{"empty.csv is empty: expected a header row"}},
			{"no such input", []string{"--model", "models:/cancer/1", "--input", filepath.Join(f.dir, "nope.csv"), "-o", out}, 1,
				[]string{"opening the input", "no such file"}},
			{"no such output directory", []string{"--model", "models:/cancer/1", "--input", cancerCSV, "-o", filepath.Join(f.dir, "nope", "x.csv")}, 1,
				[]string{"creating the output file"}},
			{"too few columns without header", []string{"--model", "models:/iris/1", "--input", ragged, "--no-header", "-o", out}, 1,
				[]string{"The rows have 2 columns; the model takes 4 features"}},
			{"unknown keep column", []string{"--model", "models:/cancer/1", "--input", cancerCSV, "--keep-columns", "id,patient", "-o", out}, 2,
				[]string{`--keep-columns: the input has no column "patient"`}},
			{"keep column number out of range", []string{"--model", "models:/cancer/1", "--input", cancerBare, "--no-header", "--keep-columns", "32", "-o", out}, 2,
				[]string{"columns are numbers from 1 to 31"}},
			{"external runtime", []string{"--model", "models:/external/1", "--input", cancerCSV, "-o", out}, 1,
				[]string{"version 1 of model 'external' is an external runtime (it has a ferry-runtime.yaml)"}},
			{"outside the artifact store", []string{"--model", "models:/elsewhere/1", "--input", cancerCSV, "-o", out}, 1,
				[]string{"the files of version 1 of model 'elsewhere' are at s3://bucket/models/cancer, outside Ferry's artifact store"}},
			{"external runtime at a URL", []string{"--model", "models:/served/1", "--input", cancerCSV, "-o", out}, 1,
				[]string{"version 1 of model 'served' is an external runtime at http://127.0.0.1:9/models/cancer"}},
			{"model files missing", []string{"--model", "models:/broken/1", "--input", cancerCSV, "-o", out}, 1,
				[]string{"version 1 of model 'broken' cannot be loaded", "model.json"}},
			{"no such version", []string{"--model", "models:/cancer/7", "--input", cancerCSV, "-o", out}, 1,
				[]string{"RESOURCE_DOES_NOT_EXIST"}},
			{"no such alias", []string{"--model", "models:/cancer@nope", "--input", cancerCSV, "-o", out}, 1,
				[]string{"alias nope not found"}},
			{"no version in stage", []string{"--model", "models:/cancer/Production", "--input", cancerCSV, "-o", out}, 1,
				[]string{"registered model 'cancer' has no versions in stage Production"}},
			{"bad URI", []string{"--model", "runs:/abc/model", "--input", cancerCSV}, 2, []string{"expected models:/NAME/VERSION"}},
			{"missing --model", []string{"--input", cancerCSV}, 2, []string{"--model is required"}},
			{"missing --input", []string{"--model", "models:/cancer/1"}, 2, []string{"--input is required"}},
			{"bad batch size", []string{"--model", "models:/cancer/1", "--input", cancerCSV, "--batch-size", "0"}, 2, []string{"--batch-size must be between 1 and"}},
			{"proba and raw", []string{"--model", "models:/cancer/1", "--input", cancerCSV, "--proba", "--raw"}, 2, []string{"--proba and --raw exclude each other"}},
			{"positional argument", []string{"--model", "models:/cancer/1", "--input", cancerCSV, "extra"}, 2, []string{`unexpected argument "extra"`}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				stdout, stderr, code := f.ferry(append([]string{"predict"}, tc.args...)...)
				if code != tc.code || stdout != "" {
					t.Errorf("exit %d (want %d), stdout %q, stderr:\n%s", code, tc.code, stdout, stderr)
				}
				for _, s := range tc.stderr {
					if !strings.Contains(stderr, s) {
						t.Errorf("stderr does not contain %q:\n%s", s, stderr)
					}
				}
				// Nothing is left behind: no output, no temporary file.
				if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
					t.Errorf("left behind in the output directory: %v", ents)
				}
			})
		}
	})

	t.Run("a failed run keeps the old output", func(t *testing.T) {
		out := f.write("kept.csv", "old contents\n")
		lines := strings.SplitAfter(string(must(os.ReadFile(cancerCSV))), "\n")
		late := f.write("late.csv", strings.Join(lines[:len(lines)-3], "")+"patient-x,1,2\n")
		_, stderr, code := f.ferry("predict", "--model", "models:/cancer/1", "--input", late, "-o", out, "--batch-size", "5")
		if code != 1 || !strings.Contains(stderr, "fields, the header has 32") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if data, _ := os.ReadFile(out); string(data) != "old contents\n" {
			t.Errorf("the output was changed:\n%s", data)
		}
		if ents, _ := filepath.Glob(filepath.Join(f.dir, ".kept.csv.*")); len(ents) != 0 {
			t.Errorf("temporary files left: %v", ents)
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestPredictInterrupted cancels a run while it waits for more input
// from a pipe: it stops at once, says so, and leaves no file behind.
func TestPredictInterrupted(t *testing.T) {
	f := newPredictFixture(t)
	fifo := filepath.Join(f.dir, "rows.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	cancer := readTable(t, filepath.Join(esDir, "rows.tsv"), 0)
	outDir := filepath.Join(f.dir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		code := cli.Main(ctx, []string{"predict", "--model", "models:/cancer/1", "--input", fifo, "-o", filepath.Join(outDir, "p.csv"), "--batch-size", "10"},
			&out, &errb, func(k string) string { return map[string]string{"FERRY_URL": f.url}[k] })
		done <- result{out.String(), errb.String(), code}
	}()

	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Far more than a pipe holds: once written, predict has read and
	// predicted most of it, and waits for more.
	header := strings.Join(cancerFeatures, ",") + "\n"
	if _, err := w.WriteString(header); err != nil {
		t.Fatal(err)
	}
	row := func(r int) string {
		var cells []string
		for _, v := range cancer.row(r % cancer.rows) {
			cells = append(cells, num(v))
		}
		return strings.Join(cells, ",") + "\n"
	}
	var b strings.Builder
	for r := 0; b.Len() < 4<<20; r++ {
		b.WriteString(row(r))
	}
	if _, err := w.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("predict did not stop when its context was cancelled")
	}
	if res.code != 1 || !strings.Contains(res.stderr, "ferry: interrupted") || res.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
