package cli

import (
	"context"
	"flag"
	"io"
	"strings"
)

const lineageUsage = `Usage: ferry lineage URI [--depth N]

Show where a model version, run or dataset came from (upstream) and what came
of it (downstream), as a tree under the node that URI names:

  models:/NAME/VERSION, models:/NAME@ALIAS   a model version (models:/NAME/STAGE
                                             and models:/NAME/latest work too)
  runs:/RUN_ID                               a run
  datasets:/NAME@DIGEST                      a dataset, as runs logged it

Each node shows its URI, kind and label, and in parentheses how it is linked to
the node above it: upstream, the run a version was registered from
(registered_as) and the datasets a run used (input:training, input:evaluation,
...); downstream, the runs that used a dataset and the versions registered from a
run. A node reached in more than one way is shown once, at its shortest distance.
[missing] marks a node that is referenced but no longer exists.

Flags:
  --depth N      follow at most N links each way (default: the server's, 10)
`

func lineageCmd(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	depth := fs.Int("depth", 0, "")
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing URI")
		case len(args) > 1:
			return usagef("unexpected argument %q", args[1])
		}
		uri := args[0]
		if !strings.HasPrefix(uri, "models:/") && !strings.HasPrefix(uri, "runs:/") && !strings.HasPrefix(uri, "datasets:/") {
			return usagef("%q is not a models:/, runs:/ or datasets:/ URI", uri)
		}
		if *depth < 0 {
			return usagef("--depth must be 1 or more, got %d", *depth)
		}
		res, raw, err := s.client.lineage(ctx, uri, *depth)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		return writeLineageTree(s.stdout, res)
	}
}

// writeLineageTree draws the graph as a tree: the root, then an upstream
// and a downstream branch, each node under its via.
func writeLineageTree(w io.Writer, res lineageResult) error {
	var b strings.Builder
	b.WriteString(nodeText(res.Root) + "\n")
	branch(&b, "upstream", res.Root.URI, res.Upstream, false)
	branch(&b, "downstream", res.Root.URI, res.Downstream, true)
	_, err := io.WriteString(w, b.String())
	return err
}

// Tree drawing, as tree(1) does.
const (
	treeMid  = "├── "
	treeLast = "└── "
	treeBar  = "│   "
	treeGap  = "    "
)

func branch(b *strings.Builder, title, root string, items []lineageItem, last bool) {
	head, indent := treeMid, treeBar
	if last {
		head, indent = treeLast, treeGap
	}
	if len(items) == 0 {
		b.WriteString(head + title + ": none\n")
		return
	}
	b.WriteString(head + title + "\n")

	// Children by via, in the server's order. Each node appears once, so
	// this is a tree; the seen set guards against a server that says
	// otherwise, and nodes whose via is unknown hang off the root.
	known := map[string]bool{root: true}
	for _, it := range items {
		known[it.Node.URI] = true
	}
	children := map[string][]lineageItem{}
	for _, it := range items {
		via := it.Via
		if !known[via] || via == it.Node.URI {
			via = root
		}
		children[via] = append(children[via], it)
	}
	seen := map[string]bool{root: true}
	var walk func(uri, prefix string)
	walk = func(uri, prefix string) {
		kids := children[uri]
		for i, it := range kids {
			if seen[it.Node.URI] {
				continue
			}
			seen[it.Node.URI] = true
			connector, next := treeMid, treeBar
			if i == len(kids)-1 {
				connector, next = treeLast, treeGap
			}
			line := nodeText(it.Node)
			if it.Relation != "" {
				line += "  (" + oneLine(it.Relation, 60) + ")"
			}
			b.WriteString(prefix + connector + line + "\n")
			walk(it.Node.URI, prefix+next)
		}
	}
	walk(root, indent)
}

// nodeText renders a node: URI, kind, label and markers.
func nodeText(n lineageNode) string {
	parts := []string{oneLine(n.URI, 0), oneLine(n.Kind, 40)}
	if n.Label != "" {
		parts = append(parts, oneLine(n.Label, 80))
	}
	switch {
	case n.Attrs["missing"] == "true":
		parts = append(parts, "[missing]")
	case n.Attrs["deleted"] == "true":
		parts = append(parts, "[deleted]")
	}
	return strings.Join(parts, "  ")
}

// oneLine makes a value safe for one line of a report, as cell does for a
// table cell, but keeps an empty value empty.
func oneLine(s string, max int) string {
	if s == "" {
		return ""
	}
	return cell(s, max)
}
