package inference

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// Streaming CSV, for files too large for one request (ferry predict):
// CSVChunks cuts a stream into chunks of whole records without parsing
// them, so that chunks can be decoded in parallel; CSVColumns maps the
// columns to the model's features with the rules of text/csv requests
// (DecodeMLflow: every feature by name, other columns ignored, an empty
// cell is missing) and decodes a chunk into a Batch. Errors are
// errdefs.ErrInvalidArgument and name the line of the file.

// MaxCSVRecordBytes bounds one record (one row, with any quoted line
// breaks), so that a quote left open cannot make a chunk swallow the
// rest of a file.
const MaxCSVRecordBytes = 16 << 20

// CSVChunk is whole records of a CSV stream.
type CSVChunk struct {
	Data []byte
	// Line is the line number, in the stream, of the first line of Data.
	Line int
}

// CSVChunks cuts a CSV stream into chunks of whole records. A line break
// ends a record unless it is inside a quoted field: after an even number
// of quotes since the record began, which RFC 4180 CSV (what
// encoding/csv reads) guarantees. Blank lines count as records here and
// are skipped by Decode, as encoding/csv skips them.
type CSVChunks struct {
	r       *bufio.Reader
	line    int    // line number of the next unread byte
	pending []byte // a record First kept for the next chunk
	pendAt  int    // its line
	bom     bool   // a UTF-8 byte order mark was checked for
}

// NewCSVChunks reads r.
func NewCSVChunks(r io.Reader) *CSVChunks {
	return &CSVChunks{r: bufio.NewReaderSize(r, 1<<20), line: 1}
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// readRecord appends the next record, line break included, to dst and
// returns it and the number of line breaks read; io.EOF when the stream
// ended before a line break (the record may still hold bytes).
func (c *CSVChunks) readRecord(dst []byte) ([]byte, int, error) {
	if !c.bom {
		c.bom = true
		// A byte order mark (Excel's "CSV UTF-8") is not part of the
		// first column's name.
		if b, err := c.r.Peek(len(utf8BOM)); err == nil && bytes.Equal(b, utf8BOM) {
			_, _ = c.r.Discard(len(utf8BOM))
		}
	}
	start, lines, quotes := len(dst), 0, 0
	for {
		frag, err := c.r.ReadSlice('\n')
		dst = append(dst, frag...)
		quotes += bytes.Count(frag, []byte{'"'})
		if err == nil {
			lines++
			if quotes%2 == 0 {
				return dst, lines, nil
			}
		}
		if len(dst)-start > MaxCSVRecordBytes {
			return dst, lines, tooLong(dst[start:], c.line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return dst, lines, err
		}
	}
}

// tooLong explains a record longer than MaxCSVRecordBytes that begins on
// line: the parse error that made it so when there is one (a bare
// quote), else the size. (An open quote running into the end of what was
// read is not such an error: the record was cut there.)
func tooLong(rec []byte, line int) error {
	rd := csv.NewReader(bytes.NewReader(rec))
	rd.FieldsPerRecord = -1
	complete := bytes.Count(rec, []byte{'\n'})
	for {
		if _, err := rd.Read(); err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Line < complete {
				return parseError(pe, line)
			}
			break
		}
	}
	return invalid("line %d: a record longer than %d MiB (a quote left open?)", line, MaxCSVRecordBytes>>20)
}

// parseError words a csv.ParseError of a chunk that begins on line.
func parseError(pe *csv.ParseError, line int) error {
	if pe.StartLine != pe.Line {
		return invalid("line %d (in the record from line %d): %v", line+pe.Line-1, line+pe.StartLine-1, pe.Err)
	}
	return invalid("line %d: %v", line+pe.Line-1, pe.Err)
}

// First reads the first record that is not a blank line — a header row,
// or the first row of a file without one — and returns its fields. With
// keep the record stays in the stream: the next chunk begins with it.
// A stream without any record gives io.EOF.
func (c *CSVChunks) First(keep bool) ([]string, error) {
	for {
		at := c.line
		rec, lines, err := c.readRecord(nil)
		c.line += lines
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(rec) == 0 {
			return nil, io.EOF
		}
		rd := csv.NewReader(bytes.NewReader(rec))
		rd.FieldsPerRecord = -1
		fields, perr := rd.Read()
		if errors.Is(perr, io.EOF) {
			if err != nil {
				return nil, io.EOF
			}
			continue // a blank line
		}
		var pe *csv.ParseError
		if errors.As(perr, &pe) {
			return nil, parseError(pe, at)
		}
		if perr != nil {
			return nil, perr
		}
		if keep {
			c.pending, c.pendAt = rec, at
		}
		return fields, nil
	}
}

// Next returns the next chunk of up to records records (at least one),
// appended to buf[:0] (which it may reuse); io.EOF once the stream is
// exhausted. A read error of the stream is returned as is.
func (c *CSVChunks) Next(records int, buf []byte) (CSVChunk, error) {
	records = max(records, 1)
	ch := CSVChunk{Data: buf[:0], Line: c.line}
	n := 0
	if c.pending != nil {
		ch.Data, ch.Line = append(ch.Data, c.pending...), c.pendAt
		c.pending = nil
		n++
	}
	for n < records {
		var lines int
		var err error
		ch.Data, lines, err = c.readRecord(ch.Data)
		c.line += lines
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return CSVChunk{}, err
		}
		n++
	}
	if len(ch.Data) == 0 {
		return CSVChunk{}, io.EOF
	}
	return ch, nil
}

// CSVColumns maps the columns of a CSV stream to a model's features and
// decodes chunks. It is safe for concurrent use.
type CSVColumns struct {
	c      columns
	names  []string // column names, for messages
	pos    []int    // feature of column j, or -1
	header bool
}

// NewCSVColumns maps a header row to the model's features as text/csv
// requests are: by name (f0, f1, ... for a model without names), every
// feature present once, other columns ignored.
func NewCSVColumns(sig modelrt.Signature, header []string) (*CSVColumns, error) {
	c := newColumns(sig)
	names := append([]string(nil), header...)
	pos, err := c.positions(names)
	if err != nil {
		return nil, fmt.Errorf("CSV header: %w", err)
	}
	return &CSVColumns{c: c, names: names, pos: pos, header: true}, nil
}

// PositionalCSVColumns maps the width columns of a stream without a
// header row to the model's features by position; columns after the
// features are ignored.
func PositionalCSVColumns(sig modelrt.Signature, width int) (*CSVColumns, error) {
	c := newColumns(sig)
	nf := len(sig.Inputs)
	if width < nf {
		return nil, invalid("The rows have %d columns; the model takes %d features (%s).", width, nf, c.list())
	}
	pos := make([]int, width)
	for j := range pos {
		pos[j] = -1
		if j < nf {
			pos[j] = j
		}
	}
	return &CSVColumns{c: c, names: positional(c, width), pos: pos}, nil
}

// Names are the columns: the header's names, or for a stream without
// one the features' names and extra0, extra1, ... after them.
func (cc *CSVColumns) Names() []string { return append([]string(nil), cc.names...) }

// CSVRows is a decoded chunk.
type CSVRows struct {
	Batch
	// Kept holds, for each row, the cells of the columns Decode was asked
	// to keep, in that order.
	Kept []string
}

// Decode decodes the records of chunk into rows, reusing its slices:
// each record must have as many fields as there are columns; an empty
// cell is a missing value (NaN), anything else must be a number
// (strconv.ParseFloat: also NaN and ±Inf), a category a non-negative
// integer. keep lists columns whose cells are copied into rows.Kept.
func (cc *CSVColumns) Decode(chunk CSVChunk, keep []int, rows *CSVRows) error {
	rows.X, rows.Rows, rows.Kept = rows.X[:0], 0, rows.Kept[:0]
	rd := csv.NewReader(bytes.NewReader(chunk.Data))
	rd.ReuseRecord = true
	rd.FieldsPerRecord = -1
	nf, width := len(cc.c.sig.Inputs), len(cc.pos)
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return parseError(pe, chunk.Line)
			}
			return err
		}
		if len(rec) != width {
			line, _ := rd.FieldPos(0)
			what := "the header has"
			if !cc.header {
				what = "the first row has"
			}
			return invalid("line %d: %d fields, %s %d", chunk.Line+line-1, len(rec), what, width)
		}
		for _, j := range keep {
			rows.Kept = append(rows.Kept, rec[j])
		}
		base := len(rows.X)
		rows.X = append(rows.X, make([]float64, nf)...)
		x := rows.X[base:]
		for j, cell := range rec {
			i := cc.pos[j]
			if i < 0 {
				continue
			}
			v, ok := csvNumber(cell)
			if !ok {
				line, _ := rd.FieldPos(j)
				return invalid("line %d: column %q: %q is not a number", chunk.Line+line-1, cc.names[j], cell)
			}
			if cc.c.sig.Inputs[i].Type == modelrt.Categorical && !math.IsNaN(v) && (v < 0 || v != math.Trunc(v)) {
				line, _ := rd.FieldPos(j)
				return invalid("line %d: column %q: a category must be a non-negative integer, got %q", chunk.Line+line-1, cc.names[j], cell)
			}
			x[i] = v
		}
		rows.Rows++
	}
}

// csvNumber is a text/csv cell's value: empty (or blank) is missing.
func csvNumber(cell string) (float64, bool) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return math.NaN(), true
	}
	if v, ok := simpleDecimal(s); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// exactPow10 are the powers of ten that a float64 holds exactly
// (read-only).
var exactPow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// simpleDecimal reads the common case of a cell, [+-]digits[.digits]
// with at most 15 significant digits, faster than strconv.ParseFloat and
// to the same value: the digits are an integer a float64 holds exactly,
// divided by an exact power of ten, which rounds once, correctly
// (Clinger's fast path, which ParseFloat takes too). Anything else is
// left to ParseFloat (ok false).
func simpleDecimal(s string) (float64, bool) {
	i, neg := 0, false
	if s[0] == '-' || s[0] == '+' {
		neg, i = s[0] == '-', 1
	}
	var mant uint64
	digits, frac := 0, 0
	dot, seen := false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			seen = true
			if dot {
				frac++
			}
			if mant == 0 && c == '0' {
				continue // leading zeros are not significant
			}
			if digits++; digits > 15 {
				return 0, false
			}
			mant = mant*10 + uint64(c-'0')
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if !seen || frac >= len(exactPow10) {
		return 0, false
	}
	v := float64(mant) / exactPow10[frac]
	if neg {
		v = -v
	}
	return v, true
}
