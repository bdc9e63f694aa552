// Package mlmodel loads an MLflow model directory — its MLmodel file and
// the model data it names — with the xgboost or lightgbm flavor into a
// native runtime (modelrt.Model), so that MLflow models are served
// without Python.
//
// The caller gives a ReadFunc that reads files relative to the model
// directory (a local directory with DirReader, or an artifact store). Load
// reads "MLmodel", picks the xgboost or lightgbm flavor, reads the flavor's
// data file, loads it with the runtime and reconciles the MLmodel's input
// signature with the runtime's features.
package mlmodel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/lightgbm"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

// MLmodelFile is the name of the metadata file of an MLflow model
// directory.
const MLmodelFile = "MLmodel"

// Default size limits of Options.
const (
	DefaultMaxMLmodelBytes = 1 << 20 // 1 MiB
	DefaultMaxDataBytes    = 1 << 30 // 1 GiB
)

// ReadFunc reads the file at rel, a slash-separated path relative to the
// model directory. A file that does not exist must give an error matching
// fs.ErrNotExist. It should stop reading after the limit Load is given
// (Options) plus one byte; Load refuses anything longer.
type ReadFunc func(ctx context.Context, rel string) ([]byte, error)

// Options bound what Load reads; zero fields take the defaults.
type Options struct {
	MaxMLmodelBytes int64
	MaxDataBytes    int64
}

// Model is a loaded MLflow model. It implements modelrt.Model: Predict is
// the runtime's, Signature the reconciled one (the MLmodel's input names
// and types, the runtime's task and outputs).
type Model struct {
	// Runtime is the underlying native model (*xgboost.Model or
	// *lightgbm.Model).
	Runtime modelrt.Model
	// Flavor is "xgboost" or "lightgbm".
	Flavor string
	// ModelClass is the flavor's model_class ("xgboost.core.Booster",
	// "xgboost.sklearn.XGBClassifier", "lightgbm.basic.Booster", ...), the
	// default Booster class when the file has none (MLflow < 1.22).
	ModelClass string
	// ModelFormat is the xgboost flavor's model_format ("xgb", "json",
	// "ubj"; "" when absent or for lightgbm); DataPath the flavor's data.
	ModelFormat string
	DataPath    string
	// SignatureFromMLmodel says whether the inputs came from the MLmodel's
	// signature (else they are the runtime's own).
	SignatureFromMLmodel bool
	// ClassifierLabels is set for scikit-learn API classifiers
	// (XGBClassifier, XGBRFClassifier): MLflow's pyfunc predict, and so
	// /invocations, returns their predict(), the class labels
	// (PredictLabels), where a Booster returns probabilities (Predict).
	ClassifierLabels bool
	// Info is the MLmodel's metadata, for the model card.
	Info Info

	sig modelrt.Signature
}

var _ modelrt.Model = (*Model)(nil)

// Signature returns the reconciled signature (a copy).
func (m *Model) Signature() modelrt.Signature {
	s := m.sig
	s.Inputs = append([]modelrt.Feature(nil), m.sig.Inputs...)
	return s
}

// Predict is the runtime's Predict.
func (m *Model) Predict(x []float64, rows int, out []float64, raw bool) error {
	return m.Runtime.Predict(x, rows, out, raw)
}

// PredictLabels writes one class label per row into out (len rows) as
// the scikit-learn wrapper's predict does (xgboost.sklearn.XGBClassifier):
// with one output per row, 1 when the probability exceeds 0.5 else 0
// (multi:softmax already outputs the class index, returned as is); with
// one output per class, the index of the largest probability (the first
// one on ties; a NaN counts as the largest, as numpy's argmax). Labels are
// the class indices 0..n-1, as XGBClassifier.load_model sets classes_.
// It works for any model, classifier or not; it is what /invocations
// returns only when ClassifierLabels is set.
func (m *Model) PredictLabels(x []float64, rows int, out []float64) error {
	if rows < 0 || len(out) != rows {
		return fmt.Errorf("mlmodel: %d labels for %d rows", len(out), rows)
	}
	no := m.sig.Outputs
	probs := make([]float64, rows*no)
	if err := m.Runtime.Predict(x, rows, probs, false); err != nil {
		return err
	}
	for r := range rows {
		p := probs[r*no : (r+1)*no]
		switch {
		case no == 1 && m.sig.Objective == "multi:softmax":
			out[r] = p[0]
		case no == 1:
			out[r] = 0
			if p[0] > 0.5 {
				out[r] = 1
			}
		default:
			best := 0
			for i, v := range p {
				if math.IsNaN(v) {
					best = i
					break
				}
				if v > p[best] {
					best = i
				}
			}
			out[r] = float64(best)
		}
	}
	return nil
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: mlmodel: %s", modelrt.ErrBadModel, fmt.Sprintf(format, args...))
}

// Load loads the MLflow model directory read gives, with default Options.
func Load(ctx context.Context, read ReadFunc) (*Model, error) {
	return LoadWith(ctx, read, Options{})
}

// LoadWith loads the MLflow model directory read gives. An error of the
// directory's contents (no MLmodel, bad YAML, unsupported flavor, missing
// or bad data file, signature mismatch) matches modelrt.ErrBadModel; an
// error of read other than fs.ErrNotExist is returned wrapped as is.
func LoadWith(ctx context.Context, read ReadFunc, opt Options) (*Model, error) {
	if opt.MaxMLmodelBytes <= 0 {
		opt.MaxMLmodelBytes = DefaultMaxMLmodelBytes
	}
	if opt.MaxDataBytes <= 0 {
		opt.MaxDataBytes = DefaultMaxDataBytes
	}
	b, err := readFile(ctx, read, MLmodelFile, opt.MaxMLmodelBytes)
	if err != nil {
		return nil, err
	}
	doc, err := ParseMLmodel(b)
	if err != nil {
		return nil, err
	}
	m := &Model{Info: doc.Info()}
	var load func([]byte) (modelrt.Model, error)
	switch {
	case doc.Flavors["xgboost"] != nil:
		load, err = m.xgboostFlavor(doc)
	case doc.Flavors["lightgbm"] != nil:
		load, err = m.lightgbmFlavor(doc)
	default:
		return nil, bad("flavors %s: only the xgboost and lightgbm flavors are served natively",
			strings.Join(doc.FlavorNames(), ", "))
	}
	if err != nil {
		return nil, err
	}
	if err := checkPyfunc(doc, m.Flavor); err != nil {
		return nil, err
	}
	var inputs []modelrt.Feature
	if doc.Signature != nil && doc.Signature.Inputs != nil {
		if inputs, err = ParseInputs(*doc.Signature.Inputs); err != nil {
			return nil, err
		}
	}
	data, err := readFile(ctx, read, m.DataPath, opt.MaxDataBytes)
	if err != nil {
		return nil, err
	}
	if m.Runtime, err = load(data); err != nil {
		return nil, fmt.Errorf("%s: %w", m.DataPath, err)
	}
	m.sig = m.Runtime.Signature()
	if inputs != nil {
		if m.sig.Inputs, err = m.reconcile(inputs, m.sig.Inputs); err != nil {
			return nil, err
		}
		m.SignatureFromMLmodel = true
	}
	return m, nil
}

// readFile reads rel through read, at most limit bytes.
func readFile(ctx context.Context, read ReadFunc, rel string, limit int64) ([]byte, error) {
	b, err := read(ctx, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: mlmodel: %s: %w", modelrt.ErrBadModel, rel, err)
	}
	if err != nil {
		return nil, fmt.Errorf("mlmodel: reading %s: %w", rel, err)
	}
	if int64(len(b)) > limit {
		return nil, bad("%s: larger than %d bytes", rel, limit)
	}
	return b, nil
}

// checkPath checks that the flavor's data is a relative path inside the
// model directory and returns it cleaned.
func checkPath(flavor, p string) (string, error) {
	if p == "" {
		return "", bad("MLmodel: flavors.%s.data is missing", flavor)
	}
	if strings.ContainsAny(p, "\\\x00") || path.IsAbs(p) || (len(p) >= 2 && p[1] == ':') {
		return "", bad("MLmodel: flavors.%s.data %q is not a relative path", flavor, p)
	}
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return "", bad("MLmodel: flavors.%s.data %q leaves the model directory", flavor, p)
		}
	}
	c := path.Clean(p)
	if c == "." || !fs.ValidPath(c) {
		return "", bad("MLmodel: flavors.%s.data %q is not a file in the model directory", flavor, p)
	}
	return c, nil
}

// xgboost model classes whose predict MLflow's pyfunc wrapper calls; the
// classifiers' predict returns labels.
var xgbClasses = map[string]bool{
	"xgboost.core.Booster":            false,
	"xgboost.sklearn.XGBModel":        false,
	"xgboost.sklearn.XGBRegressor":    false,
	"xgboost.sklearn.XGBRFRegressor":  false,
	"xgboost.sklearn.XGBRanker":       false,
	"xgboost.sklearn.XGBClassifier":   true,
	"xgboost.sklearn.XGBRFClassifier": true,
}

// xgboostFlavor reads the xgboost flavor (mlflow.xgboost.save_model:
// xgb_version, data "model.<model_format>", model_class, model_format).
func (m *Model) xgboostFlavor(doc *MLmodel) (func([]byte) (modelrt.Model, error), error) {
	const fl = "xgboost"
	conf := doc.Flavors[fl]
	m.Flavor = fl
	var err error
	if m.ModelClass, err = confString(conf, fl, "model_class"); err != nil {
		return nil, err
	}
	if m.ModelClass == "" {
		m.ModelClass = "xgboost.core.Booster" // what mlflow.xgboost._load_model assumes
	}
	labels, ok := xgbClasses[m.ModelClass]
	if !ok {
		return nil, bad("MLmodel: xgboost model_class %q is not served natively (Booster and the xgboost.sklearn estimators are)", m.ModelClass)
	}
	m.ClassifierLabels = labels
	if m.ModelFormat, err = confString(conf, fl, "model_format"); err != nil {
		return nil, err
	}
	data, err := confString(conf, fl, "data")
	if err != nil {
		return nil, err
	}
	if m.DataPath, err = checkPath(fl, data); err != nil {
		return nil, err
	}
	var allowed []format
	switch m.ModelFormat {
	case "":
		// MLflow before model_format: whatever XGBoost wrote.
	case "json":
		allowed = []format{formatJSON}
	case "ubj":
		allowed = []format{formatUBJSON}
	case "xgb", "deprecated", "model", "bin":
		// XGBoost < 2.1 writes its legacy binary format to an unknown
		// extension, 2.1+ writes UBJSON.
		allowed = []format{formatBinary, formatUBJSON}
	default:
		return nil, bad("MLmodel: xgboost model_format %q is not one of xgb, json, ubj", m.ModelFormat)
	}
	return func(b []byte) (modelrt.Model, error) {
		if allowed != nil {
			f := detect(b)
			okf := false
			for _, a := range allowed {
				okf = okf || a == f
			}
			if !okf {
				return nil, bad("model_format %q but the file is %s", m.ModelFormat, f)
			}
		}
		xm, err := xgboost.Load(b)
		if err != nil {
			return nil, err
		}
		// The scikit-learn wrapper predicts with the trees up to its
		// best_iteration (early stopping); a Booster uses them all.
		if m.ModelClass != "xgboost.core.Booster" {
			if n := xm.BestRounds(); n > 0 {
				return xm.FirstRounds(n)
			}
		}
		return xm, nil
	}, nil
}

// lightgbmFlavor reads the lightgbm flavor (mlflow.lightgbm.save_model:
// lgb_version, data, model_class). MLflow writes a Booster with
// Booster.save_model to "model.lgb" (LightGBM's text format) and
// cloudpickles scikit-learn estimators (LGBMClassifier, ...) to
// "model.pkl", which is Python code and not served natively.
func (m *Model) lightgbmFlavor(doc *MLmodel) (func([]byte) (modelrt.Model, error), error) {
	const fl = "lightgbm"
	conf := doc.Flavors[fl]
	m.Flavor = fl
	var err error
	if m.ModelClass, err = confString(conf, fl, "model_class"); err != nil {
		return nil, err
	}
	if m.ModelClass == "" {
		m.ModelClass = "lightgbm.basic.Booster" // what mlflow.lightgbm._load_model assumes
	}
	if m.ModelClass != "lightgbm.basic.Booster" {
		return nil, bad("MLmodel: lightgbm model_class %q: MLflow stores scikit-learn LightGBM models as cloudpickle, which is not served natively (only lightgbm.basic.Booster is)", m.ModelClass)
	}
	data, err := confString(conf, fl, "data")
	if err != nil {
		return nil, err
	}
	if m.DataPath, err = checkPath(fl, data); err != nil {
		return nil, err
	}
	return func(b []byte) (modelrt.Model, error) { return lightgbm.Load(b) }, nil
}

// checkPyfunc refuses a python_function flavor whose loader is not the
// native flavor's: /invocations would run that code, not the booster.
func checkPyfunc(doc *MLmodel, flavor string) error {
	conf, ok := doc.Flavors["python_function"]
	if !ok {
		return nil
	}
	lm, err := confString(conf, "python_function", "loader_module")
	if err != nil {
		return err
	}
	if lm != "" && lm != "mlflow."+flavor {
		return bad("MLmodel: python_function.loader_module %q: the pyfunc is not the %s flavor's, and custom Python code is not served natively", lm, flavor)
	}
	return nil
}

// reconcile merges the MLmodel's input columns with the runtime's
// features: their numbers must agree; MLmodel names win (the runtime's
// when the MLmodel's column is unnamed); a feature the runtime says is
// categorical stays categorical. XGBoost checks feature names at predict
// (validate_features), so differing names of an xgboost model are an
// error; LightGBM does not, and its default names (Column_0, ...) are
// commonly unlike the training DataFrame's.
func (m *Model) reconcile(sig, rt []modelrt.Feature) ([]modelrt.Feature, error) {
	if len(sig) != len(rt) {
		return nil, bad("MLmodel signature has %d input columns, the %s model %d features", len(sig), m.Flavor, len(rt))
	}
	out := make([]modelrt.Feature, len(sig))
	for i, s := range sig {
		f := s
		r := rt[i]
		if f.Name == "" {
			f.Name = r.Name
		} else if m.Flavor == "xgboost" && r.Name != "" && r.Name != f.Name {
			return nil, bad("MLmodel signature column %d is %q, the xgboost model's feature %q", i, f.Name, r.Name)
		}
		if r.Type == modelrt.Categorical {
			f.Type = modelrt.Categorical
		}
		out[i] = f
	}
	return out, nil
}

// format is an XGBoost model file format, told from the content as
// XGBoost does (and as package xgboost detects it).
type format int

const (
	formatBinary format = iota
	formatJSON
	formatUBJSON
)

func (f format) String() string {
	switch f {
	case formatJSON:
		return "JSON"
	case formatUBJSON:
		return "UBJSON"
	}
	return "legacy binary"
}

// detect: a file starting with '{' is JSON or UBJSON (UBJSON follows the
// '{' with the length marker of the first key); anything else is binary.
func detect(b []byte) format {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	if i >= len(b) || b[i] != '{' {
		return formatBinary
	}
	if i == 0 && i+1 < len(b) {
		switch b[i+1] {
		case 'i', 'U', 'I', 'l', 'L', 'N':
			return formatUBJSON
		}
	}
	return formatJSON
}

// DirReader returns a ReadFunc reading files of the local directory dir,
// at most limit bytes each (limit ≤ 0: DefaultMaxDataBytes), through an
// os.Root, so that no path (.., symlinks) escapes dir.
func DirReader(dir string, limit int64) ReadFunc {
	if limit <= 0 {
		limit = DefaultMaxDataBytes
	}
	return func(ctx context.Context, rel string) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, err
		}
		defer root.Close()
		f, err := root.Open(rel)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return io.ReadAll(io.LimitReader(f, limit+1))
	}
}
