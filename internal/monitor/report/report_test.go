package report

import (
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestNumericHistogram(t *testing.T) {
	h := NumericHistogram([]float64{0, 1, 2, math.NaN(), 10}, []float64{10, 5, math.Inf(1)}, 10)
	if h.Edges[0] != 0 || h.Edges[10] != 10 || h.Edges[1] != 1 {
		t.Fatalf("edges %v", h.Edges)
	}
	// [0,1) [1,2) [2,3) ... [9,10]: 10 falls in the last, closed bin.
	want := []int{1, 1, 1, 0, 0, 0, 0, 0, 0, 1}
	if !equal(h.Reference, want) || h.ReferenceMissing != 1 || h.CurrentMissing != 1 || h.Current[5] != 1 || h.Current[9] != 1 {
		t.Fatalf("%+v", h)
	}
	one := NumericHistogram([]float64{3, 3}, []float64{3}, 4)
	if one.Edges[0] != 2.5 || one.Edges[4] != 3.5 || one.Reference[2] != 2 || one.Current[2] != 1 {
		t.Fatalf("single value: %+v", one)
	}
	wide := NumericHistogram([]float64{-math.MaxFloat64, math.MaxFloat64}, nil, 2)
	if wide.Reference[0] != 1 || wide.Reference[1] != 1 {
		t.Fatalf("wide range: %+v", wide)
	}
	none := NumericHistogram([]float64{math.NaN()}, nil, 0)
	if len(none.Edges) != 0 || none.ReferenceMissing != 1 {
		t.Fatalf("no finite value: %+v", none)
	}
	c := CategoricalHistogram([]float64{0, 1, 1, math.NaN()}, []float64{2, 1})
	if !equal(c.Reference, []int{1, 2, 0}) || !equal(c.Current, []int{0, 1, 1}) || c.ReferenceMissing != 1 || len(c.Categories) != 3 {
		t.Fatalf("categorical: %+v", c)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestThin(t *testing.T) {
	var ps []TimePoint
	for i := range 1000 {
		ps = append(ps, TimePoint{Time: int64(i)})
	}
	th := Thin(ps, 500)
	if len(th) != 500 || th[0].Time != 0 || th[499].Time != 999 {
		t.Fatalf("%d %v %v", len(th), th[0], th[len(th)-1])
	}
	if len(Thin(ps[:3], 500)) != 3 {
		t.Fatal("short series thinned")
	}
	for _, n := range []int{1, 2, 3} {
		th := Thin(ps, n)
		if len(th) != n || th[n-1].Time != 999 || (n > 1 && th[0].Time != 0) {
			t.Errorf("thinned to %d: %v", n, th)
		}
	}
}

// Every string of the report is escaped: the only tags of the page are
// the template's own, and there is no script.
func TestHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>`
	p := 0.01
	r := Report{Endpoint: "ep" + evil, Generated: 1, Reference: Reference{Dataset: evil, Version: 1, Rows: 3},
		DriftShareOverTime: []TimePoint{{Time: 1, Value: 0.5}, {Time: 2, Value: 1}},
		OverTime:           Range{From: 0, To: 3},
		Features: []Column{{Name: evil, Kind: "num", Test: "ks", Statistic: Finite(0.5), PValue: &p, Threshold: 0.05, Drifted: true,
			Histogram: NumericHistogram([]float64{1, 2, 3}, []float64{2, 9}, 20),
			OverTime:  []TimePoint{{Time: 1, Value: 0.2, Test: evil}}}},
		PredictionError: evil,
	}
	b, err := HTML(r)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	if strings.Contains(page, "<script") || strings.Contains(strings.ToLower(page), "javascript:") {
		t.Fatalf("unescaped: %s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Fatal("the name is missing")
	}
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "title": true, "style": true, "body": true, "h1": true,
		"h2": true, "h3": true, "p": true, "table": true, "tr": true, "th": true, "td": true, "a": true, "span": true, "div": true,
		"svg": true, "rect": true, "line": true, "polyline": true, "circle": true, "text": true, "!doctype": true}
	for _, m := range regexp.MustCompile(`<(/?)([!a-zA-Z0-9]+)`).FindAllStringSubmatch(page, -1) {
		if !allowed[strings.ToLower(m[2])] {
			t.Errorf("unexpected tag %q", m[0])
		}
	}
	if strings.Contains(page, "http://") && !strings.Contains(page, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Error("the page refers to an outside resource")
	}
	if !strings.Contains(page, "<polyline") || !strings.Contains(page, "<rect class=\"ref\"") {
		t.Error("charts missing")
	}
	// JSON: a distance test's p-value is null.
	j, _ := json.Marshal(Column{Test: "wasserstein", Statistic: Finite(0.3)})
	if !strings.Contains(string(j), `"p_value":null`) {
		t.Errorf("%s", j)
	}
}
