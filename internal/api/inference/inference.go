// Package inference serves predictions from the endpoints of the serving
// layer over the two protocols clients use: the Open Inference Protocol
// v2 REST API (KServe, Triton, Seldon MLServer) under /v2, and MLflow's
// scoring protocol at /endpoints/{name}/invocations. Errors are each
// protocol's own: {"error": ...} for OIP, {"error_code", "message"} for
// MLflow.
package inference

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	dec "github.com/ferry-ml/ferry/internal/inference"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/modelrt/remote"
	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/serving"
)

// HeaderModelVersion tells which version answered a request of an
// endpoint that splits traffic (canary, A/B).
const HeaderModelVersion = "Ferry-Model-Version"

// Output names of a prediction: the model's outputs (probabilities for
// classifiers) and its raw margins.
const (
	OutputPredict = "predict"
	OutputRaw     = "predict_raw"
)

// Server is the inference surface.
type Server struct {
	svc     *serving.Service
	log     *slog.Logger
	version string
	metrics *Metrics
	preds   PredictionLog
	traffic Traffic
}

// Traffic counts each endpoint's requests for monitoring
// (monitor.Traffic).
type Traffic interface {
	Observe(endpoint string, took time.Duration, failed bool)
}

// PredictionLog takes the predictions to log (predlog.Logger): Sample
// says whether to log one request, Admit the same for a request logged
// whatever the sample rate (only the rate bound applies), Log queues it
// without blocking.
type PredictionLog interface {
	Sample() bool
	Admit() bool
	Log(predlog.Record)
}

// Options are the surface's optional parts.
type Options struct {
	Logger *slog.Logger
	// Metrics, when set, counts requests for Prometheus.
	Metrics *Metrics
	// Predictions, when set, logs sampled requests (all of an A/B
	// split's, whose outcome test needs them).
	Predictions PredictionLog
	// Traffic, when set, counts requests for the monitored system series.
	Traffic Traffic
}

// New returns the surface; version is Ferry's, reported by GET /v2.
func New(svc *serving.Service, version string, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Server{svc: svc, log: o.Logger, version: version, metrics: o.Metrics, preds: o.Predictions, traffic: o.Traffic}
}

// Register mounts the routes. Predictions need Read permission: they
// change nothing (and are not audited).
func (s *Server) Register(r *middleware.Router) {
	oip := r.Group(middleware.Errors(s.oipError), middleware.Quiet())
	oip.HandleFunc("GET /v2", middleware.Read, s.serverMetadata)
	oip.HandleFunc("GET /v2/health/live", middleware.Public, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	oip.HandleFunc("GET /v2/health/ready", middleware.Public, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	})
	for _, prefix := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		oip.HandleFunc("GET "+prefix, middleware.Read, s.modelMetadata)
		oip.HandleFunc("GET "+prefix+"/ready", middleware.Read, s.modelReady)
		oip.HandleFunc("POST "+prefix+"/infer", middleware.Read, s.infer)
	}
	r.Namespace("/v2/", s.oipError)
	ml := r.Group(middleware.Errors(s.mlflowError), middleware.Quiet())
	ml.HandleFunc("POST /endpoints/{name}/invocations", middleware.Read, s.invocations)
	r.Namespace("/endpoints/", s.mlflowError)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// gatewayError is an external runtime's failure, answered as a gateway
// would: 502 with the runtime's message, 504 for a timeout.
type gatewayError struct {
	status int
	err    error
}

func (e *gatewayError) Error() string { return e.err.Error() }
func (e *gatewayError) Unwrap() error { return e.err }

// statusOf is the HTTP status of an error of this surface.
func statusOf(err error) int {
	var g *gatewayError
	if errors.As(err, &g) {
		return g.status
	}
	return middleware.StatusOf(err)
}

// oipError answers {"error": message} with the status of the error's kind.
func (s *Server) oipError(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	var g *gatewayError
	if status >= 500 && !errors.Is(err, errdefs.ErrUnavailable) && !errors.As(err, &g) {
		s.log.LogAttrs(r.Context(), slog.LevelError, "inference failed", slog.String("path", r.URL.Path),
			slog.String("request_id", middleware.RequestID(r.Context())), slog.String("error", msg))
		msg = middleware.InternalErrorMessage(r.Context())
	}
	if limit, ok := middleware.BodyTooLarge(err); ok {
		msg = "Request body exceeds the limit of " + strconv.FormatInt(limit, 10) + " bytes."
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

// mlflowError answers as MLflow's scoring server: 415 for a content type
// it does not take, else {"error_code", "message"}.
func (s *Server) mlflowError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, dec.ErrUnsupportedMedia) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusUnsupportedMediaType)
		_, _ = io.WriteString(w, err.Error())
		return
	}
	if errors.Is(err, errdefs.ErrInvalidArgument) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error_code": "BAD_REQUEST", "message": err.Error()})
		return
	}
	var g *gatewayError
	if errors.As(err, &g) {
		s.log.LogAttrs(r.Context(), slog.LevelError, "inference failed", slog.String("path", r.URL.Path),
			slog.String("request_id", middleware.RequestID(r.Context())), slog.String("error", err.Error()))
		writeJSON(w, g.status, map[string]string{"error_code": "TEMPORARILY_UNAVAILABLE", "message": err.Error()})
		return
	}
	middleware.WriteJSONError(w, r, err)
}

// endpoint finds the endpoint of a request and, when the path names a
// version, that version's variant (the stable or the candidate).
func (s *Server) endpoint(r *http.Request) (*serving.Endpoint, *serving.Variant, error) {
	e, err := s.svc.Endpoint(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, nil, err
	}
	v := r.PathValue("version")
	if v == "" {
		return e, nil, nil
	}
	for _, c := range []*serving.Variant{e.Stable, e.Candidate} {
		if c != nil && v == strconv.FormatInt(c.Version, 10) {
			return e, c, nil
		}
	}
	return nil, nil, errdefs.NotFound("Endpoint '%s' serves version %d, not %s", e.Endpoint, e.Version, v)
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"name": "ferry", "version": s.version, "extensions": []string{}})
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

func outputShape(sig modelrt.Signature) []int64 {
	if sig.Outputs == 1 {
		return []int64{-1}
	}
	return []int64{-1, int64(sig.Outputs)}
}

func (s *Server) modelMetadata(w http.ResponseWriter, r *http.Request) {
	e, v, err := s.endpoint(r)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	if v == nil {
		v = e.Stable
	}
	sig := v.Sig
	inputs := []tensorMeta{{Name: "input-0", Datatype: "FP64", Shape: []int64{-1, int64(len(sig.Inputs))}}}
	features := make([]map[string]string, len(sig.Inputs))
	for i, f := range sig.Inputs {
		name := f.Name
		if name == "" {
			name = "f" + strconv.Itoa(i)
		}
		features[i] = map[string]string{"name": name, "type": string(f.Type)}
	}
	versions := []string{strconv.FormatInt(e.Stable.Version, 10)}
	if e.Candidate != nil {
		versions = append(versions, strconv.FormatInt(e.Candidate.Version, 10))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":     e.Endpoint,
		"versions": versions,
		"platform": v.Flavor,
		"inputs":   inputs,
		"outputs": []tensorMeta{
			{Name: OutputPredict, Datatype: "FP64", Shape: outputShape(sig)},
			{Name: OutputRaw, Datatype: "FP64", Shape: outputShape(sig)},
		},
		"parameters": map[string]any{"model": v.Model, "model_version": v.Version, "task": sig.Task,
			"objective": sig.Objective, "features": features},
	})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	e, _, err := s.endpoint(r)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": e.Endpoint, "ready": true})
}

type oipOutput struct {
	Name     string    `json:"name"`
	Shape    []int64   `json:"shape"`
	Datatype string    `json:"datatype"`
	Data     []float64 `json:"data"`
}

// call is one prediction request on its way through an endpoint.
type call struct {
	start time.Time
	e     *serving.Endpoint
	v     *serving.Variant
	batch dec.Batch
	// pred holds the runtime's outputs once predicted (for the log and
	// the shadow).
	pred   []float64
	status int
}

// begin finds the endpoint, reads the body and decodes it for the
// variant that will answer: the path's version, a sticky key's, or a
// weighted draw. decode is called again only when a sticky field moves
// the request to a variant with other inputs.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, decode func(body []byte, v *serving.Variant) (dec.Batch, error)) (*call, error) {
	c := &call{start: time.Now(), status: http.StatusOK}
	e, v, err := s.endpoint(r)
	if err != nil {
		return nil, err
	}
	c.e = e
	if s.metrics != nil {
		s.metrics.begin(e.Endpoint)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return c, err
	}
	pinned := v != nil
	if !pinned {
		v = e.Route(r.Header)
	}
	c.v = v
	if e.Splits() {
		defer func() { w.Header().Set(HeaderModelVersion, strconv.FormatInt(c.v.Version, 10)) }()
	}
	sig := v.Sig
	if c.batch, err = decode(body, v); err != nil {
		return c, err
	}
	if f := e.StickyField(); f != "" && !pinned && c.batch.Rows > 0 {
		if i := v.FeatureIndex(f); i >= 0 {
			if w := e.RouteValue(c.batch.X[i]); w != v {
				c.v = w
				if !sameInputs(sig, w.Sig) {
					c.batch, err = decode(body, w)
				}
			}
		}
	}
	return c, err
}

func sameInputs(a, b modelrt.Signature) bool {
	if len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		if a.Inputs[i] != b.Inputs[i] {
			return false
		}
	}
	return true
}

// predict runs the variant's runtime into out; a model failure counts
// against the variant.
func (s *Server) predict(r *http.Request, c *call, out []float64, raw bool) error {
	if err := c.v.Predict(r.Context(), c.batch.X, c.batch.Rows, out, raw); err != nil {
		switch {
		case errors.Is(err, remote.ErrTimeout):
			return &gatewayError{http.StatusGatewayTimeout, err}
		case errors.Is(err, remote.ErrRuntime) && middleware.StatusOf(err) == http.StatusInternalServerError:
			return &gatewayError{http.StatusBadGateway, err}
		}
		return err
	}
	if err := serving.CheckFinite(out); err != nil {
		return err
	}
	if !raw && c.pred == nil {
		c.pred = out
	}
	return nil
}

// end records a finished call: Prometheus, the rollout's analysis
// window (for requests that reached the model), the shadow's mirror and
// the prediction log.
func (s *Server) end(r *http.Request, c *call, err error) {
	if c == nil {
		return
	}
	if err != nil {
		c.status = statusOf(err)
	}
	took := time.Since(c.start)
	if s.metrics != nil {
		s.metrics.end(c.e.Endpoint, c.v, c.status, took)
	}
	if s.traffic != nil {
		s.traffic.Observe(c.e.Endpoint, took, c.status >= 500)
	}
	if c.v == nil || (err != nil && c.status < 500) {
		return // never reached the model: the request's fault
	}
	sig := c.v.Sig
	if c.v.Window != nil {
		c.v.Window.Observe(took, err != nil, c.pred, sig.Outputs)
	}
	if err != nil || c.pred == nil {
		return
	}
	c.e.Mirror(c.v, c.batch.X, c.batch.Rows, c.pred, took)
	ab := c.e.Splits() && c.e.Rollout.Strategy == serving.StrategyAB
	if s.preds != nil && ((ab && s.preds.Admit()) || (!ab && s.preds.Sample())) {
		variant := ""
		if c.e.Splits() {
			variant = c.v.Role
		}
		s.preds.Log(predlog.Record{RequestID: middleware.RequestID(r.Context()), Endpoint: c.e.Endpoint,
			Model: c.v.Model, Version: c.v.Version, Variant: variant, Time: c.start.UnixMilli(),
			LatencyMicros: took.Microseconds(), Rows: c.batch.Rows, Features: len(sig.Inputs), Outputs: sig.Outputs,
			Inputs: c.batch.X, Predictions: c.pred, FeatureNames: featureNames(sig)})
	}
}

func featureNames(sig modelrt.Signature) []string {
	names := make([]string, len(sig.Inputs))
	for i, f := range sig.Inputs {
		names[i] = f.Name
		if names[i] == "" {
			names[i] = "f" + strconv.Itoa(i)
		}
	}
	return names
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	var req dec.OIPRequest
	c, err := s.begin(w, r, func(body []byte, v *serving.Variant) (dec.Batch, error) {
		var err error
		req, err = v.Schema.DecodeOIP(body)
		return req.Batch, err
	})
	defer func() { s.end(r, c, err) }()
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	sig := c.v.Sig
	want := req.Outputs
	if len(want) == 0 {
		want = []string{OutputPredict}
	}
	outs := make([]oipOutput, 0, len(want))
	for _, name := range want {
		if name != OutputPredict && name != OutputRaw {
			err = errdefs.InvalidArgument("Unknown output '%s': this model has %s and %s.", name, OutputPredict, OutputRaw)
			s.oipError(w, r, err)
			return
		}
		data := make([]float64, c.batch.Rows*sig.Outputs)
		if err = s.predict(r, c, data, name == OutputRaw); err != nil {
			s.oipError(w, r, err)
			return
		}
		shape := []int64{int64(c.batch.Rows)}
		if sig.Outputs > 1 {
			shape = append(shape, int64(sig.Outputs))
		}
		outs = append(outs, oipOutput{Name: name, Shape: shape, Datatype: "FP64", Data: data})
	}
	writeBody(w, appendInferResponse(make([]byte, 0, 256), c.e.Endpoint, c.v.Version, req.ID, outs))
}

// appendInferResponse encodes an inference response directly (the hot
// path: no maps, no reflection): {"model_name", "model_version", "id"?,
// "outputs": [{"name", "shape", "datatype", "data"}]}.
func appendInferResponse(b []byte, model string, version int64, id string, outs []oipOutput) []byte {
	b = append(b, `{"model_name":`...)
	b = appendString(b, model)
	b = append(b, `,"model_version":"`...)
	b = strconv.AppendInt(b, version, 10)
	b = append(b, '"')
	if id != "" {
		b = append(b, `,"id":`...)
		b = appendString(b, id)
	}
	b = append(b, `,"outputs":[`...)
	for i, o := range outs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, o.Name)
		b = append(b, `,"shape":[`...)
		for j, d := range o.Shape {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, d, 10)
		}
		b = append(b, `],"datatype":"FP64","data":[`...)
		for j, v := range o.Data {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // strings always encode
	return append(b, q...)
}

func writeBody(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// invocations answers MLflow's scoring protocol: {"predictions": ...} —
// the runtime's outputs (a Booster's probabilities; one list per row for
// several outputs), or class labels for a scikit-learn classifier.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	c, err := s.begin(w, r, func(body []byte, v *serving.Variant) (dec.Batch, error) {
		return v.Schema.DecodeMLflow(body, ct)
	})
	defer func() { s.end(r, c, err) }()
	if err != nil {
		s.mlflowError(w, r, err)
		return
	}
	sig := c.v.Sig
	out := make([]float64, c.batch.Rows*sig.Outputs)
	if err = s.predict(r, c, out, false); err != nil {
		s.mlflowError(w, r, err)
		return
	}
	if c.v.Labels != nil {
		labels := make([]float64, c.batch.Rows)
		if err = c.v.Labels(c.batch.X, c.batch.Rows, labels); err != nil {
			s.mlflowError(w, r, err)
			return
		}
		ints := make([]int64, len(labels))
		for i, l := range labels {
			ints[i] = int64(l)
		}
		writeJSON(w, http.StatusOK, map[string]any{"predictions": ints})
		return
	}
	if sig.Outputs == 1 {
		writeJSON(w, http.StatusOK, map[string]any{"predictions": out})
		return
	}
	rows := make([][]float64, c.batch.Rows)
	for i := range rows {
		rows[i] = out[i*sig.Outputs : (i+1)*sig.Outputs]
	}
	writeJSON(w, http.StatusOK, map[string]any{"predictions": rows})
}
