package v1

import (
	"net/http"
	"strconv"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/serving"
)

// querySeries answers GET /api/v1/monitor/series?series=NAME&endpoint=E
// &from=MS&to=MS&max_results=N: the points of a monitored series, oldest
// first.
func (s *Server) querySeries(r *http.Request) (any, error) {
	if s.monitor == nil {
		return nil, errdefs.Unavailable("This server keeps no monitored series.")
	}
	q := r.URL.Query()
	mq := monitor.Query{Series: q.Get("series"), Labels: map[string]string{}, Limit: 10000}
	if e := q.Get("endpoint"); e != "" {
		mq.Labels["endpoint"] = e
	}
	for name, dst := range map[string]*int64{"from": &mq.From, "to": &mq.To} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter '%s': use Unix milliseconds.", v, name)
			}
			*dst = n
		}
	}
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, errdefs.InvalidArgument("Invalid value '%s' for parameter 'max_results'.", v)
		}
		mq.Limit = n
	}
	points, err := s.monitor.QueryPoints(r.Context(), mq)
	if err != nil {
		return nil, err
	}
	if points == nil {
		points = []monitor.Point{}
	}
	return map[string]any{"points": points}, nil
}

// setReference answers PUT /api/v1/endpoints/{endpoint}/reference
// {"dataset": "NAME@VERSION"}: the dataset version the endpoint's
// traffic is compared with for drift.
func (s *Server) setReference(r *http.Request) (any, error) {
	if s.refs == nil || s.datasets == nil {
		return nil, errdefs.Unavailable("This server keeps no monitoring references.")
	}
	endpoint := r.PathValue("endpoint")
	if err := serving.ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	var req struct {
		Dataset string `json:"dataset"`
	}
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	name, version, err := dataset.ParseRef(req.Dataset)
	if err != nil {
		return nil, err
	}
	v, err := s.datasets.Get(r.Context(), name, version) // resolves latest; must exist
	if err != nil {
		return nil, err
	}
	ref := monitor.Reference{Endpoint: endpoint, Dataset: v.Name, Version: v.Version}
	if err := s.refs.SetReference(r.Context(), ref); err != nil {
		return nil, err
	}
	audit.Note(r.Context(), audit.Change{Action: "monitor.set_reference", Resource: serving.URI(endpoint), After: v.Digest})
	return map[string]any{"reference": ref}, nil
}

func (s *Server) getReference(r *http.Request) (any, error) {
	if s.refs == nil {
		return nil, errdefs.Unavailable("This server keeps no monitoring references.")
	}
	ref, err := s.refs.GetReference(r.Context(), r.PathValue("endpoint"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"reference": ref}, nil
}
