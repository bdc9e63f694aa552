package inference

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

// streamAll decodes a whole stream in chunks of batch records, as ferry
// predict does, and renders the rows as render does.
func streamAll(r io.Reader, sig modelrt.Signature, header bool, batch int, keep []int) (string, []string, error) {
	chunks := NewCSVChunks(r)
	first, err := chunks.First(!header)
	if err != nil {
		return "", nil, err
	}
	var cols *CSVColumns
	if header {
		cols, err = NewCSVColumns(sig, first)
	} else {
		cols, err = PositionalCSVColumns(sig, len(first))
	}
	if err != nil {
		return "", nil, err
	}
	var all Batch
	var kept []string
	var rows CSVRows
	var buf []byte
	for {
		ch, err := chunks.Next(batch, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", nil, err
		}
		buf = ch.Data
		if err := cols.Decode(ch, keep, &rows); err != nil {
			return "", nil, err
		}
		all.X = append(all.X, rows.X...)
		all.Rows += rows.Rows
		kept = append(kept, rows.Kept...)
	}
	return render(all), kept, nil
}

func TestCSVStream(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		sig    modelrt.Signature
		header bool
		want   string // rendered rows, or "error: <substring>"
	}{
		{"header reordered, extra column", "id,region,age,income\nA,1,2,3\nB,0,,5\n", named, true, "2 3 1; NaN 5 0"},
		{"no header", "1,2,3\n4,5,6\n", named, false, "1 2 3; 4 5 6"},
		{"no header, extra columns ignored", "1,2,3,x,y\n4,5,6,z,w\n", named, false, "1 2 3; 4 5 6"},
		{"no trailing newline", "age,income,region\n1,2,3", named, true, "1 2 3"},
		{"CRLF", "age,income,region\r\n1,2,3\r\n4,5,6\r\n", named, true, "1 2 3; 4 5 6"},
		{"byte order mark", "\xEF\xBB\xBFage,income,region\n1,2,3\n", named, true, "1 2 3"},
		{"blank lines skipped", "\nage,income,region\n\n1,2,3\n\n4,5,6\n", named, true, "1 2 3; 4 5 6"},
		{"quoted cells and line breaks", "note,age,income,region\n\"a,\"\"b\"\"\nc\",1,2,3\n\"\",4,\" 5 \",6\n", named, true, "1 2 3; 4 5 6"},
		{"spaces, NaN and Inf", "age,income,region\n 1.5 ,NaN,  \n-Inf,1e3,0\n", named, true, "1.5 NaN NaN; -Inf 1000 0"},
		{"unnamed model by f-index", "f1,f0\n2,1\n", unnamed, true, "1 2"},
		{"header only", "age,income,region\n", named, true, ""},

		{"empty", "", named, true, "error: EOF"},
		{"missing feature", "age,income\n1,2\n", named, true, "error: CSV header: Missing feature 'region'"},
		{"duplicate column", "age,age,income,region\n1,1,2,3\n", named, true, "error: Column 'age' appears twice"},
		{"bad value names line and column", "age,income,region\n1,2,3\n4,lots,6\n", named, true, `error: line 3: column "income": "lots" is not a number`},
		{"line counts quoted line breaks", "note,age,income,region\n\"x\ny\nz\",1,2,3\nw,1,x,3\n", named, true, `error: line 5: column "income": "x" is not a number`},
		{"bad value without header", "1,2,3\n4,x,6\n", named, false, `error: line 2: column "income": "x" is not a number`},
		{"category must be integer", "age,income,region\n1,2,1.5\n", named, true, `error: line 2: column "region": a category must be a non-negative integer, got "1.5"`},
		{"too few fields", "age,income,region\n1,2,3\n1,2\n", named, true, "error: line 3: 2 fields, the header has 3"},
		{"too many fields without header", "1,2,3\n1,2,3,4\n", named, false, "error: line 2: 4 fields, the first row has 3"},
		{"too few columns without header", "1,2\n", named, false, "error: The rows have 2 columns; the model takes 3 features (age, income, region)"},
		{"bare quote", "age,income,region\n1,2,3\n1,2\"x,3\n", named, true, `error: line 3: bare " in non-quoted-field`},
		{"quote left open", "age,income,region\n1,2,3\n\"1,2,3\n4,5,6\n", named, true, "error: line 4 (in the record from line 3): extraneous or missing \" in quoted-field"},
		{"bad header", "age,\"inc\"ome,region\n", named, true, `error: line 1: extraneous or missing " in quoted-field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, batch := range []int{1, 2, 3, 4096} {
				got, _, err := streamAll(strings.NewReader(tc.in), tc.sig, tc.header, batch, nil)
				if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("batch %d: error %v, want one containing %q", batch, err, want)
					}
					if want != "EOF" && !errors.Is(err, errdefs.ErrInvalidArgument) {
						t.Errorf("batch %d: error %v is not an invalid argument", batch, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("batch %d: %v", batch, err)
				}
				if got != tc.want {
					t.Errorf("batch %d: rows %q, want %q", batch, got, tc.want)
				}
			}
		})
	}
}

func TestCSVStreamKeep(t *testing.T) {
	in := "id,age,income,region,note\nA,1,2,3,\"x,y\"\nB,4,5,6,\"multi\nline\"\n"
	for _, batch := range []int{1, 4096} {
		rows, kept, err := streamAll(strings.NewReader(in), named, true, batch, []int{0, 4})
		if err != nil {
			t.Fatal(err)
		}
		if rows != "1 2 3; 4 5 6" || strings.Join(kept, "|") != "A|x,y|B|multi\nline" {
			t.Errorf("batch %d: rows %q, kept %q", batch, rows, kept)
		}
	}
	// One-byte reads cut records anywhere: chunks are still whole records.
	rows, kept, err := streamAll(iotest.OneByteReader(strings.NewReader(in)), named, true, 1, []int{4})
	if err != nil || rows != "1 2 3; 4 5 6" || strings.Join(kept, "|") != "x,y|multi\nline" {
		t.Errorf("one-byte reads: rows %q, kept %q, %v", rows, kept, err)
	}
}

func TestCSVColumnsNames(t *testing.T) {
	cols, err := PositionalCSVColumns(named, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cols.Names(), ","); got != "age,income,region,extra3,extra4" {
		t.Errorf("names %s", got)
	}
}

func TestCSVRecordTooLong(t *testing.T) {
	// A quote left open on line 3, and nothing to close it.
	in := "age,income,region\n1,2,3\n\"" + strings.Repeat("1,2,3\n", MaxCSVRecordBytes/6+10)
	_, _, err := streamAll(strings.NewReader(in), named, true, 10, nil)
	if err == nil || !strings.Contains(err.Error(), "line 3: a record longer than 16 MiB") {
		t.Fatalf("error %v", err)
	}
	// A bare quote on line 3 that unbalances the rest: the parse error.
	in = "age,income,region\n1,2,3\n1,2\"x,3\n" + strings.Repeat("1,2,3\n", MaxCSVRecordBytes/6+10)
	_, _, err = streamAll(strings.NewReader(in), named, true, 10, nil)
	if err == nil || !strings.Contains(err.Error(), `line 3: bare " in non-quoted-field`) {
		t.Fatalf("error %v", err)
	}
}

func TestCSVReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("age,income,region\n1,2,3\n"), iotest.ErrReader(boom))
	if _, _, err := streamAll(r, named, true, 10, nil); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the read error", err)
	}
}

// FuzzCSVStream: decoding a stream in chunks of any size gives what
// decoding it in one chunk gives, and what a text/csv request of the
// same bytes decodes to; nothing panics.
func FuzzCSVStream(f *testing.F) {
	for _, s := range []string{
		"age,income,region\n1,2,3\n",
		"region,age,income,id\n1,,3,\"a\nb\"\n0,2,,\"\"\"\"\n",
		"age,income,region\r\n1,2,3\r\n\r\n4,5,6",
		"age,income,region\n1,\"2\n\",3\n",
		"age,income,region\n1,2\"x,3\n",
		"1,2,3\n4,5,6\n",
		"\xEF\xBB\xBFage,income,region\n1,2,3\n",
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, batch uint8) {
		n := int(batch%8) + 1
		for _, header := range []bool{true, false} {
			whole, wkept, werr := streamAll(bytes.NewReader(data), named, header, math.MaxInt32, []int{0})
			got, kept, err := streamAll(iotest.HalfReader(bytes.NewReader(data)), named, header, n, []int{0})
			if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
				t.Fatalf("header %v, batch %d: error %v; in one chunk %v", header, n, err, werr)
			}
			if got != whole || strings.Join(kept, "\x00") != strings.Join(wkept, "\x00") {
				t.Fatalf("header %v, batch %d: rows %q kept %q; in one chunk %q %q", header, n, got, kept, whole, wkept)
			}
			if !header || bytes.HasPrefix(data, utf8BOM) {
				continue
			}
			b, rerr := DecodeMLflow(data, "text/csv", named)
			switch {
			case rerr == nil && err != nil:
				t.Fatalf("text/csv decodes %q, the stream fails: %v", render(b), err)
			case rerr == nil && render(b) != got:
				t.Fatalf("stream %q, text/csv %q", got, render(b))
			case rerr != nil && err == nil && got != "":
				t.Fatalf("stream decodes %q, text/csv fails: %v", got, rerr)
			}
		}
	})
}

func TestSimpleDecimal(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"0", true}, {"-0", true}, {"+1", true}, {"12.5", true}, {".5", true}, {"5.", true}, {"-0.000123", true},
		{"0.1", true}, {"123456789012345", true}, {"0.0000000000000000000001", true},
		{"1234567890123456", false}, {"0.00000000000000000000001", false}, {"1e5", false}, {"1_0", false},
		{".", false}, {"-", false}, {"+.", false}, {"1.2.3", false}, {"NaN", false}, {"0x10", false}, {"--1", false},
	} {
		v, ok := simpleDecimal(tc.in)
		if ok != tc.ok {
			t.Errorf("simpleDecimal(%q) ok = %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if want, err := strconv.ParseFloat(tc.in, 64); ok && (err != nil || math.Float64bits(v) != math.Float64bits(want)) {
			t.Errorf("simpleDecimal(%q) = %v, ParseFloat says %v, %v", tc.in, v, want, err)
		}
	}
}

// FuzzSimpleDecimal: the fast path agrees with strconv.ParseFloat to the
// bit whenever it answers.
func FuzzSimpleDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.5", ".5", "123456789012345", "0.1", "9007199254740993", "-0.0000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" {
			return
		}
		v, ok := simpleDecimal(s)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Fatalf("simpleDecimal(%q) = %v (%x), ParseFloat %v (%x), %v", s, v, math.Float64bits(v), want, math.Float64bits(want), err)
		}
	})
}

// BenchmarkCSVDecodeChunk decodes one default-sized chunk (4096 rows) of
// the 30 breast-cancer-shaped features, 5% of the cells empty.
func BenchmarkCSVDecodeChunk(b *testing.B) {
	sig, _, _ := benchSig()
	var names []string
	for _, f := range sig.Inputs {
		names = append(names, f.Name)
	}
	var buf strings.Builder
	for r := range 4096 {
		for i := range 30 {
			if i > 0 {
				buf.WriteByte(',')
			}
			if (r*31+i)%20 != 0 {
				buf.WriteString(strconv.FormatFloat(float64(r%97)*1.37+float64(i)*0.0123, 'g', 6, 64))
			}
		}
		buf.WriteByte('\n')
	}
	cols, err := NewCSVColumns(sig, names)
	if err != nil {
		b.Fatal(err)
	}
	chunk := CSVChunk{Data: []byte(buf.String()), Line: 2}
	var rows CSVRows
	b.SetBytes(int64(len(chunk.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := cols.Decode(chunk, nil, &rows); err != nil || rows.Rows != 4096 {
			b.Fatal(err, rows.Rows)
		}
	}
}
