package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
)

const experimentsListUsage = `Usage: ferry experiments list [--view active|deleted|all] [--filter F] [--order-by O]... [--max N]

List experiments as a table: ID, NAME, LIFECYCLE, ARTIFACT LOCATION, CREATED (UTC).

Flags:
  --view V       active (default), deleted or all
  --filter F     MLflow search filter, e.g. "name LIKE 'churn%'" or "tags.team = 'ml'"
  --order-by O   sort key such as "name" or "creation_time DESC" (repeatable)
  --max N        show at most N experiments (default 0: all of them)
`

// pageSize is how many objects one search request asks for; a variable
// so that tests can exercise paging with few objects.
var pageSize = 1000

func experimentsList(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	view := fs.String("view", "active", "")
	filter := fs.String("filter", "", "")
	var orderBy stringList
	fs.Var(&orderBy, "order-by", "")
	maxExps := fs.Int("max", 0, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		vt, err := viewType(*view)
		if err != nil {
			return err
		}
		if *maxExps < 0 {
			return usagef("--max must be 0 (no limit) or more, got %d", *maxExps)
		}
		var exps []experiment
		more := false
		req := searchExperimentsRequest{Filter: *filter, OrderBy: orderBy, ViewType: vt}
		for {
			req.MaxResults = pageSize
			if *maxExps > 0 {
				req.MaxResults = min(pageSize, *maxExps-len(exps))
			}
			resp, err := s.client.searchExperiments(ctx, req)
			if err != nil {
				return err
			}
			exps = append(exps, resp.Experiments...)
			if resp.NextPageToken == "" || len(resp.Experiments) == 0 {
				break
			}
			if *maxExps > 0 && len(exps) >= *maxExps {
				more = true
				break
			}
			req.PageToken = resp.NextPageToken
		}

		if s.json {
			raw := make([]json.RawMessage, 0, len(exps))
			for _, e := range exps {
				raw = append(raw, e.Raw)
			}
			return writeJSON(s.stdout, struct {
				Experiments []json.RawMessage `json:"experiments"`
			}{raw})
		}
		if len(exps) == 0 {
			fmt.Fprintln(s.stdout, "No experiments found.")
			return nil
		}
		t := newTable(s.stdout)
		t.row("ID", "NAME", "LIFECYCLE", "ARTIFACT LOCATION", "CREATED")
		for _, e := range exps {
			t.row(cell(e.ExperimentID, 0), cell(e.Name, 60), cell(e.LifecycleStage, 0),
				cell(e.ArtifactLocation, 80), fmtTime(int64(e.CreationTime)))
		}
		if err := t.flush(); err != nil {
			return err
		}
		if more {
			fmt.Fprintf(s.stderr, "ferry: showing the first %d experiments; there are more (raise --max, or --max 0 for all)\n", len(exps))
		}
		return nil
	}
}
