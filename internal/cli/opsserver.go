package cli

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/pipeline/ops"
)

// opsServer gives pipeline operations the server they record in: runs,
// artifacts, the registry and endpoints, over the MLflow and /api/v1 APIs.
type opsServer struct{ c *client }

var _ ops.Server = opsServer{}

func (s opsServer) experimentID(ctx context.Context, name string) (string, error) {
	e, err := s.c.getExperimentByName(ctx, name)
	if err == nil {
		return e.ExperimentID, nil
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		return "", err
	}
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	if err := s.c.call(ctx, "POST", "experiments/create", nil, map[string]string{"name": name}, &out); err != nil {
		if e, gerr := s.c.getExperimentByName(ctx, name); gerr == nil { // created meanwhile
			return e.ExperimentID, nil
		}
		return "", err
	}
	return out.ExperimentID, nil
}

func (s opsServer) CreateRun(ctx context.Context, experiment, name, parent string) (string, error) {
	id, err := s.experimentID(ctx, experiment)
	if err != nil {
		return "", err
	}
	body := map[string]any{"experiment_id": id, "run_name": name, "start_time": time.Now().UnixMilli()}
	if parent != "" {
		body["tags"] = []map[string]string{{"key": "mlflow.parentRunId", "value": parent}}
	}
	var out struct {
		Run struct {
			Info struct {
				RunID string `json:"run_id"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := s.c.call(ctx, "POST", "runs/create", nil, body, &out); err != nil {
		return "", err
	}
	return out.Run.Info.RunID, nil
}

func (s opsServer) LogRun(ctx context.Context, runID string, params map[string]string, metrics map[string]float64) error {
	now := time.Now().UnixMilli()
	var ps, ms []map[string]any
	for k, v := range params {
		ps = append(ps, map[string]any{"key": k, "value": v})
	}
	for k, v := range metrics {
		ms = append(ms, map[string]any{"key": k, "value": v, "timestamp": now, "step": 0})
	}
	return s.c.call(ctx, "POST", "runs/log-batch", nil, map[string]any{"run_id": runID, "params": ps, "metrics": ms}, nil)
}

func (s opsServer) EndRun(ctx context.Context, runID string, failed bool) error {
	status := "FINISHED"
	if failed {
		status = "FAILED"
	}
	return s.c.call(ctx, "POST", "runs/update", nil, map[string]any{"run_id": runID, "status": status, "end_time": time.Now().UnixMilli()}, nil)
}

func (s opsServer) UploadArtifact(ctx context.Context, runID, path string, data []byte) (string, error) {
	r, err := s.c.getRun(ctx, runID)
	if err != nil {
		return "", err
	}
	loc := strings.TrimRight(r.Info.ArtifactURI, "/") + "/" + path
	key, ok := strings.CutPrefix(loc, "mlflow-artifacts:/")
	if !ok {
		return "", errors.New("the run's artifacts are not in the server's artifact store: " + r.Info.ArtifactURI)
	}
	var segs []string
	for _, p := range strings.Split(strings.TrimLeft(key, "/"), "/") {
		segs = append(segs, url.PathEscape(p))
	}
	if _, err := s.c.do(ctx, "PUT", "/api/2.0/mlflow-artifacts/artifacts/"+strings.Join(segs, "/"), nil, "application/octet-stream", data); err != nil {
		return "", err
	}
	return loc, nil
}

func (s opsServer) RegisterModel(ctx context.Context, name, source, runID string) (int64, error) {
	err := s.c.call(ctx, "POST", "registered-models/create", nil, map[string]string{"name": name}, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.Code == "RESOURCE_ALREADY_EXISTS") {
		return 0, err
	}
	var out struct {
		ModelVersion struct {
			Version string `json:"version"`
		} `json:"model_version"`
	}
	if err := s.c.call(ctx, "POST", "model-versions/create", nil, map[string]string{"name": name, "source": source, "run_id": runID}, &out); err != nil {
		return 0, err
	}
	return strconv.ParseInt(out.ModelVersion.Version, 10, 64)
}

func (s opsServer) SetAlias(ctx context.Context, name, alias string, version int64) error {
	return s.c.call(ctx, "POST", "registered-models/alias", nil,
		map[string]string{"name": name, "alias": alias, "version": strconv.FormatInt(version, 10)}, nil)
}

func (s opsServer) Deploy(ctx context.Context, endpoint, modelURI, strategy string, options map[string]any) error {
	body := map[string]any{"endpoint": endpoint, "model": modelURI, "strategy": strategy}
	for k, v := range options {
		body[k] = v
	}
	_, err := s.c.callV1(ctx, "POST", "endpoints", nil, body, nil)
	return err
}

func (s opsServer) EndpointReady(ctx context.Context, endpoint string) (bool, error) {
	var out struct {
		Deployment struct {
			Status string `json:"status"`
		} `json:"deployment"`
	}
	_, err := s.c.callV1(ctx, "GET", "endpoints/"+url.PathEscape(endpoint), nil, nil, &out)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return false, nil
	}
	return err == nil && out.Deployment.Status == "ready", err
}

func (s opsServer) DatasetVersion(ctx context.Context, ref string) (dataset.Version, error) {
	v, _, _, err := getVersion(ctx, s.c, ref)
	return v, err
}

func (s opsServer) OpenDataset(ctx context.Context, v dataset.Version) (io.ReadCloser, error) {
	return openVersion(ctx, s.c, v)
}

func (s opsServer) LogInput(ctx context.Context, runID string, ds dataset.MLflowDataset) error {
	return s.c.call(ctx, "POST", "runs/log-inputs", nil, map[string]any{"run_id": runID, "datasets": []any{map[string]any{
		"tags":    []map[string]string{{"key": "mlflow.data.context", "value": "training"}},
		"dataset": ds,
	}}}, nil)
}

// NewOpsServer returns the pipeline operations' server over the HTTP API
// of the Ferry server at base (the server's own executor uses it too).
func NewOpsServer(base string) ops.Server { return opsServer{newClient(base)} }
