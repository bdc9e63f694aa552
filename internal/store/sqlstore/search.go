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
			b.order = append(b.order, fmt.Sprintf("CASE WHEN %s IS NULL THEN 1 ELSE 0 END", col), col+dir)
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

// runPhase is one SELECT of a run search; a search is one phase, or three
// when the leading order_by key is a metric, param or tag.
type runPhase struct {
	from      string // FROM clause, after the order joins are appended
	fromArgs  []any
	where     string // extra condition in front of the shared ones
	whereArgs []any
	order     string // leading ORDER BY term, "" for none
}

// SearchRuns implements tracking.Store.
//
// When the leading order_by key is a metric, param or tag, the search runs
// in up to three phases — runs that have the key (driven by the key's
// (key, value) index in sort order, so that LIMIT stops the scan early),
// then runs whose metric is NaN, then runs without the key — and pages
// across them. That keeps "filter + order by a metric" over 100,000 runs
// in milliseconds instead of sorting every run.
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
	for _, c := range q.Filter {
		cond, args, err := b.filterCondition(c)
		if err != nil {
			return nil, err
		}
		b.where = append(b.where, cond)
		b.args = append(b.args, args...)
	}

	var phases []runPhase
	order := q.OrderBy
	if len(order) > 0 && keyTables[order[0].Entity] != "" {
		lead := order[0]
		table := keyTables[lead.Entity]
		dir := " DESC"
		if lead.Asc {
			dir = ""
		}
		// CROSS JOIN fixes the join order in SQLite: scan the key's index
		// in value order and look each run up (Postgres plans freely).
		has := runPhase{from: table + " p CROSS JOIN runs r", where: "p.key = ? AND p.run_uuid = r.run_uuid", whereArgs: []any{lead.Key}, order: "p.value" + dir}
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
		order = order[1:]
	} else {
		phases = append(phases, runPhase{from: "runs r"})
	}
	if err := b.orderTerms(order, false); err != nil {
		return nil, err
	}

	var runs []tracking.Run
	err := s.read(ctx, func(t tx) error {
		var ids []string
		need, off := q.Limit, q.Offset
		for _, ph := range phases {
			if need <= 0 {
				break
			}
			from := ph.from + " " + strings.Join(b.joins, " ")
			where := strings.Join(b.where, " AND ")
			args := append(append([]any{}, b.joinArgs...), ph.whereArgs...)
			if ph.where != "" {
				where = ph.where + " AND " + where
			}
			args = append(args, b.args...)
			orderBy := strings.Join(b.order, ", ")
			if ph.order != "" {
				orderBy = ph.order + ", " + orderBy
			}
			got, err := queryIDs(ctx, t, "SELECT r.run_uuid FROM "+from+" WHERE "+where+" ORDER BY "+orderBy+" LIMIT ? OFFSET ?",
				append(args, need, off)...)
			if err != nil {
				return err
			}
			ids = append(ids, got...)
			need -= len(got)
			switch {
			case len(got) > 0 || off == 0:
				off = 0
			default:
				// The whole phase lies before the requested page: skip it.
				var n int
				if err := t.queryRow(ctx, "SELECT COUNT(*) FROM "+ph.from+" WHERE "+where,
					append(append([]any{}, ph.whereArgs...), b.args...)...).Scan(&n); err != nil {
					return err
				}
				off = max(0, off-n)
			}
		}
		var err error
		runs, err = s.loadRuns(ctx, t, ids)
		return err
	})
	return runs, err
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
