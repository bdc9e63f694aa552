// Package v1 is Ferry's native HTTP API under /api/v1: what MLflow's API
// has no words for — lineage, approvals, policy gates, model cards and the
// audit trail. Requests and responses are JSON (model cards also Markdown
// and HTML); errors are {"error_code", "message"} with the same codes as
// the MLflow surface.
package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/governance"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/modelcard"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/pipeline"
	"github.com/ferry-ml/ferry/internal/policy"
	"github.com/ferry-ml/ferry/internal/registry"
	"github.com/ferry-ml/ferry/internal/serving"
)

// AuditTrail is what the API reads of the audit log (audit.Log).
type AuditTrail interface {
	List(ctx context.Context, q audit.Query) ([]audit.Record, error)
	Verify(ctx context.Context) (audit.Report, error)
}

// Server is the /api/v1 surface.
type Server struct {
	reg           *registry.Service
	gov           *governance.Service
	lineage       *lineage.Graph
	audit         AuditTrail
	serving       *serving.Service
	predictions   Predictions
	datasets      *dataset.Versions
	pipelines     *pipeline.Queue
	scheduler     *pipeline.Scheduler
	monitor       monitor.Store
	refs          monitor.References
	driftSettings monitor.SettingsStore
	performance   Performance
	reports       Reports
	alerts        Alerts
	log           *slog.Logger
}

// Options are the services behind the surface. Audit, Serving and
// Predictions may be nil: their routes then answer 503.
type Options struct {
	Registry    *registry.Service
	Governance  *governance.Service
	Lineage     *lineage.Graph
	Audit       AuditTrail
	Serving     *serving.Service
	Predictions Predictions
	Datasets    *dataset.Versions
	Pipelines   *pipeline.Queue
	Scheduler   *pipeline.Scheduler
	Monitor     monitor.Store
	References  monitor.References
	// DriftSettings keeps the endpoints' drift settings; nil answers 503.
	DriftSettings monitor.SettingsStore
	Performance   Performance
	Reports       Reports
	Alerts        Alerts
	Logger        *slog.Logger
}

// New returns the surface.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Server{reg: o.Registry, gov: o.Governance, lineage: o.Lineage, audit: o.Audit,
		serving: o.Serving, predictions: o.Predictions, datasets: o.Datasets,
		pipelines: o.Pipelines, scheduler: o.Scheduler, monitor: o.Monitor, refs: o.References, driftSettings: o.DriftSettings, alerts: o.Alerts,
		reports: o.Reports, performance: o.Performance, log: o.Logger}
}

// policyBodyLimit bounds a policy document.
const policyBodyLimit = 1 << 20

// Register mounts the routes on r.
func (s *Server) Register(r *middleware.Router) {
	g := r.Group(middleware.Errors(s.writeError))
	const v = "/api/v1"
	g.HandleFunc("GET "+v+"/lineage", middleware.Read, s.api(s.getLineage))
	g.HandleFunc("GET "+v+"/models/{name}/versions/{version}", middleware.Read, s.api(s.getVersion))
	g.HandleFunc("GET "+v+"/models/{name}/versions/{version}/reviews", middleware.Read, s.api(s.getReviews))
	g.HandleFunc("POST "+v+"/models/{name}/versions/{version}/approve", middleware.Write, s.api(s.review(registry.ApprovalApproved)))
	g.HandleFunc("POST "+v+"/models/{name}/versions/{version}/reject", middleware.Write, s.api(s.review(registry.ApprovalRejected)))
	g.HandleFunc("GET "+v+"/models/{name}/versions/{version}/card", middleware.Read, s.getCard)
	g.HandleFunc("GET "+v+"/models/{name}/policy", middleware.Read, s.api(s.getModelPolicy))
	g.HandleFunc("PUT "+v+"/models/{name}/policy", middleware.Admin, s.api(s.putModelPolicy), middleware.BodyLimit(policyBodyLimit))
	g.HandleFunc("DELETE "+v+"/models/{name}/policy", middleware.Admin, s.api(s.deleteModelPolicy))
	g.HandleFunc("POST "+v+"/policy/check", middleware.Read, s.api(s.checkPolicy))
	g.HandleFunc("GET "+v+"/policy", middleware.Read, s.api(s.getPolicy))
	g.HandleFunc("POST "+v+"/policy/reload", middleware.Admin, s.api(s.reloadPolicy))
	g.HandleFunc("GET "+v+"/audit/events", middleware.Read, s.api(s.listAudit))
	g.HandleFunc("GET "+v+"/audit/verify", middleware.Read, s.api(s.verifyAudit))
	g.HandleFunc("GET "+v+"/endpoints", middleware.Read, s.api(s.listEndpoints))
	g.HandleFunc("POST "+v+"/endpoints", middleware.Write, s.api(s.deploy))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}", middleware.Read, s.api(s.getEndpoint))
	g.HandleFunc("DELETE "+v+"/endpoints/{endpoint}", middleware.Write, s.api(s.undeploy))
	g.HandleFunc("POST "+v+"/endpoints/{endpoint}/promote", middleware.Write, s.api(s.endpointChange((*serving.Service).Promote)))
	g.HandleFunc("POST "+v+"/endpoints/{endpoint}/rollback", middleware.Write, s.api(s.endpointChange((*serving.Service).Rollback)))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/history", middleware.Read, s.api(s.endpointHistory))
	g.HandleFunc("POST "+v+"/endpoints/{endpoint}/feedback", middleware.Write, s.api(s.postFeedback), middleware.BodyLimit(feedbackBodyLimit))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/predictions", middleware.Read, s.api(s.listPredictions))
	g.HandleFunc("GET "+v+"/datasets", middleware.Read, s.api(s.listDatasets))
	g.HandleFunc("GET "+v+"/datasets/{name}", middleware.Read, s.api(s.listDatasetVersions))
	g.HandleFunc("GET "+v+"/datasets/{name}/versions/{version}", middleware.Read, s.api(s.getDatasetVersion))
	g.HandleFunc("POST "+v+"/datasets/{name}/versions", middleware.Write, s.api(s.addDatasetVersion), middleware.BodyLimit(datasetBodyLimit))
	g.HandleFunc("POST "+v+"/pipelines", middleware.Write, s.api(s.registerPipeline), middleware.BodyLimit(4<<20))
	g.HandleFunc("GET "+v+"/pipelines", middleware.Read, s.api(s.listPipelines))
	g.HandleFunc("DELETE "+v+"/pipelines/{name}", middleware.Write, s.api(s.unregisterPipeline))
	g.HandleFunc("POST "+v+"/pipelines/runs", middleware.Write, s.api(s.submitPipeline), middleware.BodyLimit(4<<20))
	g.HandleFunc("GET "+v+"/pipelines/runs", middleware.Read, s.api(s.listPipelineRuns))
	g.HandleFunc("GET "+v+"/pipelines/runs/{id}", middleware.Read, s.api(s.getPipelineRun))
	g.HandleFunc("GET "+v+"/pipelines/runs/{id}/steps/{step}/log", middleware.Read, s.getStepLog)
	g.HandleFunc("POST "+v+"/pipelines/claim", middleware.Write, s.api(s.claimStep))
	g.HandleFunc("POST "+v+"/pipelines/runs/{id}/steps/{step}/heartbeat", middleware.Write, s.api(s.heartbeatStep))
	g.HandleFunc("POST "+v+"/pipelines/runs/{id}/steps/{step}/finish", middleware.Write, s.api(s.finishStep), middleware.BodyLimit(8<<20))
	g.HandleFunc("GET "+v+"/monitor/series", middleware.Read, s.api(s.querySeries))
	g.HandleFunc("PUT "+v+"/endpoints/{endpoint}/reference", middleware.Write, s.api(s.setReference))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/reference", middleware.Read, s.api(s.getReference))
	g.HandleFunc("PUT "+v+"/endpoints/{endpoint}/monitor", middleware.Write, s.api(s.putDriftSettings))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/monitor", middleware.Read, s.api(s.getDriftSettings))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/performance", middleware.Read, s.api(s.getPerformance))
	g.HandleFunc("GET "+v+"/endpoints/{endpoint}/monitor/report", middleware.Read, s.getReport)
	g.HandleFunc("GET "+v+"/alerts", middleware.Read, s.api(s.listAlerts))
	g.HandleFunc("GET "+v+"/alerts/rules", middleware.Read, s.api(s.listAlertRules))
	g.HandleFunc("PUT "+v+"/alerts/rules", middleware.Admin, s.api(s.putAlertRules), middleware.BodyLimit(rulesBodyLimit))
	g.HandleFunc("DELETE "+v+"/alerts/rules", middleware.Admin, s.api(s.deleteAlertRules))
	g.HandleFunc("GET "+v+"/alerts/history", middleware.Read, s.api(s.alertHistory))
	g.HandleFunc("GET "+v+"/alerts/silences", middleware.Read, s.api(s.listSilences))
	g.HandleFunc("POST "+v+"/alerts/silences", middleware.Write, s.api(s.postSilence))
	g.HandleFunc("DELETE "+v+"/alerts/silences/{id}", middleware.Write, s.api(s.deleteSilence))
	r.Namespace(v+"/", s.writeError)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if middleware.StatusOf(err) >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("path", r.URL.Path), slog.String("request_id", middleware.RequestID(r.Context())),
			slog.String("error", err.Error()))
	}
	middleware.WriteJSONError(w, r, err)
}

// jsonHandler computes a route's JSON answer; api writes it with 200, or
// the error in the surface's format.
type jsonHandler func(r *http.Request) (any, error)

func (s *Server) api(h jsonHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := h(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode reads a JSON body into v; unknown fields are errors, so a typo
// in a field name is not silently ignored.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // an empty body means defaults
		}
		if _, ok := middleware.BodyTooLarge(err); ok {
			return err
		}
		return errdefs.InvalidArgument("Malformed JSON body: %v", err)
	}
	if dec.More() {
		return errdefs.InvalidArgument("Malformed JSON body: trailing data after the object")
	}
	return nil
}

// ---- lineage

func (s *Server) getLineage(r *http.Request) (any, error) {
	q := r.URL.Query()
	uri := q.Get("uri")
	if uri == "" {
		return nil, errdefs.InvalidArgument("Missing value for required parameter 'uri'.")
	}
	depth := 0
	if d := q.Get("depth"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'depth': a positive integer is expected.", d)
		}
		depth = n
	}
	return s.lineage.Walk(r.Context(), uri, depth)
}

// ---- versions and reviews

// versionJSON is a model version in the native API: MLflow's fields plus
// the approval state.
type versionJSON struct {
	registry.ModelVersion
	URI string `json:"uri"`
}

func toVersionJSON(mv registry.ModelVersion) versionJSON {
	return versionJSON{ModelVersion: mv, URI: registry.VersionURI(mv.Name, mv.Version)}
}

// version resolves {name}/{version}; the version may also be an alias
// (@champion) or a stage or "latest", as in models:/ URIs.
func (s *Server) version(r *http.Request) (registry.ModelVersion, error) {
	name, v := r.PathValue("name"), r.PathValue("version")
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return s.reg.GetModelVersion(r.Context(), name, v)
	}
	uri := "models:/" + name + "/" + v
	if strings.HasPrefix(v, "@") {
		uri = "models:/" + name + v
	}
	return s.reg.Resolve(r.Context(), uri)
}

func (s *Server) getVersion(r *http.Request) (any, error) {
	mv, err := s.version(r)
	if err != nil {
		return nil, err
	}
	return map[string]any{"model_version": toVersionJSON(mv)}, nil
}

func (s *Server) getReviews(r *http.Request) (any, error) {
	mv, err := s.version(r)
	if err != nil {
		return nil, err
	}
	reviews, err := s.reg.Reviews(r.Context(), mv.Name, registry.VersionString(mv.Version))
	if err != nil {
		return nil, err
	}
	if reviews == nil {
		reviews = []registry.Review{}
	}
	return map[string]any{"approval": mv.Approval, "reviews": reviews}, nil
}

func (s *Server) review(decision registry.ApprovalStatus) jsonHandler {
	return func(r *http.Request) (any, error) {
		var body struct {
			Comment string `json:"comment"`
		}
		if err := decode(r, &body); err != nil {
			return nil, err
		}
		mv, err := s.version(r)
		if err != nil {
			return nil, err
		}
		if mv, err = s.reg.Review(r.Context(), mv.Name, registry.VersionString(mv.Version), decision, body.Comment); err != nil {
			return nil, err
		}
		return map[string]any{"model_version": toVersionJSON(mv)}, nil
	}
}

// ---- model cards

// cardFormat picks the card's format from ?format= or the Accept header.
func cardFormat(r *http.Request) (string, error) {
	switch f := strings.ToLower(r.URL.Query().Get("format")); f {
	case "json", "md", "markdown", "html":
		if f == "markdown" {
			f = "md"
		}
		return f, nil
	case "":
	default:
		return "", errdefs.InvalidArgument("Invalid card format '%s': use json, md or html.", f)
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "text/html":
			return "html", nil
		case "text/markdown":
			return "md", nil
		case "application/json":
			return "json", nil
		}
	}
	return "json", nil
}

func (s *Server) getCard(w http.ResponseWriter, r *http.Request) {
	format, err := cardFormat(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	mv, err := s.version(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	card, err := s.gov.Card(r.Context(), mv.Name, registry.VersionString(mv.Version))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body []byte
	ctype := "application/json"
	switch format {
	case "json":
		body, err = modelcard.JSON(card)
	case "md":
		body, ctype = modelcard.Markdown(card), "text/markdown; charset=utf-8"
	case "html":
		body, err = modelcard.HTML(card)
		ctype = "text/html; charset=utf-8"
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == "html" {
		// The card is a static document: no scripts, no outside resources.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	_, _ = w.Write(body)
}

// ---- policies

func (s *Server) getModelPolicy(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if _, err := s.reg.GetRegisteredModel(r.Context(), name); err != nil {
		return nil, err
	}
	doc, err := s.gov.ModelPolicy(r.Context(), name)
	if err != nil {
		return nil, err
	}
	return map[string]any{"name": name, "policy": doc}, nil
}

// yamlDocument reads a YAML document sent as the body (any text type) or
// as JSON {"FIELD": "..."}.
func yamlDocument(r *http.Request, field, what string) (string, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return string(raw), nil
	}
	var body map[string]*string
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&body); err != nil || len(body) != 1 || body[field] == nil {
		return "", errdefs.InvalidArgument("Expected {\"%s\": \"<%s>\"} or a YAML body.", field, what)
	}
	return *body[field], nil
}

// putModelPolicy takes the YAML document as the body (any text type) or
// as {"policy": "..."} JSON.
func (s *Server) putModelPolicy(r *http.Request) (any, error) {
	doc, err := yamlDocument(r, "policy", "YAML document")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(doc) == "" {
		return nil, errdefs.InvalidArgument("Empty policy document: use DELETE to remove a model's policy.")
	}
	name := r.PathValue("name")
	if err := s.gov.SetModelPolicy(r.Context(), name, doc); err != nil {
		return nil, err
	}
	return map[string]any{"name": name, "policy": doc}, nil
}

func (s *Server) deleteModelPolicy(r *http.Request) (any, error) {
	return struct{}{}, s.gov.SetModelPolicy(r.Context(), r.PathValue("name"), "")
}

func (s *Server) getPolicy(*http.Request) (any, error) {
	file, doc := s.gov.GlobalPolicy()
	out := map[string]any{"file": file, "loaded": doc != nil}
	if doc != nil {
		names := make([]string, len(doc.Gates))
		for i, g := range doc.Gates {
			names[i] = g.Name
		}
		out["gates"] = names
	}
	return out, nil
}

func (s *Server) reloadPolicy(r *http.Request) (any, error) {
	if err := s.gov.ReloadPolicy(r.Context()); err != nil {
		return nil, err
	}
	return s.getPolicy(r)
}

// checkRequest asks whether a version may move: exactly one of alias,
// stage and deploy.
type checkRequest struct {
	URI    string `json:"uri"`
	Alias  string `json:"alias"`
	Stage  string `json:"stage"`
	Deploy *bool  `json:"deploy"`
	// Endpoint names the deployment when deploy is true.
	Endpoint string `json:"endpoint"`
}

// CheckResponse is a policy verdict with each rule and a readable
// explanation.
type CheckResponse struct {
	Model       string           `json:"model"`
	Version     int64            `json:"version"`
	Target      TargetJSON       `json:"target"`
	Allowed     bool             `json:"allowed"`
	Note        string           `json:"note,omitempty"`
	Gates       []GateResultJSON `json:"gates"`
	Rules       []RuleResultJSON `json:"rules"`
	Explanation string           `json:"explanation"`
}

// TargetJSON is a move: kind alias, stage or deploy, and its name.
type TargetJSON struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
}

// GateResultJSON is one applicable gate's verdict.
type GateResultJSON struct {
	Gate   string `json:"gate"`
	Source string `json:"source"`
	Passed bool   `json:"passed"`
}

// RuleResultJSON is one rule's verdict.
type RuleResultJSON struct {
	Gate   string `json:"gate"`
	Source string `json:"source"`
	Rule   string `json:"rule"`
	Passed bool   `json:"passed"`
	Detail string `json:"detail,omitempty"`
}

func toCheckResponse(res policy.Result) CheckResponse {
	out := CheckResponse{Model: res.Model, Version: res.Version, Target: TargetJSON{Kind: res.Target.Kind, Name: res.Target.Name},
		Allowed: res.Allowed, Note: res.Note, Gates: []GateResultJSON{}, Rules: []RuleResultJSON{}, Explanation: policy.Explain(res)}
	for _, g := range res.Gates {
		out.Gates = append(out.Gates, GateResultJSON{Gate: g.Gate, Source: g.Source, Passed: g.Passed})
	}
	for _, r := range res.Rules {
		out.Rules = append(out.Rules, RuleResultJSON{Gate: r.Gate, Source: r.Source, Rule: r.Rule, Passed: r.Passed, Detail: r.Detail})
	}
	return out
}

func (s *Server) checkPolicy(r *http.Request) (any, error) {
	var req checkRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.URI == "" {
		return nil, errdefs.InvalidArgument("Missing value for required parameter 'uri'.")
	}
	var t registry.Target
	n := 0
	if req.Alias != "" {
		t, n = registry.Target{Kind: registry.TargetAlias, Name: req.Alias}, n+1
	}
	if req.Stage != "" {
		st, err := registry.CanonicalStage(req.Stage)
		if err != nil {
			return nil, err
		}
		t, n = registry.Target{Kind: registry.TargetStage, Name: st}, n+1
	}
	if req.Deploy != nil && *req.Deploy {
		t, n = registry.Target{Kind: registry.TargetDeploy, Name: req.Endpoint}, n+1
	}
	if n != 1 {
		return nil, errdefs.InvalidArgument("Give exactly one of 'alias', 'stage' or 'deploy'.")
	}
	mv, err := s.reg.Resolve(r.Context(), req.URI)
	if err != nil {
		return nil, err
	}
	res, err := s.gov.Check(r.Context(), mv, t)
	if err != nil {
		return nil, err
	}
	return toCheckResponse(res), nil
}

// ---- audit trail

func (s *Server) listAudit(r *http.Request) (any, error) {
	if s.audit == nil {
		return nil, errNoAudit
	}
	q, err := audit.ParseQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	recs, err := s.audit.List(r.Context(), q)
	if err != nil {
		return nil, err
	}
	if recs == nil {
		recs = []audit.Record{}
	}
	return map[string]any{"events": recs}, nil
}

func (s *Server) verifyAudit(r *http.Request) (any, error) {
	if s.audit == nil {
		return nil, errNoAudit
	}
	return s.audit.Verify(r.Context())
}

var errNoAudit = errdefs.Unavailable("This server keeps no audit trail.")
