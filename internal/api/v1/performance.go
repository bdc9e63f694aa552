package v1

import (
	"net/http"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/serving"
)

// Performance is the latest measured performance of each model version
// of an endpoint against its delayed ground truth (monitor.Performance).
type Performance interface {
	Latest(endpoint string) []monitor.VersionPerformance
}

// getPerformance answers GET /api/v1/endpoints/{endpoint}/performance:
// per model version, the window, its labelled and invalid rows, the
// metrics, the concept-drift detectors, CBPE's estimate and a state
// ("ok", or "not_enough_data" and the like with a reason) — as the last
// monitor tick measured them.
func (s *Server) getPerformance(r *http.Request) (any, error) {
	if s.performance == nil {
		return nil, errdefs.Unavailable("This server does not monitor performance.")
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	if s.serving != nil {
		if _, err := s.serving.Deployment(r.Context(), endpoint); err != nil {
			return nil, err
		}
	}
	versions := s.performance.Latest(endpoint)
	out := map[string]any{"endpoint": endpoint, "versions": versions, "state": monitor.StateNotEnoughData}
	switch {
	case len(versions) == 0:
		out["reason"] = "no monitor tick has seen traffic of the endpoint yet"
	default:
		out["reason"] = "no version has ground truth in its window"
		for _, v := range versions {
			if v.State == monitor.StateOK {
				out["state"] = monitor.StateOK
				delete(out, "reason")
				break
			}
		}
	}
	return out, nil
}
