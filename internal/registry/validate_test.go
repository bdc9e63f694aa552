package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func TestParseModelURI(t *testing.T) {
	tests := []struct {
		uri  string
		want ModelRef
		bad  bool
	}{
		{uri: "models:/fraud/3", want: ModelRef{Name: "fraud", Version: 3}},
		{uri: "models:/fraud/3/", want: ModelRef{Name: "fraud", Version: 3}},
		{uri: "models:/fraud@champion", want: ModelRef{Name: "fraud", Alias: "champion"}},
		{uri: "models:/fraud/production", want: ModelRef{Name: "fraud", Stage: "Production"}},
		{uri: "models:/fraud/Latest", want: ModelRef{Name: "fraud", Latest: true}},
		{uri: "models:/team/fraud/2", want: ModelRef{Name: "team/fraud", Version: 2}},
		{uri: "models:/team/fraud@prod", want: ModelRef{Name: "team/fraud", Alias: "prod"}},
		{uri: "models:/a@b/3", want: ModelRef{Name: "a@b", Version: 3}},
		{uri: "models:/fraud", bad: true},
		{uri: "models:/fraud/", bad: true},
		{uri: "models:/fraud/0", bad: true},
		{uri: "models:/fraud/-1", bad: true},
		{uri: "models:/fraud/shiny", bad: true},
		{uri: "models:/@x", bad: true},
		{uri: "models:/x@", bad: true},
		{uri: "runs:/abc/model", bad: true},
		{uri: "", bad: true},
	}
	for _, tc := range tests {
		got, err := ParseModelURI(tc.uri)
		if tc.bad {
			if !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "Not a proper models:/ URI") {
				t.Errorf("%q: got %+v, %v; want an error", tc.uri, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.uri, got, err, tc.want)
		}
		// String gives a URI that parses back to the same reference.
		if back, err := ParseModelURI(got.String()); err != nil || back != got {
			t.Errorf("%q: String() %q parses to %+v, %v", tc.uri, got.String(), back, err)
		}
	}
}

func FuzzParseModelURI(f *testing.F) {
	for _, s := range []string{"models:/a/1", "models:/a@b", "models:/a/b/Staging", "models://", "models:/a/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		ref, err := ParseModelURI(uri)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("%q: error of the wrong kind: %v", uri, err)
			}
			return
		}
		n := 0
		for _, set := range []bool{ref.Version > 0, ref.Alias != "", ref.Stage != "", ref.Latest} {
			if set {
				n++
			}
		}
		if ref.Name == "" || n != 1 {
			t.Fatalf("%q parsed to %+v", uri, ref)
		}
		if back, err := ParseModelURI(ref.String()); err != nil || back != ref {
			t.Fatalf("%q: %+v round-trips to %+v, %v", uri, ref, back, err)
		}
	})
}

func TestValidateSource(t *testing.T) {
	const local = "To use a local path as a model version source"
	const relative = "an absolute path must be provided without relative path references present"
	tests := []struct {
		source, runID string
		want          string // "" = accepted; else a substring of the error
	}{
		{"mlflow-artifacts:/0/abc/artifacts/model", "abc", ""},
		{"mlflow-artifacts://host:5000/0/abc/artifacts/model/", "", ""},
		{"runs:/abc/model", "", ""},
		{"runs:/abc/model", "abc", ""},
		{"s3://bucket/models/fraud", "", ""},
		{"https://models.example.com/fraud/v3", "", ""},
		{"models:/fraud/3", "", ""},
		{"/etc/passwd", "", local},
		{"../../etc/passwd", "abc", local},
		{"model", "abc", local},
		{"file:///tmp/model", "abc", local},
		{`C:\models\fraud`, "", local},
		{"mlflow-artifacts:/0/abc/artifacts/../../../etc", "", relative},
		{"mlflow-artifacts:/0/abc/artifacts/%2e%2e/%2e%2e/x", "", relative},
		{"mlflow-artifacts:/0/abc/artifacts/%252e%252e/x", "", relative},
		{"s3://bucket/./models", "", relative},
		{"s3://bucket/models?x=1", "", relative},
		{"https://h/m#frag", "", relative},
		{"s3://bucket/a%00b", "", relative},
		{"runs:/abc/model", "other", "holds artifacts of run abc, but the run_id request parameter is other"},
		{"mlflow-artifacts:/0/abc/artifacts/model", "other", "holds artifacts of run abc"},
		{"runs://model", "", "runs:/<run_id>/<path>"},
	}
	for _, tc := range tests {
		err := ValidateSource(tc.source, tc.runID)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.source, err)
		case tc.want != "" && (err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one containing %q", tc.source, err, tc.want)
		}
	}
}

func TestAliasAndVersionRules(t *testing.T) {
	for alias, want := range map[string]string{
		"champion":               "",
		"prod-2024_a":            "",
		"":                       "cannot be empty",
		"latest":                 "'latest' alias name (case insensitive) is reserved.",
		"LATEST":                 "'LATEST' alias name (case insensitive) is reserved.",
		"v1":                     "Version alias name 'v1' is reserved.",
		"V12":                    "Version alias name 'V12' is reserved.",
		"v1a":                    "",
		"has space":              "Names may only contain alphanumerics, underscores (_), and dashes (-).",
		strings.Repeat("a", 256): "exceeds the maximum length of 255",
	} {
		err := ValidateAlias(alias)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("alias %q: %v, want %q", alias, err, want)
		}
	}
	for v, want := range map[string]int64{"3": 3, " 7 ": 7, "+2": 2, "1_000": 1000, "0": 0, "-1": -1} {
		if got, err := ParseVersion(v); err != nil || got != want {
			t.Errorf("version %q = %d, %v", v, got, err)
		}
	}
	for _, v := range []string{"", "x", "1.5", "1__0", "_1", "++1", "3 4"} {
		if _, err := ParseVersion(v); err == nil || !strings.Contains(err.Error(), "Parameter 'version' must be an integer") {
			t.Errorf("version %q accepted or wrong error: %v", v, err)
		}
	}
}

func TestApprovalOf(t *testing.T) {
	r := func(who string, d ApprovalStatus, at int64) Review {
		return Review{Reviewer: who, Decision: d, Time: at}
	}
	tests := []struct {
		reviews   []Review
		status    ApprovalStatus
		approvers string
	}{
		{nil, ApprovalPending, ""},
		{[]Review{r("a", ApprovalApproved, 1)}, ApprovalApproved, "a"},
		{[]Review{r("a", ApprovalApproved, 1), r("b", ApprovalRejected, 2)}, ApprovalRejected, "a"},
		{[]Review{r("a", ApprovalApproved, 1), r("b", ApprovalRejected, 2), r("b", ApprovalApproved, 3)}, ApprovalApproved, "a,b"},
		{[]Review{r("a", ApprovalApproved, 1), r("a", ApprovalRejected, 2)}, ApprovalRejected, ""},
		{[]Review{r("a", ApprovalRejected, 1), r("c", ApprovalApproved, 2)}, ApprovalRejected, "c"},
	}
	for i, tc := range tests {
		got := ApprovalOf(tc.reviews)
		if got.Status != tc.status || strings.Join(got.Approvers, ",") != tc.approvers {
			t.Errorf("case %d: %+v", i, got)
		}
	}
}

func TestRunOfSource(t *testing.T) {
	for src, want := range map[string]string{
		"runs:/abc/model": "abc",
		"runs://model":    "",
		"mlflow-artifacts:/0/abc/artifacts/model":      "abc",
		"mlflow-artifacts://host:5000/7/abc/artifacts": "abc",
		"mlflow-artifacts:/0/abc/other/model":          "",
		"mlflow-artifacts:/models/fraud":               "",
		"s3://bucket/0/abc/artifacts/model":            "",
	} {
		if got := RunOfSource(src); got != want {
			t.Errorf("RunOfSource(%q) = %q, want %q", src, got, want)
		}
	}
	// A run_id that names another run than the source's is refused.
	if err := ValidateSource("mlflow-artifacts:/0/bad/artifacts/model", "good"); err == nil || !strings.Contains(err.Error(), "holds artifacts of run bad") {
		t.Errorf("mismatched run_id: %v", err)
	}
}
