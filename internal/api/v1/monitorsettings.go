package v1

import (
	"net/http"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/serving"
)

// driftSettingsBody is the body of PUT /api/v1/endpoints/{e}/monitor.
type driftSettingsBody struct {
	StatTest   string  `json:"stattest"`
	Threshold  float64 `json:"threshold"`
	DriftShare float64 `json:"drift_share"`
	WindowRows int     `json:"window_rows"`
	Window     string  `json:"window"`
}

// putDriftSettings answers PUT /api/v1/endpoints/{endpoint}/monitor
// {"stattest": "psi", "threshold": 0.2, "drift_share": 0.5,
// "window_rows": 500 | "window": "1h"}: the endpoint's drift settings,
// replacing any it had (an absent field is its default; an empty body
// restores them all). They apply to whichever reference the endpoint has,
// set or derived. It answers the effective settings.
func (s *Server) putDriftSettings(r *http.Request) (any, error) {
	if s.driftSettings == nil {
		return nil, errdefs.Unavailable("This server keeps no drift settings.")
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	var req driftSettingsBody
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	ds := monitor.DriftSettings{Endpoint: endpoint, StatTest: req.StatTest, Threshold: req.Threshold,
		DriftShare: req.DriftShare, WindowRows: req.WindowRows}
	if req.Window != "" {
		d, err := time.ParseDuration(req.Window)
		if err != nil {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'window': use a duration such as 1h or 30m.", truncate(req.Window))
		}
		if d <= 0 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'window': use a duration from 1s to %s.", truncate(req.Window), monitor.MaxWindow)
		}
		ds.Window = d
	}
	if err := ds.Validate(); err != nil {
		return nil, err
	}
	if err := s.driftSettings.SetDriftSettings(r.Context(), ds); err != nil {
		return nil, err
	}
	eff := ds.Effective()
	audit.Note(r.Context(), audit.Change{Action: "monitor.set_drift_settings", Resource: serving.URI(endpoint), After: audit.Digest(eff)})
	return map[string]any{"settings": eff}, nil
}

// getDriftSettings answers GET /api/v1/endpoints/{endpoint}/monitor: the
// endpoint's effective drift settings, defaults filled in.
func (s *Server) getDriftSettings(r *http.Request) (any, error) {
	if s.driftSettings == nil {
		return nil, errdefs.Unavailable("This server keeps no drift settings.")
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	ds, err := s.driftSettings.GetDriftSettings(r.Context(), endpoint)
	if err != nil {
		return nil, err
	}
	ds.Endpoint = endpoint
	return map[string]any{"settings": ds.Effective()}, nil
}
