package pipeline

import (
	"context"
	"strings"

	"github.com/ferry-ml/ferry/internal/lineage"
)

// LinkStore finds the submitted runs that read or made a thing.
type LinkStore interface {
	GetPipelineRun(ctx context.Context, id string) (RunRecord, error)
	PipelineRunsLinking(ctx context.Context, uri string) ([]string, error)
}

// LineageSource adds submitted pipeline runs (pipelines:/ID) to the
// lineage graph: the dataset versions their steps loaded lead to them,
// and they lead to the model versions they registered and the endpoints
// they deployed.
type LineageSource struct{ Store LinkStore }

// RunURI is the lineage name of a submitted run.
func RunURI(id string) string { return "pipelines:/" + id }

// Node implements lineage.Source.
func (l LineageSource) Node(ctx context.Context, uri string) (lineage.Node, bool, error) {
	id, ok := strings.CutPrefix(uri, "pipelines:/")
	if !ok {
		return lineage.Node{}, false, nil
	}
	r, err := l.Store.GetPipelineRun(ctx, id)
	if err != nil {
		return lineage.Node{}, true, err
	}
	return lineage.Node{URI: uri, Kind: lineage.KindPipelineRun, Label: r.Name,
		Attrs: map[string]string{"status": r.Status, "pipeline": r.Name}}, true, nil
}

// Edges implements lineage.Source.
func (l LineageSource) Edges(ctx context.Context, uri string) (up, down []lineage.Edge, err error) {
	if id, ok := strings.CutPrefix(uri, "pipelines:/"); ok {
		r, err := l.Store.GetPipelineRun(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		for _, st := range r.Steps {
			for _, ln := range st.Links {
				if ln.Relation == "input" {
					up = append(up, lineage.Edge{From: ln.URI, To: uri, Relation: "input"})
				} else {
					down = append(down, lineage.Edge{From: uri, To: ln.URI, Relation: "produced"})
				}
			}
		}
		return up, down, nil
	}
	ids, err := l.Store.PipelineRunsLinking(ctx, uri)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		r, err := l.Store.GetPipelineRun(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		for _, st := range r.Steps {
			for _, ln := range st.Links {
				if ln.URI != uri {
					continue
				}
				if ln.Relation == "input" {
					down = append(down, lineage.Edge{From: uri, To: RunURI(id), Relation: "input"})
				} else {
					up = append(up, lineage.Edge{From: RunURI(id), To: uri, Relation: "produced"})
				}
			}
		}
	}
	return up, down, nil
}
