package validate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Rows is the stream of raw rows that Validate and Infer consume.
type Rows interface {
	// Columns returns the column names, in cell order.
	Columns() []string
	// Next returns the next row's cells and the 1-based line of the source
	// where it starts, or io.EOF after the last row. A row whose cell count
	// differs from len(Columns()) must be reported as an error.
	Next() (cells []string, line int, err error)
}

// CSVRows reads a CSV stream whose first record is the header.
type CSVRows struct {
	r       *csv.Reader
	columns []string
}

// NewCSVRows reads the header of a CSV stream. Malformed input yields
// errdefs.InvalidArgument errors naming the line.
func NewCSVRows(r io.Reader) (*CSVRows, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0 // every record must have as many fields as the header
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errdefs.InvalidArgument("csv: empty input, want a header line")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		if seen[h] {
			return nil, errdefs.InvalidArgument("csv line 1: duplicate column name %q (field %d)", h, i+1)
		}
		seen[h] = true
	}
	return &CSVRows{r: cr, columns: header}, nil
}

// Columns implements Rows.
func (c *CSVRows) Columns() []string { return c.columns }

// Next implements Rows.
func (c *CSVRows) Next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		return nil, 0, csvErr(err)
	}
	line, _ := c.r.FieldPos(0)
	return rec, line, nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("%w: %w", errdefs.InvalidArgument("csv line %d: wrong number of fields", pe.StartLine), err)
		}
		return fmt.Errorf("%w: %w", errdefs.InvalidArgument("csv line %d, column %d: %v", pe.Line, pe.Column, pe.Err), err)
	}
	return fmt.Errorf("csv: %w", err)
}

// SliceRows serves rows held in memory; line numbers count the header as
// line 1.
type SliceRows struct {
	Header []string
	Data   [][]string
	next   int
}

// Columns implements Rows.
func (s *SliceRows) Columns() []string { return s.Header }

// Next implements Rows.
func (s *SliceRows) Next() ([]string, int, error) {
	if s.next >= len(s.Data) {
		return nil, 0, io.EOF
	}
	s.next++
	row := s.Data[s.next-1]
	if len(row) != len(s.Header) {
		return nil, 0, errdefs.InvalidArgument("line %d: wrong number of fields: %d, want %d", s.next+1, len(row), len(s.Header))
	}
	return row, s.next + 1, nil
}
