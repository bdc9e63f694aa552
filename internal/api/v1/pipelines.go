package v1

import (
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/pipeline"
)

var errNoPipelines = errdefs.Unavailable("This server runs no pipelines.")

type submitRequest struct {
	Spec    string            `json:"spec"`
	Workdir string            `json:"workdir"`
	Params  map[string]string `json:"params"`
}

func (s *Server) submitPipeline(r *http.Request) (any, error) {
	if s.pipelines == nil {
		return nil, errNoPipelines
	}
	var req submitRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	run, err := s.pipelines.Submit(r.Context(), req.Spec, req.Workdir, req.Params)
	if err != nil {
		return nil, err
	}
	return map[string]any{"run": run}, nil
}

func (s *Server) listPipelineRuns(r *http.Request) (any, error) {
	if s.pipelines == nil {
		return nil, errNoPipelines
	}
	limit := 100
	if v := r.URL.Query().Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'max_results': use 1 to 1000.", v)
		}
		limit = n
	}
	runs, err := s.pipelines.Store.ListPipelineRuns(r.Context(), limit)
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []pipeline.RunRecord{}
	}
	return map[string]any{"runs": runs}, nil
}

func (s *Server) getPipelineRun(r *http.Request) (any, error) {
	if s.pipelines == nil {
		return nil, errNoPipelines
	}
	run, err := s.pipelines.Store.GetPipelineRun(r.Context(), r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"run": run}, nil
}

// logPoll is how often a followed log is read again.
const logPoll = 500 * time.Millisecond

// getStepLog answers a step's log as text; with follow=true it streams
// what its worker reports (with each heartbeat) until the step ends.
func (s *Server) getStepLog(w http.ResponseWriter, r *http.Request) {
	if s.pipelines == nil {
		s.writeError(w, r, errNoPipelines)
		return
	}
	follow := r.URL.Query().Get("follow") == "true"
	step := func() (pipeline.StepRecord, error) {
		run, err := s.pipelines.Store.GetPipelineRun(r.Context(), r.PathValue("id"))
		if err != nil {
			return pipeline.StepRecord{}, err
		}
		for _, st := range run.Steps {
			if st.Name == r.PathValue("step") {
				return st, nil
			}
		}
		return pipeline.StepRecord{}, errdefs.NotFound("Pipeline run '%s' has no step '%s'", run.ID, r.PathValue("step"))
	}
	st, err := step()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	sent := 0
	flusher, _ := w.(http.Flusher)
	for {
		if len(st.Log) > sent {
			_, _ = io.WriteString(w, st.Log[sent:])
			sent = len(st.Log)
			if flusher != nil {
				flusher.Flush()
			}
		}
		if !follow || pipeline.Ended(st.Status) {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(logPoll):
		}
		if st, err = step(); err != nil {
			return
		}
	}
}

type workerRequest struct {
	Worker       string               `json:"worker"`
	LeaseSeconds float64              `json:"lease_seconds"`
	Log          string               `json:"log"`
	Result       *pipeline.StepRecord `json:"result"`
}

func (s *Server) workerRequest(r *http.Request) (workerRequest, error) {
	var req workerRequest
	if s.pipelines == nil {
		return req, errNoPipelines
	}
	if !s.pipelines.Store.Distributed() {
		return req, errdefs.InvalidArgument("This server keeps its metadata in SQLite, which workers on other machines cannot share: " +
			"start it with --db postgres://... for `ferry worker`, or let the server's own executor run submitted pipelines.")
	}
	if err := decode(r, &req); err != nil {
		return req, err
	}
	if req.LeaseSeconds == 0 {
		req.LeaseSeconds = 30
	}
	return req, nil
}

func (s *Server) claimStep(r *http.Request) (any, error) {
	req, err := s.workerRequest(r)
	if err != nil {
		return nil, err
	}
	run, step, ok, err := s.pipelines.Claim(r.Context(), req.Worker, time.Duration(req.LeaseSeconds*float64(time.Second)))
	if err != nil || !ok {
		return struct{}{}, err
	}
	return map[string]any{"run": run, "step": step}, nil
}

func (s *Server) heartbeatStep(r *http.Request) (any, error) {
	req, err := s.workerRequest(r)
	if err != nil {
		return nil, err
	}
	return struct{}{}, s.pipelines.Heartbeat(r.Context(), r.PathValue("id"), r.PathValue("step"), req.Worker,
		time.Duration(req.LeaseSeconds*float64(time.Second)), req.Log)
}

func (s *Server) finishStep(r *http.Request) (any, error) {
	req, err := s.workerRequest(r)
	if err != nil {
		return nil, err
	}
	if req.Result == nil {
		return nil, errdefs.InvalidArgument("Give the step's result.")
	}
	res := *req.Result
	res.RunID, res.Name = r.PathValue("id"), r.PathValue("step")
	return struct{}{}, s.pipelines.Finish(r.Context(), req.Worker, res)
}

func (s *Server) registerPipeline(r *http.Request) (any, error) {
	if s.scheduler == nil {
		return nil, errNoPipelines
	}
	var req submitRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	p, err := s.scheduler.Register(r.Context(), req.Spec, req.Workdir, req.Params)
	if err != nil {
		return nil, err
	}
	return map[string]any{"pipeline": p}, nil
}

func (s *Server) listPipelines(r *http.Request) (any, error) {
	if s.scheduler == nil {
		return nil, errNoPipelines
	}
	ps, err := s.scheduler.Store.ListPipelines(r.Context())
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []pipeline.Registered{}
	}
	return map[string]any{"pipelines": ps}, nil
}

func (s *Server) unregisterPipeline(r *http.Request) (any, error) {
	if s.scheduler == nil {
		return nil, errNoPipelines
	}
	return struct{}{}, s.scheduler.Store.DeletePipeline(r.Context(), r.PathValue("name"))
}
