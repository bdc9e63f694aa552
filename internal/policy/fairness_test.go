package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

// oracle is testdata/fairness_expected.json, written by
// testdata/make_fairness.py with scikit-learn's confusion_matrix per group
// on testdata/penguins_eval.csv (a LogisticRegression's predictions on
// held-out Palmer penguins).
type oracle struct {
	SklearnVersion string `json:"sklearn_version"`
	Cases          []struct {
		Name               string   `json:"name"`
		ProtectedAttribute string   `json:"protected_attribute"`
		LabelColumn        string   `json:"label_column"`
		PredictionColumn   string   `json:"prediction_column"`
		ScoreColumn        string   `json:"score_column"`
		Threshold          float64  `json:"threshold"`
		PositiveLabel      string   `json:"positive_label"`
		Oracle             expected `json:"oracle"`
	} `json:"cases"`
}

type expected struct {
	Rows   int `json:"rows"`
	Groups []struct {
		Value          string   `json:"value"`
		N              int      `json:"n"`
		Selected       int      `json:"selected"`
		Positives      int      `json:"positives"`
		Negatives      int      `json:"negatives"`
		TruePositives  int      `json:"true_positives"`
		FalsePositives int      `json:"false_positives"`
		SelectionRate  float64  `json:"selection_rate"`
		TPR            *float64 `json:"tpr"`
		FPR            *float64 `json:"fpr"`
	} `json:"groups"`
	DemographicParityRatio      *float64 `json:"demographic_parity_ratio"`
	DemographicParityDifference float64  `json:"demographic_parity_difference"`
	TPRDifference               *float64 `json:"tpr_difference"`
	FPRDifference               *float64 `json:"fpr_difference"`
	EqualizedOddsDifference     *float64 `json:"equalized_odds_difference"`
}

func loadOracle(t *testing.T) oracle {
	t.Helper()
	b, err := os.ReadFile("testdata/fairness_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Cases) < 5 {
		t.Fatalf("oracle has %d cases", len(o.Cases))
	}
	return o
}

// close12 compares to 1e-12; nil stands for undefined (NaN).
func close12(t *testing.T, what string, got float64, want *float64) {
	t.Helper()
	switch {
	case want == nil && !math.IsNaN(got):
		t.Errorf("%s = %v, want undefined", what, got)
	case want != nil && !(math.Abs(got-*want) <= 1e-12):
		t.Errorf("%s = %v, want %v (scikit-learn)", what, got, *want)
	}
}

func TestFairnessOracle(t *testing.T) {
	o := loadOracle(t)
	for _, c := range o.Cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := os.Open("testdata/penguins_eval.csv")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fr := &Fairness{ProtectedAttribute: c.ProtectedAttribute, LabelColumn: c.LabelColumn,
				PredictionColumn: c.PredictionColumn, ScoreColumn: c.ScoreColumn, Threshold: c.Threshold,
				PositiveLabel: c.PositiveLabel}
			rep, err := MeasureFairness(context.Background(), f, fr)
			if err != nil {
				t.Fatal(err)
			}
			want := c.Oracle
			if rep.Rows != want.Rows || len(rep.Groups) != len(want.Groups) {
				t.Fatalf("rows %d groups %d, want %d and %d", rep.Rows, len(rep.Groups), want.Rows, len(want.Groups))
			}
			for i, g := range rep.Groups {
				w := want.Groups[i]
				if g.Value != w.Value || g.N != w.N || g.Selected != w.Selected || g.Positives != w.Positives ||
					g.Negatives != w.Negatives || g.TruePositives != w.TruePositives || g.FalsePositives != w.FalsePositives {
					t.Errorf("group %d: %+v, want %+v", i, g, w)
				}
				close12(t, w.Value+" selection rate", g.SelectionRate, &w.SelectionRate)
				close12(t, w.Value+" TPR", g.TPR, w.TPR)
				close12(t, w.Value+" FPR", g.FPR, w.FPR)
			}
			close12(t, "demographic parity ratio", rep.DemographicParityRatio, want.DemographicParityRatio)
			close12(t, "demographic parity difference", rep.DemographicParityDifference, &want.DemographicParityDifference)
			close12(t, "TPR difference", rep.TPRDifference, want.TPRDifference)
			close12(t, "FPR difference", rep.FPRDifference, want.FPRDifference)
			close12(t, "equalized odds difference", rep.EqualizedOddsDifference, want.EqualizedOddsDifference)
			t.Logf("%s: DP ratio %v (sklearn %v), EO difference %v (sklearn %v)", c.Name,
				rep.DemographicParityRatio, deref(want.DemographicParityRatio),
				rep.EqualizedOddsDifference, deref(want.EqualizedOddsDifference))
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return "undefined"
	}
	return *p
}

// The gate on the real evaluation set: the model selects male penguins far
// more often (it predicts body mass), so the four-fifths rule fails.
func TestFairnessGateOnPenguins(t *testing.T) {
	csv, err := os.ReadFile("testdata/penguins_eval.csv")
	if err != nil {
		t.Fatal(err)
	}
	o := loadOracle(t)
	dp, eo := *o.Cases[0].Oracle.DemographicParityRatio, *o.Cases[0].Oracle.EqualizedOddsDifference
	doc := mustParse(t, gate(`fairness:
  protected_attribute: sex
  evaluation_set: eval/penguins_eval.csv
  label_column: label
  prediction_column: prediction
  max_equalized_odds_difference: 0.3
`))
	f := &fakeFacts{version: 7, run: "run1", files: map[string]string{"eval/penguins_eval.csv": string(csv)}}
	res := Evaluate(context.Background(), []*Document{doc}, "penguins", Alias("production"), f)
	if res.Allowed || len(res.Rules) != 2 || res.Rules[0].Passed || !res.Rules[1].Passed {
		t.Fatal(Explain(res))
	}
	groups := "167 rows; female: n=87 selection=0.3448 TPR=1.0000 FPR=0.0172; male: n=80 selection=0.5125 TPR=0.7308 FPR=0.1071"
	if want := fmt.Sprintf("ratio = %.4f (lowest selection rate female / highest male); %s", dp, groups); res.Rules[0].Detail != want {
		t.Errorf("detail\n%s\nwant\n%s", res.Rules[0].Detail, want)
	}
	tprD, fprD := *o.Cases[0].Oracle.TPRDifference, *o.Cases[0].Oracle.FPRDifference
	if want := fmt.Sprintf("difference = %.4f (TPR spread %.4f, FPR spread %.4f); %s", eo, tprD, fprD, groups); res.Rules[1].Detail != want {
		t.Errorf("detail\n%s\nwant\n%s", res.Rules[1].Detail, want)
	}
	t.Log("\n" + Explain(res))

	// Species: Gentoo penguins are all heavy, so their FPR is undefined.
	doc = mustParse(t, gate(`fairness:
  protected_attribute: species
  evaluation_set: eval/penguins_eval.csv
  label_column: label
  prediction_column: prediction
  min_demographic_parity_ratio: 0
  max_equalized_odds_difference: 1
`))
	res = Evaluate(context.Background(), []*Document{doc}, "penguins", Alias("production"), f)
	if !res.Rules[0].Passed || res.Rules[1].Passed ||
		!strings.HasPrefix(res.Rules[1].Detail, "undefined: group Gentoo has no actual negatives (FPR undefined); 167 rows;") {
		t.Error(Explain(res))
	}
}

func TestMeasureFairnessErrors(t *testing.T) {
	pred := &Fairness{ProtectedAttribute: "sex", LabelColumn: "y", PredictionColumn: "p"}
	score := &Fairness{ProtectedAttribute: "sex", LabelColumn: "y", ScoreColumn: "s", Threshold: 0.5}
	pos := &Fairness{ProtectedAttribute: "sex", LabelColumn: "y", PredictionColumn: "p", PositiveLabel: "yes"}
	cases := []struct {
		name string
		fr   *Fairness
		csv  string
		want string
	}{
		{"empty", pred, "", "the file is empty (a CSV header row is expected)"},
		{"header only", pred, "sex,y,p\n", "the file has a header but no rows"},
		{"missing column", pred, "sex,label,p\nf,1,1\n", `the header has no column "y" (label_column); columns: "sex", "label", "p"`},
		{"missing attribute", pred, "gender,y,p\nf,1,1\n", `the header has no column "sex" (protected_attribute); columns: "gender", "y", "p"`},
		{"missing prediction", pred, "sex,y,pred\nf,1,1\n", `the header has no column "p" (prediction_column)`},
		{"missing score", score, "sex,y,p\nf,1,1\n", `the header has no column "s" (score_column)`},
		{"duplicate column", pred, "sex,y,p,y\nf,1,1,0\n", `the header names column "y" twice (label_column)`},
		{"short row", pred, "sex,y,p\nf,1,1\nm,1\n", "line 3: the row has a different number of fields than the header"},
		{"bare quote", pred, "sex,y,p\nf,1,1\nm\"x,1,1\n", `line 3, column 2: not valid CSV: bare " in non-quoted-field`},
		{"non-binary label", pred, "sex,y,p\nf,1,1\nm,2,1\n", `line 3: label column "y": holds "2": labels must be 0 or 1`},
		{"empty label", pred, "sex,y,p\nf,1,1\nm,,1\n", `line 3: label column "y": holds "": labels must be 0 or 1`},
		{"non-binary prediction", pred, "sex,y,p\nf,1,0.7\n", `line 2: prediction column "p": holds "0.7": labels must be 0 or 1`},
		{"bad score", score, "sex,y,s\nf,1,0.2\nf,0,high\n", `line 3: score column "s" holds "high", not a number`},
		{"NaN score", score, "sex,y,s\nf,1,NaN\n", `line 2: score column "s" holds "NaN", not a number`},
		{"positive label absent", pos, "sex,y,p\nf,Yes,Yes\nm,No,No\n", `positive_label "yes" occurs in no row (check its spelling)`},
		{"line counts quoted newlines", pred, "sex,y,p\n\"f\nx\",1,1\nm,1,x\n", `line 4: prediction column "p": holds "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := MeasureFairness(context.Background(), strings.NewReader(c.csv), c.fr)
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("got %v\nwant %s", err, c.want)
			}
		})
	}
}

func TestMeasureFairnessValues(t *testing.T) {
	fr := &Fairness{ProtectedAttribute: "a", LabelColumn: "y", PredictionColumn: "p"}
	// BOM, spaces, true/false and 1.0, an empty group value and "NA" kept as groups.
	src := "\uFEFFa,y,p\n,1.0, true\nNA,0,FALSE\nx,1,1\nx,0,0\n"
	rep, err := MeasureFairness(context.Background(), strings.NewReader(src), fr)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range rep.Groups {
		got = append(got, fmt.Sprintf("%q:%d/%d", g.Value, g.Selected, g.N))
	}
	if strings.Join(got, " ") != `"":1/1 "NA":0/1 "x":1/2` {
		t.Errorf("groups %v", got)
	}
	if rep.DemographicParityRatio != 0 || rep.MinSelectionGroup != "NA" || rep.MaxSelectionGroup != "" {
		t.Errorf("%+v", rep)
	}

	// The positive label maps labels and predictions; other values are negative.
	fr = &Fairness{ProtectedAttribute: "a", LabelColumn: "y", PredictionColumn: "p", PositiveLabel: "good"}
	rep, err = MeasureFairness(context.Background(), strings.NewReader("a,y,p\nf,good,good\nf,bad,good\nm,bad,unknown\nm,good,bad\n"), fr)
	if err != nil {
		t.Fatal(err)
	}
	if g := rep.Groups[0]; g.Selected != 2 || g.TruePositives != 1 || g.FalsePositives != 1 || g.TPR != 1 || g.FPR != 1 {
		t.Errorf("%+v", g)
	}
	if g := rep.Groups[1]; g.Selected != 0 || g.TPR != 0 || g.FPR != 0 {
		t.Errorf("%+v", g)
	}

	// A score at the threshold predicts positive.
	fr = &Fairness{ProtectedAttribute: "a", LabelColumn: "y", ScoreColumn: "s", Threshold: 0.5}
	rep, err = MeasureFairness(context.Background(), strings.NewReader("a,y,s\nf,1,0.5\nm,1,0.4999\nm,0,-3\n"), fr)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Groups[0].Selected != 1 || rep.Groups[1].Selected != 0 {
		t.Errorf("%+v", rep.Groups)
	}
}

func TestMeasureFairnessTooManyGroups(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,y,p\n")
	for i := range MaxFairnessGroups + 1 {
		fmt.Fprintf(&b, "%d,1,1\n", i)
	}
	_, err := MeasureFairness(context.Background(), strings.NewReader(b.String()), &Fairness{ProtectedAttribute: "id", LabelColumn: "y", PredictionColumn: "p"})
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d: column \"id\" has more than 1000 distinct values", MaxFairnessGroups+2)) {
		t.Error(err)
	}
}

func TestMeasureFairnessCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := "g,y,p\n" + strings.Repeat("a,1,1\nb,0,0\n", 5000)
	_, err := MeasureFairness(ctx, strings.NewReader(src), &Fairness{ProtectedAttribute: "g", LabelColumn: "y", PredictionColumn: "p"})
	if err != context.Canceled {
		t.Errorf("got %v", err)
	}
}
