package v1

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/ferry-ml/ferry/internal/dataset"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

var errNoDatasets = errdefs.Unavailable("This server keeps no datasets.")

// datasetBodyLimit bounds a version's registration (its profile).
const datasetBodyLimit = 32 << 20

// summaries drops the profiles from a list.
func summaries(vs []dataset.Version) []dataset.Version {
	out := make([]dataset.Version, len(vs))
	for i, v := range vs {
		v.Profile = nil
		out[i] = v
	}
	return out
}

func (s *Server) listDatasets(r *http.Request) (any, error) {
	if s.datasets == nil {
		return nil, errNoDatasets
	}
	vs, err := s.datasets.List(r.Context(), "")
	if err != nil {
		return nil, err
	}
	return map[string]any{"datasets": summaries(vs)}, nil
}

func (s *Server) listDatasetVersions(r *http.Request) (any, error) {
	if s.datasets == nil {
		return nil, errNoDatasets
	}
	vs, err := s.datasets.List(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"versions": summaries(vs)}, nil
}

func (s *Server) getDatasetVersion(r *http.Request) (any, error) {
	if s.datasets == nil {
		return nil, errNoDatasets
	}
	var n int64
	if v := r.PathValue("version"); v != "latest" {
		var err error
		if n, err = strconv.ParseInt(v, 10, 64); err != nil || n < 1 {
			return nil, errdefs.InvalidArgument("Invalid dataset version '%s': use a number or latest.", v)
		}
	}
	v, err := s.datasets.Get(r.Context(), r.PathValue("name"), n)
	if err != nil {
		return nil, err
	}
	return map[string]any{"version": v}, nil
}

type addDatasetRequest struct {
	Source  string          `json:"source"`
	Profile json.RawMessage `json:"profile"`
}

func (s *Server) addDatasetVersion(r *http.Request) (any, error) {
	if s.datasets == nil {
		return nil, errNoDatasets
	}
	var req addDatasetRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	if req.Source == "" || len(req.Profile) == 0 {
		return nil, errdefs.InvalidArgument("Give 'source' (the file's mlflow-artifacts: location) and 'profile'.")
	}
	v, created, err := s.datasets.Add(r.Context(), r.PathValue("name"), req.Source, req.Profile)
	if err != nil {
		return nil, err
	}
	v.Profile = nil
	return map[string]any{"version": v, "created": created}, nil
}
