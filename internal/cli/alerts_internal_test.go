package cli

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseMatcher(t *testing.T) {
	for in, want := range map[string][2]string{
		"endpoint=fraud":          {"endpoint", "fraud"},
		" endpoint=fraud ":        {"endpoint", "fraud"},
		"_x=":                     {"_x", ""},
		"q=a=b":                   {"q", "a=b"},
		"q=a!~b":                  {"q", "a!~b"},
		`summary="a \"b\", c"`:    {"summary", `a "b", c`},
		`severity="critical"`:     {"severity", "critical"},
		"alertname=data-drift:v1": {"alertname", "data-drift:v1"},
	} {
		name, value, err := parseMatcher(in)
		if err != nil || name != want[0] || value != want[1] {
			t.Errorf("%q: %q %q %v, want %q", in, name, value, err, want)
		}
	}
	for in, msg := range map[string]string{
		"endpoint=~fra.*": "regex matchers (=~)",
		"endpoint!~fra.*": "regex matchers (!~)",
		"endpoint!=fraud": "negative matchers (!=)",
		"fraud":           "not a matcher",
		"endpoint~fraud":  "not a matcher",
		"=fraud":          "not a label name",
		"1x=y":            "not a label name",
		"a-b=y":           "not a label name",
		`a="unterminated`: "quoted value",
		"a=\xff":          "UTF-8",
	} {
		if _, _, err := parseMatcher(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: %v, want an error about %s", in, err, msg)
		}
	}
}

// parseMatcher never panics; what it accepts is a label name and a valid
// value, and the quoted form of an accepted matcher reads back the same.
func FuzzParseMatcher(f *testing.F) {
	for _, s := range []string{"endpoint=fraud", `a="b\"c"`, "a=~b", "a!=b", "a!~b", "=", "a=", `a="`, "1=2", "a=\xff", " a = b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, value, err := parseMatcher(s)
		if err != nil {
			return
		}
		if !labelNameRE.MatchString(name) || !utf8.ValidString(value) {
			t.Fatalf("%q: accepted %q=%q", s, name, value)
		}
		n2, v2, err := parseMatcher(name + "=" + strconv.Quote(value))
		if err != nil || n2 != name || v2 != value {
			t.Fatalf("%q: %q=%q reads back as %q=%q (%v)", s, name, value, n2, v2, err)
		}
	})
}
