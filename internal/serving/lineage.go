package serving

import (
	"context"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/lineage"
	"github.com/ferry-ml/ferry/internal/registry"
)

// LineageSource adds endpoints to the lineage graph: a model version is
// deployed as the endpoints that serve it.
type LineageSource struct{ Service *Service }

// Node implements lineage.Source.
func (l LineageSource) Node(ctx context.Context, uri string) (lineage.Node, bool, error) {
	name, ok := strings.CutPrefix(uri, "endpoints:/")
	if !ok {
		return lineage.Node{}, false, nil
	}
	d, err := l.Service.Deployment(ctx, name)
	if err != nil {
		return lineage.Node{}, true, err
	}
	return lineage.Node{URI: uri, Kind: lineage.KindEndpoint, Label: name, Attrs: map[string]string{
		"status": d.Status, "strategy": d.Strategy, "version": strconv.FormatInt(d.Version, 10)}}, true, nil
}

// Edges implements lineage.Source.
func (l LineageSource) Edges(ctx context.Context, uri string) (up, down []lineage.Edge, err error) {
	if name, ok := strings.CutPrefix(uri, "endpoints:/"); ok {
		d, err := l.Service.Deployment(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		return []lineage.Edge{{From: registry.VersionURI(d.Model, d.Version), To: uri, Relation: "deployed_as"}}, nil, nil
	}
	if strings.HasPrefix(uri, "models:/") {
		ref, err := registry.ParseModelURI(uri)
		if err != nil || ref.Version == 0 {
			return nil, nil, nil // the walk resolves aliases to versions first
		}
		ds, err := l.Service.DeploymentsOf(ctx, ref.Name, ref.Version)
		if err != nil {
			return nil, nil, err
		}
		for _, d := range ds {
			down = append(down, lineage.Edge{From: uri, To: URI(d.Endpoint), Relation: "deployed_as"})
		}
	}
	return nil, down, nil
}
