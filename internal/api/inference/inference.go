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
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	dec "github.com/ferry-ml/ferry/internal/inference"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/serving"
)

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
}

// New returns the surface; version is Ferry's, reported by GET /v2.
func New(svc *serving.Service, version string, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	return &Server{svc: svc, log: log, version: version}
}

// Register mounts the routes. Predictions need Read permission: they
// change nothing (and are not audited).
func (s *Server) Register(r *middleware.Router) {
	oip := r.Group(middleware.Errors(s.oipError))
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
	ml := r.Group(middleware.Errors(s.mlflowError))
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

// oipError answers {"error": message} with the status of the error's kind.
func (s *Server) oipError(w http.ResponseWriter, r *http.Request, err error) {
	status := middleware.StatusOf(err)
	msg := err.Error()
	if status >= 500 && !errors.Is(err, errdefs.ErrUnavailable) {
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
	middleware.WriteJSONError(w, r, err)
}

// endpoint finds the endpoint of a request, checking the version when
// the path names one.
func (s *Server) endpoint(r *http.Request) (*serving.Endpoint, error) {
	e, err := s.svc.Endpoint(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if v := r.PathValue("version"); v != "" && v != strconv.FormatInt(e.Version, 10) {
		return nil, errdefs.NotFound("Endpoint '%s' serves version %d, not %s", e.Endpoint, e.Version, v)
	}
	return e, nil
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
	e, err := s.endpoint(r)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	sig := e.Runtime.Signature()
	inputs := []tensorMeta{{Name: "input-0", Datatype: "FP64", Shape: []int64{-1, int64(len(sig.Inputs))}}}
	features := make([]map[string]string, len(sig.Inputs))
	for i, f := range sig.Inputs {
		name := f.Name
		if name == "" {
			name = "f" + strconv.Itoa(i)
		}
		features[i] = map[string]string{"name": name, "type": string(f.Type)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":     e.Endpoint,
		"versions": []string{strconv.FormatInt(e.Version, 10)},
		"platform": e.Flavor,
		"inputs":   inputs,
		"outputs": []tensorMeta{
			{Name: OutputPredict, Datatype: "FP64", Shape: outputShape(sig)},
			{Name: OutputRaw, Datatype: "FP64", Shape: outputShape(sig)},
		},
		"parameters": map[string]any{"model": e.Model, "model_version": e.Version, "task": sig.Task,
			"objective": sig.Objective, "features": features},
	})
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	e, err := s.endpoint(r)
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

func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	e, err := s.endpoint(r)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	sig := e.Runtime.Signature()
	req, err := dec.DecodeOIP(body, sig)
	if err != nil {
		s.oipError(w, r, err)
		return
	}
	want := req.Outputs
	if len(want) == 0 {
		want = []string{OutputPredict}
	}
	var outs []oipOutput
	for _, name := range want {
		if name != OutputPredict && name != OutputRaw {
			s.oipError(w, r, errdefs.InvalidArgument("Unknown output '%s': this model has %s and %s.", name, OutputPredict, OutputRaw))
			return
		}
		data := make([]float64, req.Batch.Rows*sig.Outputs)
		if err := e.Runtime.Predict(req.Batch.X, req.Batch.Rows, data, name == OutputRaw); err != nil {
			s.oipError(w, r, err)
			return
		}
		shape := []int64{int64(req.Batch.Rows)}
		if sig.Outputs > 1 {
			shape = append(shape, int64(sig.Outputs))
		}
		if err := checkFinite(data); err != nil {
			s.oipError(w, r, err)
			return
		}
		outs = append(outs, oipOutput{Name: name, Shape: shape, Datatype: "FP64", Data: data})
	}
	writeBody(w, appendInferResponse(make([]byte, 0, 256), e.Endpoint, e.Version, req.ID, outs))
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

// checkFinite refuses outputs JSON cannot carry (an exp that
// overflowed): they are reported, never replaced by a made-up value.
func checkFinite(v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("the model's output %d is %v, which JSON cannot carry", i, x)
		}
	}
	return nil
}

// invocations answers MLflow's scoring protocol: {"predictions": ...} —
// the runtime's outputs (a Booster's probabilities; one list per row for
// several outputs), or class labels for a scikit-learn classifier.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request) {
	e, err := s.endpoint(r)
	if err != nil {
		s.mlflowError(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.mlflowError(w, r, err)
		return
	}
	sig := e.Runtime.Signature()
	b, err := dec.DecodeMLflow(body, r.Header.Get("Content-Type"), sig)
	if err != nil {
		s.mlflowError(w, r, err)
		return
	}
	if e.Labels != nil {
		labels := make([]float64, b.Rows)
		if err := e.Labels(b.X, b.Rows, labels); err != nil {
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
	out := make([]float64, b.Rows*sig.Outputs)
	if err := e.Runtime.Predict(b.X, b.Rows, out, false); err != nil {
		s.mlflowError(w, r, err)
		return
	}
	if err := checkFinite(out); err != nil {
		s.mlflowError(w, r, err)
		return
	}
	if sig.Outputs == 1 {
		writeJSON(w, http.StatusOK, map[string]any{"predictions": out})
		return
	}
	rows := make([][]float64, b.Rows)
	for i := range rows {
		rows[i] = out[i*sig.Outputs : (i+1)*sig.Outputs]
	}
	writeJSON(w, http.StatusOK, map[string]any{"predictions": rows})
}
