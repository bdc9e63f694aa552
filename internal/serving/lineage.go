package serving

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/registry"
)

// Lineage relations of endpoints.
const (
	RelDeployedAs  = "deployed_as"  // the version the endpoint serves
	RelCandidateOf = "candidate_of" // the candidate of its active rollout
	RelServedBy    = "served_by"    // a version it served before
)

// LineageSource adds endpoints to the lineage graph: a model version
// leads to the endpoints that serve it, are rolling it out, or served it
// before (from the endpoints' history).
type LineageSource struct{ Service *Service }

// Node implements lineage.Source.
func (l LineageSource) Node(ctx context.Context, uri string) (lineage.Node, bool, error) {
	name, ok := strings.CutPrefix(uri, "endpoints:/")
	if !ok {
		return lineage.Node{}, false, nil
	}
	d, err := l.Service.Deployment(ctx, name)
	if errors.Is(err, errdefs.ErrNotFound) {
		// A removed endpoint stays in lineage while its history does.
		evs, herr := l.Service.store.DeploymentEvents(ctx, name, 1)
		if herr != nil || len(evs) == 0 {
			return lineage.Node{}, true, err
		}
		return lineage.Node{URI: uri, Kind: lineage.KindEndpoint, Label: name, Attrs: map[string]string{"status": "removed"}}, true, nil
	}
	if err != nil {
		return lineage.Node{}, true, err
	}
	attrs := map[string]string{"status": d.Status, "strategy": d.Strategy, "version": strconv.FormatInt(d.Version, 10)}
	if r := d.Rollout; r != nil {
		attrs["rollout"] = r.Strategy + " " + r.State
		attrs["candidate"] = registry.VersionURI(r.Model, r.Version)
	}
	return lineage.Node{URI: uri, Kind: lineage.KindEndpoint, Label: name, Attrs: attrs}, true, nil
}

// Edges implements lineage.Source.
func (l LineageSource) Edges(ctx context.Context, uri string) (up, down []lineage.Edge, err error) {
	if name, ok := strings.CutPrefix(uri, "endpoints:/"); ok {
		d, err := l.Service.Deployment(ctx, name)
		seen := map[string]bool{}
		switch {
		case errors.Is(err, errdefs.ErrNotFound): // removed: its history only
		case err != nil:
			return nil, nil, err
		default:
			current := registry.VersionURI(d.Model, d.Version)
			up = append(up, lineage.Edge{From: current, To: uri, Relation: RelDeployedAs})
			seen[current] = true
		}
		if r := d.Rollout; r.Active() {
			c := registry.VersionURI(r.Model, r.Version)
			up = append(up, lineage.Edge{From: c, To: uri, Relation: RelCandidateOf})
			seen[c] = true
		}
		evs, err := l.Service.store.DeploymentEvents(ctx, name, 1000)
		if err != nil {
			return nil, nil, err
		}
		for _, ev := range evs {
			for _, ref := range []Ref{ev.Ref, ev.Candidate} {
				if ref.Model == "" {
					continue
				}
				if u := registry.VersionURI(ref.Model, ref.Version); !seen[u] {
					seen[u] = true
					up = append(up, lineage.Edge{From: u, To: uri, Relation: RelServedBy})
				}
			}
		}
		return up, nil, nil
	}
	if strings.HasPrefix(uri, "models:/") {
		ref, err := registry.ParseModelURI(uri)
		if err != nil || ref.Version == 0 {
			return nil, nil, nil // the walk resolves aliases to versions first
		}
		names, err := l.Service.store.EndpointsServing(ctx, ref.Name, ref.Version)
		if err != nil {
			return nil, nil, err
		}
		for _, name := range names {
			rel := RelServedBy
			d, err := l.Service.store.GetDeployment(ctx, name)
			switch {
			case errors.Is(err, errdefs.ErrNotFound):
			case err != nil:
				return nil, nil, err
			case d.Model == ref.Name && d.Version == ref.Version:
				rel = RelDeployedAs
			case d.Rollout.Active() && d.Rollout.Model == ref.Name && d.Rollout.Version == ref.Version:
				rel = RelCandidateOf
			}
			down = append(down, lineage.Edge{From: uri, To: URI(name), Relation: rel})
		}
	}
	return nil, down, nil
}
