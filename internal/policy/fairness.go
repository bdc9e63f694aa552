package policy

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// MaxFairnessGroups bounds the distinct values of a protected attribute;
// more suggests the column is not a group attribute (an id, a score).
const MaxFairnessGroups = 1000

// FairnessReport is what MeasureFairness finds in an evaluation set. The
// definitions are Fairlearn's (fairlearn.metrics, method
// "between_groups", agg "worst_case"):
//
//	selection rate(a)   = P(ŷ=1 | A=a)
//	DP ratio            = min_a selection rate / max_a selection rate
//	DP difference       = max_a selection rate − min_a selection rate
//	TPR(a) = P(ŷ=1 | A=a, y=1)      FPR(a) = P(ŷ=1 | A=a, y=0)
//	EO difference       = max(max_a TPR − min_a TPR, max_a FPR − min_a FPR)
//
// Undefined values are NaN: the DP ratio when no group has a positive
// prediction (Fairlearn: 0/0 = NaN), a group's TPR when it has no actual
// positives and its FPR when it has no actual negatives, and the TPR/FPR
// spreads and EO difference when any group's TPR/FPR is undefined. Here
// Fairlearn differs: through scikit-learn's confusion_matrix(normalize=
// "true") it counts an undefined rate as 0, which can make a model look
// fair (or unfair) by accident; the policy engine fails the equalized-odds
// rule instead and says which group lacks positives or negatives.
type FairnessReport struct {
	Attribute string
	Rows      int
	Groups    []GroupRates // sorted by Value

	DemographicParityRatio      float64
	DemographicParityDifference float64
	TPRDifference               float64
	FPRDifference               float64
	EqualizedOddsDifference     float64

	// MinSelectionGroup and MaxSelectionGroup are the groups with the
	// lowest and highest selection rate (first in Value order on ties).
	MinSelectionGroup, MaxSelectionGroup string

	minGroup, maxGroup string // quoted for messages
}

// GroupRates holds one group's counts and rates.
type GroupRates struct {
	Value          string // the protected attribute's value, exactly as in the file
	N              int    // rows
	Selected       int    // predicted positive
	Positives      int    // actually positive
	Negatives      int    // actually negative
	TruePositives  int
	FalsePositives int
	SelectionRate  float64
	TPR            float64 // NaN when Positives == 0
	FPR            float64 // NaN when Negatives == 0
}

// MeasureFairness streams a CSV evaluation set (header row required,
// columns looked up by name) and computes per-group rates and the
// disparities between groups. Every distinct value of the protected
// attribute is a group, the empty string and "NA" included. Errors name the
// line of the offending row.
func MeasureFairness(ctx context.Context, r io.Reader, fr *Fairness) (*FairnessReport, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("the file is empty (a CSV header row is expected)")
	}
	if err != nil {
		return nil, csvError(err)
	}
	header = slicesClone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	col := func(name, role string) (int, error) {
		at := -1
		for i, h := range header {
			if h == name {
				if at >= 0 {
					return 0, fmt.Errorf("the header names column %q twice (%s)", name, role)
				}
				at = i
			}
		}
		if at < 0 {
			return 0, fmt.Errorf("the header has no column %q (%s); columns: %s", name, role, listColumns(header))
		}
		return at, nil
	}
	attrCol, err := col(fr.ProtectedAttribute, "protected_attribute")
	if err != nil {
		return nil, err
	}
	labelCol, err := col(fr.LabelColumn, "label_column")
	if err != nil {
		return nil, err
	}
	predCol, scoreCol := -1, -1
	if fr.ScoreColumn != "" {
		if scoreCol, err = col(fr.ScoreColumn, "score_column"); err != nil {
			return nil, err
		}
	} else if predCol, err = col(fr.PredictionColumn, "prediction_column"); err != nil {
		return nil, err
	}

	groups := map[string]*GroupRates{}
	rows := 0
	sawPositive := false
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		rows++
		if rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, _ := cr.FieldPos(0)
		y, err := binaryValue(rec[labelCol], fr.PositiveLabel)
		if err != nil {
			return nil, fmt.Errorf("line %d: label column %q: %w", line, fr.LabelColumn, err)
		}
		var yhat bool
		if scoreCol >= 0 {
			s := strings.TrimSpace(rec[scoreCol])
			v, perr := strconv.ParseFloat(s, 64)
			if perr != nil || math.IsNaN(v) {
				return nil, fmt.Errorf("line %d: score column %q holds %s, not a number", line, fr.ScoreColumn, strconv.Quote(rec[scoreCol]))
			}
			yhat = v >= fr.Threshold
		} else {
			yhat, err = binaryValue(rec[predCol], fr.PositiveLabel)
			if err != nil {
				return nil, fmt.Errorf("line %d: prediction column %q: %w", line, fr.PredictionColumn, err)
			}
		}
		if fr.PositiveLabel != "" && (y || (scoreCol < 0 && yhat)) {
			sawPositive = true
		}
		a := rec[attrCol]
		g := groups[a]
		if g == nil {
			if len(groups) == MaxFairnessGroups {
				return nil, fmt.Errorf("line %d: column %q has more than %d distinct values; a protected attribute names groups (sex, age band), not individuals", line, fr.ProtectedAttribute, MaxFairnessGroups)
			}
			g = &GroupRates{Value: strings.Clone(a)}
			groups[g.Value] = g
		}
		g.N++
		if y {
			g.Positives++
		} else {
			g.Negatives++
		}
		if yhat {
			g.Selected++
			if y {
				g.TruePositives++
			} else {
				g.FalsePositives++
			}
		}
	}
	if rows == 0 {
		return nil, errors.New("the file has a header but no rows")
	}
	if fr.PositiveLabel != "" && !sawPositive {
		return nil, fmt.Errorf("positive_label %q occurs in no row (check its spelling)", fr.PositiveLabel)
	}
	rep := &FairnessReport{Attribute: fr.ProtectedAttribute, Rows: rows}
	for _, g := range groups {
		g.SelectionRate = float64(g.Selected) / float64(g.N)
		g.TPR, g.FPR = math.NaN(), math.NaN()
		if g.Positives > 0 {
			g.TPR = float64(g.TruePositives) / float64(g.Positives)
		}
		if g.Negatives > 0 {
			g.FPR = float64(g.FalsePositives) / float64(g.Negatives)
		}
		rep.Groups = append(rep.Groups, *g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool { return rep.Groups[i].Value < rep.Groups[j].Value })
	rep.disparities()
	return rep, nil
}

func (rep *FairnessReport) disparities() {
	lo, hi := 0, 0
	for i, g := range rep.Groups {
		if g.SelectionRate < rep.Groups[lo].SelectionRate {
			lo = i
		}
		if g.SelectionRate > rep.Groups[hi].SelectionRate {
			hi = i
		}
	}
	minSel, maxSel := rep.Groups[lo].SelectionRate, rep.Groups[hi].SelectionRate
	rep.MinSelectionGroup, rep.MaxSelectionGroup = rep.Groups[lo].Value, rep.Groups[hi].Value
	rep.minGroup, rep.maxGroup = groupName(rep.MinSelectionGroup), groupName(rep.MaxSelectionGroup)
	rep.DemographicParityDifference = maxSel - minSel
	rep.DemographicParityRatio = math.NaN()
	if maxSel > 0 {
		rep.DemographicParityRatio = minSel / maxSel
	}
	spread := func(rate func(GroupRates) float64) float64 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, g := range rep.Groups {
			v := rate(g)
			if math.IsNaN(v) {
				return math.NaN()
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		return hi - lo
	}
	rep.TPRDifference = spread(func(g GroupRates) float64 { return g.TPR })
	rep.FPRDifference = spread(func(g GroupRates) float64 { return g.FPR })
	rep.EqualizedOddsDifference = math.NaN()
	if !math.IsNaN(rep.TPRDifference) && !math.IsNaN(rep.FPRDifference) {
		rep.EqualizedOddsDifference = math.Max(rep.TPRDifference, rep.FPRDifference)
	}
}

// eoUndefined says why the equalized-odds difference is undefined, or "".
func (rep *FairnessReport) eoUndefined() string {
	var why []string
	for _, g := range rep.Groups {
		switch {
		case g.Positives == 0:
			why = append(why, fmt.Sprintf("group %s has no actual positives (TPR undefined)", groupName(g.Value)))
		case g.Negatives == 0:
			why = append(why, fmt.Sprintf("group %s has no actual negatives (FPR undefined)", groupName(g.Value)))
		}
	}
	return strings.Join(why, ", ")
}

// groupSummary lists the groups' sizes and rates for a rule's detail.
func (rep *FairnessReport) groupSummary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d rows", rep.Rows)
	for i, g := range rep.Groups {
		if i == 20 {
			fmt.Fprintf(&b, "; and %d more groups", len(rep.Groups)-i)
			break
		}
		fmt.Fprintf(&b, "; %s: n=%d selection=%s TPR=%s FPR=%s", groupName(g.Value), g.N,
			formatRate(g.SelectionRate), rateOrNA(g.TPR), rateOrNA(g.FPR))
	}
	return b.String()
}

func rateOrNA(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return formatRate(v)
}

func groupName(v string) string {
	if v == "" || strings.ContainsAny(v, " \t\n;,=\"'") || len(v) > 40 {
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return strconv.Quote(v)
	}
	return v
}

// binaryValue reads a label or predicted label. With a positive label, that
// exact value (spaces trimmed) is positive and anything else negative;
// without one, the value must be binary: 0/1, 0.0/1.0 or false/true.
func binaryValue(s, positive string) (bool, error) {
	t := strings.TrimSpace(s)
	if positive != "" {
		return t == strings.TrimSpace(positive), nil
	}
	switch strings.ToLower(t) {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	if v, err := strconv.ParseFloat(t, 64); err == nil && (v == 0 || v == 1) {
		return v == 1, nil
	}
	return false, fmt.Errorf("holds %s: labels must be 0 or 1 (set positive_label to name the positive value)", strconv.Quote(s))
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return fmt.Errorf("line %d: the row has a different number of fields than the header", pe.Line)
		}
		return fmt.Errorf("line %d, column %d: not valid CSV: %v", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("cannot read it: %w", err)
}

func listColumns(header []string) string {
	var parts []string
	for i, h := range header {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("... (%d in all)", len(header)))
			break
		}
		parts = append(parts, strconv.Quote(h))
	}
	return strings.Join(parts, ", ")
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }
