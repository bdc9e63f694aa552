package modelcard

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// t0 is 2024-03-01 12:00:00 UTC.
const t0 = int64(1709294400000)

// sampleInput is a realistic version: a fraud model trained by one run on
// two datasets, with per-slice metrics, two reviews, a policy evaluation,
// lineage both ways and a short audit history. Maps and lists are given
// out of order on purpose.
func sampleInput() Input {
	return Input{
		ModelName:        "fraud-detector",
		ModelDescription: "Scores card transactions for fraud.",
		ModelTags: map[string]string{
			"team":                        "risk",
			"card.owners":                 "Ada Lovelace <ada@example.com>, Fraud ML <#fraud-ml>",
			"card.model_details.licenses": "Apache-2.0",
			"card.model_details.documentation": "Scores each authorised card transaction with the probability that it is fraudulent.\n\n" +
				"Transactions scoring above 0.98 are blocked; those above 0.7 are queued for manual review.",
			"card.model_details.references":       "https://wiki.example.com/fraud-detector\nhttps://arxiv.org/abs/1810.03993",
			"card.model_details.citations.bibtex": "@misc{fraud2024,\n  title={Fraud detector},\n  year={2024}\n}",
			"card.considerations.users":           "Payments risk analysts; Automated transaction screening",
			"card.considerations.use_cases":       "- Rank transactions for manual review\n- Block transactions above 0.98",
			"card.considerations.limitations":     "Trained on EU card traffic only\nNot calibrated for merchants under 30 days old",
			"card.considerations.tradeoffs":       "Higher recall costs about 2% more manual reviews",
			"card.model_parameters.input_format":  "JSON object with 42 transaction features",
			"card.model_parameters.output_format": "fraud probability in [0, 1]",
			"card.considerations.ethical_considerations": "Disparate impact by sex: slice metrics reviewed before promotion\n" +
				"Use of location data: coarsened to country level",
		},
		Version:            3,
		VersionDescription: "Gradient-boosted trees retrained on Q1 2024 data.",
		Stage:              "Production",
		Aliases:            []string{"champion", "baseline-2024"},
		Source:             "runs:/9f1c2b7e4d5a4c3b8a7f6e5d4c3b2a19/model",
		StorageLocation:    "mlflow-artifacts:/1/9f1c2b7e4d5a4c3b8a7f6e5d4c3b2a19/artifacts/model",
		RunID:              "9f1c2b7e4d5a4c3b8a7f6e5d4c3b2a19",
		UserID:             "ada",
		CreatedMS:          t0 + 3_600_000,
		UpdatedMS:          t0 + 7_200_000,
		VersionTags: map[string]string{
			"card.model_parameters.model_architecture": "XGBoost, 400 trees, max depth 6",
			"card.model_details.version.diff":          "Adds merchant-category features; retrained on Q1 2024.",
			"validation_status":                        "approved",
		},
		Run: &RunInput{
			Name:        "xgb-q1-2024",
			Status:      "FINISHED",
			StartTimeMS: t0,
			EndTimeMS:   t0 + 1_805_250,
			Params:      map[string]string{"max_depth": "6", "eta": "0.1", "n_estimators": "400"},
			Metrics: map[string]float64{
				"auc":                          0.9412,
				"accuracy":                     0.9731,
				"accuracy/sex:female":          0.9702,
				"accuracy/sex:male":            0.9755,
				"recall/sex:female":            0.811,
				"recall/sex:male":              0.834,
				"recall":                       0.8237,
				"val/loss":                     0.0811,
				"recall/country:DE/sex:female": 0.79,
			},
		},
		Datasets: []DatasetInput{
			{
				Name: "transactions-eval", Digest: "a4c2e1f0", SourceType: "s3",
				Source:  `{"uri": "s3://risk-data/transactions/2024Q1/eval.parquet"}`,
				Schema:  `{"mlflow_colspec": [{"type": "double", "name": "amount"}, {"type": "string", "name": "mcc"}]}`,
				Context: "eval",
			},
			{
				Name: "transactions-train", Digest: "7d9e3b21", SourceType: "s3",
				Source:  `{"uri": "s3://risk-data/transactions/2024Q1/train.parquet"}`,
				Schema:  `{"mlflow_colspec": [{"type": "double", "name": "amount"}, {"type": "string", "name": "mcc"}, {"type": "long", "name": "label"}]}`,
				Profile: `{"num_rows": 1250000, "num_elements": 3750000}`,
				Context: "training",
			},
		},
		ApprovalStatus: "approved",
		Reviews: []ReviewInput{
			{Reviewer: "grace", Decision: "approved", Comment: "Slice gap within 1 point.", TimeMS: t0 + 6_000_000},
			{Reviewer: "alan", Decision: "rejected", Comment: "Needs slice metrics by sex.", TimeMS: t0 + 4_000_000},
		},
		Policies: []Policy{{
			Allowed: true,
			Target:  "alias champion",
			Rules: []PolicyRule{
				{Gate: "production", Rule: "metric auc >= 0.9", Passed: true, Detail: "auc = 0.9412"},
				{Gate: "production", Rule: "card field considerations.limitations", Passed: true},
				{Gate: "production", Rule: "approvals >= 1", Passed: true, Detail: "approved by grace"},
			},
		}, {
			Allowed: false,
			Target:  "deploy",
			Rules: []PolicyRule{
				{Gate: "deploy", Rule: "no open alerts >= critical", Passed: false, Detail: "1 open: latency-p99 (critical)"},
			},
		}},
		Upstream: []LineageNode{
			{URI: "datasets:/transactions-train@7d9e3b21", Kind: "dataset", Relation: "trained_on", Depth: 2},
			{URI: "runs:/9f1c2b7e4d5a4c3b8a7f6e5d4c3b2a19", Kind: "run", Relation: "produced_by", Depth: 1},
			{URI: "datasets:/transactions-eval@a4c2e1f0", Kind: "dataset", Relation: "evaluated_on", Depth: 2},
		},
		Downstream: []LineageNode{
			{URI: "deployments:/fraud-api", Kind: "deployment", Relation: "serves", Depth: 1},
		},
		History: []Event{
			{Seq: 1043, TimeMS: t0 + 6_000_000, Actor: "grace", Action: "registry.review", Resource: "models:/fraud-detector/3"},
			{Seq: 1017, TimeMS: t0 + 3_600_000, Actor: "ada", Action: "registry.create_version", Resource: "models:/fraud-detector/3"},
			{Seq: 1050, TimeMS: t0 + 7_200_000, Actor: "ada", Action: "registry.set_alias", Resource: "models:/fraud-detector/3"},
			{Seq: 1021, TimeMS: t0 + 4_000_000, Actor: "alan", Action: "registry.review", Resource: "models:/fraud-detector/3"},
		},
		GeneratedAt: time.UnixMilli(t0 + 86_400_000),
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got:\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	card := Build(sampleInput())
	js, err := JSON(card)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "card.json", js)
	golden(t, "card.md", Markdown(card))
	page, err := HTML(card)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "card.html", page)
}

// TestDeterministic builds the sample many times: map iteration order must
// not show in any rendering.
func TestDeterministic(t *testing.T) {
	first := renderAll(t, Build(sampleInput()))
	for range 20 {
		if got := renderAll(t, Build(sampleInput())); !bytes.Equal(got, first) {
			t.Fatal("renderings differ between builds of the same input")
		}
	}
}

func renderAll(t *testing.T, c *Card) []byte {
	t.Helper()
	js, err := JSON(c)
	if err != nil {
		t.Fatal(err)
	}
	page, err := HTML(c)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Join([][]byte{js, Markdown(c), page}, []byte("\x00"))
}

// TestEmptyInput renders a card from nothing: no panic, every section
// says it has nothing.
func TestEmptyInput(t *testing.T) {
	c := Build(Input{ModelName: "m", Version: 1})
	out := renderAll(t, c)
	for _, want := range []string{"No datasets logged by the run.", "No metrics logged by the run.", "No reviews.", "No policy guards this model.", "No lineage recorded.", "No audit events recorded."} {
		if got := bytes.Count(out, []byte(want)); got != 2 {
			t.Errorf("%q appears %d times in Markdown+HTML, want 2", want, got)
		}
	}
	js, _ := JSON(c)
	if bytes.Contains(js, []byte("generated_at")) {
		t.Error("zero GeneratedAt should leave generated_at out")
	}
}
