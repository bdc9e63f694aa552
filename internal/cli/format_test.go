package cli

import (
	"encoding/json"
	"flag"
	"math"
	"reflect"
	"testing"
)

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtTime(0), "-"},
		{fmtTime(1709294400123), "2024-03-01 12:00:00Z"},
		{fmtDuration(1000, 0), "-"},
		{fmtDuration(2000, 1000), "-"},
		{fmtDuration(1000, 1750), "750ms"},
		{fmtDuration(0, 12_999), "-"},
		{fmtDuration(1, 12_990), "12.9s"},
		{fmtDuration(1, 1+187_000), "3m07s"},
		{fmtDuration(1, 1+2*3600_000+5*60_000+59_000), "2h05m"},
		{fmtDuration(1, 1+76*3600_000), "3d04h"},
		{fmtFloat(math.NaN(), 6), "NaN"},
		{fmtFloat(math.Inf(1), 6), "+Inf"},
		{fmtFloat(math.Inf(-1), -1), "-Inf"},
		{fmtFloat(0.2123456789, 6), "0.212346"},
		{fmtFloat(0.2123456789, -1), "0.2123456789"},
		{fmtFloat(1e21, 6), "1e+21"},
		{fmtSize(0), "0 B"},
		{fmtSize(1023), "1023 B"},
		{fmtSize(2400), "2.3 KiB"},
		{fmtSize(5 << 30), "5.0 GiB"},
		{cell("", 0), "-"},
		{cell("a\tb\nc", 0), `a\tb\nc`},
		{cell("abcdef", 4), "abc…"},
		{cell("äöüß", 4), "äöüß"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestWireNumbers(t *testing.T) {
	var m struct {
		Values []float  `json:"values"`
		Times  []millis `json:"times"`
	}
	data := quoteNonFinite([]byte(`{"s": "NaN Infinity \" -Infinity", "values": [1.5, "NaN", "Infinity", "-Infinity", NaN, Infinity, -Infinity, "2"], "times": [5, "6", null]}`))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	if !json.Valid(data) {
		t.Fatalf("not valid JSON: %s", data)
	}
	got := ""
	for _, v := range m.Values {
		got += fmtFloat(float64(v), -1) + " "
	}
	if want := "1.5 NaN +Inf -Inf NaN +Inf -Inf 2 "; got != want {
		t.Errorf("values = %q, want %q", got, want)
	}
	if !reflect.DeepEqual(m.Times, []millis{5, 6, 0}) {
		t.Errorf("times = %v", m.Times)
	}
	if s := string(quoteNonFinite([]byte(`{"k": "NaN"}`))); s != `{"k": "NaN"}` {
		t.Errorf("a string was rewritten: %s", s)
	}
}

func TestReferencedColumns(t *testing.T) {
	got := referencedColumns(
		"metrics.rmse < 0.5 and params.`learning rate` = '0.1' AND tag.team='metrics.fake' and metric.\"val loss\">=1 and attributes.status = 'X'",
		"parameters.depth DESC", "run_name", "metrics.rmse")
	want := []column{{"metrics", "rmse"}, {"params", "learning rate"}, {"tags", "team"}, {"metrics", "val loss"}, {"params", "depth"}, {"metrics", "rmse"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := dedupe(got); len(got) != 5 {
		t.Errorf("dedupe: %v", got)
	}
	for in, ok := range map[string]bool{"metrics.a": true, "tags.x/y": true, "rmse": false, "metrics.": false, "metrics.a b": false, " metrics.a": false} {
		if _, got := parseColumn(in); got != ok {
			t.Errorf("parseColumn(%q) ok = %v, want %v", in, got, ok)
		}
	}
}

func TestServerURL(t *testing.T) {
	for _, tc := range []struct{ flag, env, want string }{
		{"", "", DefaultServer},
		{"", "http://h:1/", "http://h:1"},
		{"localhost:8080", "http://h:1", "http://localhost:8080"},
		{"https://ferry.example/prefix/", "", "https://ferry.example/prefix"},
		{"ftp://h", "", ""},
		{"", "http://", ""},
	} {
		got, err := serverURL(tc.flag, tc.env)
		if tc.want == "" {
			if err == nil {
				t.Errorf("serverURL(%q, %q) = %q, want an error", tc.flag, tc.env, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("serverURL(%q, %q) = %q, %v; want %q", tc.flag, tc.env, got, err, tc.want)
		}
	}
}

func TestParseInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	all := fs.Bool("all", false, "")
	name := fs.String("name", "", "")
	pos, err := parseInterspersed(fs, []string{"a", "--all", "b", "--name", "n", "c", "--", "--d", "e"})
	if err != nil {
		t.Fatal(err)
	}
	if !*all || *name != "n" || !reflect.DeepEqual(pos, []string{"a", "b", "c", "--d", "e"}) {
		t.Errorf("all=%v name=%q pos=%q", *all, *name, pos)
	}
}
