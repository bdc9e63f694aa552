// Package lineage answers "where did this come from, and what came of it"
// for any node Ferry knows: datasets, runs and model versions now,
// pipeline runs and deployments as those features add their sources. The
// graph is not stored twice: each Source derives its edges from the
// records its domain keeps (a run's dataset inputs, a version's run), and
// Graph walks them upstream and downstream from one node.
package lineage

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Node kinds.
const (
	KindDataset      = "dataset"
	KindRun          = "run"
	KindModelVersion = "model_version"
	KindEndpoint     = "endpoint"
	KindPipelineRun  = "pipeline_run"
	KindAlert        = "alert"
)

// Node is one thing in the graph, named by its URI: datasets:/NAME@DIGEST,
// runs:/ID, models:/NAME/VERSION.
type Node struct {
	URI   string            `json:"uri"`
	Kind  string            `json:"kind"`
	Label string            `json:"label,omitempty"`
	Attrs map[string]string `json:"attrs,omitempty"`
}

// Edge says From produced or fed To.
type Edge struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Relation string `json:"relation"` // "input", "registered_as", ...
}

// Source knows the nodes of some kinds and their edges.
type Source interface {
	// Node describes uri; ok is false when uri is not of this source's
	// kinds. A node of its kinds that does not exist is ErrNotFound.
	Node(ctx context.Context, uri string) (n Node, ok bool, err error)
	// Edges returns the edges into uri (upstream) and out of it
	// (downstream) that this source knows.
	Edges(ctx context.Context, uri string) (up, down []Edge, err error)
}

// Item is a node reached from the root, with how it was reached.
type Item struct {
	Node     Node   `json:"node"`
	Relation string `json:"relation"`
	Via      string `json:"via"`   // the neighbour closer to the root
	Depth    int    `json:"depth"` // 1 for direct neighbours
}

// Result is the graph around one node.
type Result struct {
	Root       Node   `json:"root"`
	Upstream   []Item `json:"upstream"`
	Downstream []Item `json:"downstream"`
}

// Limits of a walk.
const (
	DefaultDepth = 10
	MaxDepth     = 50
	maxNodes     = 10000
)

// Graph walks the sources.
type Graph struct {
	sources []Source
}

// New returns a graph over sources.
func New(sources ...Source) *Graph { return &Graph{sources: sources} }

// Add registers another source (features add theirs as they are built).
func (g *Graph) Add(s Source) { g.sources = append(g.sources, s) }

// Node describes uri, asking each source in turn.
func (g *Graph) Node(ctx context.Context, uri string) (Node, error) {
	for _, s := range g.sources {
		n, ok, err := s.Node(ctx, uri)
		if err != nil {
			return Node{}, err
		}
		if ok {
			return n, nil
		}
	}
	return Node{}, errdefs.InvalidArgument("Unknown lineage node '%s': expected a datasets:/NAME@DIGEST, runs:/ID, models:/NAME/VERSION (or @ALIAS) or endpoints:/NAME URI.", uri)
}

// Walk returns what is upstream and downstream of uri, up to depth hops
// each way (0: DefaultDepth).
func (g *Graph) Walk(ctx context.Context, uri string, depth int) (Result, error) {
	if depth <= 0 {
		depth = DefaultDepth
	}
	if depth > MaxDepth {
		return Result{}, errdefs.InvalidArgument("Lineage depth %d is over the limit of %d.", depth, MaxDepth)
	}
	root, err := g.Node(ctx, uri)
	if err != nil {
		return Result{}, err
	}
	res := Result{Root: root}
	if res.Upstream, err = g.walk(ctx, root, depth, true); err != nil {
		return Result{}, err
	}
	if res.Downstream, err = g.walk(ctx, root, depth, false); err != nil {
		return Result{}, err
	}
	return res, nil
}

func (g *Graph) edges(ctx context.Context, uri string, up bool) ([]Edge, error) {
	var out []Edge
	for _, s := range g.sources {
		u, d, err := s.Edges(ctx, uri)
		if err != nil {
			return nil, err
		}
		if up {
			out = append(out, u...)
		} else {
			out = append(out, d...)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].To < out[j].To
	})
	return out, nil
}

// walk is a breadth-first walk in one direction; each node appears once,
// at its shortest distance.
func (g *Graph) walk(ctx context.Context, root Node, depth int, up bool) ([]Item, error) {
	seen := map[string]bool{root.URI: true}
	frontier := []string{root.URI}
	var items []Item
	for d := 1; d <= depth && len(frontier) > 0; d++ {
		var next []string
		for _, uri := range frontier {
			es, err := g.edges(ctx, uri, up)
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				other := e.To
				if up {
					other = e.From
				}
				if seen[other] {
					continue
				}
				seen[other] = true
				n, err := g.Node(ctx, other)
				if errors.Is(err, errdefs.ErrNotFound) {
					// A dangling reference (a run deleted for good, a
					// version of another server) is still worth showing.
					n = Node{URI: other, Kind: kindOf(other), Attrs: map[string]string{"missing": "true"}}
				} else if err != nil {
					return nil, err
				}
				items = append(items, Item{Node: n, Relation: e.Relation, Via: uri, Depth: d})
				next = append(next, other)
				if len(items) > maxNodes {
					return nil, errdefs.InvalidArgument("The lineage of %s reaches more than %d nodes within depth %d; ask for a smaller depth.", root.URI, maxNodes, depth)
				}
			}
		}
		frontier = next
	}
	return items, nil
}

func kindOf(uri string) string {
	switch {
	case strings.HasPrefix(uri, "datasets:/"):
		return KindDataset
	case strings.HasPrefix(uri, "runs:/"):
		return KindRun
	case strings.HasPrefix(uri, "models:/"):
		return KindModelVersion
	case strings.HasPrefix(uri, "endpoints:/"):
		return KindEndpoint
	case strings.HasPrefix(uri, "pipelines:/"):
		return KindPipelineRun
	}
	return "unknown"
}

// DatasetURI names a dataset by name and digest, percent-encoding what
// would be ambiguous ("/", "@", "%", spaces).
func DatasetURI(name, digest string) string {
	return "datasets:/" + escapePart(name) + "@" + escapePart(digest)
}

func escapePart(s string) string { return strings.ReplaceAll(url.PathEscape(s), "@", "%40") }

// ParseDatasetURI splits a datasets:/ URI.
func ParseDatasetURI(uri string) (name, digest string, err error) {
	rest, ok := strings.CutPrefix(uri, "datasets:/")
	i := strings.LastIndexByte(rest, '@')
	if !ok || i <= 0 || i == len(rest)-1 {
		return "", "", errdefs.InvalidArgument("Invalid dataset URI '%s': expected datasets:/NAME@DIGEST.", uri)
	}
	name, err1 := url.PathUnescape(rest[:i])
	digest, err2 := url.PathUnescape(rest[i+1:])
	if err1 != nil || err2 != nil {
		return "", "", errdefs.InvalidArgument("Invalid dataset URI '%s': bad percent-encoding.", uri)
	}
	if !utf8.ValidString(name+digest) || strings.IndexByte(name+digest, 0) >= 0 {
		return "", "", errdefs.InvalidArgument("Invalid dataset URI '%s': name and digest must be UTF-8 text without NUL.", uri)
	}
	return name, digest, nil
}

// RunURI names a run.
func RunURI(id string) string { return "runs:/" + id }

// ParseRunURI returns the id of runs:/ID (a runs:/ID/path artifact URI
// names its run too).
func ParseRunURI(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "runs:/")
	if !ok {
		return "", false
	}
	id, _, _ := strings.Cut(strings.TrimLeft(rest, "/"), "/")
	return id, id != ""
}
