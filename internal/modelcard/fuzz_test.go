package modelcard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"", "Ada <ada@x>, Team <#t>; Bob\nCarol", "<", ">", "<<>>", "a<b,c>d", "- a\n* b; • c",
	"accuracy/sex:female", "eval/recall/sex:f/age:30-39", "a/b=c=d", "/x:y", "x/:y", "x/y:", "Risk: mitigation: more",
	"\xff\xfe", "\x00# h", "\x00\x00\x00    code", "; ;\r\n", "12. item", "# h", "a | b", "```", "<script>",
}

func FuzzParseOwners(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, o := range parseOwners(s) {
			if o.Name == "" && o.Contact == "" {
				t.Fatalf("parseOwners(%q) gave an empty owner", s)
			}
			if strings.TrimSpace(o.Name) != o.Name || strings.TrimSpace(o.Contact) != o.Contact {
				t.Fatalf("parseOwners(%q) gave untrimmed %+v", s, o)
			}
		}
	})
}

func FuzzSplitList(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, item := range splitList(s) {
			if item == "" || strings.TrimSpace(item) != item || strings.ContainsAny(item, "\n;") {
				t.Fatalf("splitList(%q) gave item %q", s, item)
			}
		}
		for _, p := range splitParagraphs(s) {
			if p == "" || strings.TrimSpace(p) != p || strings.Contains(p, "\n\n") {
				t.Fatalf("splitParagraphs(%q) gave %q", s, p)
			}
		}
		r := parseRisk(s)
		if strings.TrimSpace(r.Name) != r.Name || strings.TrimSpace(r.MitigationStrategy) != r.MitigationStrategy {
			t.Fatalf("parseRisk(%q) = %+v", s, r)
		}
		if l := parseLicense(s); (l.Identifier == "") == (l.CustomText == "") && strings.TrimSpace(s) != "" {
			t.Fatalf("parseLicense(%q) = %+v, want exactly one of the two", s, l)
		}
	})
}

func FuzzParseMetricName(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		metric, slice := ParseMetricName(name)
		if slice == "" {
			if metric != name {
				t.Fatalf("ParseMetricName(%q) = %q, %q: an unsliced name must stay whole", name, metric, slice)
			}
			return
		}
		if strings.TrimSpace(metric) == "" || !strings.HasPrefix(name, metric+"/") {
			t.Fatalf("ParseMetricName(%q) = %q, %q: metric must be a non-empty prefix", name, metric, slice)
		}
		for _, pair := range strings.Split(name[len(metric)+1:], "/") {
			if _, _, ok := sliceSegment(pair); !ok {
				t.Fatalf("ParseMetricName(%q): segment %q is not key:value", name, pair)
			}
		}
	})
}

// FuzzMDInline checks the Markdown escaping of user text: one line, no
// raw HTML, no unescaped table separator, no block marker at the start.
func FuzzMDInline(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		out := mdInline(s)
		if strings.ContainsAny(strings.ReplaceAll(out, "<br>", ""), "\n\r<>") {
			t.Fatalf("mdInline(%q) = %q: line break or raw HTML", s, out)
		}
		if cells("|"+out+"|") != 2 {
			t.Fatalf("mdInline(%q) = %q: unescaped '|'", s, out)
		}
		if strings.TrimLeft(out, " \t\u00a0") != out {
			t.Fatalf("mdInline(%q) = %q starts with white space", s, out)
		}
		if blockMarker(out) != 0 {
			t.Fatalf("mdInline(%q) = %q starts a block", s, out)
		}
	})
}
