package validate

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sameSuite compares suites ignoring source positions.
func sameSuite(a, b *Suite) bool {
	strip := func(s *Suite) Suite {
		c := *s
		c.Columns = append([]Column(nil), s.Columns...)
		for i := range c.Columns {
			c.Columns[i].Pos = Position{}
		}
		c.Checks = append([]Check(nil), s.Checks...)
		for i := range c.Checks {
			c.Checks[i].Pos = Position{}
			c.Checks[i].re = nil
		}
		return c
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func inferFile(t *testing.T, path string, opts InferOptions) *Suite {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := NewCSVRows(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Infer(context.Background(), rows, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInferTransactions(t *testing.T) {
	s := inferFile(t, "testdata/transactions.csv", InferOptions{Name: "tx"})
	y, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `suite: tx
columns:
  - {name: id, type: int, nullable: false}
  - {name: user, type: string, nullable: false}
  - {name: day, type: timestamp, nullable: false}
  - {name: amount, type: string}
  - {name: country, type: string}
  - {name: email, type: string}
  - {name: ts, type: timestamp, nullable: false}
strict: true
checks:
  - {column: id, between: {min: 1, max: 10}}
  - {column: user, in_set: [alice, bob, carol, dave, erin, frank, grace, heidi]}
  - {column: amount, unique: true}
  - {column: country, in_set: [DE, FR, UK, US]}
  - {column: email, in_set: [alice-at-example.com, alice@example.com, bob@example.com, carol@example.com, dave@example.com, frank@@example.com, grace@example.com, heidi@example.com]}
  - {column: ts, unique: true}
  - {table: row_count, between: {min: 5, max: 15}}
`
	if string(y) != want {
		t.Errorf("inferred suite:\n%s\nwant:\n%s", y, want)
	}
}

func TestInferRoundTripAndPasses(t *testing.T) {
	for _, tc := range []struct {
		path string
		opts InferOptions
	}{
		{"testdata/iris.csv", InferOptions{Name: "iris"}},
		{"testdata/iris.csv", InferOptions{Name: "iris-wide", Widen: 0.1}},
		{"testdata/transactions.csv", InferOptions{}},
		{"testdata/transactions.csv", InferOptions{NullValues: []string{"", "abc"}, MaxSetSize: 3}},
	} {
		t.Run(tc.opts.Name+tc.path, func(t *testing.T) {
			s := inferFile(t, tc.path, tc.opts)
			y, err := s.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseSuite(y)
			if err != nil {
				t.Fatalf("inferred YAML does not parse: %v\n%s", err, y)
			}
			if !sameSuite(s, back) {
				t.Fatalf("round trip changed the suite:\n%s\n%+v\n%+v", y, s, back)
			}
			rep := runSuite(t, back, tc.path)
			if !rep.Success || rep.Statistics.UnsuccessfulExpectations != 0 {
				var b strings.Builder
				_ = rep.WriteText(&b)
				t.Fatalf("inferred suite fails on its own data:\n%s", b.String())
			}
		})
	}
}

func TestInferIris(t *testing.T) {
	s := inferFile(t, "testdata/iris.csv", InferOptions{Widen: 0.1})
	if len(s.Columns) != 5 || s.Columns[0].Type != TypeFloat || s.Columns[4].Type != TypeInt || s.Columns[0].Nullable {
		t.Fatalf("columns %+v", s.Columns)
	}
	// sepal_length spans [4.3, 7.9]; widened by 10% of 3.6 on each side.
	b := s.Checks[0].Between
	if s.Checks[0].Column != "sepal_length" || !closeTo(*b.Min, 3.94) || !closeTo(*b.Max, 8.26) {
		t.Errorf("sepal_length between %v..%v", *b.Min, *b.Max)
	}
	// target is int 0..2: between, and not unique.
	for _, c := range s.Checks {
		if c.Unique {
			t.Errorf("unexpected unique check on %s", c.Column)
		}
	}
}

func runSuite(t *testing.T, s *Suite, path string) *Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := NewCSVRows(f)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Validate(context.Background(), s, rows, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
