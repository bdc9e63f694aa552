package remote

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/inference"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/lightgbm"
	"github.com/ferry-ml/ferry/internal/modelrt/modelrttest"
	"github.com/ferry-ml/ferry/internal/modelrt/xgboost"
)

// The conformance tests put a native model behind a test server that
// speaks each protocol — decoding requests with Ferry's own inference
// package — and run the runtime suite on the external runtime pointing
// at it: every prediction crosses the wire both ways.

// relaxed is sig with every feature a float, so the test server takes
// what the native model takes (Ferry's decoder refuses a negative
// category; the native runtimes send it down the default branch).
func relaxed(sig modelrt.Signature) modelrt.Signature {
	sig.Inputs = append([]modelrt.Feature(nil), sig.Inputs...)
	for i := range sig.Inputs {
		sig.Inputs[i].Type = modelrt.Float
	}
	return sig
}

// number writes v as JSON, a non-finite one as Python's tokens.
func number(b *bytes.Buffer, v float64) {
	switch {
	case math.IsNaN(v):
		b.WriteString("NaN")
	case math.IsInf(v, 1):
		b.WriteString("Infinity")
	case math.IsInf(v, -1):
		b.WriteString("-Infinity")
	default:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
}

func numbers(b *bytes.Buffer, vals []float64) {
	b.WriteByte('[')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		number(b, v)
	}
	b.WriteByte(']')
}

// pythonTokens quotes the bare NaN/Infinity tokens Python's json writes
// (and MLflow requests carry) so that Go's JSON decoder reads them.
func pythonTokens(b []byte) []byte {
	var out []byte
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			if c == '\\' && i+1 < len(b) {
				out = append(out, c, b[i+1])
				i++
				continue
			}
			inString = c != '"'
		case c == '"':
			inString = true
		default:
			for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
				if bytes.HasPrefix(b[i:], []byte(tok)) {
					out = append(out, '"')
					out = append(out, tok...)
					c = '"'
					i += len(tok) - 1
					break
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func predictRows(m modelrt.Model, b inference.Batch) ([]float64, error) {
	out := make([]float64, b.Rows*m.Signature().Outputs)
	return out, m.Predict(b.X, b.Rows, out, false)
}

// mlflowServer serves m with MLflow's scoring protocol.
func mlflowServer(t *testing.T, m modelrt.Model) *httptest.Server {
	sig := relaxed(m.Signature())
	no := sig.Outputs
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "\n") })
	mux.HandleFunc("POST /invocations", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		batch, err := inference.DecodeMLflow(pythonTokens(body), r.Header.Get("Content-Type"), sig)
		var out []float64
		if err == nil {
			out, err = predictRows(m, batch)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "BAD_REQUEST", "message": err.Error()})
			return
		}
		var b bytes.Buffer
		b.WriteString(`{"predictions": [`)
		for r := range batch.Rows {
			if r > 0 {
				b.WriteByte(',')
			}
			if no == 1 {
				number(&b, out[r])
			} else {
				numbers(&b, out[r*no:(r+1)*no])
			}
		}
		b.WriteString("]}")
		w.Write(b.Bytes())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// oipServer serves m with the Open Inference Protocol, its metadata
// describing the features as Ferry's OIP surface takes them.
func oipServer(t *testing.T, m modelrt.Model) *httptest.Server {
	sig := relaxed(m.Signature())
	nf, no := len(sig.Inputs), sig.Outputs
	named := m.Signature().Inputs[0].Name != ""
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"ready": true}`) })
	mux.HandleFunc("GET /v2/models/model", func(w http.ResponseWriter, _ *http.Request) {
		type tensor struct {
			Name     string `json:"name"`
			Datatype string `json:"datatype"`
			Shape    []int  `json:"shape"`
		}
		var inputs []tensor
		if named {
			for _, f := range m.Signature().Inputs {
				dt := "FP64"
				if f.Type != modelrt.Float {
					dt = "INT64"
				}
				inputs = append(inputs, tensor{f.Name, dt, []int{-1}})
			}
		} else {
			inputs = []tensor{{"input-0", "FP64", []int{-1, nf}}}
		}
		out := tensor{"predict", "FP64", []int{-1}}
		if no > 1 {
			out.Shape = []int{-1, no}
		}
		json.NewEncoder(w).Encode(map[string]any{"name": "model", "platform": "ferry_test", "inputs": inputs, "outputs": []tensor{out}})
	})
	mux.HandleFunc("POST /v2/models/model/infer", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := inference.DecodeOIP(body, sig)
		var out []float64
		if err == nil {
			out, err = predictRows(m, req.Batch)
		}
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"model_name":"model","outputs":[{"name":"predict","datatype":"FP64","shape":[%d,%d],"data":`, req.Batch.Rows, no)
		numbers(&b, out)
		b.WriteString("}]}")
		w.Write(b.Bytes())
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// runRemote runs the conformance suite on native model m behind each
// protocol: MLflow (given the signature), OIP given the signature, and
// OIP reading it from the server's metadata.
func runRemote(t *testing.T, name string, m modelrt.Model, x []float64, rows int, want []float64) {
	sig := m.Signature()
	// The suite sends every row on its own too: 200 rows are plenty.
	if rows > 200 {
		x, want, rows = x[:200*len(sig.Inputs)], want[:200*sig.Outputs], 200
	}
	for _, c := range []struct {
		how  string
		p    Protocol
		url  string
		opts Options
	}{
		{"mlflow", MLflow, mlflowServer(t, m).URL, Options{Signature: &sig}},
		{"oip", OIP, oipServer(t, m).URL, Options{Signature: &sig}},
		{"oip metadata", OIP, oipServer(t, m).URL, Options{}},
	} {
		t.Run(c.how, func(t *testing.T) {
			rm, err := openWith(t, c.p, c.url, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := rm.Signature()
			if len(got.Inputs) != len(sig.Inputs) || got.Outputs != sig.Outputs {
				t.Fatalf("signature %+v, native %+v", got, sig)
			}
			for i := range got.Inputs {
				if got.Inputs[i].Name != sig.Inputs[i].Name {
					t.Fatalf("input %d named %q, native %q", i, got.Inputs[i].Name, sig.Inputs[i].Name)
				}
			}
			// Raw margins are not available remotely: probabilities only.
			modelrttest.Run(t, modelrttest.Case{Name: name + " " + c.how, Model: rm, X: x, Rows: rows, Want: want, Tol: 1e-6, RelTol: 1e-12})
		})
	}
}

func openWith(t *testing.T, p Protocol, url string, opts Options) (*Model, error) {
	m, err := Open(t.Context(), Spec{Protocol: p, URL: url, Timeout: 30 * time.Second}, "", opts)
	if err == nil {
		t.Cleanup(func() { m.Close() })
	}
	return m, err
}

func TestConformanceLightGBMMulticlass(t *testing.T) {
	dir := modelrttest.ReferenceDir(t)
	m, err := lightgbm.LoadFile(filepath.Join(dir, "lgmulticlass.model"))
	if err != nil {
		t.Fatal(err)
	}
	x, rows, _ := modelrttest.ReadTable(t, filepath.Join(dir, "multiclass_test.tsv"), 1)
	want, _, _ := modelrttest.ReadTable(t, filepath.Join(dir, "lgmulticlass_true_predictions.txt"), 0)
	runRemote(t, "lgmulticlass", m, x, rows, want)
}

func TestConformanceXGBoostAgaricus(t *testing.T) {
	dir := modelrttest.ReferenceDir(t)
	m, err := xgboost.LoadFile(filepath.Join(dir, "xgagaricus.model"))
	if err != nil {
		t.Fatal(err)
	}
	x, rows := modelrttest.ReadLibSVM(t, filepath.Join(dir, "agaricus_test.libsvm"), len(m.Signature().Inputs), math.NaN())
	want, _, _ := modelrttest.ReadTable(t, filepath.Join(dir, "xgagaricus_true_predictions.txt"), 0)
	runRemote(t, "xgagaricus", m, x, rows, want)
}

// TestConformanceXGBoostCategorical uses the XGBoost runtime's own
// fixture: named float, int and categorical features, three classes.
func TestConformanceXGBoostCategorical(t *testing.T) {
	base := filepath.Join("..", "xgboost", "testdata", "categorical_multi")
	m, err := xgboost.LoadFile(base + ".json")
	if err != nil {
		t.Fatal(err)
	}
	x, rows, _ := modelrttest.ReadTable(t, base+".rows.tsv", 0)
	want, _, _ := modelrttest.ReadTable(t, base+".pred.tsv", 0)
	runRemote(t, "categorical_multi", m, x, rows, want)
}
