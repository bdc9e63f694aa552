package dataset

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// FuzzProfile: ProfileCSV never panics; it accepts exactly the inputs
// encoding/csv accepts (unless the header repeats a name), with the same
// number of data rows; every column's counts add up to the rows; the
// profile, its schema, a self-diff and the text renderings encode.
func FuzzProfile(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "a,b\n\"x,y\",2\n", "a\n\"l1\nl2\"\n", "a,b\r\n1,2\r\n", "a,b\n1,2", "a\n\n\n1\n",
		"a,b\n1\n", "a\nx\"y\n", "a\n\"x\"y\n", "a\n\"abc\n", "a,b,c\ntrue,2024-01-02,1.5\nFALSE,,\n",
		"\ufeffa\n1e5\n-0\n", "a,b\n\"\"\"\",\r\n", "a\r", "a\n1\r\n\r\n", "a,a\n1,2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		records, csvErr := csv.NewReader(bytes.NewReader(in)).ReadAll()
		p, err := ProfileCSV(context.Background(), bytes.NewReader(in), Options{Workers: 2})
		switch {
		case err != nil:
			if !errors.Is(err, ErrMalformedCSV) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("undocumented error %v", err)
			}
			if csvErr == nil && len(records) > 0 && !dupNames(records[0]) {
				t.Fatalf("rejected %q (%v), encoding/csv accepts %d records", in, err, len(records))
			}
			return
		case csvErr != nil:
			t.Fatalf("accepted %q, encoding/csv says %v", in, csvErr)
		case int64(len(records)-1) != p.Rows:
			t.Fatalf("%d rows, encoding/csv %d records for %q", p.Rows, len(records), in)
		}
		// Field by field, with records split across tiny reads and buffers.
		s := newScanner(iotest.OneByteReader(bytes.NewReader(in)), ',')
		s.chunk = 5
		b, i := &batch{}, 0
		for {
			err := s.next(b, func(e *RowError) error { return e })
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("small reads: %v", err)
			}
			for r := range b.rows {
				for c := range s.ncol {
					if got := string(b.field(b.fields[r*s.ncol+c])); got != records[i][c] {
						t.Fatalf("record %d field %d = %q, encoding/csv %q", i, c, got, records[i][c])
					}
				}
				i++
			}
		}
		if i != len(records) {
			t.Fatalf("small reads: %d records, want %d", i, len(records))
		}
		for _, c := range p.Columns {
			if c.Count+c.Nulls != p.Rows {
				t.Fatalf("column %q: %d + %d != %d rows", c.Name, c.Count, c.Nulls, p.Rows)
			}
			if c.Distinct > c.Count {
				t.Fatalf("column %q: distinct %d > count %d", c.Name, c.Distinct, c.Count)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatalf("profile json: %v", err)
		}
		d := Diff(p, p)
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("diff json: %v", err)
		}
		for _, c := range d.Columns {
			if c.Flagged {
				t.Fatalf("self-diff flags %q: %v", c.Name, c.Reasons)
			}
		}
		_ = p.MLflowDataset("fuzz", "local", "file:///x.csv")
		if err := WriteProfileText(io.Discard, p); err != nil {
			t.Fatal(err)
		}
		if err := WriteDiffText(io.Discard, d); err != nil {
			t.Fatal(err)
		}
	})
}

func dupNames(names []string) bool {
	seen := map[string]bool{}
	for i, n := range names {
		if i == 0 {
			n = string(bytes.TrimPrefix([]byte(n), []byte("\ufeff")))
		}
		if seen[n] {
			return true
		}
		seen[n] = true
	}
	return false
}

// FuzzDiffJSON: profiles decoded from arbitrary (stored, possibly
// corrupted) JSON never make Diff or the renderers panic.
func FuzzDiffJSON(f *testing.F) {
	p, err := ProfileCSV(context.Background(), bytes.NewReader([]byte("a,b\n1,x\n2.5,y\n,\n")), Options{})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(p)
	f.Add(good, good)
	f.Add(good, []byte(`{"columns":[{"name":"a","type":"float","count":3,"numeric":{"sketch":{"k":1,"n":5,"levels":[[1],[],[3,2]]}}}]}`))
	f.Add([]byte(`{"columns":[{"name":"a","type":"integer","numeric":{"sketch":{"n":-1,"exact":[1e308,-1e308]}}}]}`), good)
	f.Fuzz(func(t *testing.T, ja, jb []byte) {
		var a, b Profile
		if json.Unmarshal(ja, &a) != nil || json.Unmarshal(jb, &b) != nil {
			return
		}
		d := Diff(&a, &b)
		_ = WriteDiffText(io.Discard, d)
		_ = WriteProfileText(io.Discard, &a)
		_, _ = json.Marshal(d)
	})
}
