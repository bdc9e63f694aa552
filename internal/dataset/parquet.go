package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// IsParquet says whether b starts like a Parquet file ("PAR1").
func IsParquet(b []byte) bool { return len(b) >= 4 && string(b[:4]) == "PAR1" }

// parquetTable is a flat Parquet file opened for reading its rows as
// text cells.
type parquetTable struct {
	file  *parquet.File
	names []string
	cell  []func(parquet.Value) string
}

func openParquet(r io.ReaderAt, size int64) (*parquetTable, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, errdefs.InvalidArgument("dataset: not a readable Parquet file: %v", err)
	}
	t := &parquetTable{file: f}
	for _, fl := range f.Schema().Fields() {
		if !fl.Leaf() || fl.Repeated() {
			return nil, errdefs.InvalidArgument("dataset: Parquet column %q is nested or repeated; only flat tables are read", fl.Name())
		}
		t.names = append(t.names, fl.Name())
		t.cell = append(t.cell, cellFormatter(fl.Type()))
	}
	return t, nil
}

// cellFormatter renders a value as the text a CSV file would hold:
// numbers in their shortest form, timestamps and dates in RFC 3339, null
// as the empty cell.
func cellFormatter(typ parquet.Type) func(parquet.Value) string {
	logical := ""
	if lt := typ.LogicalType(); lt != nil {
		logical = strings.ToUpper(lt.String())
	}
	unit := time.Millisecond
	switch {
	case strings.Contains(logical, "MICROS"):
		unit = time.Microsecond
	case strings.Contains(logical, "NANOS"):
		unit = time.Nanosecond
	}
	return func(v parquet.Value) string {
		if v.IsNull() {
			return ""
		}
		switch v.Kind() {
		case parquet.Boolean:
			return strconv.FormatBool(v.Boolean())
		case parquet.Int32:
			if strings.HasPrefix(logical, "DATE") {
				return time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02")
			}
			return strconv.FormatInt(int64(v.Int32()), 10)
		case parquet.Int64:
			if strings.HasPrefix(logical, "TIMESTAMP") {
				return time.Unix(0, v.Int64()*int64(unit)).UTC().Format(time.RFC3339Nano)
			}
			return strconv.FormatInt(v.Int64(), 10)
		case parquet.Float:
			return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
		case parquet.Double:
			return strconv.FormatFloat(v.Double(), 'g', -1, 64)
		}
		return string(v.ByteArray())
	}
}

// rows calls f with each row's cells.
func (t *parquetTable) rows(ctx context.Context, f func(cells []string) error) error {
	cells := make([]string, len(t.names))
	buf := make([]parquet.Row, 256)
	for _, rg := range t.file.RowGroups() {
		rows := rg.Rows()
		for {
			if err := ctx.Err(); err != nil {
				rows.Close()
				return err
			}
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for i := range cells {
					cells[i] = ""
				}
				for _, v := range row {
					if c := v.Column(); c >= 0 && c < len(cells) {
						cells[c] = t.cell[c](v)
					}
				}
				if ferr := f(cells); ferr != nil {
					rows.Close()
					return ferr
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return errdefs.InvalidArgument("dataset: reading Parquet rows: %v", err)
			}
		}
		rows.Close()
	}
	return nil
}

// ProfileParquet profiles a flat Parquet file as ProfileCSV profiles a CSV
// file: the same statistics over the same text of the values (numbers in
// their shortest form, timestamps in RFC 3339), the digest of its bytes.
func ProfileParquet(ctx context.Context, r io.ReaderAt, size int64) (*Profile, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, size)); err != nil {
		return nil, err
	}
	t, err := openParquet(r, size)
	if err != nil {
		return nil, err
	}
	cols := make([]*column, len(t.names))
	for i, n := range t.names {
		cols[i] = newColumn(n)
	}
	p := &Profile{Digest: hex.EncodeToString(h.Sum(nil)), Size: size, Format: "parquet"}
	err = t.rows(ctx, func(cells []string) error {
		for i, c := range cells {
			cols[i].add([]byte(c))
		}
		p.Rows++
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		p.Columns = append(p.Columns, c.profile())
	}
	return p, nil
}

// ParquetStreamToCSV reads a flat Parquet file from a stream (spooled
// to a temporary file: Parquet is read from its end) and returns it as
// CSV with a header row, converted as it is read. r is read to its end
// before it returns; closing the answer early stops the conversion.
func ParquetStreamToCSV(ctx context.Context, r io.Reader) (io.ReadCloser, error) {
	tmp, err := os.CreateTemp("", "ferry-parquet-*.parquet")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(tmp, r)
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	pr, pw := io.Pipe()
	go func() {
		err := ParquetToCSV(ctx, tmp, n, pw)
		tmp.Close()
		os.Remove(tmp.Name())
		pw.CloseWithError(err)
	}()
	return pr, nil
}

// ParquetToCSV writes a flat Parquet file as CSV with a header row (the
// form validation and training read).
func ParquetToCSV(ctx context.Context, r io.ReaderAt, size int64, w io.Writer) error {
	t, err := openParquet(r, size)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(t.names); err != nil {
		return err
	}
	if err := t.rows(ctx, func(cells []string) error { return cw.Write(cells) }); err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("dataset: writing CSV: %w", err)
	}
	return nil
}
