package tracking

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Limits as MLflow 2.x enforces them (mlflow/utils/validation.py).
const (
	MaxMetricsPerBatch      = 1000
	MaxParamsTagsPerBatch   = 100
	MaxEntitiesPerBatch     = 1000
	MaxBatchRequestBytes    = 1_000_000
	MaxEntityKeyLength      = 250
	MaxParamValueLength     = 6000
	MaxTagValueLength       = 8000
	MaxExperimentNameLength = 500
	MaxExperimentTagKey     = 250
	MaxExperimentTagValue   = 5000
	MaxDatasetNameSize      = 500
	MaxDatasetDigestSize    = 36
	MaxDatasetSchemaSize    = 1048575
	MaxDatasetSourceSize    = 65535
	MaxDatasetProfileSize   = 16777215
	MaxInputTagKeySize      = 255
	MaxInputTagValueSize    = 500
	MaxRunsPerSearch        = 50000
	MaxExperimentsPerSearch = 50000
	MaxBulkRunIDs           = 100
	MaxBulkIntervalResults  = 2500
)

var (
	runIDPattern        = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,255}$`)
	experimentIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][\w\-]{0,63}$`)
)

const (
	badCharactersMessage = "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
	missingKeyMessage    = "A key name must be provided."
)

// InvalidValue formats MLflow's standard message for a bad parameter value:
// Invalid value <json> for parameter '<path>' supplied[: message].
func InvalidValue(path string, value any, message string) error {
	v := pyJSON(value)
	if message != "" {
		return errdefs.InvalidArgument("Invalid value %s for parameter '%s' supplied: %s", v, path, message)
	}
	return errdefs.InvalidArgument("Invalid value %s for parameter '%s' supplied.", v, path)
}

// MissingValue formats MLflow's message for an absent required parameter.
func MissingValue(path string) error {
	return errdefs.InvalidArgument("Missing value for required parameter '%s'. See the API docs for more information about request parameters.", path)
}

func exceedsLength(path string, limit int) error {
	return errdefs.InvalidArgument("'%s' exceeds the maximum length of %d characters", path, limit)
}

// pyJSON renders v as Python's json.dumps does (ASCII only, ", " free).
func pyJSON(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		var b strings.Builder
		b.WriteByte('"')
		for _, r := range x {
			switch {
			case r == '"':
				b.WriteString(`\"`)
			case r == '\\':
				b.WriteString(`\\`)
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\r':
				b.WriteString(`\r`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x20 || r > 0x7e:
				if r > 0xffff {
					r1, r2 := utf16Surrogates(r)
					fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
				} else {
					fmt.Fprintf(&b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
		b.WriteByte('"')
		return b.String()
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

func utf16Surrogates(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// validKeyChars reports whether name matches MLflow's ^[/\w.\- :]*$ with
// Python's Unicode \w.
func validKeyChars(name string) bool {
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '/' || r == '.' || r == '-' || r == ' ' || r == ':' {
			continue
		}
		if unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc) {
			continue
		}
		return false
	}
	return true
}

// pathNotUnique mirrors MLflow: a key must equal its normalised path and
// not escape upwards or be absolute.
func pathNotUnique(name string) bool {
	norm := pyNormpath(name)
	return norm != name || norm == "." || strings.HasPrefix(norm, "..") || strings.HasPrefix(norm, "/")
}

// pyNormpath behaves as Python's posixpath.normpath: unlike path.Clean it
// keeps a leading "//" and maps "" to ".".
func pyNormpath(p string) string {
	if p == "" {
		return "."
	}
	c := path.Clean(p)
	if strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "///") {
		return "/" + c
	}
	return c
}

func badPathMessage(name string) string {
	return fmt.Sprintf("Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '%s'", pyNormpath(name))
}

// ValidateKey checks a metric, param or tag key (run, experiment or
// registry) as MLflow's _validate_tag_name; field is the JSON path used in
// the message ("key", "metrics[3].name", ...).
func ValidateKey(name, field string) error {
	if !validKeyChars(name) {
		return InvalidValue(field, name, badCharactersMessage)
	}
	if pathNotUnique(name) {
		return InvalidValue(field, name, badPathMessage(name))
	}
	return nil
}

func joinPath(prefix, field string) string {
	if prefix == "" {
		return field
	}
	return prefix + "." + field
}

// ValidateMetric checks a metric as MLflow does; prefix is "" for
// log-metric and "metrics[i]" inside a batch.
func ValidateMetric(m Metric, prefix string) error {
	if m.Key == "" && prefix == "" {
		return MissingValue("key")
	}
	if err := ValidateKey(m.Key, joinPath(prefix, "name")); err != nil {
		return err
	}
	if m.Timestamp < 0 {
		return InvalidValue(joinPath(prefix, "timestamp"), m.Timestamp,
			fmt.Sprintf("metric '%s' (value=%s). Timestamp must be a nonnegative long (64-bit integer) ", m.Key, pyJSON(m.Value)))
	}
	if utf8.RuneCountInString(m.Key) > MaxEntityKeyLength {
		return exceedsLength("Metric name", MaxEntityKeyLength)
	}
	return nil
}

// ValidateParam checks a param and truncates an over-long value as MLflow
// does by default (MLFLOW_TRUNCATE_LONG_VALUES).
func ValidateParam(p *Param, prefix string) error {
	if err := ValidateKey(p.Key, joinPath(prefix, "key")); err != nil {
		return err
	}
	if utf8.RuneCountInString(p.Key) > MaxEntityKeyLength {
		return exceedsLength("Param key", MaxEntityKeyLength)
	}
	p.Value = truncateRunes(p.Value, MaxParamValueLength)
	return nil
}

// ValidateTag checks a run tag and truncates an over-long value.
func ValidateTag(t *Tag, prefix string) error {
	if err := ValidateKey(t.Key, joinPath(prefix, "key")); err != nil {
		return err
	}
	if utf8.RuneCountInString(t.Key) > MaxEntityKeyLength {
		return exceedsLength(joinPath(prefix, "key"), MaxEntityKeyLength)
	}
	t.Value = truncateRunes(t.Value, MaxTagValueLength)
	return nil
}

// ValidateExperimentTag checks an experiment tag (no truncation).
func ValidateExperimentTag(t Tag) error {
	if err := ValidateKey(t.Key, "key"); err != nil {
		return err
	}
	if utf8.RuneCountInString(t.Key) > MaxExperimentTagKey {
		return exceedsLength("key", MaxExperimentTagKey)
	}
	if utf8.RuneCountInString(t.Value) > MaxExperimentTagValue {
		return exceedsLength("value", MaxExperimentTagValue)
	}
	return nil
}

// ValidateExperimentName checks a new or changed experiment name.
func ValidateExperimentName(name string) error {
	if name == "" {
		return errdefs.InvalidArgument("Invalid experiment name: '%s'", name)
	}
	if utf8.RuneCountInString(name) > MaxExperimentNameLength {
		return exceedsLength("name", MaxExperimentNameLength)
	}
	return nil
}

// ValidateRunID checks the syntax of a run id.
func ValidateRunID(id, field string) error {
	if id == "" {
		return MissingValue(field)
	}
	if !runIDPattern.MatchString(id) {
		return InvalidValue(field, id, "")
	}
	return nil
}

// ValidateExperimentID checks the syntax of an experiment id.
func ValidateExperimentID(id string) error {
	if !experimentIDPattern.MatchString(id) {
		return errdefs.InvalidArgument("Invalid experiment ID: '%s'", id)
	}
	return nil
}

// ValidateBatchLimits enforces MLflow's log-batch size limits.
func ValidateBatchLimits(metrics, params, tags int) error {
	check := func(entity string, limit, n int) error {
		if n > limit {
			return errdefs.InvalidArgument("A batch logging request can contain at most %d %s. Got %d %s. Please split up %s across multiple requests and try again.", limit, entity, n, entity, entity)
		}
		return nil
	}
	if err := check("metrics", MaxMetricsPerBatch, metrics); err != nil {
		return err
	}
	if err := check("params", MaxParamsTagsPerBatch, params); err != nil {
		return err
	}
	if err := check("tags", MaxParamsTagsPerBatch, tags); err != nil {
		return err
	}
	return check("metrics, params, and tags", MaxEntitiesPerBatch, metrics+params+tags)
}

// validateUniqueParams refuses a batch that names one param key twice.
func validateUniqueParams(params []Param) error {
	seen := make(map[string]bool, len(params))
	var dupes []string
	for _, p := range params {
		if seen[p.Key] {
			dupes = append(dupes, p.Key)
		}
		seen[p.Key] = true
	}
	if len(dupes) > 0 {
		return errdefs.InvalidArgument("Duplicate parameter keys have been submitted: %s. Please ensure the request contains only one param value per param key.", quote(dupes))
	}
	return nil
}

// ValidateDatasetInput checks one log-inputs entry.
func ValidateDatasetInput(in DatasetInput) error {
	d := in.Dataset
	switch {
	case d.Name == "":
		return errdefs.InvalidArgument("Dataset name cannot be None")
	case d.Digest == "":
		return errdefs.InvalidArgument("Dataset digest cannot be None")
	case d.SourceType == "":
		return errdefs.InvalidArgument("Dataset source_type cannot be None")
	case d.Source == "":
		return errdefs.InvalidArgument("Dataset source cannot be None")
	case len(d.Name) > MaxDatasetNameSize:
		return exceedsLength("name", MaxDatasetNameSize)
	case len(d.Digest) > MaxDatasetDigestSize:
		return exceedsLength("digest", MaxDatasetDigestSize)
	case len(d.Source) > MaxDatasetSourceSize:
		return exceedsLength("source", MaxDatasetSourceSize)
	case len(d.Schema) > MaxDatasetSchemaSize:
		return exceedsLength("schema", MaxDatasetSchemaSize)
	case len(d.Profile) > MaxDatasetProfileSize:
		return exceedsLength("profile", MaxDatasetProfileSize)
	}
	for _, t := range in.Tags {
		if t.Key == "" {
			return errdefs.InvalidArgument("Input tag key cannot be None")
		}
		if len(t.Key) > MaxInputTagKeySize {
			return exceedsLength("key", MaxInputTagKeySize)
		}
		if len(t.Value) > MaxInputTagValueSize {
			return exceedsLength("value", MaxInputTagValueSize)
		}
	}
	return nil
}

func truncateRunes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i]
		}
		n++
	}
	return s
}
