package monitor

import (
	"context"
	"time"

	"github.com/ferry-ml/ferry/internal/drift"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/monitor/report"
)

// MaxReportPoints bounds each over-time series of a report: longer ones
// are thinned evenly (the last point always kept).
const MaxReportPoints = 500

// DefaultReportRange is how far back a report's over-time series reach
// when no range is given.
const DefaultReportRange = 24 * time.Hour

// Report describes an endpoint's drift now — the same window, reference
// and tests as Check, with each column's histograms — and the drift
// scores recorded in [from, to) (zero times: the last DefaultReportRange).
// It records nothing. An endpoint without a reference is
// errdefs.ErrNotFound; a window without traffic drift.ErrNotEnoughData
// (and errdefs.ErrConflict).
func (d *Drift) Report(ctx context.Context, endpoint string, from, to time.Time) (report.Report, error) {
	now := d.now()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultReportRange)
	}
	if to.Before(from) {
		return report.Report{}, errdefs.InvalidArgument("The report's end (%d) is before its start (%d).", to.UnixMilli(), from.UnixMilli())
	}
	ev, err := d.evaluate(ctx, endpoint, now)
	if err != nil {
		return report.Report{}, err
	}
	share := ev.settings.DriftShare
	r := report.Report{
		Endpoint: endpoint, Generated: now.UnixMilli(),
		Reference:  report.Reference{Dataset: ev.ref.Dataset, Version: ev.ref.Version, Rows: ev.refRows},
		Current:    report.Window{Rows: ev.rows, From: ev.from, To: ev.to},
		DriftShare: ev.share, DriftShareThreshold: share, DatasetDrift: ev.datasetDrift,
		Features: []report.Column{},
		OverTime: report.Range{From: from.UnixMilli(), To: to.UnixMilli()},
		Settings: report.Settings{StatTest: ev.settings.StatTest, Threshold: ev.settings.Threshold,
			DriftShare: ev.settings.DriftShare, WindowRows: ev.settings.WindowRows},
		FeaturesMissingInReference: nonNil(ev.missingInRef), ReferenceColumnsNotServed: nonNil(ev.notServed),
		FeaturesNotTested: []report.NotTested{}, Versions: []report.VersionDrift{},
	}
	for _, n := range ev.notTested {
		r.FeaturesNotTested = append(r.FeaturesNotTested, report.NotTested{Name: n.name, Reason: n.reason})
	}
	if ev.settings.Window > 0 {
		r.Settings.Window = ev.settings.Window.String()
	}
	for _, v := range ev.versions {
		rv := report.VersionDrift{Model: v.model, Version: v.version, Rows: v.rows, DriftShare: v.share,
			DatasetDrift: v.datasetDrift, Features: []report.VersionColumn{}}
		for _, c := range v.features {
			rv.Features = append(rv.Features, report.VersionColumn{Name: c.name, Test: string(c.res.Test),
				Score: report.Finite(c.res.Score()), Threshold: c.res.Threshold, Drifted: c.res.Drifted, NCur: c.res.NCur})
		}
		r.Versions = append(r.Versions, rv)
	}
	// Each series is read once (the features' scores grouped by their
	// label), its newest points when the range holds more than a query
	// answers, and thinned per feature.
	over := func(series string) (map[string][]report.TimePoint, error) {
		points, err := d.Store.QueryPoints(ctx, Query{Series: series, Labels: map[string]string{"endpoint": endpoint},
			From: r.OverTime.From, To: r.OverTime.To, Limit: MaxQueryPoints, Newest: true})
		if err != nil {
			return nil, err
		}
		out := map[string][]report.TimePoint{}
		for _, p := range points {
			f := p.Labels["feature"]
			out[f] = append(out[f], report.TimePoint{Time: p.Time, Value: p.Value, Test: p.Labels["test"]})
		}
		for f, ps := range out {
			out[f] = report.Thin(ps, MaxReportPoints)
		}
		return out, nil
	}
	shares, err := over(SeriesDriftShare)
	if err != nil {
		return report.Report{}, err
	}
	r.DriftShareOverTime = nonNilPoints(shares[""])
	scores, err := over(SeriesFeatureScore)
	if err != nil {
		return report.Report{}, err
	}
	for _, c := range ev.features {
		col := reportColumn(c)
		col.OverTime = nonNilPoints(scores[c.name])
		r.Features = append(r.Features, col)
	}
	switch {
	case ev.prediction != nil:
		col := reportColumn(*ev.prediction)
		pred, err := over(SeriesPredictionScore)
		if err != nil {
			return report.Report{}, err
		}
		col.OverTime = nonNilPoints(pred[""])
		r.Prediction = &col
	case ev.predErr != nil:
		r.PredictionError = ev.predErr.Error()
	case d.Model == nil:
		r.PredictionError = "this server does not compute prediction drift"
	default:
		r.PredictionError = "no logged prediction of the served model version in the window"
	}
	return r, nil
}

// reportColumn is a compared column as the report shows it.
func reportColumn(c columnDrift) report.Column {
	col := report.Column{Name: c.name, Kind: c.kind.String(), Test: string(c.res.Test),
		Statistic: report.Finite(c.res.Statistic), Score: report.Finite(c.res.Score()),
		Threshold: c.res.Threshold, Drifted: c.res.Drifted, NRef: c.res.NRef, NCur: c.res.NCur,
		Model: c.model, Version: c.version, Output: c.output, OverTime: []report.TimePoint{}}
	if c.res.PValue != nil {
		col.PValue = report.Finite(*c.res.PValue)
	}
	if c.kind == drift.KindCategorical {
		col.Histogram = report.CategoricalHistogram(c.ref, c.cur)
	} else {
		col.Histogram = report.NumericHistogram(c.ref, c.cur, report.DefaultBins)
	}
	return col
}

// nonNilPoints is ps, or an empty list (JSON [] rather than null).
func nonNilPoints(ps []report.TimePoint) []report.TimePoint {
	if ps == nil {
		return []report.TimePoint{}
	}
	return ps
}

// nonNil is xs, or an empty list (JSON [] rather than null).
func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
