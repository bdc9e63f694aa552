package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

const runsListUsage = `Usage: ferry runs list --experiment NAME_OR_ID [--filter F] [--order-by O]... [--columns C,...] [--view V] [--max N]

List an experiment's runs as a table: RUN ID, NAME, STATUS, START (UTC), DURATION,
then a column for each metric, param or tag named in --filter, --order-by or
--columns; without any, the first three metric keys and first two param keys.

Flags:
  --experiment E  experiment name, or ID (repeatable; required)
  --filter F      MLflow search filter, e.g. "metrics.rmse < 0.5 and params.model = 'xgb'"
  --order-by O    sort key such as "metrics.rmse" or "start_time DESC" (repeatable)
  --columns C     extra columns, comma-separated: metrics.KEY, params.KEY, tags.KEY (repeatable)
  --view V        active (default), deleted or all
  --max N         show at most N runs (default 100; 0: all of them)
`

const runsShowUsage = `Usage: ferry runs show RUN_ID [--all]

Show one run: its info, params, latest metric values, tags, dataset inputs and
artifact files. System tags (mlflow.*) are hidden, except those shown as info
fields (name, user, parent run, source, git commit, description); --all lists them
too. Long values are shortened; --json prints everything as the server sent it:
{"run": RUN, "artifacts": {"root_uri": URI, "files": [FILE...]}}.

Flags:
  --all           also list mlflow.* system tags
`

// maxArtifacts bounds how many artifact entries runs show lists.
const maxArtifacts = 1000

func runsList(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	var experiments, orderBy, columnFlags stringList
	fs.Var(&experiments, "experiment", "")
	filter := fs.String("filter", "", "")
	fs.Var(&orderBy, "order-by", "")
	fs.Var(&columnFlags, "columns", "")
	view := fs.String("view", "active", "")
	maxRuns := fs.Int("max", 100, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			if len(experiments) == 0 && len(args) == 1 {
				return usagef("name the experiment with --experiment %s", args[0])
			}
			return usagef("unexpected argument %q", args[0])
		}
		if len(experiments) == 0 {
			return usagef("--experiment is required")
		}
		vt, err := viewType(*view)
		if err != nil {
			return err
		}
		if *maxRuns < 0 {
			return usagef("--max must be 0 (no limit) or more, got %d", *maxRuns)
		}
		var explicit []column
		for _, spec := range columnFlags {
			for _, part := range strings.Split(spec, ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				c, ok := parseColumn(part)
				if !ok {
					return usagef("--columns: %q is not metrics.KEY, params.KEY or tags.KEY", part)
				}
				explicit = append(explicit, c)
			}
		}

		expNames := map[string]string{}
		req := searchRunsRequest{Filter: *filter, OrderBy: orderBy, RunViewType: vt}
		for _, ref := range experiments {
			e, err := resolveExperiment(ctx, s.client, ref)
			if err != nil {
				return err
			}
			if _, dup := expNames[e.ExperimentID]; !dup {
				req.ExperimentIDs = append(req.ExperimentIDs, e.ExperimentID)
			}
			expNames[e.ExperimentID] = e.Name
		}

		var runs []run
		more := false
		for {
			req.MaxResults = pageSize
			if *maxRuns > 0 {
				req.MaxResults = min(pageSize, *maxRuns-len(runs))
			}
			resp, err := s.client.searchRuns(ctx, req)
			if err != nil {
				return err
			}
			runs = append(runs, resp.Runs...)
			if resp.NextPageToken == "" || len(resp.Runs) == 0 {
				break
			}
			if *maxRuns > 0 && len(runs) >= *maxRuns {
				more = true
				break
			}
			req.PageToken = resp.NextPageToken
		}

		if s.json {
			raw := make([]json.RawMessage, 0, len(runs))
			for _, r := range runs {
				raw = append(raw, r.Raw)
			}
			return writeJSON(s.stdout, struct {
				Runs []json.RawMessage `json:"runs"`
			}{raw})
		}
		if len(runs) == 0 {
			fmt.Fprintln(s.stdout, "No runs found.")
			return nil
		}
		cols := dedupe(append(explicit, referencedColumns(append([]string{*filter}, orderBy...)...)...))
		if len(cols) == 0 {
			cols = defaultColumns(runs)
		}
		header := []string{"RUN ID", "NAME", "STATUS", "START", "DURATION"}
		multi := len(req.ExperimentIDs) > 1
		if multi {
			header = append(header, "EXPERIMENT")
		}
		for _, c := range cols {
			header = append(header, c.String())
		}
		t := newTable(s.stdout)
		t.row(header...)
		for i := range runs {
			r := &runs[i]
			status := r.Info.Status
			if r.Info.LifecycleStage == "deleted" {
				status += " (deleted)"
			}
			row := []string{cell(r.Info.id(), 0), cell(r.name(), 40), cell(status, 0),
				fmtTime(int64(r.Info.StartTime)), fmtDuration(int64(r.Info.StartTime), int64(r.Info.EndTime))}
			if multi {
				row = append(row, cell(expNames[r.Info.ExperimentID], 30))
			}
			for _, c := range cols {
				row = append(row, c.value(r))
			}
			t.row(row...)
		}
		if err := t.flush(); err != nil {
			return err
		}
		if more {
			fmt.Fprintf(s.stderr, "ferry: showing the first %d runs; there are more (raise --max, or --max 0 for all)\n", len(runs))
		}
		return nil
	}
}

// resolveExperiment finds an experiment by name, then by ID.
func resolveExperiment(ctx context.Context, c *client, ref string) (experiment, error) {
	e, err := c.getExperimentByName(ctx, ref)
	if err == nil || !isCode(err, "RESOURCE_DOES_NOT_EXIST") {
		return e, err
	}
	e, err = c.getExperiment(ctx, ref)
	if err == nil {
		return e, nil
	}
	if isCode(err, "RESOURCE_DOES_NOT_EXIST") || isCode(err, "INVALID_PARAMETER_VALUE") {
		return e, &apiError{Status: 404, Code: "RESOURCE_DOES_NOT_EXIST",
			Message: fmt.Sprintf("no experiment is named %q or has that ID", ref)}
	}
	return e, err
}

// column is a metric, param or tag shown as a table column.
type column struct {
	kind string // metrics, params or tags
	key  string
}

func (c column) String() string { return c.kind + "." + c.key }

func (c column) value(r *run) string {
	switch c.kind {
	case "metrics":
		for _, m := range r.Data.Metrics {
			if m.Key == c.key {
				return fmtFloat(float64(m.Value), 6)
			}
		}
	case "params":
		for _, p := range r.Data.Params {
			if p.Key == c.key {
				return cell(p.Value, 30)
			}
		}
	case "tags":
		for _, t := range r.Data.Tags {
			if t.Key == c.key {
				return cell(t.Value, 30)
			}
		}
	}
	return "-"
}

// identPattern is a metric, param or tag identifier in any of MLflow's
// spellings: metrics.rmse, metric."val loss", params.`learning rate`, tag.team.
const identPattern = "(metrics?|params?|parameters?|tags?)\\.(?:\"([^\"]+)\"|`([^`]+)`|([\\w./:\\-]+))"

// identRE finds identifiers in MLflow filter and order-by expressions;
// columnRE matches one --columns entry.
var (
	identRE  = regexp.MustCompile(`(?i)(?:^|[^\w.])` + identPattern)
	columnRE = regexp.MustCompile(`(?i)^` + identPattern + `$`)
)

// quotedRE matches single-quoted string literals, which may contain text
// that looks like an identifier.
var quotedRE = regexp.MustCompile(`'(?:[^']|'')*'`)

// referencedColumns lists the metrics, params and tags that exprs name.
func referencedColumns(exprs ...string) []column {
	var cols []column
	for _, e := range exprs {
		e = quotedRE.ReplaceAllString(e, "''")
		for _, m := range identRE.FindAllStringSubmatch(e, -1) {
			cols = append(cols, column{kind: canonicalKind(m[1]), key: m[2] + m[3] + m[4]})
		}
	}
	return cols
}

// parseColumn parses one --columns entry.
func parseColumn(s string) (column, bool) {
	m := columnRE.FindStringSubmatch(s)
	if m == nil {
		return column{}, false
	}
	return column{kind: canonicalKind(m[1]), key: m[2] + m[3] + m[4]}, true
}

func canonicalKind(prefix string) string {
	switch p := strings.ToLower(prefix); {
	case strings.HasPrefix(p, "metric"):
		return "metrics"
	case strings.HasPrefix(p, "tag"):
		return "tags"
	}
	return "params"
}

func dedupe(cols []column) []column {
	seen := map[column]bool{}
	out := cols[:0:0]
	for _, c := range cols {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// defaultColumns picks the first metric and param keys (alphabetically)
// that the runs logged.
func defaultColumns(runs []run) []column {
	metrics, params := map[string]bool{}, map[string]bool{}
	for _, r := range runs {
		for _, m := range r.Data.Metrics {
			metrics[m.Key] = true
		}
		for _, p := range r.Data.Params {
			params[p.Key] = true
		}
	}
	var cols []column
	for _, k := range firstKeys(metrics, 3) {
		cols = append(cols, column{kind: "metrics", key: k})
	}
	for _, k := range firstKeys(params, 2) {
		cols = append(cols, column{kind: "params", key: k})
	}
	return cols
}

func firstKeys(set map[string]bool, n int) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

// infoTags are system tags that runs show prints as info fields.
var infoTags = []struct{ key, label string }{
	{"mlflow.parentRunId", "Parent run"},
	{"mlflow.source.name", "Source"},
	{"mlflow.source.git.commit", "Git commit"},
	{"mlflow.note.content", "Description"},
}

func runsShow(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	all := fs.Bool("all", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing RUN_ID")
		case len(args) > 1:
			return usagef("unexpected argument %q", args[1])
		}
		r, err := s.client.getRun(ctx, args[0])
		if err != nil {
			return err
		}
		arts, artErr := walkArtifacts(ctx, s.client, r.Info.id())
		if artErr != nil && ctx.Err() != nil {
			return ctx.Err()
		}

		if s.json {
			out := struct {
				Run       json.RawMessage `json:"run"`
				Artifacts *struct {
					RootURI string            `json:"root_uri"`
					Files   []json.RawMessage `json:"files"`
				} `json:"artifacts,omitempty"`
				ArtifactsError string `json:"artifacts_error,omitempty"`
			}{Run: r.Raw}
			if artErr != nil {
				out.ArtifactsError = artErr.Error()
			} else {
				out.Artifacts = &struct {
					RootURI string            `json:"root_uri"`
					Files   []json.RawMessage `json:"files"`
				}{RootURI: arts.root, Files: make([]json.RawMessage, 0, len(arts.files))}
				for _, f := range arts.files {
					out.Artifacts.Files = append(out.Artifacts.Files, f.Raw)
				}
			}
			return writeJSON(s.stdout, out)
		}

		expLabel := r.Info.ExperimentID
		if e, err := s.client.getExperiment(ctx, r.Info.ExperimentID); err == nil && e.Name != "" {
			expLabel = fmt.Sprintf("%s (ID %s)", e.Name, r.Info.ExperimentID)
		}
		w := s.stdout
		t := newTable(w)
		field := func(label, value string) { t.row(label+":", value) }
		field("Run", cell(r.Info.id(), 0))
		field("Name", cell(r.name(), 200))
		field("Experiment", cell(expLabel, 0))
		field("Status", cell(r.Info.Status, 0))
		field("Lifecycle", cell(r.Info.LifecycleStage, 0))
		user := r.Info.UserID
		if user == "" {
			user = r.tag("mlflow.user")
		}
		field("User", cell(user, 100))
		field("Start", fmtTime(int64(r.Info.StartTime)))
		field("End", fmtTime(int64(r.Info.EndTime)))
		field("Duration", fmtDuration(int64(r.Info.StartTime), int64(r.Info.EndTime)))
		field("Artifact URI", cell(r.Info.ArtifactURI, 0))
		for _, it := range infoTags {
			if v := r.tag(it.key); v != "" {
				field(it.label, cell(v, 200))
			}
		}
		if err := t.flush(); err != nil {
			return err
		}

		params := append([]param(nil), r.Data.Params...)
		sort.Slice(params, func(i, j int) bool { return params[i].Key < params[j].Key })
		section(w, "Params", len(params), "")
		if len(params) > 0 {
			t := newTable(w)
			t.row("  KEY", "VALUE")
			for _, p := range params {
				t.row("  "+cell(p.Key, 0), showValue(p.Value))
			}
			t.flush()
		}

		metrics := append([]metric(nil), r.Data.Metrics...)
		sort.Slice(metrics, func(i, j int) bool { return metrics[i].Key < metrics[j].Key })
		metricsNote := ""
		if len(metrics) > 0 {
			metricsNote = "latest values"
		}
		section(w, "Metrics", len(metrics), metricsNote)
		if len(metrics) > 0 {
			t := newTable(w)
			t.row("  KEY", "VALUE", "STEP", "TIMESTAMP")
			for _, m := range metrics {
				t.row("  "+cell(m.Key, 0), fmtFloat(float64(m.Value), -1), fmt.Sprint(int64(m.Step)), fmtTime(int64(m.Timestamp)))
			}
			t.flush()
		}

		var tags []tag
		hidden := 0
		for _, tg := range r.Data.Tags {
			if strings.HasPrefix(tg.Key, "mlflow.") && !*all {
				hidden++
				continue
			}
			tags = append(tags, tg)
		}
		sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
		note := ""
		if hidden > 0 {
			note = fmt.Sprintf("%d mlflow.* system tag%s hidden; --all shows them", hidden, plural(hidden))
		}
		section(w, "Tags", len(tags), note)
		if len(tags) > 0 {
			t := newTable(w)
			t.row("  KEY", "VALUE")
			for _, tg := range tags {
				t.row("  "+cell(tg.Key, 0), showValue(tg.Value))
			}
			t.flush()
		}

		inputs := r.Inputs.DatasetInputs
		section(w, "Datasets", len(inputs), "")
		if len(inputs) > 0 {
			t := newTable(w)
			t.row("  NAME", "DIGEST", "CONTEXT", "SOURCE TYPE", "SOURCE")
			for _, in := range inputs {
				ctxTag := ""
				for _, tg := range in.Tags {
					if tg.Key == "mlflow.data.context" {
						ctxTag = tg.Value
					}
				}
				d := in.Dataset
				t.row("  "+cell(d.Name, 60), cell(d.Digest, 0), cell(ctxTag, 30), cell(d.SourceType, 30), cell(d.Source, 80))
			}
			t.flush()
		}

		switch {
		case artErr != nil:
			fmt.Fprintf(w, "\nArtifacts: not available (%v)\n", artErr)
		default:
			note := arts.root
			if arts.truncated {
				note += fmt.Sprintf("; only the first %d entries", maxArtifacts)
			}
			section(w, "Artifacts", len(arts.files), note)
			if len(arts.files) > 0 {
				t := newTable(w)
				t.row("  PATH", "SIZE")
				for _, f := range arts.files {
					if f.IsDir {
						t.row("  "+cell(f.Path+"/", 0), "-")
						continue
					}
					t.row("  "+cell(f.Path, 0), fmtSize(int64(f.FileSize)))
				}
				t.flush()
			}
		}
		return nil
	}
}

// section prints a report section's heading: "Params (2):", or
// "Params: none" when it is empty.
func section(w io.Writer, title string, n int, note string) {
	if n == 0 {
		if note != "" {
			fmt.Fprintf(w, "\n%s: none (%s)\n", title, note)
			return
		}
		fmt.Fprintf(w, "\n%s: none\n", title)
		return
	}
	if note != "" {
		fmt.Fprintf(w, "\n%s (%d; %s):\n", title, n, note)
		return
	}
	fmt.Fprintf(w, "\n%s (%d):\n", title, n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// showValue renders a param or tag value in the report; an empty value
// shows as "" so that it is not mistaken for a missing one.
func showValue(v string) string {
	if v == "" {
		return `""`
	}
	return cell(v, 200)
}

type artifactListing struct {
	root      string
	files     []fileInfo
	truncated bool
}

// walkArtifacts lists a run's artifact tree depth-first, directories
// before their contents, up to maxArtifacts entries.
func walkArtifacts(ctx context.Context, c *client, runID string) (artifactListing, error) {
	var out artifactListing
	seen := map[string]bool{}
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if seen[dir] || depth > 32 {
			return nil
		}
		seen[dir] = true
		var entries []fileInfo
		token := ""
		for {
			resp, err := c.listArtifacts(ctx, runID, dir, token)
			if err != nil {
				return err
			}
			if dir == "" {
				out.root = resp.RootURI
			}
			entries = append(entries, resp.Files...)
			if resp.NextPageToken == "" || resp.NextPageToken == token {
				break
			}
			token = resp.NextPageToken
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
		for _, e := range entries {
			if len(out.files) >= maxArtifacts {
				out.truncated = true
				return nil
			}
			out.files = append(out.files, e)
			if e.IsDir {
				if err := walk(e.Path, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk("", 0)
	return out, err
}
