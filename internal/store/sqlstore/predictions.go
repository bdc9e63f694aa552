package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/predlog"
)

// The prediction log's tables (migrations 0008_predictions.sql):
// predictions, one row per logged request; prediction_feedback, the ground
// truth of a request, logged or not. Float arrays are stored as
// little-endian float64 blobs (encodeFloats).

const predictionColumns = `endpoint, request_id, model, version, variant, created_at, latency_us,
	nrows, nfeatures, noutputs, inputs, outputs`

// predictionWidth is the number of predictionColumns.
const predictionWidth = 12

const feedbackWidth = 4

// AppendPredictions implements predlog.Store: one transaction; a record
// whose key is stored already, or comes earlier in recs, is ignored.
func (s *Store) AppendPredictions(ctx context.Context, recs []predlog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	args := make([]any, 0, predictionWidth*len(recs))
	seen := make(map[[2]string]struct{}, len(recs))
	type schemaKey struct {
		endpoint, model string
		version         int64
	}
	schemas := map[schemaKey]string{}
	n := 0
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			return errdefs.InvalidArgument("%v", err)
		}
		k := [2]string{r.Endpoint, r.RequestID}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		if sk := (schemaKey{r.Endpoint, r.Model, r.Version}); len(r.FeatureNames) > 0 && schemas[sk] == "" {
			names, err := encodeNames(r.FeatureNames)
			if err != nil {
				return err
			}
			schemas[sk] = names
		}
		args = append(args, r.Endpoint, r.RequestID, r.Model, r.Version, r.Variant, r.Time, r.LatencyMicros,
			int64(r.Rows), int64(r.Features), int64(r.Outputs), encodeFloats(r.Inputs), encodeFloats(r.Predictions))
		n++
	}
	st, err := s.batchInserts(ctx, `INSERT INTO predictions (`+predictionColumns+`) VALUES `,
		predictionWidth, ` ON CONFLICT (endpoint, request_id) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("prepare prediction insert: %w", err)
	}
	return s.write(ctx, func(t tx) error {
		for _, b := range rowBatches(n) {
			if _, err := t.execStmt(ctx, st[b[1]-b[0]], args[b[0]*predictionWidth:b[1]*predictionWidth]...); err != nil {
				return fmt.Errorf("insert predictions: %w", err)
			}
		}
		for k, names := range schemas {
			if _, err := t.exec(ctx, `INSERT INTO prediction_schemas (endpoint, model, version, feature_names) VALUES (?, ?, ?, ?)
				ON CONFLICT (endpoint, model, version) DO UPDATE SET feature_names = excluded.feature_names`,
				k.endpoint, k.model, k.version, names); err != nil {
				return fmt.Errorf("insert prediction schema: %w", err)
			}
		}
		return nil
	})
}

// PutFeedback implements predlog.Store: an upsert, the last of fb for a
// key winning.
func (s *Store) PutFeedback(ctx context.Context, fb ...predlog.Feedback) error {
	if len(fb) == 0 {
		return nil
	}
	last := make(map[[2]string]int, len(fb))
	for i, f := range fb {
		if f.Endpoint == "" || f.RequestID == "" {
			return errdefs.InvalidArgument("feedback %d: endpoint and request id are required", i)
		}
		last[[2]string{f.Endpoint, f.RequestID}] = i
	}
	args := make([]any, 0, feedbackWidth*len(last))
	for i, f := range fb {
		if last[[2]string{f.Endpoint, f.RequestID}] != i {
			continue // a later entry replaces it
		}
		args = append(args, f.Endpoint, f.RequestID, encodeFloats(f.Truth), f.Time)
	}
	st, err := s.batchInserts(ctx, `INSERT INTO prediction_feedback (endpoint, request_id, truth, created_at) VALUES `,
		feedbackWidth, ` ON CONFLICT (endpoint, request_id) DO UPDATE SET truth = excluded.truth, created_at = excluded.created_at`)
	if err != nil {
		return fmt.Errorf("prepare feedback insert: %w", err)
	}
	return s.write(ctx, func(t tx) error {
		for _, b := range rowBatches(len(last)) {
			if _, err := t.execStmt(ctx, st[b[1]-b[0]], args[b[0]*feedbackWidth:b[1]*feedbackWidth]...); err != nil {
				return fmt.Errorf("insert feedback: %w", err)
			}
		}
		return nil
	})
}

// batchInserts prepares head + rows + tail for every size of batchSizes.
func (s *Store) batchInserts(ctx context.Context, head string, width int, tail string) (map[int]*sql.Stmt, error) {
	qs := make([]string, len(batchSizes))
	for i, n := range batchSizes {
		qs[i] = head + valuesRows(n, width) + tail
	}
	st, err := s.prepared(ctx, qs...)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*sql.Stmt, len(batchSizes))
	for i, n := range batchSizes {
		out[n] = st[i]
	}
	return out, nil
}

// ListPredictions implements predlog.Store, walking the (endpoint,
// created_at, request_id) index from q.After.
func (s *Store) ListPredictions(ctx context.Context, q predlog.Query) ([]predlog.Logged, error) {
	if q.Endpoint == "" {
		return nil, errdefs.InvalidArgument("list predictions: an endpoint is required")
	}
	if q.Limit <= 0 {
		return nil, fmt.Errorf("list predictions: limit %d must be positive", q.Limit)
	}
	join := `LEFT JOIN`
	if q.WithFeedbackOnly {
		join = `JOIN`
	}
	where := []string{`p.endpoint = ?`}
	args := []any{q.Endpoint}
	if q.Since > 0 {
		where = append(where, `p.created_at >= ?`)
		args = append(args, q.Since)
	}
	if q.Until > 0 {
		where = append(where, `p.created_at < ?`)
		args = append(args, q.Until)
	}
	if q.Version != 0 {
		where = append(where, `p.version = ?`)
		args = append(args, q.Version)
	}
	if !q.After.IsZero() {
		where = append(where, `(p.created_at > ? OR (p.created_at = ? AND p.request_id > ?))`)
		args = append(args, q.After.Time, q.After.Time, q.After.RequestID)
	}
	order := ""
	if q.Newest {
		if !q.After.IsZero() {
			return nil, errdefs.InvalidArgument("list predictions: the newest predictions do not page")
		}
		order = " DESC"
	}
	query := `SELECT p.endpoint, p.request_id, p.model, p.version, p.variant, p.created_at, p.latency_us,
			p.nrows, p.nfeatures, p.noutputs, p.inputs, p.outputs, COALESCE(s.feature_names, ''), f.truth, f.created_at
		FROM predictions p ` + join + ` prediction_feedback f ON f.endpoint = p.endpoint AND f.request_id = p.request_id
		LEFT JOIN prediction_schemas s ON s.endpoint = p.endpoint AND s.model = p.model AND s.version = p.version
		WHERE ` + strings.Join(where, ` AND `) + `
		ORDER BY p.created_at` + order + `, p.request_id` + order + ` LIMIT ?`
	args = append(args, q.Limit)
	var out []predlog.Logged
	err := s.read(ctx, func(t tx) error {
		rows, err := t.query(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list predictions: %w", err)
		}
		defer rows.Close()
		names := map[string][]string{} // the few schemas of the answer, decoded once
		for rows.Next() {
			l, err := scanLogged(rows, names)
			if err != nil {
				return fmt.Errorf("list predictions: %w", err)
			}
			out = append(out, l)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list predictions: %w", err)
		}
		return nil
	})
	if q.Newest {
		slices.Reverse(out)
	}
	return out, err
}

// scanLogged reads one row of ListPredictions; schemas caches decoded
// feature names by their JSON (the rows of a version share one slice).
func scanLogged(rows *sql.Rows, schemas map[string][]string) (predlog.Logged, error) {
	var l predlog.Logged
	var nrows, nfeat, nout int64
	var inputs, outputs, truth []byte
	var names string
	var fbTime sql.NullInt64
	if err := rows.Scan(&l.Endpoint, &l.RequestID, &l.Model, &l.Version, &l.Variant, &l.Time, &l.LatencyMicros,
		&nrows, &nfeat, &nout, &inputs, &outputs, &names, &truth, &fbTime); err != nil {
		return l, err
	}
	l.Rows, l.Features, l.Outputs = int(nrows), int(nfeat), int(nout)
	var err error
	if l.Inputs, err = decodeFloats(inputs); err != nil {
		return l, fmt.Errorf("prediction %s inputs: %w", l.RequestID, err)
	}
	if l.Predictions, err = decodeFloats(outputs); err != nil {
		return l, fmt.Errorf("prediction %s outputs: %w", l.RequestID, err)
	}
	if names != "" {
		fn, ok := schemas[names]
		if !ok {
			if err := json.Unmarshal([]byte(names), &fn); err != nil {
				return l, fmt.Errorf("prediction %s feature names: %w", l.RequestID, err)
			}
			schemas[names] = fn
		}
		l.FeatureNames = fn
	}
	if err := l.Validate(); err != nil {
		return l, fmt.Errorf("stored %w", err)
	}
	if fbTime.Valid {
		if l.Truth, err = decodeFloats(truth); err != nil {
			return l, fmt.Errorf("feedback %s: %w", l.RequestID, err)
		}
		l.FeedbackTime = fbTime.Int64
	}
	return l, nil
}

// encodeFloats stores v as little-endian float64s (never nil: both
// drivers would bind nil as NULL).
func encodeFloats(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func decodeFloats(b []byte) ([]float64, error) {
	if len(b)%8 != 0 {
		return nil, fmt.Errorf("float array of %d bytes", len(b))
	}
	if len(b) == 0 {
		return nil, nil
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

func encodeNames(names []string) (string, error) {
	if len(names) == 0 {
		return "", nil
	}
	b, err := json.Marshal(names)
	if err != nil {
		return "", fmt.Errorf("encode feature names: %w", err)
	}
	return string(b), nil
}
