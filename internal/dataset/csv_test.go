package dataset

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func profileString(t *testing.T, s string, opts Options) (*Profile, error) {
	t.Helper()
	return ProfileCSV(context.Background(), strings.NewReader(s), opts)
}

// TestTypeInference covers inference and promotion per column.
func TestTypeInference(t *testing.T) {
	cases := []struct {
		name   string
		values []string // one column, header "c"
		want   ColumnType
	}{
		{"integers", []string{"1", "-2", "+3", "0"}, TypeInteger},
		{"int then float", []string{"1", "2.5", "3"}, TypeFloat},
		{"exponent", []string{"1e3", "2E-2", "-.5", "7."}, TypeFloat},
		{"huge integer is float", []string{"123456789012345678901234"}, TypeFloat},
		{"quoted empty is null", []string{`""`, "4", `""`}, TypeInteger},
		{"all null", []string{`""`, `""`}, TypeString},
		{"booleans any case", []string{"true", "FALSE", "True"}, TypeBoolean},
		{"bool and int is string", []string{"true", "1"}, TypeString},
		{"date only", []string{"2024-01-02", "2023-12-31"}, TypeDatetime},
		{"datetime forms mix", []string{"2024-01-02", "2024-01-02 03:04:05", "2024-01-02T03:04:05.123+02:00"}, TypeDatetime},
		{"date and number is string", []string{"2024-01-02", "5"}, TypeString},
		{"bad date is string", []string{"2024-13-45"}, TypeString},
		{"one word makes string", []string{"1", "2", "three", "4"}, TypeString},
		{"nan and inf are strings", []string{"1.5", "nan"}, TypeString},
		{"inf is string", []string{"inf"}, TypeString},
		{"hex is string", []string{"0x10"}, TypeString},
		{"underscore is string", []string{"1_000"}, TypeString},
		{"dangling exponent is string", []string{"1e"}, TypeString},
		{"sign only is string", []string{"-"}, TypeString},
		{"overflow is string", []string{"1e999"}, TypeString},
		{"spaces are strings", []string{" 1"}, TypeString},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := profileString(t, "c\n"+strings.Join(tc.values, "\n")+"\n", Options{})
			if err != nil {
				t.Fatal(err)
			}
			c := p.Columns[0]
			if c.Type != tc.want {
				t.Errorf("type %s, want %s", c.Type, tc.want)
			}
			if c.Type.Numeric() != (c.Numeric != nil) && c.Count > 0 {
				t.Errorf("numeric stats %v for type %s", c.Numeric != nil, c.Type)
			}
			if c.Type == TypeString || c.Type == TypeBoolean {
				if c.Count > 0 && len(c.Top) == 0 {
					t.Errorf("no top values")
				}
			}
		})
	}
}

// TestNullCounting uses a two-column file so empty lines are not blank.
func TestNullCounting(t *testing.T) {
	p, err := profileString(t, "a,b\n,1\n2,\n,\n3,4\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 4 || p.Columns[0].Nulls != 2 || p.Columns[1].Nulls != 2 || p.Columns[0].Count != 2 {
		t.Fatalf("rows %d columns %+v", p.Rows, p.Columns)
	}
	if got := p.Schema().Columns[0]; got != (SchemaColumn{"a", TypeInteger, true}) {
		t.Errorf("schema %+v", got)
	}
}

// TestPromotionDropsNumericKeepsCategories: a column numeric for more than
// DistinctExactLimit distinct values that then turns string reports the
// categories counted from the turn on, and says so.
func TestPromotionAfterOverflow(t *testing.T) {
	var b strings.Builder
	b.WriteString("c\n")
	n := DistinctExactLimit + 100
	for i := range n {
		b.WriteString(strings.Repeat("9", 1+i%3) + "." + strconv.Itoa(i) + "\n")
	}
	b.WriteString("x\nx\ny\n")
	p, err := profileString(t, b.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Columns[0]
	if c.Type != TypeString || c.Numeric != nil || c.DistinctExact {
		t.Fatalf("column %+v", c)
	}
	if c.TopPartial != int64(n) || c.Top[0] != (CategoryCount{Value: "x", Count: 2}) {
		t.Errorf("top %+v partial %d", c.Top, c.TopPartial)
	}
}

// TestRFC4180 checks fields against encoding/csv on tricky inputs.
func TestRFC4180(t *testing.T) {
	cases := map[string]string{
		"quoted delimiter":   "a,b\n\"x,y\",2\n",
		"doubled quotes":     "a,b\n\"say \"\"hi\"\"\",2\n",
		"newline in quotes":  "a,b\n\"l1\nl2\",2\n\"l1\r\nl2\",3\n",
		"crlf":               "a,b\r\n1,2\r\n3,4\r\n",
		"no final newline":   "a,b\n1,2",
		"trailing cr at eof": "a,b\n1,2\r",
		"blank lines":        "a,b\n\n1,2\n\r\n\n3,4\n\n",
		"lone cr in field":   "a,b\nx\ry,2\n",
		"empty quoted":       "a,b\n\"\",\"\"\n",
		"trailing comma":     "a,b\n1,\n",
		"bom":                "\ufeffa,b\n1,2\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			want, err := csv.NewReader(strings.NewReader(in)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			// Tiny reads force records across buffer boundaries.
			for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
				s := newScanner(r, ',')
				s.chunk = 3
				var got [][]string
				b := &batch{}
				for {
					err := s.next(b, func(e *RowError) error { return e })
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					for r := range b.rows {
						var rec []string
						for c := range s.ncol {
							rec = append(rec, string(b.field(b.fields[r*s.ncol+c])))
						}
						got = append(got, rec)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("records %q, want %q", got, want)
				}
				for i := range got {
					if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
						t.Errorf("record %d %q, want %q", i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestMalformed: malformed rows are errors naming the line, matching
// ErrMalformedCSV and errdefs.ErrInvalidArgument; MaxErrors skips and
// lists up to that many, and one more fails.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name, in string
		line     int64
		reason   string
	}{
		{"too few fields", "a,b\n1,2\n3\n", 3, "wrong number of fields: got 1, want 2"},
		{"too many fields", "a,b\n1,2\n\n3,4,5\n", 4, "wrong number of fields"},
		{"bare quote", "a,b\n1,x\"y\n", 2, `bare " in non-quoted-field`},
		{"text after quote", "a,b\n\"x\"y,1\n", 2, `extraneous or missing " in quoted-field`},
		{"unterminated quote", "a,b\n1,2\n\"abc,1\n2,3\n", 3, `quoted field never closed`},
		{"record start line after multiline field", "a,b\n\"x\ny\",1\n1,2,3\n", 4, "wrong number of fields"},
		{"missing header", "", 1, "missing header row"},
		{"duplicate header", "a,a\n1,2\n", 1, "duplicate column name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := profileString(t, tc.in, Options{})
			var re *RowError
			if !errors.As(err, &re) || !errors.Is(err, ErrMalformedCSV) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error %v, want a *RowError", err)
			}
			if re.Line != tc.line || !strings.Contains(re.Reason, tc.reason) {
				t.Errorf("line %d %q, want line %d %q", re.Line, re.Reason, tc.line, tc.reason)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("message %q does not name the line", err)
			}
		})
	}
}

func TestMaxErrors(t *testing.T) {
	in := "a,b\n1,2\n3\n4,5\n6,\"x\"y\n7,8\n"
	p, err := profileString(t, in, Options{MaxErrors: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 3 || len(p.Malformed) != 2 || p.Malformed[0].Line != 3 || p.Malformed[1].Line != 5 {
		t.Fatalf("rows %d malformed %+v", p.Rows, p.Malformed)
	}
	_, err = profileString(t, in, Options{MaxErrors: 1})
	if !errors.Is(err, ErrMalformedCSV) || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 5") {
		t.Fatalf("error %v, want both lines", err)
	}
}

func TestDelimiterAndErrors(t *testing.T) {
	p, err := profileString(t, "a;b\n1;\"x;y\"\n", Options{Delimiter: ';'})
	if err != nil || p.Columns[1].Top[0].Value != "x;y" {
		t.Fatalf("%v %+v", err, p)
	}
	if _, err := profileString(t, "a\n", Options{Delimiter: '"'}); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("quote delimiter: %v", err)
	}
	readErr := errors.New("disk on fire")
	_, err = ProfileCSV(context.Background(), iotest.ErrReader(readErr), Options{})
	if !errors.Is(err, readErr) {
		t.Errorf("read error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ProfileCSV(ctx, strings.NewReader("a\n1\n"), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestDigest: the digest is the SHA-256 of the bytes, whatever the parse.
func TestDigest(t *testing.T) {
	p, err := profileString(t, "a\n1\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// printf 'a\n1\n' | sha256sum
	if p.Digest != "309b0e45a73d3fc5325e2b6ed0a01ef8b9cde6b05a5633c1f893f970d52bfddc" {
		t.Errorf("digest %s", p.Digest)
	}
	if p.Size != 4 {
		t.Errorf("size %d", p.Size)
	}
}
