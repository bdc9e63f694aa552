// Package inference turns prediction requests into the dense feature
// matrix a model runtime reads: the Open Inference Protocol's tensors and
// MLflow's scoring formats (dataframe_split, dataframe_records,
// instances, inputs, text/csv), each checked against the model's input
// signature. Every mistake is an errdefs.ErrInvalidArgument naming the
// field, row or feature at fault; values are never guessed.
package inference

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

// Batch is decoded input: Rows rows of the model's features, row-major,
// NaN for a missing value.
type Batch struct {
	X    []float64
	Rows int
}

// MaxRows bounds one request's rows (a batch larger than this belongs in
// `ferry predict`).
const MaxRows = 1 << 20

func invalid(format string, args ...any) error { return errdefs.InvalidArgument(format, args...) }

// columns maps request column names to feature positions.
type columns struct {
	sig   modelrt.Signature
	index map[string]int // feature name → position (named models only)
	named bool
}

func newColumns(sig modelrt.Signature) columns {
	c := columns{sig: sig, index: make(map[string]int, len(sig.Inputs))}
	for i, f := range sig.Inputs {
		if f.Name != "" {
			c.index[f.Name] = i
			c.named = true
		}
	}
	return c
}

// featureName is how a message names feature i.
func (c columns) featureName(i int) string {
	if n := c.sig.Inputs[i].Name; n != "" {
		return n
	}
	return "f" + strconv.Itoa(i)
}

// positions maps named request columns to features: every feature must
// be there; columns the model does not know are ignored, as MLflow's
// schema enforcement does. pos[j] is the feature of column j, or -1.
func (c columns) positions(names []string) ([]int, error) {
	pos := make([]int, len(names))
	seen := make([]bool, len(c.sig.Inputs))
	for j, n := range names {
		i, ok := c.index[n]
		if !ok && !c.named {
			// A model without feature names takes f0, f1, ... or
			// positions.
			if k, err := strconv.Atoi(strings.TrimPrefix(n, "f")); err == nil && strings.HasPrefix(n, "f") && k >= 0 && k < len(seen) {
				i, ok = k, true
			}
		}
		if !ok {
			pos[j] = -1
			continue
		}
		if seen[i] {
			return nil, invalid("Column '%s' appears twice.", n)
		}
		seen[i] = true
		pos[j] = i
	}
	for i, s := range seen {
		if !s {
			return nil, invalid("Missing feature '%s': the model needs %d features (%s).", c.featureName(i), len(seen), c.list())
		}
	}
	return pos, nil
}

func (c columns) list() string {
	names := make([]string, len(c.sig.Inputs))
	for i := range names {
		names[i] = c.featureName(i)
	}
	s := strings.Join(names, ", ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// value converts one JSON value of feature i (a number, true/false, null
// for missing, or a numeric string) to a float64; errors name the format
// (what) and the row.
func (c columns) value(raw []byte, i int, what string, row int) (float64, error) {
	v, err := scalar(raw)
	if err != nil {
		return 0, invalid("%s row %d, feature '%s': %v", what, row, c.featureName(i), err)
	}
	if c.sig.Inputs[i].Type == modelrt.Categorical && !math.IsNaN(v) && (v < 0 || v != math.Trunc(v)) {
		return 0, invalid("%s row %d, feature '%s': a category must be a non-negative integer, got %s", what, row, c.featureName(i), raw)
	}
	return v, nil
}

// scalar reads a JSON number, boolean, null or numeric string.
func scalar(raw []byte) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, errors.New("no value")
	}
	switch raw[0] {
	case 'n':
		if string(raw) == "null" {
			return math.NaN(), nil
		}
	case 't':
		if string(raw) == "true" {
			return 1, nil
		}
	case 'f':
		if string(raw) == "false" {
			return 0, nil
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, errors.New("malformed string")
		}
		switch s {
		case "NaN", "nan", "":
			return math.NaN(), nil
		case "Infinity", "inf":
			return math.Inf(1), nil
		case "-Infinity", "-inf":
			return math.Inf(-1), nil
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		return v, nil
	case '[', '{':
		return 0, errors.New("expected a number, got a list or an object")
	default:
		// The bytes are only read during the call (no copy to a string).
		v, err := strconv.ParseFloat(unsafe.String(&raw[0], len(raw)), 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a number", raw)
		}
		return v, nil
	}
	return 0, fmt.Errorf("%s is not a number", raw)
}

// ---- MLflow scoring formats

// DecodeMLflow decodes an MLflow /invocations body. contentType is the
// request's Content-Type: application/json (one of dataframe_split,
// dataframe_records, instances, inputs, plus optional params) or text/csv
// (a header row of column names). Anything else is ErrUnsupportedMedia.
func DecodeMLflow(body []byte, contentType string, sig modelrt.Signature) (Batch, error) {
	return NewSchema(sig).DecodeMLflow(body, contentType)
}

// Schema is a model's signature prepared for decoding many requests (the
// feature-name index is built once).
type Schema struct{ c columns }

// NewSchema prepares sig.
func NewSchema(sig modelrt.Signature) *Schema { return &Schema{c: newColumns(sig)} }

// DecodeMLflow is the package's DecodeMLflow for the schema's model.
func (s *Schema) DecodeMLflow(body []byte, contentType string) (Batch, error) {
	mt, params := parseMediaType(contentType)
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return Batch{}, ErrUnsupportedMedia
	}
	c := s.c
	switch mt {
	case "application/json":
		return decodeMLflowJSON(body, c)
	case "text/csv":
		return decodeCSV(body, c)
	}
	return Batch{}, ErrUnsupportedMedia
}

// ErrUnsupportedMedia is the error of a Content-Type MLflow's scoring
// server does not take (it answers 415).
var ErrUnsupportedMedia = fmt.Errorf("%w: Content-Type must be application/json or text/csv (charset utf-8)", errdefs.ErrInvalidArgument)

func parseMediaType(ct string) (string, map[string]string) {
	params := map[string]string{}
	parts := strings.Split(ct, ";")
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), params
}

// mlflowKeys are the input formats of the scoring protocol.
var mlflowKeys = [...]string{"dataframe_split", "dataframe_records", "instances", "inputs"}

// mlflowBody is a JSON scoring request; the split form is decoded in the
// same pass, the others later from their raw JSON.
type mlflowBody struct {
	Split     *splitBody      `json:"dataframe_split"`
	Records   json.RawMessage `json:"dataframe_records"`
	Instances json.RawMessage `json:"instances"`
	Inputs    json.RawMessage `json:"inputs"`
	Params    json.RawMessage `json:"params"`
}

type splitBody struct {
	Columns []string        `json:"columns"`
	Data    json.RawMessage `json:"data"`
	Index   json.RawMessage `json:"index"`
}

func decodeMLflowJSON(body []byte, c columns) (Batch, error) {
	var top mlflowBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&top)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the object")
	}
	if err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return Batch{}, invalid("Invalid input. Unknown key '%s': expected one of %s (and params).", strings.Trim(f, `"`), strings.Join(mlflowKeys[:], ", "))
		}
		if strings.HasPrefix(err.Error(), "json: cannot unmarshal") && strings.Contains(err.Error(), "dataframe_split") {
			return Batch{}, invalid("dataframe_split must be {\"columns\": [names], \"data\": [[row], ...]}: %v", err)
		}
		return Batch{}, invalid("Invalid input. The body must be a JSON object with one of the keys %s: %v", strings.Join(mlflowKeys[:], ", "), err)
	}
	var key string
	for k, present := range map[string]bool{"dataframe_split": top.Split != nil, "dataframe_records": top.Records != nil,
		"instances": top.Instances != nil, "inputs": top.Inputs != nil} {
		if !present {
			continue
		}
		if key != "" {
			a, b := min(key, k), max(key, k)
			return Batch{}, invalid("Invalid input. The body must have exactly one of %s; it has %s and %s.", strings.Join(mlflowKeys[:], ", "), a, b)
		}
		key = k
	}
	switch key {
	case "dataframe_split":
		return decodeSplit(*top.Split, c)
	case "dataframe_records":
		return decodeRecords(top.Records, c, "dataframe_records")
	case "instances":
		return decodeRows(top.Instances, c, "instances")
	case "inputs":
		return decodeInputs(top.Inputs, c)
	}
	return Batch{}, invalid("Invalid input. The body must have one of the keys %s.", strings.Join(mlflowKeys[:], ", "))
}

func checkRows(n int) error {
	if n == 0 {
		return invalid("The request holds no rows.")
	}
	if n > MaxRows {
		return invalid("The request holds %d rows; at most %d are taken at once (use ferry predict for files).", n, MaxRows)
	}
	return nil
}

// decodeSplit reads {"columns": [...], "data": [[...], ...], "index": [...]}.
// The rows are read by scanning the (already validated) JSON of data in
// place: no value is copied or boxed on the way to the feature matrix.
func decodeSplit(split splitBody, c columns) (Batch, error) {
	rows, width, err := scanRows(split.Data, nil, nil)
	if err != nil {
		return Batch{}, invalid("dataframe_split data: %v", err)
	}
	if split.Columns == nil {
		split.Columns = positional(c, width)
	}
	pos, err := c.positions(split.Columns)
	if err != nil {
		return Batch{}, err
	}
	if err := checkRows(rows); err != nil {
		return Batch{}, err
	}
	nf := len(c.sig.Inputs)
	b := Batch{X: make([]float64, rows*nf), Rows: rows}
	_, _, err = scanRows(split.Data, func(r, n int) error {
		if n != len(split.Columns) {
			return invalid("dataframe_split row %d has %d values for %d columns.", r, n, len(split.Columns))
		}
		return nil
	}, func(r, j int, v []byte) error {
		if pos[j] < 0 {
			return nil
		}
		x, err := c.value(v, pos[j], "dataframe_split", r)
		b.X[r*nf+pos[j]] = x
		return err
	})
	if err != nil {
		return Batch{}, err
	}
	return b, nil
}

// scanRows walks valid JSON that must be a list of lists of scalars,
// calling row (when not nil) with each row's index and length, then cell
// (when not nil) with each of its values' row, column and bytes; it
// returns the number of rows and the first row's length. A row that is
// not a list, or a value that is a list or an object, is an error.
func scanRows(data []byte, row func(r, n int) error, cell func(r, j int, v []byte) error) (rows, width int, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return 0, 0, errors.New("expected a list of rows")
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return 0, 0, nil
	}
	for r := 0; ; r++ {
		if i >= len(data) || data[i] != '[' {
			return 0, 0, fmt.Errorf("row %d is not a list", r)
		}
		// First pass over the row for its length, second for the cells.
		n, end, err := rowCells(data, i, nil)
		if err != nil {
			return 0, 0, fmt.Errorf("row %d: %w", r, err)
		}
		if r == 0 {
			width = n
		}
		if row != nil {
			if err := row(r, n); err != nil {
				return 0, 0, err
			}
		}
		if cell != nil {
			if _, _, err := rowCells(data, i, func(j int, v []byte) error { return cell(r, j, v) }); err != nil {
				return 0, 0, err
			}
		}
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		return r + 1, width, nil
	}
}

// rowCells reads the list starting at data[i] ('['), calling f with each
// value; it returns the number of values and the index after the ']'.
func rowCells(data []byte, i int, f func(j int, v []byte) error) (n, end int, err error) {
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return 0, i + 1, nil
	}
	for j := 0; ; j++ {
		if i >= len(data) {
			return 0, 0, errors.New("unexpected end")
		}
		start := i
		switch data[i] {
		case '[', '{':
			return 0, 0, fmt.Errorf("value %d: expected a number, got a list or an object", j)
		case '"':
			i++
			for i < len(data) && data[i] != '"' {
				if data[i] == '\\' {
					i++
				}
				i++
			}
			i++
		default:
			for i < len(data) && data[i] != ',' && data[i] != ']' && data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r' {
				i++
			}
		}
		if i > len(data) {
			return 0, 0, errors.New("unexpected end")
		}
		if f != nil {
			if err := f(j, data[start:i]); err != nil {
				return 0, 0, err
			}
		}
		i = skipSpace(data, i)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == ']' {
			return j + 1, i + 1, nil
		}
		return 0, 0, errors.New("malformed list")
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// positional names n columns sent without names: the model's features
// in order.
func positional(c columns, n int) []string {
	names := make([]string, n)
	for j := range names {
		if j < len(c.sig.Inputs) {
			names[j] = c.sig.Inputs[j].Name
			if names[j] == "" {
				names[j] = "f" + strconv.Itoa(j)
			}
		} else {
			names[j] = "extra" + strconv.Itoa(j)
		}
	}
	return names
}

// decodeRecords reads [{"col": value, ...}, ...].
func decodeRecords(raw json.RawMessage, c columns, what string) (Batch, error) {
	var recs []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &recs); err != nil {
		return Batch{}, invalid("%s must be a list of objects {column: value}: %v", what, err)
	}
	if err := checkRows(len(recs)); err != nil {
		return Batch{}, err
	}
	nf := len(c.sig.Inputs)
	b := Batch{X: make([]float64, len(recs)*nf), Rows: len(recs)}
	for r, rec := range recs {
		names := make([]string, 0, len(rec))
		for k := range rec {
			names = append(names, k)
		}
		sort.Strings(names)
		pos, err := c.positions(names)
		if err != nil {
			return Batch{}, fmt.Errorf("%s row %d: %w", what, r, err)
		}
		for j, n := range names {
			if pos[j] < 0 {
				continue
			}
			x, err := c.value(rec[n], pos[j], what, r)
			if err != nil {
				return Batch{}, err
			}
			b.X[r*nf+pos[j]] = x
		}
	}
	return b, nil
}

// decodeRows reads instances: a list of rows (lists, in feature order)
// or of records.
func decodeRows(raw json.RawMessage, c columns, what string) (Batch, error) {
	var rows []json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return Batch{}, invalid("%s must be a list of rows: %v", what, err)
	}
	if len(rows) > 0 && len(bytes.TrimSpace(rows[0])) > 0 && bytes.TrimSpace(rows[0])[0] == '{' {
		return decodeRecords(raw, c, what)
	}
	if err := checkRows(len(rows)); err != nil {
		return Batch{}, err
	}
	nf := len(c.sig.Inputs)
	b := Batch{X: make([]float64, len(rows)*nf), Rows: len(rows)}
	for r, rr := range rows {
		var vals []json.RawMessage
		if err := json.Unmarshal(rr, &vals); err != nil {
			return Batch{}, invalid("%s row %d must be a list of %d values.", what, r, nf)
		}
		if len(vals) != nf {
			return Batch{}, invalid("%s row %d has %d values; the model takes %d features (%s).", what, r, len(vals), nf, c.list())
		}
		for i, v := range vals {
			x, err := c.value(v, i, what, r)
			if err != nil {
				return Batch{}, err
			}
			b.X[r*nf+i] = x
		}
	}
	return b, nil
}

// decodeInputs reads inputs: a list of rows, or {feature: [values]}.
func decodeInputs(raw json.RawMessage, c columns) (Batch, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return decodeRows(raw, c, "inputs")
	}
	var cols map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &cols); err != nil {
		return Batch{}, invalid("inputs must be a list of rows or an object {feature: [values]}: %v", err)
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		names = append(names, k)
	}
	sort.Strings(names) // messages name the same column every time
	pos, err := c.positions(names)
	if err != nil {
		return Batch{}, err
	}
	rows := -1
	for _, n := range names {
		if rows >= 0 && len(cols[n]) != rows {
			return Batch{}, invalid("inputs: column '%s' has %d values, the others %d.", n, len(cols[n]), rows)
		}
		rows = len(cols[n])
	}
	if err := checkRows(rows); err != nil {
		return Batch{}, err
	}
	nf := len(c.sig.Inputs)
	b := Batch{X: make([]float64, rows*nf), Rows: rows}
	for j, n := range names {
		if pos[j] < 0 {
			continue
		}
		for r, v := range cols[n] {
			x, err := c.value(v, pos[j], "inputs", r)
			if err != nil {
				return Batch{}, err
			}
			b.X[r*nf+pos[j]] = x
		}
	}
	return b, nil
}

// decodeCSV reads a header row of column names, then rows; an empty cell
// is a missing value.
func decodeCSV(body []byte, c columns) (Batch, error) {
	rd := csv.NewReader(bytes.NewReader(body))
	rd.ReuseRecord = true
	header, err := rd.Read()
	if err != nil {
		return Batch{}, invalid("text/csv needs a header row of column names: %v", err)
	}
	names := append([]string(nil), header...)
	pos, err := c.positions(names)
	if err != nil {
		return Batch{}, err
	}
	nf := len(c.sig.Inputs)
	var b Batch
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Batch{}, invalid("text/csv: %v", err) // csv.ParseError names the line
		}
		if b.Rows == MaxRows {
			return Batch{}, checkRows(MaxRows + 1)
		}
		line, _ := rd.FieldPos(0)
		row := make([]float64, nf)
		for j, cell := range rec {
			if pos[j] < 0 {
				continue
			}
			v, ok := csvNumber(cell)
			if !ok {
				return Batch{}, invalid("text/csv line %d, column '%s': %q is not a number.", line, names[j], cell)
			}
			if c.sig.Inputs[pos[j]].Type == modelrt.Categorical && !math.IsNaN(v) && (v < 0 || v != math.Trunc(v)) {
				return Batch{}, invalid("text/csv line %d, column '%s': a category must be a non-negative integer, got %q.", line, names[j], cell)
			}
			row[pos[j]] = v
		}
		b.X = append(b.X, row...)
		b.Rows++
	}
	if err := checkRows(b.Rows); err != nil {
		return Batch{}, err
	}
	return b, nil
}
