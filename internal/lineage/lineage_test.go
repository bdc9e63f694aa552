package lineage

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// graphSource is a Source over a fixed edge list, for the walk's own
// rules; the real sources run in internal/app's acceptance test and the
// CLI's lineage tests against a real server.
type graphSource struct {
	nodes map[string]Node
	edges []Edge
}

func (g graphSource) Node(_ context.Context, uri string) (Node, bool, error) {
	if !strings.Contains(uri, ":/") {
		return Node{}, false, nil
	}
	n, ok := g.nodes[uri]
	if !ok {
		return Node{}, true, errdefs.NotFound("no %s", uri)
	}
	return n, true, nil
}

func (g graphSource) Edges(_ context.Context, uri string) (up, down []Edge, err error) {
	for _, e := range g.edges {
		if e.To == uri {
			up = append(up, e)
		}
		if e.From == uri {
			down = append(down, e)
		}
	}
	return up, down, nil
}

func TestWalk(t *testing.T) {
	nodes := map[string]Node{}
	for _, u := range []string{"datasets:/a@1", "datasets:/b@2", "runs:/r1", "runs:/r2", "models:/m/1", "models:/m/2"} {
		nodes[u] = Node{URI: u, Kind: kindOf(u)}
	}
	src := graphSource{nodes: nodes, edges: []Edge{
		{From: "datasets:/a@1", To: "runs:/r1", Relation: "input:training"},
		{From: "datasets:/b@2", To: "runs:/r1", Relation: "input:evaluation"},
		{From: "datasets:/a@1", To: "runs:/r2", Relation: "input:training"},
		{From: "runs:/r1", To: "models:/m/1", Relation: "registered_as"},
		{From: "runs:/r2", To: "models:/m/2", Relation: "registered_as"},
		{From: "runs:/r1", To: "runs:/gone", Relation: "child"},
		// A cycle must not loop the walk.
		{From: "models:/m/2", To: "datasets:/a@1", Relation: "scored"},
	}}
	g := New(src)
	ctx := context.Background()

	res, err := g.Walk(ctx, "models:/m/1", 0)
	if err != nil {
		t.Fatal(err)
	}
	got := describe(res.Upstream)
	want := "runs:/r1(registered_as,1,via models:/m/1) datasets:/a@1(input:training,2,via runs:/r1) datasets:/b@2(input:evaluation,2,via runs:/r1) models:/m/2(scored,3,via datasets:/a@1) runs:/r2(registered_as,4,via models:/m/2)"
	if got != want {
		t.Errorf("upstream:\n got %s\nwant %s", got, want)
	}
	res, err = g.Walk(ctx, "datasets:/a@1", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(res.Downstream); got != "runs:/r1(input:training,1,via datasets:/a@1) runs:/r2(input:training,1,via datasets:/a@1)" {
		t.Errorf("downstream depth 1: %s", got)
	}
	res, err = g.Walk(ctx, "runs:/r1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var missing bool
	for _, it := range res.Downstream {
		if it.Node.URI == "runs:/gone" {
			missing = it.Node.Attrs["missing"] == "true"
		}
	}
	if !missing {
		t.Errorf("a dangling edge's node is not marked missing: %+v", res.Downstream)
	}

	if _, err := g.Walk(ctx, "models:/nope/1", 0); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown root: %v", err)
	}
	if _, err := g.Walk(ctx, "s3-bucket", 0); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := g.Walk(ctx, "runs:/r1", MaxDepth+1); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("depth over the limit: %v", err)
	}
}

func describe(items []Item) string {
	var parts []string
	for _, it := range items {
		parts = append(parts, it.Node.URI+"("+it.Relation+","+string(rune('0'+it.Depth))+",via "+it.Via+")")
	}
	return strings.Join(parts, " ")
}

func TestDatasetURI(t *testing.T) {
	for _, tc := range []struct{ name, digest string }{
		{"train", "d41d8cd9"}, {"a/b c@d", "x%y"}, {"ü", "0"},
	} {
		uri := DatasetURI(tc.name, tc.digest)
		name, digest, err := ParseDatasetURI(uri)
		if err != nil || name != tc.name || digest != tc.digest {
			t.Errorf("%q: %q %q %v", uri, name, digest, err)
		}
	}
	for _, bad := range []string{"datasets:/", "datasets:/x", "datasets:/@d", "datasets:/x@", "runs:/x", "datasets:/%zz@d"} {
		if _, _, err := ParseDatasetURI(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
	if id, ok := ParseRunURI("runs:/abc/model/MLmodel"); !ok || id != "abc" {
		t.Errorf("runs URI: %q %v", id, ok)
	}
}

func FuzzParseDatasetURI(f *testing.F) {
	f.Add("datasets:/train@d41d8cd9")
	f.Add("datasets:/a%2Fb@x")
	f.Add("datasets:/0@%40") // an escaped "@" in the digest
	f.Fuzz(func(t *testing.T, uri string) {
		name, digest, err := ParseDatasetURI(uri)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("%q: %v", uri, err)
			}
			return
		}
		n2, d2, err := ParseDatasetURI(DatasetURI(name, digest))
		if err != nil || n2 != name || d2 != digest {
			t.Fatalf("%q → (%q, %q) does not round-trip: (%q, %q) %v", uri, name, digest, n2, d2, err)
		}
	})
}
