// Package mlflow serves Ferry's tracking domain over MLflow's REST API 2.0,
// so that unmodified MLflow clients (Python, the npm package, the UI's
// ajax calls) can use Ferry as their tracking server: experiments, runs and
// what they log, metric histories, the artifact proxy
// (/api/2.0/mlflow-artifacts) and, when Options.Registry is set, the model
// registry (registry.go). Every route is mounted under /api/2.0 and
// under /ajax-api/2.0, as MLflow does.
//
// The wire format follows mlflow/server/handlers.py and the protos: requests
// are read as _get_request_message reads them (query parameters for a GET,
// else a JSON body with Content-Type application/json; unknown fields
// ignored; numeric experiment ids and numeric strings accepted), responses
// are written as message_to_json writes them, and errors are
// {"error_code", "message"} with MLflow's codes, statuses and messages.
// Deliberate deviations are listed in DEVIATIONS.md next to this file.
package mlflow

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// MLflowVersion is the MLflow release whose REST API this package speaks;
// /version reports it unless Options.Version says otherwise.
const MLflowVersion = "2.22.0"

// Options configures the MLflow surface. Zero values take the defaults.
type Options struct {
	// Version is the text of GET /version. Default: MLflowVersion.
	Version string
	// Logger receives unexpected errors. Default: slog.Default().
	Logger *slog.Logger
	// MaxBodyBytes limits JSON request bodies. Default: 1 MiB. runs/log-batch
	// is always limited to MLflow's 1,000,000 bytes; log-inputs and log-model
	// (dataset profiles, model signatures) get at least 32 MiB; artifact
	// uploads are never limited.
	MaxBodyBytes int64
	// Registry serves MLflow's model registry (registered-models/*,
	// model-versions/*, /model-versions/get-artifact). Nil: those routes
	// are not registered and answer ENDPOINT_NOT_FOUND.
	Registry *registry.Service
}

// Server is the MLflow REST surface over a tracking service and an
// artifact store.
type Server struct {
	svc       *tracking.Service
	reg       *registry.Service // nil: no model registry routes
	artifacts blob.Store        // nil: the artifact proxy answers 503, as MLflow without --serve-artifacts
	logger    *slog.Logger
	version   string
	maxBody   int64
}

// New returns the MLflow surface. artifacts may be nil when the server does
// not proxy artifacts.
func New(svc *tracking.Service, artifacts blob.Store, opts Options) *Server {
	s := &Server{svc: svc, reg: opts.Registry, artifacts: artifacts, logger: opts.Logger, version: opts.Version, maxBody: opts.MaxBodyBytes}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.version == "" {
		s.version = MLflowVersion
	}
	if s.maxBody <= 0 {
		s.maxBody = middleware.DefaultMaxBodyBytes
	}
	return s
}

// largeBody is the limit of endpoints that carry big documents.
const largeBody = 32 << 20

// Register mounts every MLflow route on r and claims the /api/2.0/,
// /ajax-api/2.0/ and /api/v1/ namespaces, so that unknown endpoints there
// answer a JSON 404 (ENDPOINT_NOT_FOUND) instead of reaching a catch-all.
func (s *Server) Register(r *middleware.Router) {
	g := r.Group(middleware.Errors(s.writeError), middleware.BodyLimit(s.maxBody))
	big := middleware.BodyLimit(max(s.maxBody, largeBody))

	read, write := middleware.Read, middleware.Write
	eps := []endpoint{
		{"POST", "/mlflow/experiments/create", write, s.createExperiment, nil},
		{"GET", "/mlflow/experiments/get", read, s.getExperiment, nil},
		{"GET", "/mlflow/experiments/get-by-name", read, s.getExperimentByName, nil},
		{"POST", "/mlflow/experiments/search", read, s.searchExperiments, nil},
		{"GET", "/mlflow/experiments/search", read, s.searchExperiments, nil},
		{"POST", "/mlflow/experiments/update", write, s.updateExperiment, nil},
		{"POST", "/mlflow/experiments/delete", write, s.deleteExperiment, nil},
		{"POST", "/mlflow/experiments/restore", write, s.restoreExperiment, nil},
		{"POST", "/mlflow/experiments/set-experiment-tag", write, s.setExperimentTag, nil},

		{"POST", "/mlflow/runs/create", write, s.createRun, nil},
		{"GET", "/mlflow/runs/get", read, s.getRun, nil},
		{"POST", "/mlflow/runs/update", write, s.updateRun, nil},
		{"POST", "/mlflow/runs/delete", write, s.deleteRun, nil},
		{"POST", "/mlflow/runs/restore", write, s.restoreRun, nil},
		{"POST", "/mlflow/runs/log-metric", write, s.logMetric, nil},
		{"POST", "/mlflow/runs/log-parameter", write, s.logParam, nil},
		{"POST", "/mlflow/runs/set-tag", write, s.setTag, nil},
		{"POST", "/mlflow/runs/delete-tag", write, s.deleteTag, nil},
		{"POST", "/mlflow/runs/log-batch", write, s.logBatch, []middleware.RouteOption{
			middleware.BodyLimit(tracking.MaxBatchRequestBytes), middleware.Errors(s.writeBatchError)}},
		{"POST", "/mlflow/runs/log-model", write, s.logModel, []middleware.RouteOption{big}},
		{"POST", "/mlflow/runs/log-inputs", write, s.logInputs, []middleware.RouteOption{big}},
		{"POST", "/mlflow/runs/search", read, s.searchRuns, nil},
		{"GET", "/mlflow/metrics/get-history", read, s.getMetricHistory, nil},
		{"GET", "/mlflow/metrics/get-history-bulk-interval", read, s.getMetricHistoryBulkInterval, nil},
		{"GET", "/mlflow/artifacts/list", read, s.listRunArtifacts, nil},

		{"GET", "/mlflow-artifacts/artifacts", read, s.listArtifacts, nil},
		{"DELETE", "/mlflow-artifacts/artifacts/{path...}", write, s.deleteArtifact, nil},
		{"POST", "/mlflow-artifacts/mpu/create/{path...}", write, s.multipartUnsupported, nil},
		{"POST", "/mlflow-artifacts/mpu/complete/{path...}", write, s.multipartUnsupported, nil},
		{"POST", "/mlflow-artifacts/mpu/abort/{path...}", write, s.multipartUnsupported, nil},
	}
	if s.reg != nil {
		eps = append(eps, s.registryEndpoints()...)
		// The UI's download of a version's files: only at the root, as in
		// MLflow (no /api or /ajax-api variant).
		g.HandleFunc("GET /model-versions/get-artifact", read, s.getModelVersionArtifact)
	}
	for _, prefix := range []string{"/api/2.0", "/ajax-api/2.0"} {
		for _, e := range eps {
			g.Handle(e.method+" "+prefix+e.path, e.perm, s.api(e.h), e.opts...)
		}
		// Artifact bodies stream: no JSON decoding, no size limit.
		g.HandleFunc("GET "+prefix+"/mlflow-artifacts/artifacts/{path...}", read, s.downloadArtifact)
		g.HandleFunc("PUT "+prefix+"/mlflow-artifacts/artifacts/{path...}", write, s.uploadArtifact,
			middleware.BodyLimit(-1))
		r.Namespace(prefix+"/", s.writeError)
	}
	r.Namespace("/api/v1/", middleware.WriteJSONError)

	g.HandleFunc("GET /health", middleware.Public, s.health)
	g.HandleFunc("GET /version", middleware.Public, s.versionHandler)
}

// endpoint is one JSON route, registered under every API prefix.
type endpoint struct {
	method string
	path   string
	perm   middleware.Permission
	h      apiFunc
	opts   []middleware.RouteOption
}

// apiFunc handles one decoded request and appends its JSON answer to out;
// an empty answer is sent as {}.
type apiFunc func(w http.ResponseWriter, r *http.Request, q *request, out []byte) ([]byte, error)

func (s *Server) api(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := decodeRequest(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer q.release()
		bp := getBuf()
		defer putBuf(bp)
		out, err := fn(w, r, q, (*bp)[:0])
		*bp = out
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(out) == 0 {
			out = append(out, '{', '}')
			*bp = out
		}
		writeJSON(w, out)
	}
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "OK")
}

func (s *Server) versionHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, s.version)
}
