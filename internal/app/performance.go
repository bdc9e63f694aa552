package app

import (
	"context"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
	"github.com/ferry-ml/ferry/internal/monitor"
	"github.com/ferry-ml/ferry/internal/serving"
)

// servedVersions tells the performance monitor which endpoints to watch
// (the deployed ones) and what each loaded version predicts.
type servedVersions struct{ s *serving.Service }

// MonitoredEndpoints lists the deployed endpoints.
func (v servedVersions) MonitoredEndpoints(ctx context.Context) ([]string, error) {
	ds, err := v.s.Deployments(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Endpoint
	}
	return names, nil
}

// Signature is the signature of a version the endpoint has loaded (its
// stable, candidate or previous variant); any other version is
// errdefs.ErrNotFound: what it predicts is not known any more.
func (v servedVersions) Signature(ctx context.Context, endpoint, model string, version int64) (modelrt.Signature, error) {
	e, err := v.s.Endpoint(ctx, endpoint)
	if err != nil {
		return modelrt.Signature{}, errdefs.NotFound("endpoint '%s' has no version loaded: %v", endpoint, err)
	}
	for _, vr := range []*serving.Variant{e.Stable, e.Candidate, e.Previous} {
		if vr != nil && vr.Loaded != nil && vr.Model == model && vr.Version == version {
			return vr.Sig, nil
		}
	}
	return modelrt.Signature{}, errdefs.NotFound("endpoint '%s' has not loaded version %d of model '%s'", endpoint, version, model)
}

var (
	_ monitor.Endpoints = servedVersions{}
	_ monitor.Tasks     = servedVersions{}
)
