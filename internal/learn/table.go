package learn

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Table is a CSV file read for training: the features of every column but
// the target, and the target encoded for the task.
type Table struct {
	Dataset
	// Classes are a classification target's labels in the order of their
	// class indices (sorted, as scikit-learn's LabelEncoder sorts them);
	// nil for regression.
	Classes []string
}

// ReadCSV reads a CSV file with a header row into a Table. Every column
// but target is a numeric feature (an empty cell is missing); the target
// is a number for regression, or any label for classification, whose
// sorted distinct values become class indices. target "" reads an
// unlabelled table. Errors name the line and column; no row is dropped.
func ReadCSV(r io.Reader, target string, task Task) (Table, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return Table{}, errdefs.InvalidArgument("the CSV file is empty: it needs a header row")
		}
		return Table{}, errdefs.InvalidArgument("CSV header: %v", err)
	}
	header = append([]string(nil), header...)
	ti := -1
	var names []string
	for j, h := range header {
		if h == target && target != "" {
			ti = j
			continue
		}
		names = append(names, h)
	}
	if target != "" && ti < 0 {
		return Table{}, errdefs.InvalidArgument("the CSV file has no target column %q (it has %s)", target, strings.Join(header, ", "))
	}
	var x []float64
	var labels []string
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Table{}, errdefs.InvalidArgument("CSV: %v", err) // csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		for j, cell := range rec {
			if j == ti {
				labels = append(labels, strings.TrimSpace(cell))
				continue
			}
			v := math.NaN()
			if s := strings.TrimSpace(cell); s != "" {
				if v, err = strconv.ParseFloat(s, 64); err != nil {
					return Table{}, errdefs.InvalidArgument("line %d, column %q: %q is not a number (encode text columns before training)", line, header[j], cell)
				}
			}
			x = append(x, v)
		}
		rows++
	}
	t := Table{Dataset: Dataset{X: x, Rows: rows, Cols: len(names), FeatureNames: names}}
	if target == "" {
		return t, nil
	}
	t.Y = make([]float64, rows)
	switch task {
	case Regression:
		for i, l := range labels {
			v, err := strconv.ParseFloat(l, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return Table{}, errdefs.InvalidArgument("data row %d: target %q is not a number", i+1, l)
			}
			t.Y[i] = v
		}
	case Binary, Multiclass:
		set := map[string]bool{}
		for i, l := range labels {
			if l == "" {
				return Table{}, errdefs.InvalidArgument("data row %d: the target is empty", i+1)
			}
			set[l] = true
		}
		for l := range set {
			t.Classes = append(t.Classes, l)
		}
		sortLabels(t.Classes)
		if task == Binary && len(t.Classes) != 2 {
			return Table{}, errdefs.InvalidArgument("a binary target needs 2 classes, %q has %d", target, len(t.Classes))
		}
		index := map[string]int{}
		for i, c := range t.Classes {
			index[c] = i
		}
		for i, l := range labels {
			t.Y[i] = float64(index[l])
		}
	default:
		return Table{}, errdefs.InvalidArgument("unknown task %q: use binary, multiclass or regression", task)
	}
	if err := t.Validate(); err != nil {
		return Table{}, err
	}
	return t, nil
}

// sortLabels sorts labels numerically when all are numbers, else as text.
func sortLabels(ls []string) {
	numeric := true
	for _, l := range ls {
		if _, err := strconv.ParseFloat(l, 64); err != nil {
			numeric = false
		}
	}
	sort.Slice(ls, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(ls[i], 64)
			b, _ := strconv.ParseFloat(ls[j], 64)
			return a < b
		}
		return ls[i] < ls[j]
	})
}

// WriteCSV writes the rows idx of a table as CSV with its header (the
// target last, as its label).
func (t Table) WriteCSV(w io.Writer, target string, idx []int) error {
	cw := csv.NewWriter(w)
	header := append([]string(nil), t.FeatureNames...)
	if target != "" && t.Y != nil {
		header = append(header, target)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, len(header))
	for _, i := range idx {
		for j, v := range t.Row(i) {
			rec[j] = ""
			if !math.IsNaN(v) {
				rec[j] = strconv.FormatFloat(v, 'g', -1, 64)
			}
		}
		if len(rec) > t.Cols {
			if t.Classes != nil {
				rec[t.Cols] = t.Classes[int(t.Y[i])]
			} else {
				rec[t.Cols] = strconv.FormatFloat(t.Y[i], 'g', -1, 64)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
