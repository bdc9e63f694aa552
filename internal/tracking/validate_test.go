package tracking

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Expected values in the tables below were produced by Python 3.11's
// posixpath.normpath and json.dumps, the functions MLflow calls.
func TestPyNormpathMatchesPython(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"}, {"a/b", "a/b"}, {"../x", "../x"}, {"a/../b", "b"}, {"./a", "a"},
		{"a/./b", "a/b"}, {"a//b", "a/b"}, {"/a", "/a"}, {"//a", "//a"}, {"///a", "/a"},
		{"a/", "a"}, {"", "."}, {".", "."}, {"..", ".."}, {"a/b/..", "a"}, {"x y", "x y"},
		{"a/b/../../..", ".."}, {"é/ü", "é/ü"},
	} {
		if got := pyNormpath(tc.in); got != tc.want {
			t.Errorf("pyNormpath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestPyJSONMatchesPython(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`}, {"quo\"te", `"quo\"te"`}, {"back\\slash", `"back\\slash"`},
		{"new\nline", `"new\nline"`}, {"tab\t", `"tab\t"`}, {"é", `"\u00e9"`},
		{"日本", `"\u65e5\u672c"`}, {"😀", `"\ud83d\ude00"`}, {"<>&", `"<>&"`}, {"\x01", `"\u0001"`},
	} {
		if got := pyJSON(tc.in); got != tc.want {
			t.Errorf("pyJSON(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for v, want := range map[float64]string{math.NaN(): "NaN", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", 1.5: "1.5"} {
		if got := pyJSON(v); got != want {
			t.Errorf("pyJSON(%v) = %s", v, got)
		}
	}
}

func TestValidateKey(t *testing.T) {
	const bad = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
	for _, tc := range []struct {
		key  string
		want string // "" = valid
	}{
		{"acc", ""}, {"train/loss", ""}, {"a b:c-d_e.f", ""}, {"métrique", ""}, {"日本", ""},
		{"a$b", `Invalid value "a$b" for parameter 'key' supplied: ` + bad},
		{"a\\b", `Invalid value "a\\b" for parameter 'key' supplied: ` + bad},
		{"../x", `Invalid value "../x" for parameter 'key' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../x'`},
		{"a/../b", "This name would resolve to 'b'"},
		{"/abs", "would resolve to '/abs'"},
		{"a//b", "would resolve to 'a/b'"},
		{"a/", "would resolve to 'a'"},
		{".", "would resolve to '.'"},
	} {
		err := ValidateKey(tc.key, "key")
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: unexpected error %v", tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want %q", tc.key, err, tc.want)
		case err != nil && !errors.Is(err, errdefs.ErrInvalidArgument):
			t.Errorf("%q: wrong kind %v", tc.key, err)
		}
	}
}

func TestValidateEntities(t *testing.T) {
	long := strings.Repeat("k", 251)
	if err := ValidateMetric(Metric{Key: long}, ""); err == nil || err.Error() != "'Metric name' exceeds the maximum length of 250 characters" {
		t.Errorf("long metric key: %v", err)
	}
	if err := ValidateMetric(Metric{Key: "m", Timestamp: -1, Value: 2}, "metrics[3]"); err == nil ||
		!strings.HasPrefix(err.Error(), "Invalid value -1 for parameter 'metrics[3].timestamp' supplied: metric 'm' (value=2).") {
		t.Errorf("negative timestamp: %v", err)
	}
	if err := ValidateMetric(Metric{}, ""); err == nil || !strings.Contains(err.Error(), "Missing value for required parameter 'key'") {
		t.Errorf("missing key: %v", err)
	}
	// Over-long values are truncated, as MLflow does by default.
	p := Param{Key: "p", Value: strings.Repeat("é", MaxParamValueLength+5)}
	if err := ValidateParam(&p, ""); err != nil || len([]rune(p.Value)) != MaxParamValueLength {
		t.Errorf("param truncation: %v, %d runes", err, len([]rune(p.Value)))
	}
	tag := Tag{Key: "t", Value: strings.Repeat("x", MaxTagValueLength+1)}
	if err := ValidateTag(&tag, ""); err != nil || len(tag.Value) != MaxTagValueLength {
		t.Errorf("tag truncation: %v, %d", err, len(tag.Value))
	}
	// Experiment tags are not truncated.
	if err := ValidateExperimentTag(Tag{Key: "t", Value: strings.Repeat("x", MaxExperimentTagValue+1)}); err == nil ||
		err.Error() != "'value' exceeds the maximum length of 5000 characters" {
		t.Errorf("experiment tag value: %v", err)
	}
	if err := ValidateExperimentName(""); err == nil || err.Error() != "Invalid experiment name: ''" {
		t.Errorf("empty experiment name: %v", err)
	}
	if err := ValidateExperimentName(strings.Repeat("n", 501)); err == nil {
		t.Error("long experiment name accepted")
	}
	for id, ok := range map[string]bool{"0123456789abcdef0123456789abcdef": true, "run-1_a": true, "-x": false, "a b": false, "../x": false, strings.Repeat("a", 257): false} {
		if err := ValidateRunID(id, "run_id"); (err == nil) != ok {
			t.Errorf("ValidateRunID(%q) = %v", id, err)
		}
	}
	if err := ValidateRunID("a b", "run_id"); err.Error() != `Invalid value "a b" for parameter 'run_id' supplied.` {
		t.Errorf("run id message: %v", err)
	}
}

func TestBatchLimitsAndDuplicates(t *testing.T) {
	for _, tc := range []struct {
		m, p, tg int
		want     string
	}{
		{1000, 0, 0, ""},
		{1001, 0, 0, "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again."},
		{0, 101, 0, "at most 100 params. Got 101 params."},
		{0, 0, 101, "at most 100 tags. Got 101 tags."},
		{900, 100, 1, "at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags."},
	} {
		err := ValidateBatchLimits(tc.m, tc.p, tc.tg)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("limits %d/%d/%d: %v", tc.m, tc.p, tc.tg, err)
		}
	}
	err := validateUniqueParams([]Param{{Key: "a"}, {Key: "b"}, {Key: "a"}, {Key: "b"}})
	if err == nil || err.Error() != "Duplicate parameter keys have been submitted: ['a', 'b']. Please ensure the request contains only one param value per param key." {
		t.Errorf("duplicates: %v", err)
	}
}

func TestValidateArtifactPath(t *testing.T) {
	for p, ok := range map[string]bool{
		"model/model.pkl": true, "a b/c.txt": true, "deep/er/file": true,
		"../etc/passwd": false, "a/../../b": false, "/abs": false, "a\\b": false,
		"%2e%2e/x": false, "%252e%252e/x": false, "a#b": false, "s3://bucket/x": false, "a\x00b": false,
	} {
		if err := ValidateArtifactPath(p); (err == nil) != ok {
			t.Errorf("ValidateArtifactPath(%q) = %v", p, err)
		}
	}
}

func TestArtifactKey(t *testing.T) {
	for uri, want := range map[string]string{
		"mlflow-artifacts:/1/abc/artifacts":            "1/abc/artifacts",
		"mlflow-artifacts://host:5000/1/abc/artifacts": "1/abc/artifacts",
		"mlflow-artifacts:/0":                          "0",
		"mlflow-artifacts://host":                      "",
	} {
		got, ok := ArtifactKey(uri)
		if !ok || got != want {
			t.Errorf("ArtifactKey(%q) = %q, %v", uri, got, ok)
		}
	}
	if _, ok := ArtifactKey("s3://bucket/x"); ok {
		t.Error("s3 URI mapped to a local key")
	}
}

func TestPageTokens(t *testing.T) {
	for _, off := range []int{1, 1000, 49999} {
		got, err := DecodePageToken(EncodePageToken(off))
		if err != nil || got != off {
			t.Errorf("round trip %d: %d %v", off, got, err)
		}
	}
	// MLflow never makes a token for offset 0 ("" is the first page) and
	// refuses {} and {"offset": 0}.
	for _, bad := range []string{"!!!", "bm90IGpzb24=", "eyJvZmZzZXQiOiAtNX0=", "e30=", "eyJvZmZzZXQiOiAwfQ=="} {
		if _, err := DecodePageToken(bad); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
}

func TestSampleSteps(t *testing.T) {
	var hist []RunMetric
	for step := int64(0); step < 100; step++ {
		hist = append(hist, RunMetric{RunID: "r", Metric: Metric{Key: "m", Step: step}})
		if step%10 == 0 { // a second value at some steps
			hist = append(hist, RunMetric{RunID: "r", Metric: Metric{Key: "m", Step: step, Timestamp: 1}})
		}
	}
	got := sampleSteps(hist, 5)
	var steps []int64
	for i, m := range got {
		if i == 0 || m.Step != got[i-1].Step {
			steps = append(steps, m.Step)
		}
	}
	if len(steps) != 5 || steps[0] != 0 || steps[4] != 99 {
		t.Fatalf("sampled steps %v", steps)
	}
	if len(got) != 6 { // step 0 has two values, both kept
		t.Fatalf("sampled %d values", len(got))
	}
	if len(sampleSteps(hist[:3], 10)) != 3 {
		t.Fatal("short history must be returned whole")
	}
}

func TestGenerateRunName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z]+-[a-z]+-\d{1,3}$`)
	for i := 0; i < 100; i++ {
		if n := GenerateRunName(); !re.MatchString(n) || ValidateKey(n, "k") != nil {
			t.Fatalf("bad generated name %q", n)
		}
	}
	id := NewRunID()
	if len(id) != 32 || ValidateRunID(id, "run_id") != nil || id[12] != '4' {
		t.Fatalf("run id %q is not a uuid4 hex", id)
	}
}
