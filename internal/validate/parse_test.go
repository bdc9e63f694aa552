package validate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func TestParseSuiteExample(t *testing.T) {
	src := `suite: transactions
columns:
  - {name: amount, type: float, nullable: false}
  - {name: country, type: string}
strict: true
checks:
  - {column: amount, not_null: true, mostly: 0.99}
  - {column: amount, between: {min: 0, max: 10000}, severity: warn}
  - {column: country, in_set: [DE, FR, US]}
  - {column: email, regex: '^[^@]+@[^@]+$', mostly: 0.95}
  - {column: id, unique: true}
  - {columns: [user, day], unique: true}
  - {table: row_count, between: {min: 1000}}
  - {column: amount, mean: {min: 10, max: 200}}
  - {column: amount, quantile: {q: 0.95, min: 1, max: 500}}
  - {column: ts, fresh_within: 24h}
`
	s, err := ParseSuite([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "transactions" || !s.Strict || len(s.Columns) != 2 || len(s.Checks) != 10 {
		t.Fatalf("suite %+v", s)
	}
	if s.Columns[0].Nullable || !s.Columns[1].Nullable || s.Columns[0].Type != TypeFloat {
		t.Errorf("columns %+v", s.Columns)
	}
	c := s.Checks
	if *c[0].Mostly != 0.99 || c[1].severity() != SeverityWarn || *c[1].Between.Max != 10000 || c[2].InSet[2] != "US" ||
		c[5].Columns[1] != "day" || c[6].Table != "row_count" || c[6].Between.Max != nil || c[8].Quantile.Q != 0.95 ||
		c[9].FreshWithin != 24*time.Hour || c[0].Pos.Line != 7 || c[0].Pos.Column != 5 {
		t.Errorf("checks %+v", c)
	}
}

func TestParseSuiteErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown top key", "suite: a\nstrcit: true\n", "2:1: suite: unknown field \"strcit\""},
		{"unknown check key", "suite: a\nchecks:\n  - {column: x, not_nul: true}\n", "3:17: check: unknown field \"not_nul\""},
		{"unknown column key", "suite: a\ncolumns:\n  - {name: x, kind: int}\n", "3:15: column: unknown field \"kind\""},
		{"unknown range key", "suite: a\nchecks:\n  - {column: x, between: {low: 1}}\n", "3:27: between: unknown field \"low\""},
		{"invalid regex", "suite: a\nchecks:\n  - {column: x, regex: '(ab'}\n", "3:24: regex: invalid regular expression"},
		{"missing name", "checks: []\n", "1:1: suite: missing field \"suite\""},
		{"bad type", "suite: a\ncolumns:\n  - {name: x, type: decimal}\n", "3:21: type: unknown type \"decimal\""},
		{"duplicate column", "suite: a\ncolumns:\n  - {name: x}\n  - {name: x}\n", "4:12: name: column \"x\" declared twice"},
		{"mostly range", "suite: a\nchecks:\n  - {column: x, not_null: true, mostly: 1.5}\n", "3:41: mostly must be between 0 and 1"},
		{"mostly type", "suite: a\nchecks:\n  - {column: x, not_null: true, mostly: lots}\n", "3:41: mostly must be a number"},
		{"mostly on aggregate", "suite: a\nchecks:\n  - {column: x, mean: {min: 1}, mostly: 0.5}\n", "3:33: mostly applies only to row checks"},
		{"two assertions", "suite: a\nchecks:\n  - {column: x, not_null: true, unique: true}\n", "3:33: check: \"not_null\" and \"unique\" in one check"},
		{"no assertion", "suite: a\nchecks:\n  - {column: x}\n", "3:5: check: needs one assertion"},
		{"no target", "suite: a\nchecks:\n  - {not_null: true}\n", "3:5: check: needs exactly one of column, columns or table"},
		{"two targets", "suite: a\nchecks:\n  - {column: x, table: row_count, between: {min: 1}}\n", "3:5: check: needs exactly one"},
		{"bad table", "suite: a\nchecks:\n  - {table: size, between: {min: 1}}\n", "3:13: table: unknown table check \"size\""},
		{"table needs between", "suite: a\nchecks:\n  - {table: row_count, mean: {min: 1}}\n", "3:24: table: row_count takes only between"},
		{"compound needs unique", "suite: a\nchecks:\n  - {columns: [a, b], not_null: true}\n", "3:23: columns: only unique applies"},
		{"min over max", "suite: a\nchecks:\n  - {column: x, between: {min: 5, max: 1}}\n", "3:26: between: min 5 is greater than max 1"},
		{"empty range", "suite: a\nchecks:\n  - {column: x, between: {}}\n", "3:26: between: needs min or max"},
		{"range bound type", "suite: a\nchecks:\n  - {column: x, between: {min: one}}\n", "3:32: min must be a number"},
		{"infinite bound", "suite: a\nchecks:\n  - {column: x, between: {min: .inf}}\n", "3:32: min must be"},
		{"quantile q", "suite: a\nchecks:\n  - {column: x, quantile: {q: 2, max: 1}}\n", "3:31: q must be between 0 and 1"},
		{"quantile no q", "suite: a\nchecks:\n  - {column: x, quantile: {max: 1}}\n", "3:27: quantile: missing field \"q\""},
		{"severity", "suite: a\nchecks:\n  - {column: x, not_null: true, severity: fatal}\n", "3:43: severity must be error or warn"},
		{"fresh duration", "suite: a\nchecks:\n  - {column: x, fresh_within: soon}\n", "3:31: fresh_within: want a positive duration"},
		{"fresh negative", "suite: a\nchecks:\n  - {column: x, fresh_within: -1h}\n", "3:31: fresh_within: want a positive duration"},
		{"not_null false", "suite: a\nchecks:\n  - {column: x, not_null: false}\n", "3:27: not_null: only true is meaningful"},
		{"strict without schema", "suite: a\nstrict: true\n", "1:1: strict: true needs a columns schema"},
		{"strict not bool", "suite: a\nstrict: yes please\n", "2:9: strict must be true or false"},
		{"checks not list", "suite: a\nchecks: {column: x}\n", "2:9: checks must be a list"},
		{"duplicate key", "suite: a\nsuite: b\n", "2:1: suite: duplicate field \"suite\""},
		{"alias", "suite: a\nchecks:\n  - &c {column: x, not_null: true}\n  - *c\n", "4:5: check: YAML aliases are not supported"},
		{"null in set", "suite: a\nchecks:\n  - {column: x, in_set: [a, ~]}\n", "3:29: in_set item must be a string"},
		{"not a mapping", "- a\n", "1:1: suite must be a mapping"},
		{"yaml syntax", "suite: [a\n", "suite: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSuite([]byte(tt.src))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("error kind: %v", err)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func FuzzParseSuite(f *testing.F) {
	seeds := []string{
		"suite: a\ncolumns:\n  - {name: x, type: int, nullable: false}\nstrict: true\nchecks:\n  - {column: x, between: {min: 0, max: 9}, mostly: 0.5}\n",
		"suite: a\nchecks:\n  - {columns: [a, b], unique: true}\n  - {table: row_count, between: {min: 1}}\n",
		"suite: a\nnull_values: [NA]\nchecks:\n  - {column: x, regex: '^a+$'}\n  - {column: x, quantile: {q: 0.5, max: 1}}\n  - {column: t, fresh_within: 7d}\n",
		"suite: a\nchecks:\n  - &c {column: x, not_null: true}\n  - *c\n",
		"suite: [a\n", "", "- 1\n", "suite: a\nchecks:\n  - {column: x, in_set: [1, 2.5, true]}\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSuite(data)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		// A parsed suite must write back to YAML that parses to the same suite.
		out, err := s.Encode()
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		back, err := ParseSuite(out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if !sameSuite(s, back) {
			t.Fatalf("round trip changed the suite:\n%s", out)
		}
	})
}
