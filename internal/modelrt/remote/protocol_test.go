package remote

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

// fake is a runtime answering what the test sets, recording requests.
type fake struct {
	srv *httptest.Server

	mu       sync.Mutex
	status   int
	answer   string
	metadata string // OIP model metadata ("" → 404)
	path     string // of the last prediction request
	body     string
	ctype    string
}

func newFake(t *testing.T) *fake {
	f := &fake{status: 200}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "\n") })
	mux.HandleFunc("GET /v2/health/ready", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"ready": true}`) })
	mux.HandleFunc("GET /v2/models/{name}", func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		md := f.metadata
		f.mu.Unlock()
		if md == "" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error": "Model not found"}`)
			return
		}
		io.WriteString(w, md)
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.path, f.body, f.ctype = r.URL.Path, string(b), r.Header.Get("Content-Type")
		status, answer := f.status, f.answer
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) set(status int, answer string) {
	f.mu.Lock()
	f.status, f.answer = status, answer
	f.mu.Unlock()
}

func (f *fake) last() (path, body, ctype string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.path, f.body, f.ctype
}

// openURL opens a url runtime with sig (nil: from metadata).
func openURL(t *testing.T, p Protocol, url string, sig *modelrt.Signature, timeout time.Duration) *Model {
	t.Helper()
	m, err := Open(context.Background(), Spec{Protocol: p, URL: url, Signature: sig, Timeout: timeout, StartupTimeout: 10 * time.Second}, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var (
	nan  = math.NaN()
	inf  = math.Inf(1)
	ninf = math.Inf(-1)
)

func sigOf(outputs int, task modelrt.Task, inputs ...modelrt.Feature) *modelrt.Signature {
	return &modelrt.Signature{Inputs: inputs, Outputs: outputs, Task: task}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestMLflowWire(t *testing.T) {
	named := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "age", Type: modelrt.Integer}, modelrt.Feature{Name: "income", Type: modelrt.Float})
	unnamed := sigOf(1, modelrt.Binary, modelrt.Feature{}, modelrt.Feature{}, modelrt.Feature{})
	multi := sigOf(3, modelrt.Multiclass, modelrt.Feature{Name: "x"})
	for _, c := range []struct {
		name    string
		sig     *modelrt.Signature
		x       []float64
		rows    int
		request string
		answer  string
		want    []float64
	}{
		{"named", named, []float64{41, 1234.5, nan, 0.25}, 2,
			`{"dataframe_split":{"columns":["age","income"],"data":[[41,1234.5],[null,0.25]]}}`,
			`{"predictions": [1.5, -2e-7]}`, []float64{1.5, -2e-7}},
		{"unnamed, non-finite", unnamed, []float64{inf, ninf, 1e-7}, 1,
			`{"dataframe_split":{"columns":["f0","f1","f2"],"data":[[Infinity,-Infinity,1e-7]]}}`,
			`{"predictions": [0.75]}`, []float64{0.75}},
		{"int column holding a fraction", named, []float64{2.5, 1e300}, 1,
			`{"dataframe_split":{"columns":["age","income"],"data":[[2.5,1e+300]]}}`,
			`{"predictions": [[1]]}`, []float64{1}},
		{"multiclass", multi, []float64{1, 2}, 2,
			`{"dataframe_split":{"columns":["x"],"data":[[1],[2]]}}`,
			`{"predictions": [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]}`, []float64{0.1, 0.2, 0.7, 0.3, 0.3, 0.4}},
		{"multiclass records", multi, []float64{1, 2}, 2,
			`{"dataframe_split":{"columns":["x"],"data":[[1],[2]]}}`,
			`{"predictions": [{"a": 0.1, "b": 0.2, "c": 0.7}, {"a": 1, "b": 0, "c": 0}]}`, []float64{0.1, 0.2, 0.7, 1, 0, 0}},
		{"MLflow 1.x bare list, NaN tokens", unnamed, []float64{0, 0, 0, 1, 1, 1}, 2,
			`{"dataframe_split":{"columns":["f0","f1","f2"],"data":[[0,0,0],[1,1,1]]}}`,
			`[NaN, null]`, []float64{nan, nan}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.set(200, c.answer)
			m := openURL(t, MLflow, f.srv.URL, c.sig, 0)
			out := make([]float64, len(c.want))
			if err := m.Predict(c.x, c.rows, out, false); err != nil {
				t.Fatal(err)
			}
			path, body, ctype := f.last()
			if path != "/invocations" || body != c.request || ctype != "application/json" {
				t.Errorf("request %s %s (%s),\nwant %s", path, body, ctype, c.request)
			}
			if !sameFloats(out, c.want) {
				t.Errorf("out %v, want %v", out, c.want)
			}
		})
	}
}

func TestOIPWire(t *testing.T) {
	named := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "age", Type: modelrt.Integer}, modelrt.Feature{Name: "city", Type: modelrt.Categorical}, modelrt.Feature{Name: "income"})
	unnamed := sigOf(3, modelrt.Multiclass, modelrt.Feature{Type: modelrt.Integer}, modelrt.Feature{})
	for _, c := range []struct {
		name    string
		sig     *modelrt.Signature
		x       []float64
		rows    int
		request string
		answer  string
		want    []float64
	}{
		{"named", named, []float64{41, 3, 1.5, 40, 0, nan}, 2,
			`{"inputs":[{"name":"age","shape":[2],"datatype":"INT64","data":[41,40]},{"name":"city","shape":[2],"datatype":"INT64","data":[3,0]},{"name":"income","shape":[2],"datatype":"FP64","data":[1.5,null]}]}`,
			`{"model_name":"model","outputs":[{"name":"predict","shape":[2],"datatype":"FP64","data":[10.5,-1]}]}`, []float64{10.5, -1}},
		{"int feature missing or fractional → FP64", named, []float64{nan, 2.5, inf}, 1,
			`{"inputs":[{"name":"age","shape":[1],"datatype":"FP64","data":[null]},{"name":"city","shape":[1],"datatype":"FP64","data":[2.5]},{"name":"income","shape":[1],"datatype":"FP64","data":["Infinity"]}]}`,
			`{"outputs":[{"name":"y","shape":[1,1],"datatype":"INT64","data":[[7]]}]}`, []float64{7}},
		{"unnamed matrix, multiclass nested", unnamed, []float64{1, 0.5, 2, ninf}, 2,
			`{"inputs":[{"name":"input-0","shape":[2,2],"datatype":"FP64","data":[1,0.5,2,"-Infinity"]}]}`,
			`{"outputs":[{"name":"probs","shape":[2,3],"datatype":"FP32","data":[[0.25,0.25,0.5],[1,0,0]]}, {"name":"label","datatype":"BYTES","shape":[2],"data":["a","b"]}]}`,
			[]float64{0.25, 0.25, 0.5, 1, 0, 0}},
		{"BOOL output, fields in any order", named, []float64{1, 1, 1}, 1,
			`{"inputs":[{"name":"age","shape":[1],"datatype":"INT64","data":[1]},{"name":"city","shape":[1],"datatype":"INT64","data":[1]},{"name":"income","shape":[1],"datatype":"FP64","data":[1]}]}`,
			`{"id":"x","outputs":[{"data":[true],"datatype":"BOOL","parameters":{"content_type":"np"},"shape":[1],"name":"y"}]}`, []float64{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.set(200, c.answer)
			m := openURL(t, OIP, f.srv.URL, c.sig, 0)
			out := make([]float64, len(c.want))
			if err := m.Predict(c.x, c.rows, out, false); err != nil {
				t.Fatal(err)
			}
			path, body, _ := f.last()
			if path != "/v2/models/model/infer" || body != c.request {
				t.Errorf("request %s %s,\nwant %s", path, body, c.request)
			}
			if !sameFloats(out, c.want) {
				t.Errorf("out %v, want %v", out, c.want)
			}
		})
	}
}

func TestOIPSignatureFromMetadata(t *testing.T) {
	for _, c := range []struct {
		name, metadata string
		want           modelrt.Signature
		request        string // for one row of 1, 2, ...
		err            string
	}{
		{"matrix", `{"name":"m","platform":"onnx_onnxv1","inputs":[{"name":"float_input","datatype":"FP32","shape":[-1,3]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,4]}]}`,
			modelrt.Signature{Inputs: []modelrt.Feature{{Type: modelrt.Float}, {Type: modelrt.Float}, {Type: modelrt.Float}}, Outputs: 4, Task: modelrt.Multiclass},
			`{"inputs":[{"name":"float_input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`, ""},
		{"per feature", `{"name":"m","inputs":[{"name":"age","datatype":"INT32","shape":[-1,1]},{"name":"income","datatype":"FP64","shape":[-1]}],"outputs":[{"name":"y","datatype":"FP64","shape":[-1]}]}`,
			modelrt.Signature{Inputs: []modelrt.Feature{{Name: "age", Type: modelrt.Integer}, {Name: "income", Type: modelrt.Float}}, Outputs: 1, Task: modelrt.Regression},
			`{"inputs":[{"name":"age","shape":[1,1],"datatype":"INT32","data":[1]},{"name":"income","shape":[1],"datatype":"FP64","data":[2]}]}`, ""},
		{"no outputs listed", `{"name":"m","inputs":[{"name":"x","datatype":"FP64","shape":[-1]}]}`,
			modelrt.Signature{Inputs: []modelrt.Feature{{Name: "x", Type: modelrt.Float}}, Outputs: 1, Task: modelrt.Regression},
			`{"inputs":[{"name":"x","shape":[1],"datatype":"FP64","data":[1]}]}`, ""},
		{"unknown width", `{"inputs":[{"name":"x","datatype":"FP64","shape":[-1,-1]}]}`, modelrt.Signature{}, "", "number of features is not known"},
		{"strings", `{"inputs":[{"name":"text","datatype":"BYTES","shape":[-1]}]}`, modelrt.Signature{}, "", "BYTES"},
		{"image", `{"inputs":[{"name":"img","datatype":"FP32","shape":[-1,3,224,224]}]}`, modelrt.Signature{}, "", "shape"},
		{"no inputs", `{"name":"m","inputs":[]}`, modelrt.Signature{}, "", "no inputs"},
		{"no metadata route", ``, modelrt.Signature{}, "", "404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.metadata = c.metadata
			f.set(200, `{"outputs":[{"name":"y","datatype":"FP64","shape":[1,`+itoa(max(1, c.want.Outputs))+`],"data":[`+strings.Repeat("0,", max(1, c.want.Outputs)-1)+`0]}]}`)
			m, err := Open(context.Background(), Spec{Protocol: OIP, URL: f.srv.URL}, "", Options{})
			if c.err != "" {
				if !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Open: %v, want an error saying %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			got := m.Signature()
			if len(got.Inputs) != len(c.want.Inputs) || got.Outputs != c.want.Outputs || got.Task != c.want.Task {
				t.Fatalf("signature %+v, want %+v", got, c.want)
			}
			for i := range got.Inputs {
				if got.Inputs[i] != c.want.Inputs[i] {
					t.Errorf("input %d: %+v, want %+v", i, got.Inputs[i], c.want.Inputs[i])
				}
			}
			x := make([]float64, len(got.Inputs))
			for i := range x {
				x[i] = float64(i + 1)
			}
			if err := m.Predict(x, 1, make([]float64, got.Outputs), false); err != nil {
				t.Fatal(err)
			}
			if _, body, _ := f.last(); body != c.request {
				t.Errorf("request %s\nwant %s", body, c.request)
			}
		})
	}
}

func itoa(n int) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestMalformedAnswers: whatever a runtime answers, Predict returns an
// error matching ErrRuntime, saying what is wrong, and does not panic.
func TestMalformedAnswers(t *testing.T) {
	two := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	three := sigOf(3, modelrt.Multiclass, modelrt.Feature{Name: "a"})
	for _, c := range []struct {
		name   string
		p      Protocol
		sig    *modelrt.Signature
		answer string
		err    string
	}{
		{"mlflow empty", MLflow, two, ``, "must be"},
		{"mlflow not JSON", MLflow, two, `<html>oops</html>`, "must be"},
		{"mlflow no predictions", MLflow, two, `{"result": [1, 2]}`, `no "predictions"`},
		{"mlflow too few", MLflow, two, `{"predictions": [1]}`, "1 predictions for 2 rows"},
		{"mlflow too many", MLflow, two, `{"predictions": [1, 2, 3]}`, "more predictions than the 2 rows"},
		{"mlflow string label", MLflow, two, `{"predictions": ["setosa", "virginica"]}`, `"setosa"`},
		{"mlflow scalar for multiclass", MLflow, three, `{"predictions": [1, 2]}`, "3 outputs per row"},
		{"mlflow short row", MLflow, three, `{"predictions": [[1, 2, 3], [1, 2]]}`, "prediction 1 has 2 values, want 3"},
		{"mlflow long row", MLflow, three, `{"predictions": [[1, 2, 3, 4], [1, 2, 3]]}`, "more than 3 values"},
		{"mlflow truncated", MLflow, two, `{"predictions": [1, 2`, "expected ',' or ']'"},
		{"mlflow trailing", MLflow, two, `{"predictions": [1, 2]} {}`, "after the answer"},
		{"mlflow predictions object", MLflow, two, `{"predictions": {"a": 1}}`, "must be a list"},
		{"mlflow deep", MLflow, two, `{"x": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `, "predictions": [1, 2]}`, "nested deeper"},
		{"mlflow bad number", MLflow, two, `{"predictions": [1.2.3, 2]}`, "malformed number"},
		{"oip no outputs", OIP, two, `{"model_name": "m"}`, "no outputs"},
		{"oip empty outputs", OIP, two, `{"outputs": []}`, "no outputs"},
		{"oip error in 200", OIP, two, `{"error": "model exploded"}`, "model exploded"},
		{"oip not an object", OIP, two, `[1, 2]`, "must be"},
		{"oip BYTES", OIP, two, `{"outputs":[{"name":"y","datatype":"BYTES","shape":[2],"data":["a","b"]}]}`, "BYTES"},
		{"oip no datatype", OIP, two, `{"outputs":[{"name":"y","shape":[2],"data":[1,2]}]}`, "no datatype"},
		{"oip no data", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","shape":[2]}]}`, "no data"},
		{"oip shape mismatch", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","shape":[3],"data":[1,2,3]}]}`, "shape [3]"},
		{"oip negative shape", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","shape":[-1],"data":[1,2]}]}`, "shape [-1]"},
		{"oip huge shape", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","shape":[9223372036854775807, 9223372036854775807],"data":[1,2]}]}`, "shape"},
		{"oip too few values", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","data":[1]}]}`, "has 1 values; want 2"},
		{"oip too many values", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","data":[1,2,3]}]}`, "more than 2 values"},
		{"oip data not a list", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","data":"1,2"}]}`, "must be a list"},
		{"oip bool not bool", OIP, two, `{"outputs":[{"name":"y","datatype":"BOOL","data":[0.5, 1]}]}`, "BOOL"},
		{"oip object value", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","data":[{"v":1}, 2]}]}`, "expected a number"},
		{"oip bad shape", OIP, two, `{"outputs":[{"name":"y","datatype":"FP64","shape":[1.5],"data":[1,2]}]}`, "list of integers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.set(200, c.answer)
			m := openURL(t, c.p, f.srv.URL, c.sig, 0)
			out := make([]float64, 2*c.sig.Outputs)
			err := m.Predict([]float64{1, 2}, 2, out, false)
			if !errors.Is(err, ErrRuntime) || !strings.Contains(err.Error(), c.err) {
				t.Errorf("error %v, want one matching ErrRuntime saying %q", err, c.err)
			}
		})
	}
}

func TestErrorStatus(t *testing.T) {
	sig := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	long := strings.Repeat("x", 2000)
	for _, c := range []struct {
		name     string
		p        Protocol
		status   int
		body     string
		message  string
		kind     error
		bodySize int
	}{
		{"oip 400", OIP, 400, `{"error": "Input 'a' is missing"}`, "Input 'a' is missing", errdefs.ErrInvalidArgument, 0},
		{"mlflow 400", MLflow, 400, `{"error_code": "BAD_REQUEST", "message": "Incompatible input types"}`, "Incompatible input types", errdefs.ErrInvalidArgument, 0},
		{"oip 503", OIP, 503, `{"error": "Model model is not ready"}`, "Model model is not ready", errdefs.ErrUnavailable, 0},
		{"500 plain text, long", MLflow, 500, long, strings.Repeat("x", 512) + "...", nil, 512},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t)
			f.set(c.status, c.body)
			m := openURL(t, c.p, f.srv.URL, sig, 0)
			err := m.Predict([]float64{1}, 1, make([]float64, 1), false)
			var re *RuntimeError
			if !errors.As(err, &re) || !errors.Is(err, ErrRuntime) {
				t.Fatalf("error %v, want a RuntimeError", err)
			}
			if re.StatusCode != c.status || re.Message != c.message {
				t.Errorf("status %d message %q, want %d %q", re.StatusCode, re.Message, c.status, c.message)
			}
			if c.bodySize > 0 && len(re.Body) != c.bodySize {
				t.Errorf("body of %d bytes kept, want %d", len(re.Body), c.bodySize)
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Errorf("%v does not match %v", err, c.kind)
			}
			if c.kind == nil && (errors.Is(err, errdefs.ErrInvalidArgument) || errors.Is(err, errdefs.ErrUnavailable)) {
				t.Errorf("a 500 matches a kind: %v", err)
			}
			if !strings.Contains(err.Error(), itoa(c.status)) {
				t.Errorf("message %q has no status", err)
			}
		})
	}
}

// hanging is a runtime whose predictions never answer (until the test
// ends); got receives each request as it arrives.
func hanging(t *testing.T, headersFirst bool) (*httptest.Server, chan struct{}) {
	got := make(chan struct{}, 16)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			io.WriteString(w, "\n")
			return
		}
		got <- struct{}{}
		if headersFirst {
			w.WriteHeader(200)
			io.WriteString(w, `{"predictions": [`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, got
}

func TestTimeout(t *testing.T) {
	sig := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	for _, headersFirst := range []bool{false, true} {
		srv, _ := hanging(t, headersFirst)
		const timeout = 150 * time.Millisecond
		m := openURL(t, MLflow, srv.URL, sig, timeout)
		start := time.Now()
		err := m.Predict([]float64{1}, 1, make([]float64, 1), false)
		if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errdefs.ErrUnavailable) {
			t.Errorf("headers first %v: error %v, want ErrTimeout", headersFirst, err)
		}
		if d := time.Since(start); d < timeout {
			t.Errorf("returned after %s, before the timeout", d)
		}
		// The caller's deadline counts too.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err = m.PredictContext(ctx, []float64{1}, 1, make([]float64, 1), false)
		cancel()
		if !errors.Is(err, ErrTimeout) {
			t.Errorf("caller's deadline: %v", err)
		}
	}
}

// TestNoSharedBlocking: a call stuck on one runtime does not hold up a
// call to another, and cancelling its context ends it.
func TestNoSharedBlocking(t *testing.T) {
	sig := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	srv, got := hanging(t, false)
	stuck := openURL(t, MLflow, srv.URL, sig, time.Minute)
	f := newFake(t)
	f.set(200, `{"predictions": [42]}`)
	healthy := openURL(t, MLflow, f.srv.URL, sig, time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- stuck.PredictContext(ctx, []float64{1}, 1, make([]float64, 1), false) }()
	<-got // the stuck request is at the server
	out := make([]float64, 1)
	if err := healthy.Predict([]float64{1}, 1, out, false); err != nil || out[0] != 42 {
		t.Fatalf("healthy runtime: %v %v", out, err)
	}
	select {
	case err := <-done:
		t.Fatalf("the stuck call returned: %v", err)
	default:
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTimeout) {
		t.Errorf("cancelled call: %v", err)
	}
}

func TestPredictArguments(t *testing.T) {
	f := newFake(t)
	f.set(200, `{"predictions": [1]}`)
	m := openURL(t, MLflow, f.srv.URL, sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"}, modelrt.Feature{Name: "b"}), 0)
	err := m.Predict([]float64{1, 2}, 1, make([]float64, 1), true)
	if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "raw margins are not available from an external runtime") {
		t.Errorf("raw: %v", err)
	}
	for _, c := range []struct {
		x    []float64
		rows int
		out  []float64
	}{
		{[]float64{1}, 1, make([]float64, 1)},
		{[]float64{1, 2}, 1, nil},
		{[]float64{1, 2}, 2, make([]float64, 2)},
		{[]float64{1, 2}, -1, nil},
		{[]float64{1, 2}, math.MaxInt / 2, make([]float64, 1)},
	} {
		if err := m.Predict(c.x, c.rows, c.out, false); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%d values, %d rows, %d outputs: %v", len(c.x), c.rows, len(c.out), err)
		}
	}
	if err := m.Predict(nil, 0, nil, false); err != nil {
		t.Errorf("no rows: %v", err)
	}
}

func TestLargeAnswer(t *testing.T) {
	sig := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	for _, declared := range []bool{true, false} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				return
			}
			if declared {
				w.Header().Set("Content-Length", itoa(maxBody+1))
			}
			chunk := []byte(strings.Repeat(" ", 1<<20))
			for range maxBody>>20 + 1 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			if !declared {
				w.Write([]byte("x"))
			}
		}))
		m := openURL(t, MLflow, srv.URL, sig, 30*time.Second)
		err := m.Predict([]float64{1}, 1, make([]float64, 1), false)
		if !errors.Is(err, ErrRuntime) || !strings.Contains(err.Error(), "bytes") {
			t.Errorf("declared %v: %v", declared, err)
		}
		srv.Close()
	}
}

func TestURLRuntimeNotReady(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	sig := sigOf(1, modelrt.Regression, modelrt.Feature{Name: "a"})
	_, err := Open(context.Background(), Spec{Protocol: MLflow, URL: srv.URL, Signature: sig, StartupTimeout: 300 * time.Millisecond}, "", Options{})
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "/ping") {
		t.Errorf("Open: %v", err)
	}

	// Ready at Open, gone later: unavailable.
	f := newFake(t)
	m := openURL(t, OIP, f.srv.URL, sig, 0)
	f.srv.Close()
	err = m.Predict([]float64{1}, 1, make([]float64, 1), false)
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, errdefs.ErrUnavailable) || !strings.Contains(err.Error(), "cannot be reached") {
		t.Errorf("predict on a closed server: %v", err)
	}
	if st := m.Status(); st.State != StateReady || st.PID != 0 {
		t.Errorf("status %+v", st)
	}
	m.Close()
	if st := m.Status(); st.State != StateStopped {
		t.Errorf("status after Close %+v", st)
	}
}

func TestURLSourceDetection(t *testing.T) {
	oipOnly := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v2/health/ready":
			io.WriteString(w, `{"ready":true}`)
		case "/v2/models/model":
			io.WriteString(w, `{"name":"model","inputs":[{"name":"x","datatype":"FP64","shape":[-1]}],"outputs":[{"name":"y","datatype":"FP64","shape":[-1]}]}`)
		case "/v2/models/model/infer":
			io.WriteString(w, `{"outputs":[{"name":"y","datatype":"FP64","shape":[1],"data":[5]}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer oipOnly.Close()
	mlflowOnly := newFake(t)
	mlflowOnly.set(200, `{"predictions":[6]}`)
	mlflowRoutes := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/health/ready" {
			http.NotFound(w, r)
			return
		}
		mlflowOnly.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer mlflowRoutes.Close()

	for _, c := range []struct {
		url  string
		sig  *modelrt.Signature
		want Protocol
		out  float64
	}{
		{oipOnly.URL + "/", nil, OIP, 5},
		{mlflowRoutes.URL, sigOf(1, modelrt.Regression, modelrt.Feature{Name: "x"}), MLflow, 6},
	} {
		spec, err := ParseURLSource(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Protocol != "" || spec.Timeout != DefaultTimeout || strings.HasSuffix(spec.URL, "/") {
			t.Errorf("ParseURLSource: %+v", spec)
		}
		m, err := Open(context.Background(), spec, "", Options{Signature: c.sig})
		if err != nil {
			t.Fatal(err)
		}
		if m.spec.Protocol != c.want || m.spec.HealthPath == "" {
			t.Errorf("%s: detected %q (health %q), want %q", c.url, m.spec.Protocol, m.spec.HealthPath, c.want)
		}
		out := make([]float64, 1)
		if err := m.Predict([]float64{1}, 1, out, false); err != nil || out[0] != c.out {
			t.Errorf("%s: predict %v %v", c.url, out, err)
		}
		m.Close()
	}
	// MLflow needs a signature from somewhere.
	spec, _ := ParseURLSource(mlflowRoutes.URL)
	if _, err := Open(context.Background(), spec, "", Options{}); !errors.Is(err, modelrt.ErrBadModel) || !strings.Contains(err.Error(), "signature") {
		t.Errorf("mlflow without a signature: %v", err)
	}
	// Neither protocol answers.
	spec, _ = ParseURLSource(mlflowRoutes.URL + "/nothing-here")
	spec.StartupTimeout = 200 * time.Millisecond
	if _, err := Open(context.Background(), spec, "", Options{}); !errors.Is(err, ErrNotReady) || !strings.Contains(err.Error(), "neither") {
		t.Errorf("no protocol: %v", err)
	}
}
