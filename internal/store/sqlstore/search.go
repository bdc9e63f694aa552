package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/filter"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// runAttributeColumns maps canonical run attribute names to columns.
var runAttributeColumns = map[string]string{
	"run_id":          "r.run_uuid",
	"run_name":        "r.name",
	"user_id":         "r.user_id",
	"status":          "r.status",
	"artifact_uri":    "r.artifact_uri",
	"lifecycle_stage": "r.lifecycle_stage",
	"experiment_id":   "r.experiment_id",
	"start_time":      "r.start_time",
	"end_time":        "r.end_time",
}

// nullableRunColumns are the run attributes that may be unset; the others
// need no "missing sorts last" term, which keeps index order usable.
var nullableRunColumns = map[string]bool{"end_time": true}

// experimentAttributeColumns maps canonical experiment attributes to columns.
var experimentAttributeColumns = map[string]string{
	"name":              "e.name",
	"experiment_id":     "e.experiment_id",
	"creation_time":     "e.creation_time",
	"last_update_time":  "e.last_update_time",
	"lifecycle_stage":   "e.lifecycle_stage",
	"artifact_location": "e.artifact_location",
}

// queryBuilder accumulates joins, conditions and their bind arguments in
// the order they appear in the statement.
type queryBuilder struct {
	s        *Store
	joins    []string
	joinArgs []any
	where    []string
	args     []any
	order    []string
	aliases  int
}

func (b *queryBuilder) alias(prefix string) string {
	b.aliases++
	return prefix + strconv.Itoa(b.aliases)
}

// compare renders "col op ?" (or an IN list) for a clause and binds its operand.
func (b *queryBuilder) compare(col string, c filter.Clause) (string, []any, error) {
	switch c.Op {
	case filter.In, filter.NotIn:
		if len(c.List) == 0 {
			if c.Op == filter.In {
				return "1 = 0", nil, nil
			}
			return "1 = 1", nil, nil
		}
		args := make([]any, len(c.List))
		for i, v := range c.List {
			args[i] = v
		}
		return col + " " + string(c.Op) + " " + placeholders(len(args)), args, nil
	case filter.ILike:
		return b.s.d.ILike(col), []any{c.Str}, nil
	case filter.Eq, filter.Ne, filter.Gt, filter.Ge, filter.Lt, filter.Le, filter.Like:
		if c.Numeric {
			return col + " " + string(c.Op) + " CAST(? AS DOUBLE PRECISION)", []any{c.Num}, nil
		}
		return col + " " + string(c.Op) + " ?", []any{c.Str}, nil
	}
	return "", nil, errdefs.InvalidArgument("Invalid comparator '%s'", c.Op)
}

// keyTables holds the per-run key/value tables by entity.
var keyTables = map[filter.Entity]string{filter.Metric: "latest_metrics", filter.Param: "params", filter.Tag: "tags"}

// filterCondition renders one filter clause as a condition on runs r.
// Clauses on metrics, params, tags and datasets become EXISTS subqueries,
// so a run is examined only as the scan reaches it and the scan can stop
// at LIMIT.
func (b *queryBuilder) filterCondition(c filter.Clause) (string, []any, error) {
	switch c.Entity {
	case filter.Metric, filter.Param, filter.Tag:
		a := b.alias("f")
		cond, args, err := b.compare(a+".value", c)
		if err != nil {
			return "", nil, err
		}
		if c.Entity == filter.Metric {
			// NaN compares false to everything but !=.
			if c.Op == filter.Ne {
				cond = "(" + a + ".is_nan = 1 OR " + cond + ")"
			} else {
				cond = a + ".is_nan = 0 AND " + cond
			}
		}
		return fmt.Sprintf("EXISTS (SELECT 1 FROM %s %s WHERE %s.run_uuid = r.run_uuid AND %s.key = ? AND %s)",
			keyTables[c.Entity], a, a, a, cond), append([]any{c.Key}, args...), nil
	case filter.Attribute:
		col, ok := runAttributeColumns[c.Key]
		if !ok {
			return "", nil, errdefs.InvalidArgument("Invalid attribute key '%s' specified.", c.Key)
		}
		if c.Key == "experiment_id" && !c.Numeric {
			col = "CAST(r.experiment_id AS TEXT)" // ids are strings on the wire
		}
		return b.compare(col, c)
	case filter.Dataset:
		a := b.alias("d")
		var col, extra string
		switch c.Key {
		case "name":
			col = a + ".name"
		case "digest":
			col = a + ".digest"
		case "context":
			col = a + "t.value"
			extra = fmt.Sprintf(" JOIN input_tags %st ON %st.input_uuid = %si.input_uuid AND %st.name = '%s'", a, a, a, a, tracking.TagDatasetContext)
		default:
			return "", nil, errdefs.InvalidArgument("Invalid dataset key '%s' specified.", c.Key)
		}
		cond, args, err := b.compare(col, c)
		if err != nil {
			return "", nil, err
		}
		return fmt.Sprintf(`EXISTS (SELECT 1 FROM inputs %si JOIN datasets %s ON %s.dataset_uuid = %si.source_id%s
			WHERE %si.destination_type = 'RUN' AND %si.destination_id = r.run_uuid AND %si.source_type = 'DATASET' AND %s)`,
			a, a, a, a, extra, a, a, a, cond), args, nil
	}
	return "", nil, errdefs.InvalidArgument("Invalid search entity %s", c.Entity)
}

// orderTerms renders order_by entries (after the leading one, when that
// one drives the scan) into LEFT JOINs and ORDER BY terms. Runs lacking
// a key sort after those that have it, NaN metrics just before them, as
// MLflow sorts; start_time DESC and run_uuid break ties.
func (b *queryBuilder) orderTerms(order []filter.Order, startTimeOrdered bool) error {
	for _, o := range order {
		dir := " DESC"
		if o.Asc {
			dir = ""
		}
		switch o.Entity {
		case filter.Metric, filter.Param, filter.Tag:
			a := b.alias("o")
			b.joins = append(b.joins, fmt.Sprintf("LEFT JOIN %s %s ON %s.run_uuid = r.run_uuid AND %s.key = ?", keyTables[o.Entity], a, a, a))
			b.joinArgs = append(b.joinArgs, o.Key)
			if o.Entity == filter.Metric {
				b.order = append(b.order, fmt.Sprintf("CASE WHEN %s.is_nan = 1 THEN 1 WHEN %s.run_uuid IS NULL THEN 2 ELSE 0 END", a, a))
			} else {
				b.order = append(b.order, fmt.Sprintf("CASE WHEN %s.value IS NULL THEN 1 ELSE 0 END", a))
			}
			b.order = append(b.order, a+".value"+dir)
		case filter.Attribute:
			col, ok := runAttributeColumns[o.Key]
			if !ok {
				return errdefs.InvalidArgument("Invalid order_by attribute '%s'", o.Key)
			}
			if o.Key == "start_time" {
				startTimeOrdered = true
			}
			if nullableRunColumns[o.Key] {
				b.order = append(b.order, fmt.Sprintf("CASE WHEN %s IS NULL THEN 1 ELSE 0 END", col))
			}
			b.order = append(b.order, col+dir)
		default:
			return errdefs.InvalidArgument("Invalid order_by entity %s", o.Entity)
		}
	}
	if !startTimeOrdered {
		b.order = append(b.order, "r.start_time DESC")
	}
	b.order = append(b.order, "r.run_uuid")
	return nil
}

// runPhase is one SELECT of a run search.
type runPhase struct {
	from      string // FROM clause before the order joins
	where     string // extra condition in front of the shared ones
	whereArgs []any
	order     string // leading ORDER BY term, "" for none
}

// SearchTuning sets the row counts under which a run search sorts every
// candidate instead of walking an index in sort order: a bounded COUNT
// tells whether the searched experiments (SmallScope), or the rows that
// match one indexed filter clause (SelectiveFilter), stay below them.
type SearchTuning struct {
	SmallScope      int
	SelectiveFilter int
}

// DefaultSearchTuning balances a full sort (a few µs a row) against a walk
// in index order that stops at LIMIT.
func DefaultSearchTuning() SearchTuning { return SearchTuning{SmallScope: 2000, SelectiveFilter: 2000} }

// SearchPlans returns tunings that force each search plan on small data,
// so that the engines' conformance tests can run the suite under every plan.
func SearchPlans() map[string]SearchTuning {
	return map[string]SearchTuning{
		"sort-all":      DefaultSearchTuning(), // the suite's data is small
		"index-order":   {SmallScope: 0, SelectiveFilter: 0},
		"filter-driven": {SmallScope: 0, SelectiveFilter: 1 << 30},
	}
}

// SetSearchTuning replaces the search thresholds; tests use it to force
// each plan on small data. Call it before the store is used.
func (s *Store) SetSearchTuning(t SearchTuning) { s.tuning = t }

// SearchRuns implements tracking.Store.
//
// Filters become EXISTS conditions on runs r, so they are checked only for
// the runs a scan reaches, and the scan stops at LIMIT. What drives the
// scan is chosen per query from bounded counts:
//
//   - few runs in the searched experiments (SearchTuning.SmallScope):
//     scan them and sort them all;
//   - a filter clause on a metric, param or tag that matches few rows:
//     drive from that clause's (key, value) index and sort its matches;
//   - otherwise, when the leading order_by key is a metric, param or tag,
//     walk that key's (key, value) index in sort order, in up to three
//     phases — runs with the key, then NaN metrics, then runs without the
//     key — and page across them;
//   - otherwise walk the runs in (experiment, start_time) order.
//
// That keeps a filter plus an order_by over 100,000 runs in milliseconds
// whether the filter is broad or narrow.
func (s *Store) SearchRuns(ctx context.Context, q tracking.RunQuery) ([]tracking.Run, error) {
	b := &queryBuilder{s: s}
	exps := make([]any, 0, len(q.ExperimentIDs))
	for _, id := range q.ExperimentIDs {
		if n, ok := expID(id); ok {
			exps = append(exps, n)
		}
	}
	if len(exps) == 0 || len(q.Stages) == 0 {
		return nil, nil
	}
	stages := make([]any, len(q.Stages))
	for i, st := range q.Stages {
		stages[i] = string(st)
	}
	b.where = append(b.where, "r.experiment_id IN "+placeholders(len(exps)), "r.lifecycle_stage IN "+placeholders(len(stages)))
	b.args = append(b.args, exps...)
	b.args = append(b.args, stages...)
	scope := strings.Join(b.where, " AND ")
	scopeArgs := append([]any{}, b.args...)
	for _, c := range q.Filter {
		cond, args, err := b.filterCondition(c)
		if err != nil {
			return nil, err
		}
		b.where = append(b.where, cond)
		b.args = append(b.args, args...)
	}

	var runs []tracking.Run
	err := s.read(ctx, func(t tx) error {
		phases, order, err := s.planRunSearch(ctx, t, b, q, scope, scopeArgs)
		if err != nil {
			return err
		}
		if err := b.orderTerms(order, false); err != nil {
			return err
		}
		ids, err := runPhases(ctx, t, b, phases, q.Offset, q.Limit)
		if err != nil {
			return err
		}
		runs, err = s.loadRuns(ctx, t, ids)
		return err
	})
	return runs, err
}

// planRunSearch picks what drives the scan (see SearchRuns) and returns
// the phases to run and the order_by entries left for orderTerms.
func (s *Store) planRunSearch(ctx context.Context, t tx, b *queryBuilder, q tracking.RunQuery, scope string, scopeArgs []any) ([]runPhase, []filter.Order, error) {
	runsOnly := []runPhase{{from: "runs r"}}
	n, err := countUpTo(ctx, t, "SELECT 1 FROM runs r WHERE "+scope, scopeArgs, s.tuning.SmallScope)
	if err != nil || n < s.tuning.SmallScope {
		return runsOnly, q.OrderBy, err
	}
	// The most selective indexable filter clause, if it is selective enough.
	best, bestN := -1, s.tuning.SelectiveFilter
	var bestCond string
	var bestArgs []any
	for i, c := range q.Filter {
		cond, args, ok := indexedCondition(b, c)
		if !ok {
			continue
		}
		n, err := countUpTo(ctx, t, fmt.Sprintf("SELECT 1 FROM %s d WHERE %s", keyTables[c.Entity], cond), args, bestN)
		if err != nil {
			return nil, nil, err
		}
		if n < bestN {
			best, bestN, bestCond, bestArgs = i, n, cond, args
		}
	}
	if best >= 0 {
		c := q.Filter[best]
		return []runPhase{{from: keyTables[c.Entity] + " d CROSS JOIN runs r", where: bestCond + " AND d.run_uuid = r.run_uuid", whereArgs: bestArgs}}, q.OrderBy, nil
	}
	if len(q.OrderBy) == 0 || keyTables[q.OrderBy[0].Entity] == "" {
		return runsOnly, q.OrderBy, nil
	}
	lead := q.OrderBy[0]
	table := keyTables[lead.Entity]
	dir := " DESC"
	if lead.Asc {
		dir = ""
	}
	// CROSS JOIN fixes the join order in SQLite: walk the key's index in
	// value order and look each run up (Postgres plans freely).
	has := runPhase{from: table + " p CROSS JOIN runs r", where: "p.key = ? AND p.run_uuid = r.run_uuid", whereArgs: []any{lead.Key}, order: "p.value" + dir}
	if len(q.OrderBy) == 1 {
		// Ties break by start_time DESC: the key tables carry the run's
		// start time, so the index supplies that order as well.
		has.order += ", p.start_time DESC"
	}
	var phases []runPhase
	if lead.Entity == filter.Metric {
		nan := has
		has.where += " AND p.is_nan = 0"
		nan.where += " AND p.is_nan = 1"
		nan.order = ""
		phases = append(phases, has, nan)
	} else {
		phases = append(phases, has)
	}
	phases = append(phases, runPhase{from: "runs r",
		where:     fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s p WHERE p.run_uuid = r.run_uuid AND p.key = ?)", table),
		whereArgs: []any{lead.Key}})
	return phases, q.OrderBy[1:], nil
}

// indexedCondition renders a filter clause as a condition on alias d of
// its key table when the (key, value) index can answer it.
func indexedCondition(b *queryBuilder, c filter.Clause) (string, []any, bool) {
	if keyTables[c.Entity] == "" {
		return "", nil, false
	}
	switch c.Op {
	case filter.Eq, filter.Gt, filter.Ge, filter.Lt, filter.Le:
	default:
		return "", nil, false
	}
	cond, args, err := b.compare("d.value", c)
	if err != nil {
		return "", nil, false
	}
	if c.Entity == filter.Metric {
		cond = "d.is_nan = 0 AND " + cond
	}
	return "d.key = ? AND " + cond, append([]any{c.Key}, args...), true
}

// countUpTo counts the rows of a SELECT, stopping at limit.
func countUpTo(ctx context.Context, t tx, sel string, args []any, limit int) (int, error) {
	var n int
	err := t.queryRow(ctx, "SELECT COUNT(*) FROM ("+sel+" LIMIT ?) c", append(append([]any{}, args...), limit)...).Scan(&n)
	return n, err
}

// runPhases runs the phases in turn and returns the run ids of the page
// [offset, offset+limit) of their concatenation.
func runPhases(ctx context.Context, t tx, b *queryBuilder, phases []runPhase, offset, limit int) ([]string, error) {
	var ids []string
	need, off := limit, offset
	for _, ph := range phases {
		if need <= 0 {
			break
		}
		where := strings.Join(b.where, " AND ")
		if ph.where != "" {
			where = ph.where + " AND " + where
		}
		args := append(append(append([]any{}, b.joinArgs...), ph.whereArgs...), b.args...)
		orderBy := strings.Join(b.order, ", ")
		if ph.order != "" {
			orderBy = ph.order + ", " + orderBy
		}
		got, err := queryIDs(ctx, t, "SELECT r.run_uuid FROM "+ph.from+" "+strings.Join(b.joins, " ")+
			" WHERE "+where+" ORDER BY "+orderBy+" LIMIT ? OFFSET ?", append(args, need, off)...)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
		need -= len(got)
		if len(got) > 0 || off == 0 {
			off = 0
			continue
		}
		// The whole phase lies before the requested page: skip it.
		var n int
		if err := t.queryRow(ctx, "SELECT COUNT(*) FROM "+ph.from+" WHERE "+where,
			append(append([]any{}, ph.whereArgs...), b.args...)...).Scan(&n); err != nil {
			return nil, err
		}
		off = max(0, off-n)
	}
	return ids, nil
}

func queryIDs(ctx context.Context, t tx, q string, args ...any) ([]string, error) {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// SearchExperiments implements tracking.Store.
func (s *Store) SearchExperiments(ctx context.Context, q tracking.ExperimentQuery) ([]tracking.Experiment, error) {
	b := &queryBuilder{s: s}
	stages := make([]any, len(q.Stages))
	for i, st := range q.Stages {
		stages[i] = string(st)
	}
	b.where = append(b.where, "e.lifecycle_stage IN "+placeholders(len(stages)))
	b.args = append(b.args, stages...)
	for _, c := range q.Filter {
		switch c.Entity {
		case filter.Attribute:
			col, ok := experimentAttributeColumns[c.Key]
			if !ok {
				return nil, errdefs.InvalidArgument("Invalid attribute key '%s' specified.", c.Key)
			}
			if c.Key == "experiment_id" && !c.Numeric {
				col = "CAST(e.experiment_id AS TEXT)"
			}
			cond, args, err := b.compare(col, c)
			if err != nil {
				return nil, err
			}
			b.where = append(b.where, cond)
			b.args = append(b.args, args...)
		case filter.Tag:
			a := b.alias("t")
			cond, args, err := b.compare(a+".value", c)
			if err != nil {
				return nil, err
			}
			b.where = append(b.where, fmt.Sprintf("EXISTS (SELECT 1 FROM experiment_tags %s WHERE %s.experiment_id = e.experiment_id AND %s.key = ? AND %s)", a, a, a, cond))
			b.args = append(b.args, append([]any{c.Key}, args...)...)
		default:
			return nil, errdefs.InvalidArgument("Invalid search entity %s for experiments", c.Entity)
		}
	}
	order := q.OrderBy
	if len(order) == 0 {
		order = []filter.Order{{Entity: filter.Attribute, Key: "creation_time"}, {Entity: filter.Attribute, Key: "experiment_id", Asc: true}}
	}
	idOrdered := false
	for _, o := range order {
		col, ok := experimentAttributeColumns[o.Key]
		if o.Entity != filter.Attribute || !ok {
			return nil, errdefs.InvalidArgument("Invalid order_by clause '%s'.", o.Key)
		}
		if o.Key == "experiment_id" {
			idOrdered = true
		}
		if o.Asc {
			b.order = append(b.order, col)
		} else {
			b.order = append(b.order, col+" DESC")
		}
	}
	if !idOrdered {
		b.order = append(b.order, "e.experiment_id DESC")
	}
	query := "SELECT " + prefixed("e.", experimentColumns) + " FROM experiments e WHERE " + strings.Join(b.where, " AND ") +
		" ORDER BY " + strings.Join(b.order, ", ") + " LIMIT ? OFFSET ?"
	args := append(b.args, q.Limit, q.Offset)
	var exps []tracking.Experiment
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			e, err := scanExperiment(rows)
			if err != nil {
				rows.Close()
				return err
			}
			exps = append(exps, e)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		tags, err := experimentTags(ctx, t, exps)
		for i := range exps {
			exps[i].Tags = tags[exps[i].ID]
		}
		return err
	})
	return exps, err
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(p, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = p + parts[i]
	}
	return strings.Join(parts, ", ")
}
