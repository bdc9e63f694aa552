package mlmodel

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/lightgbm"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

// location serves f as a model directory and single, when not "", as the
// file at the location itself; it counts the reads of each path.
func location(f files, single string, reads map[string]int) Location {
	return Location{
		Name: "mlflow-artifacts:/0/run/artifacts/model",
		Read: func(ctx context.Context, rel string) ([]byte, error) {
			reads[rel]++
			return f.read(ctx, rel)
		},
		ReadFile: func(ctx context.Context) ([]byte, error) {
			reads[""]++
			if single == "" {
				return nil, &fs.PathError{Op: "open", Path: "model", Err: fs.ErrNotExist}
			}
			return os.ReadFile(single)
		},
	}
}

func TestOpen(t *testing.T) {
	es := "testdata/xgb_early_stopping/"
	refDir, haveRef := modelrttest.FindReferenceDir()
	tests := []struct {
		name     string
		dir      files
		single   string
		needsRef bool
		flavor   string
		labels   bool
		runtime  string // type of Runtime
		rows     string // rows and predictions to compare with
		skip     int    // leading columns of rows that are not features
		want     string
	}{
		{name: "MLmodel directory, classifier", dir: files{disk: map[string]string{"MLmodel": es + "MLmodel", "model.json": es + "model.json"}},
			flavor: "xgboost", labels: true, runtime: "*mlmodel.Model", rows: es + "rows.tsv", want: es + "predict_proba.tsv"},
		{name: "MLmodel directory, booster", dir: files{disk: map[string]string{"MLmodel": "testdata/xgb_booster_json/MLmodel", "model.json": xgbTestdata("binary_logistic.json")}},
			flavor: "xgboost", runtime: "*mlmodel.Model", rows: xgbTestdata("binary_logistic.rows.tsv"), want: xgbTestdata("binary_logistic.pred.tsv")},
		{name: "single XGBoost JSON file", single: xgbTestdata("multi_softprob.json"),
			flavor: "xgboost", runtime: "*xgboost.Model", rows: xgbTestdata("multi_softprob.rows.tsv"), want: xgbTestdata("multi_softprob.pred.tsv")},
		{name: "single XGBoost UBJSON file", single: xgbTestdata("reg_squarederror.ubj"),
			flavor: "xgboost", runtime: "*xgboost.Model", rows: xgbTestdata("reg_squarederror.rows.tsv"), want: xgbTestdata("reg_squarederror.pred.tsv")},
		{name: "single legacy binary XGBoost file", single: xgbTestdata("binary_logistic.model"),
			flavor: "xgboost", runtime: "*xgboost.Model", rows: xgbTestdata("binary_logistic.rows.tsv"), want: xgbTestdata("binary_logistic.pred.tsv")},
		{name: "single LightGBM text file", single: filepath.Join(refDir, "lgmulticlass.model"), needsRef: true,
			flavor: "lightgbm", runtime: "*lightgbm.Model",
			rows: filepath.Join(refDir, "multiclass_test.tsv"), skip: 1, want: filepath.Join(refDir, "lgmulticlass_true_predictions.txt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needsRef && !haveRef {
				t.Skip("reference models not found; set FERRY_TREE_MODELS")
			}
			reads := map[string]int{}
			o, err := Open(context.Background(), location(tc.dir, tc.single, reads), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Flavor != tc.flavor || (o.Labels != nil) != tc.labels {
				t.Errorf("flavor %q, labels %v; want %q, %v", o.Flavor, o.Labels != nil, tc.flavor, tc.labels)
			}
			var rt string
			switch o.Runtime.(type) {
			case *Model:
				rt = "*mlmodel.Model"
				if o.MLmodel != o.Runtime {
					t.Error("MLmodel is not the runtime")
				}
			case *xgboost.Model:
				rt = "*xgboost.Model"
			case *lightgbm.Model:
				rt = "*lightgbm.Model"
			}
			if rt != tc.runtime {
				t.Errorf("runtime %T, want %s", o.Runtime, tc.runtime)
			}
			if tc.single == "" && (reads[MLmodelFile] != 1 || reads[""] != 0) {
				t.Errorf("reads %v: want MLmodel read once and no single-file read", reads)
			}
			if tc.single != "" && (reads[MLmodelFile] != 1 || reads[""] != 1) {
				t.Errorf("reads %v: want one MLmodel probe and one single-file read", reads)
			}
			if tc.rows != "" {
				x, rows, _ := modelrttest.ReadTable(t, tc.rows, tc.skip)
				want, _, _ := modelrttest.ReadTable(t, tc.want, 0)
				modelrttest.Run(t, modelrttest.Case{Name: tc.name, Model: o.Runtime, X: x, Rows: rows, Want: want, RelTol: 1e-12})
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	boom := errors.New("connection reset")
	tests := []struct {
		name    string
		loc     func(reads map[string]int) Location
		badFile bool   // matches modelrt.ErrBadModel
		isBoom  bool   // the read error, passed through
		want    string // substring
	}{
		{name: "nothing there", loc: func(r map[string]int) Location { return location(files{}, "", r) },
			badFile: true, want: "no MLmodel and no model file at mlflow-artifacts:/0/run/artifacts/model"},
		{name: "MLmodel read fails", loc: func(r map[string]int) Location {
			l := location(files{}, "", r)
			l.Read = func(context.Context, string) ([]byte, error) { return nil, boom }
			return l
		}, isBoom: true, want: "connection reset"},
		{name: "single file read fails", loc: func(r map[string]int) Location {
			l := location(files{}, "", r)
			l.ReadFile = func(context.Context) ([]byte, error) { return nil, boom }
			return l
		}, isBoom: true, want: "connection reset"},
		{name: "corrupt single file", loc: func(r map[string]int) Location {
			l := location(files{}, "", r)
			l.ReadFile = func(context.Context) ([]byte, error) { return []byte(`{"learner": {"truncated`), nil }
			return l
		}, badFile: true},
		{name: "corrupt LightGBM file", loc: func(r map[string]int) Location {
			l := location(files{}, "", r)
			l.ReadFile = func(context.Context) ([]byte, error) { return []byte("tree\nversion=v3\nnum_class=x\n"), nil }
			return l
		}, badFile: true},
		{name: "MLmodel without its data", loc: func(r map[string]int) Location {
			return location(files{disk: map[string]string{"MLmodel": "testdata/xgb_booster_json/MLmodel"}}, xgbTestdata("binary_logistic.json"), r)
		}, badFile: true, want: "model.json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.loc(map[string]int{}), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, modelrt.ErrBadModel) != tc.badFile || errors.Is(err, boom) != tc.isBoom || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v: want bad-model %v, read error %v, containing %q", err, tc.badFile, tc.isBoom, tc.want)
			}
		})
	}
}

func TestIsLightGBMText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"tree\nversion=v3\n", true},
		{"\n  tree\n", true},
		{"something\nversion=v4\n", true},
		{strings.Repeat("x", 300) + "version=v4", false},
		{`{"learner": {}}`, false},
		{"", false},
		{"binf\x00\x00\x00", false},
	} {
		if got := IsLightGBMText([]byte(tc.in)); got != tc.want {
			t.Errorf("IsLightGBMText(%.20q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
