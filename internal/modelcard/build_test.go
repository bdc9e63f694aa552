package modelcard

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// TestTagMapping checks, field by field, which tags and inputs a card
// field is filled from.
func TestTagMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Input
		path string // Field path
		want string // Field text; "" = absent
	}{
		// Owners: card.owners, else owner, else the registering user.
		{"owners from card.owners", Input{ModelTags: map[string]string{"card.owners": "Ada <ada@x.org>, Team Risk"}},
			"model_details.owners", "Ada <ada@x.org>\nTeam Risk"},
		{"owners card.owners beats owner", Input{ModelTags: map[string]string{"card.owners": "Ada", "owner": "Bob"}},
			"model_details.owners", "Ada"},
		{"owners from owner tag", Input{ModelTags: map[string]string{"owner": "Bob <bob@x.org>"}, UserID: "carol"},
			"model_details.owners", "Bob <bob@x.org>"},
		{"owners from user id", Input{UserID: "carol"}, "model_details.owners", "carol"},
		{"owners blank tag falls through", Input{ModelTags: map[string]string{"card.owners": "  "}, UserID: "carol"},
			"model_details.owners", "carol"},
		{"owners version tag overrides model tag", Input{ModelTags: map[string]string{"card.owners": "Ada"}, VersionTags: map[string]string{"card.owners": "Bob"}},
			"model_details.owners", "Bob"},
		{"owners none", Input{}, "model_details.owners", ""},

		// Overview: version description, else model description.
		{"overview from version", Input{VersionDescription: "v", ModelDescription: "m"}, "model_details.overview", "v"},
		{"overview from model", Input{VersionDescription: " \n", ModelDescription: "m"}, "model_details.overview", "m"},

		// model_details.* tags.
		{"documentation", Input{ModelTags: map[string]string{"card.model_details.documentation": "  Long text.\nMore.  "}},
			"model_details.documentation", "Long text.\nMore."},
		{"licenses identifier and custom text", Input{ModelTags: map[string]string{"card.model_details.licenses": "Apache-2.0\nInternal use only, no redistribution"}},
			"model_details.licenses", "Apache-2.0\nInternal use only, no redistribution"},
		{"references", Input{ModelTags: map[string]string{"card.model_details.references": "https://a.example; https://b.example"}},
			"model_details.references", "https://a.example\nhttps://b.example"},
		{"citations by paragraph and style", Input{ModelTags: map[string]string{
			"card.model_details.citations":        "Doe, J. Fraud.\n2024.\n\nRoe, R. Other.",
			"card.model_details.citations.bibtex": "@misc{x}",
			"card.model_details.citations.apa":    "Doe (2024)",
		}}, "model_details.citations", "Doe, J. Fraud.\n2024.\nRoe, R. Other.\napa: Doe (2024)\nbibtex: @misc{x}"},
		{"version name and date", Input{Version: 7, CreatedMS: t0}, "model_details.version", "7\n2024-03-01"},
		{"version diff", Input{VersionTags: map[string]string{"card.model_details.version.diff": "New features."}},
			"model_details.version.diff", "New features."},
		{"path from storage location", Input{Source: "runs:/r/model", StorageLocation: "s3://b/model"}, "model_details.path", "s3://b/model"},
		{"path from source", Input{Source: "runs:/r/model"}, "model_details.path", "runs:/r/model"},

		// model_parameters.* tags.
		{"architecture", Input{VersionTags: map[string]string{"card.model_parameters.model_architecture": "ResNet-50"}},
			"model_parameters.model_architecture", "ResNet-50"},
		{"input format", Input{ModelTags: map[string]string{"card.model_parameters.input_format": "224x224 RGB"}},
			"model_parameters.input_format", "224x224 RGB"},
		{"output format", Input{ModelTags: map[string]string{"card.model_parameters.output_format": "1000 logits"}},
			"model_parameters.output_format", "1000 logits"},
		{"data", Input{Datasets: []DatasetInput{{Name: "b", Digest: "2"}, {Name: "a", Digest: "1"}}},
			"model_parameters.data", "a@1\nb@2"},

		// considerations.* tags: lists by line or ';', bullets dropped.
		{"users", Input{ModelTags: map[string]string{"card.considerations.users": "analysts; auditors"}},
			"considerations.users", "analysts\nauditors"},
		{"use cases bullets", Input{ModelTags: map[string]string{"card.considerations.use_cases": "- triage\n* ranking\n\n• alerts"}},
			"considerations.use_cases", "triage\nranking\nalerts"},
		{"limitations version overrides", Input{
			ModelTags:   map[string]string{"card.considerations.limitations": "old"},
			VersionTags: map[string]string{"card.considerations.limitations": "new one\nnew two"},
		}, "considerations.limitations", "new one\nnew two"},
		{"limitations cleared by empty version tag", Input{
			ModelTags:   map[string]string{"card.considerations.limitations": "old"},
			VersionTags: map[string]string{"card.considerations.limitations": ""},
		}, "considerations.limitations", ""},
		{"tradeoffs", Input{ModelTags: map[string]string{"card.considerations.tradeoffs": "recall vs reviews"}},
			"considerations.tradeoffs", "recall vs reviews"},
		{"ethical considerations", Input{ModelTags: map[string]string{"card.considerations.ethical_considerations": "Bias: slice review\nPrivacy:  coarse location \nUnmitigated risk"}},
			"considerations.ethical_considerations", "Bias: slice review\nPrivacy: coarse location\nUnmitigated risk"},
		{"unknown card tag ignored", Input{ModelTags: map[string]string{"card.considerations.nonsense": "x"}},
			"considerations.limitations", ""},

		// Metrics.
		{"metrics overall and sliced", Input{Run: &RunInput{Metrics: map[string]float64{"acc/sex:f": 0.5, "acc": 0.75, "loss": math.NaN()}}},
			"quantitative_analysis.performance_metrics", "acc = 0.75\nacc [sex=f] = 0.5\nloss = NaN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Field(Build(tc.in), tc.path)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Field(%q) = %q, %v; want %q", tc.path, got, ok, tc.want)
			}
		})
	}
}

func TestLicenseKinds(t *testing.T) {
	c := Build(Input{ModelTags: map[string]string{"card.model_details.licenses": "MIT; proprietary\nUse only inside Example Corp"}})
	want := []License{{Identifier: "MIT"}, {Identifier: "proprietary"}, {CustomText: "Use only inside Example Corp"}}
	if !reflect.DeepEqual(c.ModelDetails.Licenses, want) {
		t.Errorf("licenses = %+v, want %+v", c.ModelDetails.Licenses, want)
	}
}

func TestParseOwners(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Owner
	}{
		{"", nil},
		{"Ada", []Owner{{Name: "Ada"}}},
		{"Ada Lovelace <ada@example.com>", []Owner{{Name: "Ada Lovelace", Contact: "ada@example.com"}}},
		{"Ada <ada@x>, Fraud team <#fraud-ml>; Bob\nCarol <>", []Owner{
			{Name: "Ada", Contact: "ada@x"}, {Name: "Fraud team", Contact: "#fraud-ml"}, {Name: "Bob"}, {Name: "Carol"},
		}},
		{"<ops@x>", []Owner{{Contact: "ops@x"}}},
		{"Team <https://x.example/a,b;c>", []Owner{{Name: "Team", Contact: "https://x.example/a,b;c"}}},
		{"Broken <no close, Bob", []Owner{{Name: "Broken <no close, Bob"}}},
		{" , ;\n", nil},
	} {
		if got := parseOwners(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseOwners(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseMetricName(t *testing.T) {
	for _, tc := range []struct {
		in, metric, slice string
	}{
		{"accuracy", "accuracy", ""},
		{"accuracy/sex=female", "accuracy", "sex=female"},
		{"accuracy/sex:female", "accuracy", "sex=female"},
		{"eval/recall/sex:f/age:30-39", "eval/recall", "sex=f, age=30-39"},
		{"val/loss", "val/loss", ""},
		{"val/loss/fold:2", "val/loss", "fold=2"},
		{"latency/time:12:00", "latency", "time=12:00"},
		{"a/b=c=d", "a", "b=c=d"},
		{"sex:female", "sex:female", ""},     // no metric left
		{"/sex:female", "/sex:female", ""},   // empty metric
		{"acc/sex:", "acc/sex:", ""},         // empty value
		{"acc/:f", "acc/:f", ""},             // empty key
		{"acc/my key:f", "acc/my key:f", ""}, // space in key
		{"acc/sex: f", "acc", "sex=f"},       // value trimmed
		{"acc/sex:f/", "acc/sex:f/", ""},     // trailing segment is not a slice
		{"acc/not-a-slice/sex:f", "acc/not-a-slice", "sex=f"},
		{"slice.sex=female.accuracy", "slice.sex=female.accuracy", ""}, // other conventions stay plain
	} {
		m, s := ParseMetricName(tc.in)
		if m != tc.metric || s != tc.slice {
			t.Errorf("ParseMetricName(%q) = %q, %q; want %q, %q", tc.in, m, s, tc.metric, tc.slice)
		}
	}
}

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"a; b ;c", []string{"a", "b", "c"}},
		{"- a\r\n- b\n\n* c\n• d\n-e", []string{"a", "b", "c", "d", "-e"}},
		{" ;\n; ", nil},
	} {
		if got := splitList(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitList(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDatasetLink(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{`{"uri": "s3://b/k.parquet"}`, "s3://b/k.parquet"},
		{`{"url": "https://x.example/d.csv"}`, "https://x.example/d.csv"},
		{`{"path": "/local/file.csv"}`, ""},
		{"https://x.example/d.csv", "https://x.example/d.csv"},
		{`{"tags": {"a": 1}}`, ""},
		{"not a uri", ""},
		{"", ""},
	} {
		if got := datasetLink(tc.source); got != tc.want {
			t.Errorf("datasetLink(%q) = %q, want %q", tc.source, got, tc.want)
		}
	}
}

// TestSorting checks the order Build gives every list.
func TestSorting(t *testing.T) {
	c := Build(sampleInput())
	var types []string
	for _, m := range c.QuantitativeAnalysis.PerformanceMetrics {
		types = append(types, m.Type+"|"+m.Slice)
	}
	want := []string{"accuracy|", "accuracy|sex=female", "accuracy|sex=male", "auc|", "recall|", "recall|country=DE, sex=female", "recall|sex=female", "recall|sex=male", "val/loss|"}
	if !reflect.DeepEqual(types, want) {
		t.Errorf("metrics order = %q, want %q", types, want)
	}
	var seqs []int64
	for _, h := range c.Ferry.History {
		seqs = append(seqs, h.Seq)
	}
	if !reflect.DeepEqual(seqs, []int64{1017, 1021, 1043, 1050}) {
		t.Errorf("history order = %v", seqs)
	}
	if c.Ferry.Approval.Reviews[0].Reviewer != "alan" {
		t.Errorf("reviews not oldest first: %+v", c.Ferry.Approval.Reviews)
	}
	if c.Ferry.Lineage.Upstream[0].Depth != 1 {
		t.Errorf("lineage not by depth: %+v", c.Ferry.Lineage.Upstream)
	}
	if got := c.Ferry.Run.Params[0].Key; got != "eta" {
		t.Errorf("params not by key: first is %q", got)
	}
}

// TestBuildKeepsInput checks that Build sorts copies, not the caller's
// slices.
func TestBuildKeepsInput(t *testing.T) {
	in := sampleInput()
	Build(in)
	if in.Aliases[0] != "champion" || in.History[0].Seq != 1043 || in.Policies[0].Rules[0].Rule != "metric auc >= 0.9" || in.Upstream[0].Depth != 2 {
		t.Error("Build reordered its input")
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0.9731: "0.9731", 1: "1", -0.5: "-0.5", 1e21: "1e+21", math.Inf(1): "+Inf", math.Inf(-1): "-Inf"} {
		if got := FormatValue(v); got != want {
			t.Errorf("FormatValue(%v) = %q, want %q", v, got, want)
		}
	}
	if got := FormatValue(math.NaN()); got != "NaN" {
		t.Errorf("FormatValue(NaN) = %q", got)
	}
}

func TestFields(t *testing.T) {
	c := Build(sampleInput())
	for _, p := range Fields() {
		if text, ok := Field(c, p); !ok || text == "" {
			t.Errorf("Field(sample, %q) is empty; the sample card should fill every field", p)
		}
	}
	for _, p := range []string{"", "considerations", "ferry.stage", "model_details.owners.name", "Considerations.Limitations"} {
		if _, ok := Field(c, p); ok {
			t.Errorf("Field(%q) resolved; it is not a supported path", p)
		}
	}
	if _, ok := Field(nil, "model_details.name"); ok {
		t.Error("Field(nil) resolved")
	}
	got, _ := Field(c, "model_details.owners")
	if got != "Ada Lovelace <ada@example.com>\nFraud ML <#fraud-ml>" {
		t.Errorf("owners text = %q", got)
	}
	if _, ok := Field(Build(Input{ModelName: "m"}), "considerations.limitations"); ok {
		t.Error("empty limitations resolved")
	}
}

// TestJSONRoundTrip checks that the JSON reads back into an equal Card.
func TestJSONRoundTrip(t *testing.T) {
	c := Build(sampleInput())
	b, err := JSON(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Card
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, c) {
		t.Errorf("round trip changed the card:\n%+v\n%+v", back, *c)
	}
}
