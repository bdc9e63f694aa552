package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/tracking"
)

// CreateRun implements tracking.Store.
func (s *Store) CreateRun(ctx context.Context, run tracking.Run) error {
	i := run.Info
	return s.write(ctx, func(t tx) error {
		n, stage, err := s.experimentStage(ctx, t, i.ExperimentID)
		if err != nil {
			return err
		}
		if stage != tracking.StageActive {
			return tracking.ExperimentNotActive(i.ExperimentID, stage)
		}
		if _, err := t.exec(ctx, `INSERT INTO runs (run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			i.RunID, i.RunName, n, i.UserID, string(i.Status), i.StartTime, i.EndTime, i.ArtifactURI, string(tracking.StageActive)); err != nil {
			return err
		}
		return s.upsertTags(ctx, t, i.RunID, i.StartTime, run.Data.Tags)
	})
}

// runRow is what writes need to know of a run.
type runRow struct {
	id    int64 // integer key of the metric history
	stage tracking.LifecycleStage
	start int64 // start time, carried by the key tables for search order
}

// runStage reads a run inside t, locking its row.
func (s *Store) runStage(ctx context.Context, t tx, uuid string) (runRow, error) {
	var r runRow
	var stage string
	err := t.queryRow(ctx, `SELECT id, lifecycle_stage, start_time FROM runs WHERE run_uuid = ?`+s.d.ForUpdate, uuid).Scan(&r.id, &stage, &r.start)
	if errors.Is(err, sql.ErrNoRows) {
		return r, tracking.RunNotFound(uuid)
	}
	r.stage = tracking.LifecycleStage(stage)
	return r, err
}

// activeRun fails unless the run exists and is active.
func (s *Store) activeRun(ctx context.Context, t tx, uuid string) (runRow, error) {
	r, err := s.runStage(ctx, t, uuid)
	if err == nil && r.stage != tracking.StageActive {
		err = tracking.RunNotActive(uuid, r.stage)
	}
	return r, err
}

// GetRun implements tracking.Store.
func (s *Store) GetRun(ctx context.Context, id string) (tracking.Run, error) {
	var run tracking.Run
	err := s.read(ctx, func(t tx) error {
		runs, err := s.loadRuns(ctx, t, []string{id})
		if err != nil {
			return err
		}
		if len(runs) == 0 {
			return tracking.RunNotFound(id)
		}
		run = runs[0]
		return nil
	})
	return run, err
}

const runColumns = `run_uuid, name, experiment_id, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage`

func scanRunInfo(row interface{ Scan(...any) error }) (tracking.RunInfo, error) {
	var i tracking.RunInfo
	var exp int64
	var status, stage string
	var end sql.NullInt64
	err := row.Scan(&i.RunID, &i.RunName, &exp, &i.UserID, &status, &i.StartTime, &end, &i.ArtifactURI, &stage)
	i.ExperimentID = strconv.FormatInt(exp, 10)
	i.Status = tracking.RunStatus(status)
	i.LifecycleStage = tracking.LifecycleStage(stage)
	if end.Valid {
		v := end.Int64
		i.EndTime = &v
	}
	return i, err
}

// loadRuns returns the runs with the given ids, in the order of ids,
// with latest metrics, params, tags and inputs; unknown ids are skipped.
func (s *Store) loadRuns(ctx context.Context, t tx, ids []string) ([]tracking.Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	byID := make(map[string]*tracking.Run, len(ids))
	runs := make([]tracking.Run, 0, len(ids))
	// Chunk IN lists so that large pages stay within bind limits.
	const chunk = 500
	for lo := 0; lo < len(ids); lo += chunk {
		part := ids[lo:min(lo+chunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		in := placeholders(len(args))
		rows, err := t.query(ctx, `SELECT `+runColumns+` FROM runs WHERE run_uuid IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			info, err := scanRunInfo(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			runs = append(runs, tracking.Run{Info: info})
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		// runs has capacity len(ids): the pointers stay valid.
		for i := len(byID); i < len(runs); i++ {
			byID[runs[i].Info.RunID] = &runs[i]
		}
		if err := s.loadKV(ctx, t, `SELECT run_uuid, key, value FROM tags WHERE run_uuid IN `+in, args, func(r *tracking.Run, k, v string) {
			r.Data.Tags = append(r.Data.Tags, tracking.Tag{Key: k, Value: v})
		}, byID); err != nil {
			return nil, err
		}
		if err := s.loadKV(ctx, t, `SELECT run_uuid, key, value FROM params WHERE run_uuid IN `+in, args, func(r *tracking.Run, k, v string) {
			r.Data.Params = append(r.Data.Params, tracking.Param{Key: k, Value: v})
		}, byID); err != nil {
			return nil, err
		}
		rows, err = t.query(ctx, `SELECT run_uuid, key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid IN `+in, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var m tracking.Metric
			var isNaN int
			if err := rows.Scan(&id, &m.Key, &m.Value, &m.Timestamp, &m.Step, &isNaN); err != nil {
				rows.Close()
				return nil, err
			}
			if isNaN != 0 {
				m.Value = math.NaN()
			}
			if r := byID[id]; r != nil {
				r.Data.Metrics = append(r.Data.Metrics, m)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := s.loadInputs(ctx, t, in, args, byID); err != nil {
			return nil, err
		}
	}
	// Order as asked and sort each run's data by key, as MLflow answers.
	out := make([]tracking.Run, 0, len(runs))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			r.Data.Sort()
			out = append(out, *r)
		}
	}
	return out, nil
}

func (s *Store) loadKV(ctx context.Context, t tx, q string, args []any, add func(*tracking.Run, string, string), byID map[string]*tracking.Run) error {
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		if r := byID[id]; r != nil {
			add(r, k, v)
		}
	}
	return rows.Err()
}

func (s *Store) loadInputs(ctx context.Context, t tx, in string, args []any, byID map[string]*tracking.Run) error {
	rows, err := t.query(ctx, `SELECT i.destination_id, i.input_uuid, d.name, d.digest, d.dataset_source_type, d.dataset_source, d.dataset_schema, d.dataset_profile
		FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id
		WHERE i.destination_type = 'RUN' AND i.source_type = 'DATASET' AND i.destination_id IN `+in+`
		ORDER BY i.destination_id, d.name, d.digest`, args...)
	if err != nil {
		return err
	}
	type ref struct {
		run *tracking.Run
		idx int
	}
	inputs := map[string]ref{}
	var inputIDs []any
	for rows.Next() {
		var runID, inputID string
		var d tracking.Dataset
		if err := rows.Scan(&runID, &inputID, &d.Name, &d.Digest, &d.SourceType, &d.Source, &d.Schema, &d.Profile); err != nil {
			rows.Close()
			return err
		}
		r := byID[runID]
		if r == nil {
			continue
		}
		r.Inputs = append(r.Inputs, tracking.DatasetInput{Dataset: d})
		inputs[inputID] = ref{run: r, idx: len(r.Inputs) - 1}
		inputIDs = append(inputIDs, inputID)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for lo := 0; lo < len(inputIDs); lo += 500 {
		part := inputIDs[lo:min(lo+500, len(inputIDs))]
		rows, err := t.query(ctx, `SELECT input_uuid, name, value FROM input_tags WHERE input_uuid IN `+placeholders(len(part))+` ORDER BY input_uuid, name`, part...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var tag tracking.Tag
			if err := rows.Scan(&id, &tag.Key, &tag.Value); err != nil {
				rows.Close()
				return err
			}
			if r, ok := inputs[id]; ok {
				in := &r.run.Inputs[r.idx]
				in.Tags = append(in.Tags, tag)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

// UpdateRun implements tracking.Store.
func (s *Store) UpdateRun(ctx context.Context, id string, u tracking.RunUpdate) (tracking.RunInfo, error) {
	var info tracking.RunInfo
	err := s.write(ctx, func(t tx) error {
		run, err := s.activeRun(ctx, t, id)
		if err != nil {
			return err
		}
		if u.Status != nil {
			if _, err := t.exec(ctx, `UPDATE runs SET status = ? WHERE run_uuid = ?`, string(*u.Status), id); err != nil {
				return err
			}
		}
		if u.EndTime != nil {
			if _, err := t.exec(ctx, `UPDATE runs SET end_time = ? WHERE run_uuid = ?`, *u.EndTime, id); err != nil {
				return err
			}
		}
		if u.RunName != nil {
			if err := s.upsertTags(ctx, t, id, run.start, []tracking.Tag{{Key: tracking.TagRunName, Value: *u.RunName}}); err != nil {
				return err
			}
		}
		info, err = scanRunInfo(t.queryRow(ctx, `SELECT `+runColumns+` FROM runs WHERE run_uuid = ?`, id))
		return err
	})
	return info, err
}

// SetRunStage implements tracking.Store.
func (s *Store) SetRunStage(ctx context.Context, id string, stage tracking.LifecycleStage, now int64) error {
	return s.write(ctx, func(t tx) error {
		if _, err := s.runStage(ctx, t, id); err != nil {
			return err
		}
		var deleted any
		if stage == tracking.StageDeleted {
			deleted = now
		}
		_, err := t.exec(ctx, `UPDATE runs SET lifecycle_stage = ?, deleted_time = ? WHERE run_uuid = ?`, string(stage), deleted, id)
		return err
	})
}

// upsertTags sets run tags; mlflow.runName also renames the run.
func (s *Store) upsertTags(ctx context.Context, t tx, runID string, start int64, tags []tracking.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	// One value per key: the last one wins, as sequential set-tag calls would.
	last := make(map[string]int, len(tags))
	for i, tag := range tags {
		last[tag.Key] = i
	}
	args := make([]any, 0, 4*len(last))
	rows := 0
	for i, tag := range tags {
		if last[tag.Key] != i {
			continue
		}
		args = append(args, runID, tag.Key, tag.Value, start)
		rows++
		if tag.Key == tracking.TagRunName {
			if _, err := t.exec(ctx, `UPDATE runs SET name = ? WHERE run_uuid = ?`, tag.Value, runID); err != nil {
				return err
			}
		}
	}
	_, err := t.exec(ctx, `INSERT INTO tags (run_uuid, key, value, start_time) VALUES `+valuesRows(rows, 4)+`
		ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value`, args...)
	return err
}

// LogBatch implements tracking.Store.
func (s *Store) LogBatch(ctx context.Context, runID string, metrics []tracking.Metric, params []tracking.Param, tags []tracking.Tag) error {
	ins, err := s.metricStatements(ctx)
	if err != nil {
		return err
	}
	return s.write(ctx, func(t tx) error {
		run, err := s.activeRun(ctx, t, runID)
		if err != nil {
			return err
		}
		if err := s.insertParams(ctx, t, runID, run.start, params); err != nil {
			return err
		}
		if err := s.upsertTags(ctx, t, runID, run.start, tags); err != nil {
			return err
		}
		return insertMetrics(ctx, t, ins, runID, run, metrics)
	})
}

// insertParams adds new params and refuses changed values. It inserts
// first and compares after, so that concurrent writers of the same key
// are serialised by the primary key.
func (s *Store) insertParams(ctx context.Context, t tx, runID string, start int64, params []tracking.Param) error {
	if len(params) == 0 {
		return nil
	}
	args := make([]any, 0, 4*len(params))
	keys := make([]any, 0, len(params)+1)
	keys = append(keys, runID)
	for _, p := range params {
		args = append(args, runID, p.Key, p.Value, start)
		keys = append(keys, p.Key)
	}
	if _, err := t.exec(ctx, `INSERT INTO params (run_uuid, key, value, start_time) VALUES `+valuesRows(len(params), 4)+`
		ON CONFLICT (run_uuid, key) DO NOTHING`, args...); err != nil {
		return err
	}
	rows, err := t.query(ctx, `SELECT key, value FROM params WHERE run_uuid = ? AND key IN `+placeholders(len(params)), keys...)
	if err != nil {
		return err
	}
	defer rows.Close()
	stored := make(map[string]string, len(params))
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		stored[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range params {
		if old := stored[p.Key]; old != p.Value {
			return tracking.ParamChanged(runID, p.Key, old, p.Value)
		}
	}
	return nil
}

// metricRow is a metric as stored: NaN becomes 0 with isNaN set.
func metricRow(m tracking.Metric) (value float64, isNaN int) {
	if math.IsNaN(m.Value) {
		return 0, 1
	}
	return m.Value, 0
}

// newer reports whether a is later than b by (step, timestamp, value).
func newer(a, b tracking.Metric) bool {
	if a.Step != b.Step {
		return a.Step > b.Step
	}
	if a.Timestamp != b.Timestamp {
		return a.Timestamp > b.Timestamp
	}
	av, _ := metricRow(a)
	bv, _ := metricRow(b)
	return av > bv
}

// metricInserts are the prepared multi-row metric statements, one per
// batch size: parsing a 250-row INSERT costs as much as running it.
type metricInserts struct {
	history, latest map[int]*sql.Stmt
}

const (
	insertHistoryHead = `INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan) VALUES `
	insertHistoryTail = ` ON CONFLICT DO NOTHING`
	upsertLatestHead  = `INSERT INTO latest_metrics AS lm (run_uuid, key, step, timestamp, value, is_nan, start_time) VALUES `
	upsertLatestTail  = `
		ON CONFLICT (run_uuid, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp,
			value = excluded.value, is_nan = excluded.is_nan
		WHERE excluded.step > lm.step
		   OR (excluded.step = lm.step AND excluded.timestamp > lm.timestamp)
		   OR (excluded.step = lm.step AND excluded.timestamp = lm.timestamp AND excluded.value > lm.value)`
)

// metricQueries are the statements insertMetrics uses: history then
// latest for each batch size.
var metricQueries = func() []string {
	var qs []string
	for _, n := range batchSizes {
		qs = append(qs, insertHistoryHead+valuesRows(n, 6)+insertHistoryTail, upsertLatestHead+valuesRows(n, 7)+upsertLatestTail)
	}
	return qs
}()

// metricStatements returns the prepared statements of insertMetrics; like
// prepared, it must run outside a write transaction.
func (s *Store) metricStatements(ctx context.Context) (*metricInserts, error) {
	st, err := s.prepared(ctx, metricQueries...)
	if err != nil {
		return nil, err
	}
	ins := &metricInserts{history: make(map[int]*sql.Stmt, len(batchSizes)), latest: make(map[int]*sql.Stmt, len(batchSizes))}
	for i, n := range batchSizes {
		ins.history[n], ins.latest[n] = st[2*i], st[2*i+1]
	}
	return ins, nil
}

// insertMetrics appends metric values and advances latest_metrics.
func insertMetrics(ctx context.Context, t tx, ins *metricInserts, runUUID string, run runRow, metrics []tracking.Metric) error {
	if len(metrics) == 0 {
		return nil
	}
	// In (key, step, timestamp, value) order the inserts land next to each
	// other in the history's B-tree, and the last row of each key is its
	// latest value.
	sorted := make([]tracking.Metric, len(metrics))
	copy(sorted, metrics)
	slices.SortFunc(sorted, func(a, b tracking.Metric) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		if newer(a, b) {
			return 1
		}
		if newer(b, a) {
			return -1
		}
		return 0
	})
	var latest []tracking.Metric
	for i, m := range sorted {
		if i == len(sorted)-1 || sorted[i+1].Key != m.Key {
			latest = append(latest, m)
		}
	}
	history := make([]any, 0, 6*min(len(sorted), batchSizes[0]))
	for _, b := range rowBatches(len(sorted)) {
		history = history[:0]
		for _, m := range sorted[b[0]:b[1]] {
			v, isNaN := metricRow(m)
			history = append(history, run.id, m.Key, m.Step, m.Timestamp, v, isNaN)
		}
		if _, err := t.execStmt(ctx, ins.history[b[1]-b[0]], history...); err != nil {
			return err
		}
	}
	args := make([]any, 0, 7*min(len(latest), batchSizes[0]))
	for _, b := range rowBatches(len(latest)) {
		args = args[:0]
		for _, m := range latest[b[0]:b[1]] {
			v, isNaN := metricRow(m)
			args = append(args, runUUID, m.Key, m.Step, m.Timestamp, v, isNaN, run.start)
		}
		if _, err := t.execStmt(ctx, ins.latest[b[1]-b[0]], args...); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTag implements tracking.Store.
func (s *Store) DeleteTag(ctx context.Context, runID, key string) error {
	return s.write(ctx, func(t tx) error {
		if _, err := s.activeRun(ctx, t, runID); err != nil {
			return err
		}
		res, err := t.exec(ctx, `DELETE FROM tags WHERE run_uuid = ? AND key = ?`, runID, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tracking.TagNotFound(runID, key)
		}
		return nil
	})
}

// UpdateTag implements tracking.Store.
func (s *Store) UpdateTag(ctx context.Context, runID, key string, fn func(old string, found bool) (string, error)) error {
	return s.write(ctx, func(t tx) error {
		run, err := s.activeRun(ctx, t, runID)
		if err != nil {
			return err
		}
		var old string
		err = t.queryRow(ctx, `SELECT value FROM tags WHERE run_uuid = ? AND key = ?`, runID, key).Scan(&old)
		found := err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		v, err := fn(old, found)
		if err != nil {
			return err
		}
		return s.upsertTags(ctx, t, runID, run.start, []tracking.Tag{{Key: key, Value: v}})
	})
}

// LogInputs implements tracking.Store.
func (s *Store) LogInputs(ctx context.Context, runID string, inputs []tracking.DatasetInput) error {
	return s.write(ctx, func(t tx) error {
		if _, err := s.activeRun(ctx, t, runID); err != nil {
			return err
		}
		var exp int64
		if err := t.queryRow(ctx, `SELECT experiment_id FROM runs WHERE run_uuid = ?`, runID).Scan(&exp); err != nil {
			return err
		}
		for _, in := range inputs {
			d := in.Dataset
			// Insert-or-nothing, then read: concurrent writers of one
			// dataset never collide on the unique key.
			if _, err := t.exec(ctx, `INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, dataset_source_type, dataset_source, dataset_schema, dataset_profile)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (experiment_id, name, digest) DO NOTHING`,
				tracking.NewID(), exp, d.Name, d.Digest, d.SourceType, d.Source, d.Schema, d.Profile); err != nil {
				return err
			}
			var dsID string
			if err := t.queryRow(ctx, `SELECT dataset_uuid FROM datasets WHERE experiment_id = ? AND name = ? AND digest = ?`, exp, d.Name, d.Digest).Scan(&dsID); err != nil {
				return err
			}
			var inputID string
			err := t.queryRow(ctx, `INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, destination_id)
				VALUES (?, 'DATASET', ?, 'RUN', ?) ON CONFLICT (source_type, source_id, destination_type, destination_id) DO NOTHING
				RETURNING input_uuid`, tracking.NewID(), dsID, runID).Scan(&inputID)
			if errors.Is(err, sql.ErrNoRows) {
				continue // already recorded: MLflow keeps the first
			}
			if err != nil {
				return err
			}
			for _, tag := range in.Tags {
				if _, err := t.exec(ctx, `INSERT INTO input_tags (input_uuid, name, value) VALUES (?, ?, ?)
					ON CONFLICT (input_uuid, name) DO UPDATE SET value = excluded.value`, inputID, tag.Key, tag.Value); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// MetricHistory implements tracking.Store.
func (s *Store) MetricHistory(ctx context.Context, runID, key string) ([]tracking.Metric, error) {
	var out []tracking.Metric
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, `SELECT m.key, m.value, m.timestamp, m.step, m.is_nan FROM metrics m JOIN runs r ON r.id = m.run_id
			WHERE r.run_uuid = ? AND m.key = ? ORDER BY m.step, m.timestamp, m.value`, runID, key)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m tracking.Metric
			var isNaN int
			if err := rows.Scan(&m.Key, &m.Value, &m.Timestamp, &m.Step, &isNaN); err != nil {
				return err
			}
			if isNaN != 0 {
				m.Value = math.NaN()
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}

// MetricHistoryRange implements tracking.Store.
func (s *Store) MetricHistoryRange(ctx context.Context, runIDs []string, key string, startStep, endStep *int64) ([]tracking.RunMetric, error) {
	var out []tracking.RunMetric
	err := s.read(ctx, func(t tx) error {
		args := make([]any, 0, len(runIDs)+3)
		for _, id := range runIDs {
			args = append(args, id)
		}
		q := `SELECT r.run_uuid, m.key, m.value, m.timestamp, m.step, m.is_nan FROM metrics m JOIN runs r ON r.id = m.run_id
			WHERE r.run_uuid IN ` + placeholders(len(runIDs)) + ` AND m.key = ?`
		args = append(args, key)
		if startStep != nil {
			q += ` AND m.step >= ?`
			args = append(args, *startStep)
		}
		if endStep != nil {
			q += ` AND m.step <= ?`
			args = append(args, *endStep)
		}
		rows, err := t.query(ctx, q+` ORDER BY r.run_uuid, m.step, m.timestamp, m.value`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m tracking.RunMetric
			var isNaN int
			if err := rows.Scan(&m.RunID, &m.Key, &m.Value, &m.Timestamp, &m.Step, &isNaN); err != nil {
				return err
			}
			if isNaN != 0 {
				m.Value = math.NaN()
			}
			out = append(out, m)
		}
		return rows.Err()
	})
	return out, err
}
