package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

//go:embed report.html
var pageSource string

// pageTemplate is parsed once; it is never changed after.
var pageTemplate = template.Must(template.New("report").Parse(pageSource))

// HTML renders r as one self-contained page: inline CSS and SVG charts,
// no script and nothing loaded from elsewhere. Every value from the
// report (endpoint, dataset and feature names) goes through
// html/template's escaping.
func HTML(r Report) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, newPage(r)); err != nil {
		return nil, fmt.Errorf("drift report: %w", err)
	}
	return b.Bytes(), nil
}

// page is what the template draws: the report with its numbers
// formatted and its charts laid out.
type page struct {
	Endpoint     string
	Generated    string
	Reference    Reference
	Current      Window
	CurrentFrom  string
	CurrentTo    string
	DriftShare   string
	Threshold    string
	DatasetDrift bool
	Drifted      int
	NFeatures    int
	OverFrom     string
	OverTo       string
	ShareChart   lineChart
	Prediction   *columnView
	PredError    string
	Features     []columnView
	// Settings summarises the drift settings; Missing and NotServed are
	// the unmatched columns, NotTested the features without enough data;
	// Versions the per-version drift.
	Settings  string
	Window    string
	Missing   []string
	NotServed []string
	NotTested []NotTested
	Versions  []versionView
}

type versionView struct {
	Model        string
	Version      int64
	Rows         int
	DriftShare   string
	DatasetDrift bool
	Features     []versionColumnView
}

type versionColumnView struct {
	Name, Test, Score, Threshold string
	Drifted                      bool
}

type columnView struct {
	ID          string
	Name        string
	Kind        string
	Test        string
	Statistic   string
	PValue      string
	Threshold   string
	Drifted     bool
	NRef, NCur  int
	Model       string
	Output      string
	RefMissing  int
	CurMissing  int
	Hist        barChart
	Score       lineChart
	ScoreIsPVal bool
}

type bar struct {
	X, Y, W, H string
	Class      string
	Title      string
}

type barChart struct {
	Width, Height int
	AxisY         int
	Bars          []bar // reference, current alternately
	Labels        []axisLabel
	Empty         bool
}

type axisLabel struct {
	X, Y string
	Text string
}

type lineChart struct {
	Width, Height int
	AxisY         int
	Points        string // polyline
	Dots          []bar  // one per point, with its title
	ThresholdY    string
	HasThreshold  bool
	Labels        []axisLabel
	Empty         bool
}

const (
	chartWidth  = 520
	histHeight  = 170
	lineHeight  = 110
	chartMargin = 30
)

func newPage(r Report) page {
	p := page{
		Endpoint: r.Endpoint, Generated: fmtTime(r.Generated), Reference: r.Reference, Current: r.Current,
		CurrentFrom: fmtTime(r.Current.From), CurrentTo: fmtTime(r.Current.To),
		DriftShare: fmtNum(r.DriftShare), Threshold: fmtNum(r.DriftShareThreshold), DatasetDrift: r.DatasetDrift,
		NFeatures: len(r.Features), OverFrom: fmtTime(r.OverTime.From), OverTo: fmtTime(r.OverTime.To),
		PredError: r.PredictionError,
	}
	p.ShareChart = newLineChart(r.DriftShareOverTime, r.OverTime, r.DriftShareThreshold, 1)
	test := r.Settings.StatTest
	if test == "" {
		test = "Evidently's default selection"
	} else if r.Settings.Threshold > 0 {
		test += ", threshold " + fmtNum(r.Settings.Threshold)
	}
	p.Settings = fmt.Sprintf("%s; drift share %s", test, fmtNum(r.Settings.DriftShare))
	if r.Settings.Window != "" {
		p.Window = fmt.Sprintf("the rows logged in the last %s (the newest %d at most)", r.Settings.Window, r.Settings.WindowRows)
	} else {
		p.Window = fmt.Sprintf("the latest %d logged rows", r.Settings.WindowRows)
	}
	p.Missing, p.NotServed, p.NotTested = r.FeaturesMissingInReference, r.ReferenceColumnsNotServed, r.FeaturesNotTested
	for _, v := range r.Versions {
		vv := versionView{Model: v.Model, Version: v.Version, Rows: v.Rows, DriftShare: fmtNum(v.DriftShare), DatasetDrift: v.DatasetDrift}
		for _, c := range v.Features {
			vv.Features = append(vv.Features, versionColumnView{Name: c.Name, Test: c.Test, Score: fmtPtr(c.Score),
				Threshold: fmtNum(c.Threshold), Drifted: c.Drifted})
		}
		p.Versions = append(p.Versions, vv)
	}
	for i, c := range r.Features {
		if c.Drifted {
			p.Drifted++
		}
		p.Features = append(p.Features, newColumnView(c, "f"+strconv.Itoa(i), r.OverTime))
	}
	if r.Prediction != nil {
		v := newColumnView(*r.Prediction, "prediction", r.OverTime)
		p.Prediction = &v
	}
	return p
}

func newColumnView(c Column, id string, over Range) columnView {
	v := columnView{ID: id, Name: c.Name, Kind: c.Kind, Test: c.Test, Statistic: fmtPtr(c.Statistic), PValue: fmtPtr(c.PValue),
		Threshold: fmtNum(c.Threshold), Drifted: c.Drifted, NRef: c.NRef, NCur: c.NCur, Output: c.Output,
		RefMissing: c.Histogram.ReferenceMissing, CurMissing: c.Histogram.CurrentMissing, ScoreIsPVal: c.PValue != nil}
	if c.Model != "" {
		v.Model = c.Model + " version " + strconv.FormatInt(c.Version, 10)
	}
	v.Hist = newBarChart(c.Histogram)
	yMax := 0.0 // distances: fit the values
	if c.PValue != nil {
		yMax = 1
	}
	v.Score = newLineChart(c.OverTime, over, c.Threshold, yMax)
	return v
}

// newBarChart draws each bin's share of the reference's and the
// current's finite values side by side.
func newBarChart(h Histogram) barChart {
	ch := barChart{Width: chartWidth, Height: histHeight, AxisY: histHeight - chartMargin}
	n := len(h.Reference)
	if n == 0 || n != len(h.Current) {
		ch.Empty = true
		return ch
	}
	sum := func(xs []int) int {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s
	}
	nr, nc := sum(h.Reference), sum(h.Current)
	share := func(c, total int) float64 {
		if total == 0 {
			return 0
		}
		return float64(c) / float64(total)
	}
	top := 0.0
	for i := range n {
		top = math.Max(top, math.Max(share(h.Reference[i], nr), share(h.Current[i], nc)))
	}
	if top == 0 {
		top = 1
	}
	plotW := float64(chartWidth - 2*chartMargin)
	plotH := float64(histHeight - 2*chartMargin)
	slot := plotW / float64(n)
	w := slot * 0.42
	label := func(i int) string {
		if h.Edges != nil {
			end := ")"
			if i == n-1 {
				end = "]"
			}
			return "[" + fmtNum(h.Edges[i]) + ", " + fmtNum(h.Edges[i+1]) + end
		}
		return fmtNum(h.Categories[i])
	}
	for i := range n {
		x := float64(chartMargin) + float64(i)*slot + slot*0.08
		for k, side := range []struct {
			name, class string
			c, total    int
		}{{"reference", "ref", h.Reference[i], nr}, {"current", "cur", h.Current[i], nc}} {
			s := share(side.c, side.total)
			bh := s / top * plotH
			ch.Bars = append(ch.Bars, bar{X: fmtCoord(x + float64(k)*w), Y: fmtCoord(float64(histHeight-chartMargin) - bh),
				W: fmtCoord(w), H: fmtCoord(bh), Class: side.class,
				Title: fmt.Sprintf("%s %s: %d (%.1f%%)", label(i), side.name, side.c, 100*s)})
		}
	}
	base := fmtCoord(float64(histHeight - chartMargin + 14))
	if h.Edges != nil {
		ch.Labels = []axisLabel{{X: fmtCoord(chartMargin), Y: base, Text: fmtNum(h.Edges[0])},
			{X: fmtCoord(float64(chartWidth - chartMargin)), Y: base, Text: fmtNum(h.Edges[n])}}
	} else {
		for i, c := range h.Categories {
			ch.Labels = append(ch.Labels, axisLabel{X: fmtCoord(float64(chartMargin) + (float64(i)+0.5)*slot), Y: base, Text: fmtNum(c)})
		}
	}
	ch.Labels = append(ch.Labels, axisLabel{X: fmtCoord(chartMargin), Y: fmtCoord(chartMargin - 8), Text: fmt.Sprintf("%.1f%%", 100*top)})
	return ch
}

// newLineChart draws values over the time range, with the threshold as a
// dashed line; yMax 1 fixes the scale to [0, 1] (p-values, shares), 0
// fits it to the values and the threshold.
func newLineChart(points []TimePoint, over Range, threshold, yMax float64) lineChart {
	ch := lineChart{Width: chartWidth, Height: lineHeight, AxisY: lineHeight - chartMargin}
	if len(points) == 0 {
		ch.Empty = true
		return ch
	}
	from, to := over.From, over.To
	if to <= from {
		from, to = points[0].Time, points[len(points)-1].Time+1
	}
	top := yMax
	if top <= 0 {
		top = threshold
		for _, p := range points {
			top = math.Max(top, p.Value)
		}
		top *= 1.1
		if !(top > 0) || math.IsInf(top, 0) {
			top = 1
		}
	}
	plotW := float64(chartWidth - 2*chartMargin)
	plotH := float64(lineHeight - 2*chartMargin)
	xOf := func(t int64) float64 {
		return float64(chartMargin) + plotW*float64(t-from)/float64(to-from)
	}
	yOf := func(v float64) float64 {
		return float64(lineHeight-chartMargin) - plotH*math.Max(0, math.Min(v/top, 1))
	}
	var b strings.Builder
	for i, p := range points {
		if i > 0 {
			b.WriteByte(' ')
		}
		x, y := fmtCoord(xOf(p.Time)), fmtCoord(yOf(p.Value))
		b.WriteString(x + "," + y)
		title := fmtTime(p.Time) + ": " + fmtNum(p.Value)
		if p.Test != "" {
			title += " (" + p.Test + ")"
		}
		ch.Dots = append(ch.Dots, bar{X: x, Y: y, Title: title})
	}
	ch.Points = b.String()
	if threshold > 0 {
		ch.HasThreshold, ch.ThresholdY = true, fmtCoord(yOf(threshold))
	}
	base := fmtCoord(float64(lineHeight - chartMargin + 14))
	ch.Labels = []axisLabel{
		{X: fmtCoord(chartMargin), Y: base, Text: fmtTime(from)},
		{X: fmtCoord(float64(chartWidth - chartMargin)), Y: base, Text: fmtTime(to)},
		{X: fmtCoord(chartMargin), Y: fmtCoord(chartMargin - 8), Text: fmtNum(top)},
	}
	return ch
}

func fmtTime(ms int64) string {
	if ms == 0 {
		return "—"
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05Z")
}

func fmtNum(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return strconv.FormatFloat(x, 'g', 4, 64)
}

func fmtPtr(x *float64) string {
	if x == nil {
		return "—"
	}
	return fmtNum(*x)
}

func fmtCoord(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }
