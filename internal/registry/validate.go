package registry

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// Limits of MLflow 2.x's registry (mlflow/utils/validation.py).
const (
	MaxAliasLength   = 255
	MaxCommentLength = 5000
)

func missing(param string) error { return tracking.MissingValue(param) }

// MaxModelNameLength is the longest registered model name (MLflow's
// column holds 256 characters).
const MaxModelNameLength = 256

// ValidateModelName checks a registered model name.
func ValidateModelName(name string) error {
	if name == "" {
		return missing("name")
	}
	if err := ValidateText("name", name); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(name); n > MaxModelNameLength {
		return errdefs.InvalidArgument("Registered model name has %d characters; at most %d are allowed.", n, MaxModelNameLength)
	}
	return nil
}

// ValidateText refuses what no store keeps alike: invalid UTF-8 and NUL
// characters (Postgres text can hold neither).
func ValidateText(param, v string) error {
	if !utf8.ValidString(v) {
		return errdefs.InvalidArgument("Invalid value for parameter '%s': it is not valid UTF-8.", param)
	}
	if strings.IndexByte(v, 0) >= 0 {
		return tracking.InvalidValue(param, v, "NUL characters are not allowed.")
	}
	return nil
}

// ValidateTagKey checks a registry tag key as MLflow's _validate_tag_name.
func ValidateTagKey(key string) error {
	if key == "" {
		return missing("key")
	}
	if err := ValidateText("key", key); err != nil {
		return err
	}
	return tracking.ValidateKey(key, "key")
}

// ValidateTag checks a registry tag: the key rules of every MLflow tag,
// a key of at most 250 and a value of at most 5000 characters — the
// limits of experiment tags.
func ValidateTag(t Tag) error {
	if t.Key == "" {
		return missing("key")
	}
	if err := ValidateText("key", t.Key); err != nil {
		return err
	}
	if err := ValidateText("value", t.Value); err != nil {
		return err
	}
	return tracking.ValidateExperimentTag(tracking.Tag{Key: t.Key, Value: t.Value})
}

// aliasRE is MLflow's ^[\w\-]*$ with Python's Unicode-aware \w.
var aliasRE = regexp.MustCompile(`^[\p{L}\p{N}_\-]*$`)
var reservedVersionAlias = regexp.MustCompile(`^[vV]\d+$`)

// ValidateAliasName checks an alias's form.
func ValidateAliasName(alias string) error {
	if alias == "" {
		return errdefs.InvalidArgument("Registered model alias name cannot be empty.")
	}
	if !aliasRE.MatchString(alias) {
		return errdefs.InvalidArgument("Invalid alias name: '%s'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias)
	}
	if len(alias) > MaxAliasLength {
		return errdefs.InvalidArgument("'Registered model alias name' exceeds the maximum length of %d characters", MaxAliasLength)
	}
	return nil
}

// ValidateAlias checks an alias in any request (set, delete, get), as
// MLflow does: its form, and the names MLflow reserves — "latest" and
// "v<digits>", which name versions in models:/ URIs.
func ValidateAlias(alias string) error {
	if err := ValidateAliasName(alias); err != nil {
		return err
	}
	if strings.EqualFold(alias, "latest") {
		return errdefs.InvalidArgument("'%s' alias name (case insensitive) is reserved.", alias)
	}
	if reservedVersionAlias.MatchString(alias) {
		return errdefs.InvalidArgument("Version alias name '%s' is reserved.", alias)
	}
	return nil
}

// ParseVersion reads a version number sent as a string, accepting what
// Python's int() accepts (surrounding space, a sign, "_" between digits).
// Numbers below 1 parse; no version has them, so they are not found.
func ParseVersion(v string) (int64, error) {
	t := strings.TrimSpace(v)
	digits := strings.TrimLeft(t, "+-")
	ok := len(t)-len(digits) <= 1 && digits != "" && digits[0] != '_' && digits[len(digits)-1] != '_' && !strings.Contains(digits, "__")
	n, err := strconv.ParseInt(strings.ReplaceAll(t, "_", ""), 10, 64)
	if !ok || err != nil {
		return 0, errdefs.InvalidArgument("Parameter 'version' must be an integer, got '%s'.", v)
	}
	return n, nil
}

// CanonicalStage returns MLflow's spelling of a stage given in any case.
func CanonicalStage(stage string) (string, error) {
	for _, s := range Stages {
		if strings.EqualFold(s, stage) {
			return s, nil
		}
	}
	return "", errdefs.InvalidArgument("Invalid Model Version stage: %s. Value must be one of None, Staging, Production, Archived.", stage)
}

// ValidateSource refuses version sources that escape the artifact root:
// local paths (Ferry's runs keep their artifacts behind mlflow-artifacts:,
// so no local path lies inside a run's artifact directory) and any URI
// whose path holds relative references, also when percent-encoded.
func ValidateSource(source, runID string) error {
	u, err := url.Parse(source)
	if err != nil || u.Scheme == "" || u.Scheme == "file" || len(u.Scheme) == 1 /* C:\ */ {
		return errdefs.InvalidArgument("Invalid model version source: '%s'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.", source)
	}
	p := source
	for i := 0; i < 10; i++ {
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			break
		}
		p = d
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(p, "\\\x00") || hasDotSegment(p) {
		return errdefs.InvalidArgument("Invalid model version source: '%s'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.", source)
	}
	if u.Scheme == "runs" && RunOfSource(source) == "" {
		return errdefs.InvalidArgument("Invalid model version source: '%s'. A runs:/ source must be runs:/<run_id>/<path>.", source)
	}
	// The files and the run must agree: policy gates judge a version by
	// its run's metrics, so a run_id naming another run than the one whose
	// artifacts are registered would let any files through.
	if r := RunOfSource(source); r != "" && runID != "" && r != runID {
		return errdefs.InvalidArgument("Invalid model version source: '%s'. It holds artifacts of run %s, but the run_id request parameter is %s.", source, r, runID)
	}
	return nil
}

// RunOfSource returns the run whose artifacts a source points into —
// runs:/<run>/<path> or mlflow-artifacts:/<experiment>/<run>/artifacts/<path>
// — or "" for any other source.
func RunOfSource(source string) string {
	if rest, ok := strings.CutPrefix(source, "runs:/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return id
	}
	key, ok := tracking.ArtifactKey(source)
	if !ok {
		return ""
	}
	parts := strings.SplitN(key, "/", 4)
	if len(parts) >= 3 && parts[0] != "" && parts[1] != "" && parts[2] == "artifacts" {
		return parts[1]
	}
	return ""
}

func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return true
		}
	}
	return false
}
