package filter

import (
	"errors"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Run locally, e.g.:
//
//	go test ./internal/filter -run x -fuzz FuzzParseRunFilter -fuzztime 30s

var filterSeeds = []string{
	"",
	"   ",
	"metric.acc >= 0.94",
	"metric.acc>=100",
	"params.m!='tf'",
	`params."m"!="tf"`,
	`metric."legit name" >= 0.243`,
	`metrics."X//Y#$$@&Z" = 3`,
	"metrics.rmse < 1 and params.model_class = 'LR'",
	"`metric`.a >= 0.1",
	"`params`.model >= 'LR'",
	"`tags`.source_name = 'a notebook'",
	`metrics."accuracy.2.0" > 5`,
	"metrics.`spacey name` > 5",
	"tags.'my key' = 'v'",
	"attribute.artifact_uri = '1/23/4'",
	"attribute.start_time >= 1234",
	"run.status = 'RUNNING'",
	"dataset.name = 'my_dataset'",
	`params.m = "L'Hosp"`,
	"params.p = 'it''s'",
	`params.p = 'a\'b'`,
	"datasets.name IN ('name1', 'name2')",
	"attributes.run_id NOT IN ('a', 'b')",
	"run_id in('a')",
	"run_id IN ()",
	"run_id IN ('a',)",
	"run_id IN ('a', 1)",
	"run_id = ('a')",
	"status IN ('a')",
	"created >= 1e3 AND `Run Name` ILIKE 'x%'",
	"metrics.m = -.5 AND metrics.n > 1E-3 AND metrics.o < 007",
	"metrics.m > 1e999",
	"metrics.m = 0x1F",
	"metrics.a > 1abc",
	"tags.2nd_try = 'v'",
	"tags.mlflow.runName = 'r'",
	"name = 'a'",
	"attribute.`name` != 'a'",
	"name ILIKE 'a%' AND tag.key LIKE '%Lue'",
	"creation_time > 5 AND last_update_time <= 6",
	"metric.acc >= 0.94; metrics.rmse < 1",
	"metrics.A > 0.1 OR params.B = 'LR'",
	"metrics.A > 0.1 AND (params.B = 'LR')",
	"`metrics.A > 0.1",
	"param`.A > 0.1",
	"attribute.status = true",
	"params.acc = LR",
	"params.acc = 'LR",
	"tags.acc = = 'LR'",
	"foo is null",
	"1==2",
	"params.p NOT LIKE 'x'",
	"tags.x = 'a'--",
	"tags.x = 'a' /* c */",
	"tags.x = 'a';",
	"metrics.a > 1; DROP TABLE runs",
	"params.x = 'a' OR 1=1",
	"AND metrics.m > 1 AND AND",
	"metrics.m > 1 params.p = 'x'",
	"((((",
	"))))",
	"'\"`",
	"\"a\\\"",
	"tags.été = 'ça' AND params.日本 = '語'",
	"params.p = '\xff'",
	"params.p = 'a\x00b'",
	"metrics.\n.a\t>\r1",
	"# x\nmetrics.a > 1",
	"metrics.a NOT\n LIKE 1",
	"metrics.a > -",
	"tags..a = 'x'",
	"metrics. > 1",
}

var orderSeeds = []string{
	"",
	" ",
	"tags.noSuchTag",
	"attributes.start_time",
	"metrics.key1 asc",
	`metrics."key1"  desc`,
	"params.my_param aSc",
	"params.`my_param` DESC",
	"tags.tag1    DESC",
	"metrics.`Mean Square Error` DESC",
	"attributes.created DESC",
	"m.acc",
	"acc",
	"`metrics.A",
	"`metrics.A`",
	"metrics.A != 1",
	"params.my_param ",
	"attribute.run_id ACS",
	"datasets.name",
	"name",
	"name DESC",
	"experiment_id ASC",
	"tags.x",
	"name ASC EXTRA",
	"metrics.a; DROP TABLE runs",
	"metrics.a\x00",
	"tags.'c d'",
}

func FuzzParseRunFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFilterProps(t, runGrammar, ParseRunFilter, s) })
}

func FuzzParseExperimentFilter(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFilterProps(t, experimentGrammar, ParseExperimentFilter, s) })
}

func FuzzParseRunOrderBy(f *testing.F) {
	for i, s := range orderSeeds {
		f.Add(s, orderSeeds[(i+1)%len(orderSeeds)])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkOrderProps(t, runGrammar, ParseRunOrderBy, []string{a})
		checkOrderProps(t, runGrammar, ParseRunOrderBy, []string{a, b})
		checkOrderProps(t, experimentGrammar, ParseExperimentOrderBy, []string{a, b})
	})
}

func checkErrKind(t *testing.T, input any, err error) {
	t.Helper()
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("%q: error %v (%T) is not errdefs.ErrInvalidArgument", input, err, err)
	}
	if err.Error() == "" {
		t.Fatalf("%q: empty error message", input)
	}
}

func checkFilterProps(t *testing.T, g *grammar, parse func(string) ([]Clause, error), s string) {
	t.Helper()
	got, err := parse(s)
	if err != nil {
		checkErrKind(t, s, err)
		return
	}
	for _, c := range got {
		f, ferr := g.field(c.Entity, c.Key)
		if ferr != nil {
			t.Fatalf("%q: clause %+v of an unknown entity", s, c)
		}
		if c.Entity == Attribute || c.Entity == Dataset {
			if _, ok := map[Entity]map[string]field{Attribute: g.attrFields, Dataset: g.dsFields}[c.Entity][c.Key]; !ok {
				t.Fatalf("%q: clause %+v has a non-canonical key", s, c)
			}
		}
		if !f.ops.has(c.Op) {
			t.Fatalf("%q: clause %+v has comparator %q outside %v", s, c, c.Op, f.ops)
		}
		if c.Numeric != (f.typ == numericValue) {
			t.Fatalf("%q: clause %+v: numeric=%v for a %v key", s, c, c.Numeric, f.typ)
		}
		if wantList := c.Op == In || c.Op == NotIn; wantList != (c.List != nil) || (wantList && len(c.List) == 0) {
			t.Fatalf("%q: clause %+v: list/comparator mismatch", s, c)
		}
		if math.IsNaN(c.Num) {
			t.Fatalf("%q: clause %+v: NaN", s, c)
		}
	}
	// Rendering the clauses back into a filter must give the same clauses.
	if text, ok := renderFilter(got); ok {
		again, err := parse(text)
		if err != nil {
			t.Fatalf("%q: rendered as %q, which fails: %v", s, text, err)
		}
		if len(again) != 0 || len(got) != 0 {
			if !reflect.DeepEqual(again, got) {
				t.Fatalf("%q: rendered as %q:\n got  %+v\n want %+v", s, text, again, got)
			}
		}
	}
}

func checkOrderProps(t *testing.T, g *grammar, parse func([]string) ([]Order, error), list []string) {
	t.Helper()
	got, err := parse(list)
	if err != nil {
		checkErrKind(t, list, err)
		return
	}
	if len(got) != len(list) {
		t.Fatalf("%q: %d orders for %d entries", list, len(got), len(list))
	}
	canon := map[string]bool{}
	for _, c := range g.orderAttrs.canon {
		canon[c] = true
	}
	for _, o := range got {
		if !g.orderEntSet[o.Entity] {
			t.Fatalf("%q: order %+v on an entity that may not be ordered on", list, o)
		}
		if o.Entity == Attribute && !canon[o.Key] {
			t.Fatalf("%q: order %+v has a non-canonical key", list, o)
		}
	}
	var rendered []string
	for _, o := range got {
		key, ok := renderOrderKey(o.Key)
		if !ok {
			return
		}
		dir := " ASC"
		if !o.Asc {
			dir = " desc"
		}
		rendered = append(rendered, entityPrefix[o.Entity]+"."+key+dir)
	}
	again, err := parse(rendered)
	if err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("%q: rendered as %q: got %+v, %v; want %+v", list, rendered, again, err, got)
	}
}

var entityPrefix = map[Entity]string{
	Metric: "metrics", Param: "params", Tag: "tags", Attribute: "attribute", Dataset: "datasets",
}

var bareKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// renderKey writes a key so that it parses back to itself, if it can.
func renderKey(k string) (string, bool) {
	switch {
	case bareKey.MatchString(k):
		return k, true
	case isQuoted(k, '`'):
		return "", false // would lose a layer of backticks
	case !strings.Contains(k, "`"):
		return "`" + k + "`", true
	case !strings.ContainsAny(k, `"\`):
		return `"` + k + `"`, true
	}
	return "", false
}

// renderOrderKey writes a key for an order_by entry with a direction, which
// MLflow (and so the parser) runs through shlex.
func renderOrderKey(k string) (string, bool) {
	switch {
	case bareKey.MatchString(k):
		return k, true
	case !strings.ContainsAny(k, "`\"'\\"):
		return "`" + k + "`", true
	}
	return "", false
}

// renderString writes a string value so that it parses back to itself, if it can.
func renderString(v string) (string, bool) {
	switch {
	case !strings.ContainsAny(v, `'\`):
		return "'" + v + "'", true
	case !strings.ContainsAny(v, `"\`):
		return `"` + v + `"`, true
	}
	return "", false
}

func renderFilter(cls []Clause) (string, bool) {
	parts := make([]string, 0, len(cls))
	for _, c := range cls {
		key, ok := renderKey(c.Key)
		if !ok {
			return "", false
		}
		var val string
		switch {
		case c.List != nil:
			items := make([]string, len(c.List))
			for i, v := range c.List {
				if strings.ContainsAny(v, `'\`) {
					return "", false
				}
				items[i] = "'" + v + "'"
			}
			val = "(" + strings.Join(items, ", ") + ")"
		case c.Numeric:
			if math.IsInf(c.Num, 0) {
				return "", false
			}
			val = strconv.FormatFloat(c.Num, 'f', -1, 64)
		default:
			if val, ok = renderString(c.Str); !ok {
				return "", false
			}
		}
		parts = append(parts, entityPrefix[c.Entity]+"."+key+" "+string(c.Op)+" "+val)
	}
	return strings.Join(parts, " AND "), true
}
