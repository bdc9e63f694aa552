package v1

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/serving"
)

var errNoServing = errdefs.Unavailable("This server does not serve models.")

// deployRequest puts a model version behind an endpoint, or starts a
// rollout of it there.
type deployRequest struct {
	Endpoint string `json:"endpoint"`
	Model    string `json:"model"` // models:/NAME/3, @alias, /Stage, /latest
	Strategy string `json:"strategy"`
	// Steps, Interval (a Go duration such as "30s"), Weight, Sticky and
	// Analysis shape canary, shadow and ab rollouts.
	Steps    []int            `json:"steps"`
	Interval string           `json:"interval"`
	Weight   int              `json:"weight"`
	Sticky   string           `json:"sticky"`
	Analysis serving.Analysis `json:"analysis"`
}

func (s *Server) deploy(r *http.Request) (any, error) {
	if s.serving == nil {
		return nil, errNoServing
	}
	var req deployRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Endpoint == "" || req.Model == "" {
		return nil, errdefs.InvalidArgument("Give 'endpoint' and 'model' (a models:/ URI).")
	}
	dr := serving.DeployRequest{Endpoint: req.Endpoint, Model: req.Model, Strategy: req.Strategy,
		RolloutOptions: serving.RolloutOptions{Steps: req.Steps, Weight: req.Weight, Sticky: req.Sticky, Analysis: req.Analysis}}
	if req.Interval != "" {
		iv, err := time.ParseDuration(req.Interval)
		if err != nil {
			return nil, errdefs.InvalidArgument("Invalid interval '%s': use a duration such as 30s or 5m.", req.Interval)
		}
		dr.Interval = iv
	}
	d, err := s.serving.Deploy(r.Context(), dr)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deployment": d}, nil
}

func (s *Server) listEndpoints(r *http.Request) (any, error) {
	if s.serving == nil {
		return nil, errNoServing
	}
	ds, err := s.serving.Deployments(r.Context())
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []serving.Deployment{}
	}
	return map[string]any{"deployments": ds}, nil
}

// getEndpoint answers the deployment, the live report of its rollout
// (per-variant metrics, the shadow's comparison, the A/B outcome) and
// its latest transitions.
func (s *Server) getEndpoint(r *http.Request) (any, error) {
	if s.serving == nil {
		return nil, errNoServing
	}
	name := r.PathValue("endpoint")
	d, err := s.serving.Deployment(r.Context(), name)
	if err != nil {
		return nil, err
	}
	rep, err := s.serving.Report(r.Context(), name)
	if err != nil {
		return nil, err
	}
	hist, err := s.serving.History(r.Context(), name, 10)
	if err != nil {
		return nil, err
	}
	return map[string]any{"deployment": d, "report": rep, "history": nonNil(hist)}, nil
}

func (s *Server) endpointHistory(r *http.Request) (any, error) {
	if s.serving == nil {
		return nil, errNoServing
	}
	limit := 100
	if v := r.URL.Query().Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'max_results': use 1 to 1000.", v)
		}
		limit = n
	}
	hist, err := s.serving.History(r.Context(), r.PathValue("endpoint"), limit)
	if err != nil {
		return nil, err
	}
	return map[string]any{"events": nonNil(hist)}, nil
}

func nonNil(evs []serving.Event) []serving.Event {
	if evs == nil {
		return []serving.Event{}
	}
	return evs
}

// endpointChange answers a change of an endpoint (promote, rollback)
// with the deployment it leaves.
func (s *Server) endpointChange(change func(*serving.Service, context.Context, string) (serving.Deployment, error)) jsonHandler {
	return func(r *http.Request) (any, error) {
		if s.serving == nil {
			return nil, errNoServing
		}
		d, err := change(s.serving, r.Context(), r.PathValue("endpoint"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"deployment": d}, nil
	}
}

func (s *Server) undeploy(r *http.Request) (any, error) {
	if s.serving == nil {
		return nil, errNoServing
	}
	return struct{}{}, s.serving.Undeploy(r.Context(), r.PathValue("endpoint"))
}
