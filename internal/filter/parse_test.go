package filter

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Oracle cases marked "mlflow:" are taken from MLflow 2.x's test suite:
//   test_search_utils.py   = tests/utils/test_search_utils.py
//   test_file_store.py     = tests/store/tracking/test_file_store.py
//   test_sqlalchemy.py     = tests/store/tracking/test_sqlalchemy_store.py
// Where MLflow's parser accepts a clause that its store then rejects (for
// example `params.x >= 'a'`), the expected outcome is the store's error,
// because Ferry checks comparators while parsing.

func num(e Entity, key string, op Op, n float64) Clause {
	return Clause{Entity: e, Key: key, Op: op, Numeric: true, Num: n}
}

func str(e Entity, key string, op Op, s string) Clause {
	return Clause{Entity: e, Key: key, Op: op, Str: s}
}

func list(e Entity, key string, op Op, vals ...string) Clause {
	return Clause{Entity: e, Key: key, Op: op, List: vals}
}

type filterCase struct {
	in   string
	want []Clause
}

type errCase struct {
	in   string
	want string // substring of the message
}

func checkFilter(t *testing.T, parse func(string) ([]Clause, error), cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := parse(tc.in)
		if err != nil {
			t.Errorf("%q: unexpected error: %v", tc.in, err)
			continue
		}
		if len(got) == 0 && len(tc.want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
	}
}

func checkErr[T any](t *testing.T, parse func(string) (T, error), cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := parse(tc.in)
		if err == nil {
			t.Errorf("%q: expected error containing %q, got %+v", tc.in, tc.want, got)
			continue
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: error %v is not errdefs.ErrInvalidArgument", tc.in, err)
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %q does not contain %q", tc.in, err.Error(), tc.want)
		}
	}
}

func TestParseRunFilter(t *testing.T) {
	checkFilter(t, ParseRunFilter, []filterCase{
		// mlflow: test_search_utils.py::test_filter
		{"metric.acc >= 0.94", []Clause{num(Metric, "acc", Ge, 0.94)}},
		{"metric.acc>=100", []Clause{num(Metric, "acc", Ge, 100)}},
		{"params.m!='tf'", []Clause{str(Param, "m", Ne, "tf")}},
		{`params."m"!="tf"`, []Clause{str(Param, "m", Ne, "tf")}},
		{`metric."legit name" >= 0.243`, []Clause{num(Metric, "legit name", Ge, 0.243)}},
		{"metrics.XYZ = 3", []Clause{num(Metric, "XYZ", Eq, 3)}},
		{`params."cat dog" = "pets"`, []Clause{str(Param, "cat dog", Eq, "pets")}},
		{`metrics."X-Y-Z" = 3`, []Clause{num(Metric, "X-Y-Z", Eq, 3)}},
		{`metrics."X//Y#$$@&Z" = 3`, []Clause{num(Metric, "X//Y#$$@&Z", Eq, 3)}},
		{"params.model = 'LinearRegression'", []Clause{str(Param, "model", Eq, "LinearRegression")}},
		{"metrics.rmse < 1 and params.model_class = 'LR'", []Clause{
			num(Metric, "rmse", Lt, 1), str(Param, "model_class", Eq, "LR")}},
		{"", nil},
		{"`metric`.a >= 0.1", []Clause{num(Metric, "a", Ge, 0.1)}},
		{"tags.version = 'commit-hash'", []Clause{str(Tag, "version", Eq, "commit-hash")}},
		{"`tags`.source_name = 'a notebook'", []Clause{str(Tag, "source_name", Eq, "a notebook")}},
		{`metrics."accuracy.2.0" > 5`, []Clause{num(Metric, "accuracy.2.0", Gt, 5)}},
		{"metrics.`spacey name` > 5", []Clause{num(Metric, "spacey name", Gt, 5)}},
		{`params."p.a.r.a.m" != "a"`, []Clause{str(Param, "p.a.r.a.m", Ne, "a")}},
		{`tags."t.a.g" = "a"`, []Clause{str(Tag, "t.a.g", Eq, "a")}},
		{"attribute.artifact_uri = '1/23/4'", []Clause{str(Attribute, "artifact_uri", Eq, "1/23/4")}},
		{"attribute.start_time >= 1234", []Clause{num(Attribute, "start_time", Ge, 1234)}},
		{"run.status = 'RUNNING'", []Clause{str(Attribute, "status", Eq, "RUNNING")}},
		{"dataset.name = 'my_dataset'", []Clause{str(Dataset, "name", Eq, "my_dataset")}},
		// mlflow: test_search_utils.py::test_correct_quote_trimming
		{"params.m = 'LR'", []Clause{str(Param, "m", Eq, "LR")}},
		{`params.m = "LR"`, []Clause{str(Param, "m", Eq, "LR")}},
		{`params.m = "L'Hosp"`, []Clause{str(Param, "m", Eq, "L'Hosp")}},
		// mlflow: test_search_utils.py::test_correct_filtering and test_filter_runs_by_*
		{"attributes.status = 'FAILED'", []Clause{str(Attribute, "status", Eq, "FAILED")}},
		{"metrics.key1 != 123", []Clause{num(Metric, "key1", Ne, 123)}},
		{"params.my_param = 'A' AND attributes.status = 'FAILED'", []Clause{
			str(Param, "my_param", Eq, "A"), str(Attribute, "status", Eq, "FAILED")}},
		{"datasets.name IN ('name1', 'name2')", []Clause{list(Dataset, "name", In, "name1", "name2")}},
		{"datasets.digest IN ('digest1', 'digest2')", []Clause{list(Dataset, "digest", In, "digest1", "digest2")}},
		{"datasets.name = 'name1' AND datasets.context = 'train'", []Clause{
			str(Dataset, "name", Eq, "name1"), str(Dataset, "context", Eq, "train")}},
		{"attribute.end_time > 1", []Clause{num(Attribute, "end_time", Gt, 1)}},
		{"attribute.user_id = 'user-id2'", []Clause{str(Attribute, "user_id", Eq, "user-id2")}},
		// mlflow: test_sqlalchemy.py (search_runs by run_id IN, run name, created)
		{"attributes.run_id IN ('a1b2','c3d4')", []Clause{list(Attribute, "run_id", In, "a1b2", "c3d4")}},
		{"attributes.run_id NOT IN ('a1b2')", []Clause{list(Attribute, "run_id", NotIn, "a1b2")}},
		{"attributes.run_name = 'r1'", []Clause{str(Attribute, "run_name", Eq, "r1")}},
		{"attributes.`Run name` = 'r1'", []Clause{str(Attribute, "run_name", Eq, "r1")}},
		{"attributes.`run name` LIKE 'r%'", []Clause{str(Attribute, "run_name", Like, "r%")}},
		{"attributes.`Run Name` ILIKE 'R%'", []Clause{str(Attribute, "run_name", ILike, "R%")}},
		{"attributes.created >= 100", []Clause{num(Attribute, "start_time", Ge, 100)}},
		{"attributes.Created < 100", []Clause{num(Attribute, "start_time", Lt, 100)}},

		// Every prefix alias.
		{"metric.a = 1", []Clause{num(Metric, "a", Eq, 1)}},
		{"metrics.a = 1", []Clause{num(Metric, "a", Eq, 1)}},
		{"parameter.p = 'v'", []Clause{str(Param, "p", Eq, "v")}},
		{"parameters.p = 'v'", []Clause{str(Param, "p", Eq, "v")}},
		{"param.p = 'v'", []Clause{str(Param, "p", Eq, "v")}},
		{"params.p = 'v'", []Clause{str(Param, "p", Eq, "v")}},
		{"tag.t = 'v'", []Clause{str(Tag, "t", Eq, "v")}},
		{"tags.t = 'v'", []Clause{str(Tag, "t", Eq, "v")}},
		{"attribute.status = 'v'", []Clause{str(Attribute, "status", Eq, "v")}},
		{"attr.status = 'v'", []Clause{str(Attribute, "status", Eq, "v")}},
		{"attributes.status = 'v'", []Clause{str(Attribute, "status", Eq, "v")}},
		{"run.status = 'v'", []Clause{str(Attribute, "status", Eq, "v")}},
		{"dataset.digest = 'd'", []Clause{str(Dataset, "digest", Eq, "d")}},
		{"datasets.digest = 'd'", []Clause{str(Dataset, "digest", Eq, "d")}},
		{"`datasets`.context = 'eval'", []Clause{str(Dataset, "context", Eq, "eval")}},
		{"`attr`.run_id = 'abc'", []Clause{str(Attribute, "run_id", Eq, "abc")}},

		// Unprefixed keys are attributes.
		{"status = 'RUNNING'", []Clause{str(Attribute, "status", Eq, "RUNNING")}},
		{"run_id = 'abc'", []Clause{str(Attribute, "run_id", Eq, "abc")}},
		{"run_name != 'x'", []Clause{str(Attribute, "run_name", Ne, "x")}},
		{"user_id LIKE 'a%'", []Clause{str(Attribute, "user_id", Like, "a%")}},
		{"artifact_uri ILIKE 's3://%'", []Clause{str(Attribute, "artifact_uri", ILike, "s3://%")}},
		{"start_time > 5", []Clause{num(Attribute, "start_time", Gt, 5)}},
		{"end_time <= 5", []Clause{num(Attribute, "end_time", Le, 5)}},
		{"created = 5", []Clause{num(Attribute, "start_time", Eq, 5)}},
		{`"run name" = 'x'`, []Clause{str(Attribute, "run_name", Eq, "x")}},
		{"`Run Name` = 'x'", []Clause{str(Attribute, "run_name", Eq, "x")}},
		{"run_id IN ('abc')", []Clause{list(Attribute, "run_id", In, "abc")}},

		// Every comparator of every entity.
		{"metrics.m = 1 and metrics.m != 1 and metrics.m > 1 and metrics.m >= 1 and metrics.m < 1 and metrics.m <= 1",
			[]Clause{num(Metric, "m", Eq, 1), num(Metric, "m", Ne, 1), num(Metric, "m", Gt, 1),
				num(Metric, "m", Ge, 1), num(Metric, "m", Lt, 1), num(Metric, "m", Le, 1)}},
		{"params.p = 'a' AND params.p != 'a' AND params.p LIKE 'a%' AND params.p ILIKE 'A%'",
			[]Clause{str(Param, "p", Eq, "a"), str(Param, "p", Ne, "a"), str(Param, "p", Like, "a%"), str(Param, "p", ILike, "A%")}},
		{"tags.t = 'a' AND tags.t != 'a' AND tags.t LIKE 'a%' AND tags.t ILIKE 'A%'",
			[]Clause{str(Tag, "t", Eq, "a"), str(Tag, "t", Ne, "a"), str(Tag, "t", Like, "a%"), str(Tag, "t", ILike, "A%")}},
		{"status = 'a' AND status != 'a' AND status LIKE 'a%' AND status ILIKE 'A%'",
			[]Clause{str(Attribute, "status", Eq, "a"), str(Attribute, "status", Ne, "a"),
				str(Attribute, "status", Like, "a%"), str(Attribute, "status", ILike, "A%")}},
		{"end_time = 1 AND end_time != 1 AND end_time > 1 AND end_time >= 1 AND end_time < 1 AND end_time <= 1",
			[]Clause{num(Attribute, "end_time", Eq, 1), num(Attribute, "end_time", Ne, 1), num(Attribute, "end_time", Gt, 1),
				num(Attribute, "end_time", Ge, 1), num(Attribute, "end_time", Lt, 1), num(Attribute, "end_time", Le, 1)}},
		{"datasets.name = 'a' AND datasets.name != 'a' AND datasets.name LIKE 'a%' AND datasets.name ILIKE 'A%' " +
			"AND datasets.name IN ('a') AND datasets.name NOT IN ('b', 'c')",
			[]Clause{str(Dataset, "name", Eq, "a"), str(Dataset, "name", Ne, "a"), str(Dataset, "name", Like, "a%"),
				str(Dataset, "name", ILike, "A%"), list(Dataset, "name", In, "a"), list(Dataset, "name", NotIn, "b", "c")}},
		{"datasets.context NOT IN ('train')", []Clause{list(Dataset, "context", NotIn, "train")}},

		// Comparator words in any case; IN lists with or without spaces.
		{"params.p like 'a%'", []Clause{str(Param, "p", Like, "a%")}},
		{"params.p iLiKe 'a%'", []Clause{str(Param, "p", ILike, "a%")}},
		{"run_id in ('a','b')", []Clause{list(Attribute, "run_id", In, "a", "b")}},
		{"run_id not in ('a')", []Clause{list(Attribute, "run_id", NotIn, "a")}},
		{"run_id NOT   IN   (  'a' ,  'b'  )", []Clause{list(Attribute, "run_id", NotIn, "a", "b")}},
		{"run_id IN('a')", []Clause{list(Attribute, "run_id", In, "a")}},
		{"run_id IN ('')", []Clause{list(Attribute, "run_id", In, "")}},
		{"run_id IN ('a', 'b', 'c', 'd')", []Clause{list(Attribute, "run_id", In, "a", "b", "c", "d")}},

		// Quoting of keys: "double", `backtick`, 'single' (after the dot).
		{`tags."my key" = 'v'`, []Clause{str(Tag, "my key", Eq, "v")}},
		{"tags.`my key` = 'v'", []Clause{str(Tag, "my key", Eq, "v")}},
		{"tags.'my key' = 'v'", []Clause{str(Tag, "my key", Eq, "v")}},
		{"metrics.`a-b` < 0", []Clause{num(Metric, "a-b", Lt, 0)}},
		{"tags.mlflow.runName = 'r'", []Clause{str(Tag, "mlflow.runName", Eq, "r")}},
		{"tags.mlflow.source.type = 'LOCAL'", []Clause{str(Tag, "mlflow.source.type", Eq, "LOCAL")}},
		{`tags."it's" = 'v'`, []Clause{str(Tag, "it's", Eq, "v")}},
		{"tags.`a\"b` = 'v'", []Clause{str(Tag, `a"b`, Eq, "v")}},
		{"tags.2nd_try = 'v'", []Clause{str(Tag, "2nd_try", Eq, "v")}},
		{"tags.key = 'v'", []Clause{str(Tag, "key", Eq, "v")}}, // a keyword after the dot is a name
		{"tags.in = 'v' AND tags.and = 'w'", []Clause{str(Tag, "in", Eq, "v"), str(Tag, "and", Eq, "w")}},
		{"tags._a$b#c = 'v'", []Clause{str(Tag, "_a$b#c", Eq, "v")}},
		{"tags.été = 'ça'", []Clause{str(Tag, "été", Eq, "ça")}},
		{"params.日本 = '語'", []Clause{str(Param, "日本", Eq, "語")}},

		// String values are taken verbatim between the quotes, as in MLflow.
		{"params.p = 'it''s'", []Clause{str(Param, "p", Eq, "it''s")}},
		{`params.p = 'a\'b'`, []Clause{str(Param, "p", Eq, `a\'b`)}},
		{`params.p = "say \"hi\""`, []Clause{str(Param, "p", Eq, `say \"hi\"`)}},
		{"params.p = ''", []Clause{str(Param, "p", Eq, "")}},
		{`params.p = ""`, []Clause{str(Param, "p", Eq, "")}},
		{"params.p = 'a AND b OR c; DROP TABLE runs -- x'", []Clause{str(Param, "p", Eq, "a AND b OR c; DROP TABLE runs -- x")}},
		{"params.p = 'multi\nline'", []Clause{str(Param, "p", Eq, "multi\nline")}},
		{"tags.t LIKE '%\\_%'", []Clause{str(Tag, "t", Like, `%\_%`)}},

		// Numeric forms.
		{"metrics.m = 1", []Clause{num(Metric, "m", Eq, 1)}},
		{"metrics.m = 1.5", []Clause{num(Metric, "m", Eq, 1.5)}},
		{"metrics.m = -2", []Clause{num(Metric, "m", Eq, -2)}},
		{"metrics.m = -2.25", []Clause{num(Metric, "m", Eq, -2.25)}},
		{"metrics.m = 1e3", []Clause{num(Metric, "m", Eq, 1000)}},
		{"metrics.m = 1E-3", []Clause{num(Metric, "m", Eq, 0.001)}},
		{"metrics.m = 2.5e2", []Clause{num(Metric, "m", Eq, 250)}},
		{"metrics.m = .5", []Clause{num(Metric, "m", Eq, 0.5)}},
		{"metrics.m = -.5", []Clause{num(Metric, "m", Eq, -0.5)}},
		{"metrics.m = 1.", []Clause{num(Metric, "m", Eq, 1)}},
		{"metrics.m = 007", []Clause{num(Metric, "m", Eq, 7)}},
		{"metrics.m>-1", []Clause{num(Metric, "m", Gt, -1)}},
		{"metrics.m > 1e999", []Clause{num(Metric, "m", Gt, math.Inf(1))}}, // float('1e999') is inf in Python
		{"start_time >= 1700000000000", []Clause{num(Attribute, "start_time", Ge, 1700000000000)}},

		// White space and case.
		{"  metrics.m  >  1  ", []Clause{num(Metric, "m", Gt, 1)}},
		{"metrics.m>1 AND params.p='x'", []Clause{num(Metric, "m", Gt, 1), str(Param, "p", Eq, "x")}},
		{"metrics.m > 1\n\tAnD\r\n params.p = 'x'", []Clause{num(Metric, "m", Gt, 1), str(Param, "p", Eq, "x")}},
		{"metrics.m > 1 aNd params.p = 'x'", []Clause{num(Metric, "m", Gt, 1), str(Param, "p", Eq, "x")}},
		{"   ", nil},
		{"\t\n", nil},
		// sqlparse-compatible AND handling: MLflow ignores AND tokens wherever
		// they stand and only requires every other token to be a comparison.
		{"AND metrics.m > 1 AND AND params.p = 'x' AND", []Clause{num(Metric, "m", Gt, 1), str(Param, "p", Eq, "x")}},
		{"metrics.m > 1 params.p = 'x'", []Clause{num(Metric, "m", Gt, 1), str(Param, "p", Eq, "x")}},
	})
}

func TestParseRunFilterErrors(t *testing.T) {
	checkErr(t, ParseRunFilter, []errCase{
		// mlflow: test_search_utils.py::test_error_filter
		{"metric.acc >= 0.94; metrics.rmse < 1", "Search filter contained multiple expression"},
		{"m.acc >= 0.94", "Invalid entity type"},
		{"acc >= 0.94", "Invalid attribute key"},
		{"p.model >= 'LR'", "Invalid entity type"},
		{"attri.x != 1", "Invalid entity type"},
		{"a.x != 1", "Invalid entity type"},
		{"model >= 'LR'", "Invalid attribute key"},
		{"metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string"},
		{"metrics.A > 0.1 NAND params.B = 'LR'", "Invalid clause(s) in filter string"},
		{"metrics.A > 0.1 AND (params.B = 'LR')", "Invalid clause(s) in filter string"},
		{"`metrics.A > 0.1", "Invalid clause(s) in filter string"},
		{"param`.A > 0.1", "Invalid clause(s) in filter string"},
		{"`dummy.A > 0.1", "Invalid clause(s) in filter string"},
		{"dummy`.A > 0.1", "Invalid clause(s) in filter string"},
		{"attribute.start != 1", "Invalid attribute key"},
		{"attribute.experiment_id != 1", "Invalid attribute key"},
		{"attribute.lifecycle_stage = 'ACTIVE'", "Invalid attribute key"},
		{"attribute.name != 1", "Invalid attribute key"},
		{"attribute.time != 1", "Invalid attribute key"},
		{"attribute._status != 'RUNNING'", "Invalid attribute key"},
		{"attribute.status = true", "Invalid clause(s) in filter string"},
		{"dataset.status = 'true'", "Invalid dataset key"},
		{"dataset.profile = 'num_rows: 10'", "Invalid dataset key"},
		// mlflow: test_search_utils.py::test_error_comparison_clauses
		{"metric.model = 'LR'", "Expected numeric value type for metric"},
		{"metric.model = '5'", "Expected numeric value type for metric"},
		{"params.acc = 5", "Expected a quoted string value for param"},
		{"tags.acc = 5", "Expected a quoted string value for tag"},
		{"metrics.acc != metrics.acc", "Expected numeric value type for metric"},
		{"1.0 > metrics.acc", "Expected 'Identifier' found"},
		{"attribute.status = 1", "Expected a quoted string value for attributes"},
		// mlflow: test_search_utils.py::test_bad_quotes
		{"params.acc = LR", "value is either not quoted or unidentified quote types"},
		{"tags.acc = LR", "value is either not quoted or unidentified quote types"},
		{"params.acc = `LR`", "value is either not quoted or unidentified quote types"},
		{"params.'acc = LR", "Invalid clause(s) in filter string"},
		{"params.acc = 'LR", "Invalid clause(s) in filter string"},
		{"params.acc = LR'", "Invalid clause(s) in filter string"},
		{"params.acc = \"LR'", "Invalid clause(s) in filter string"},
		{"tags.acc = \"LR'", "Invalid clause(s) in filter string"},
		{"tags.acc = = 'LR'", "Invalid clause(s) in filter string"},
		{"attribute.status IS 'RUNNING'", "Invalid clause(s) in filter string"},
		// mlflow: test_search_utils.py::test_invalid_clauses (2.x: no IS NULL)
		{"params.acc LR !=", "Invalid clause(s) in filter string"},
		{"params.acc LR", "Invalid clause(s) in filter string"},
		{"metric.acc !=", "Invalid clause(s) in filter string"},
		{"acc != 1.0", "Invalid attribute key"},
		{"foo is null", "Invalid clause(s) in filter string"},
		{"tags.version IS NULL", "Invalid clause(s) in filter string"},
		{"1=1", "Expected 'Identifier' found"},
		{"1==2", "Expected 'Identifier' found"},
		// mlflow: test_search_utils.py::test_bad_comparators (raised by the store in MLflow)
		{"metrics.abc ~ 1.0", "Invalid comparator"},
		{"metrics.abc ~= 1.0", "Invalid comparator"},
		{"params.abc > 'my-param-value'", "Invalid comparator"},
		{"params.abc < 'my-param-value'", "Invalid comparator"},
		{"params.abc >= 'my-param-value'", "Invalid comparator"},
		{"params.abc <= 'my-param-value'", "Invalid comparator"},
		{"params.abc ~ 'my-param-value'", "Invalid comparator"},
		{"tags.abc > 'my-tag-value'", "Invalid comparator"},
		{"tags.abc <= 'my-tag-value'", "Invalid comparator"},
		{"tags.abc ~ 'my-tag-value'", "Invalid comparator"},
		{"attributes.status > 'my-tag-value'", "Invalid comparator"},
		{"attributes.status <= 'my-tag-value'", "Invalid comparator"},
		{"attributes.status ~ 'my-tag-value'", "Invalid comparator"},
		{"attributes.start_time LIKE 1234", "Invalid comparator"},
		{"attributes.start_time ILIKE 1234", "Invalid comparator"},
		{"datasets.name > 'my-dataset-name'", "Invalid comparator"},
		{"datasets.name ~ 'my-dataset-name'", "Invalid comparator"},
		{"`params`.model >= 'LR'", "Invalid comparator '>=' not one of"}, // parsed by MLflow, rejected by its store

		// Exact messages.
		{"metrics.abc ~ 1", "Invalid comparator '~' not one of '{'>', '>=', '!=', '=', '<', '<='}'"},
		{"params.p > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'"},
		{"status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'"},
		{"m.acc >= 0.94", "Invalid entity type 'm'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"},
		{"`m`.acc >= 0.94", "Invalid entity type 'm'."},
		{"METRICS.acc >= 0.94", "Invalid entity type 'METRICS'"},
		{"acc >= 1", "Invalid attribute key 'acc' specified. Valid keys are '{'Created', 'Run Name', 'Run name', " +
			"'artifact_uri', 'created', 'end_time', 'run name', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'"},
		{"dataset.x = 'a'", "Invalid dataset key 'x' specified. Valid keys are '{'context', 'digest', 'name'}'"},
		{"metric.model = 'LR'", "Expected numeric value type for metric. Found 'LR'"},
		{"params.acc = 5", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 5"},
		{"params.acc = LR", "Parameter value is either not quoted or unidentified quote types used for string value LR. Use either single or double quotes."},
		{"attribute.status = 1", "Expected a quoted string value for attributes. Got value 1"},
		{"datasets.name = 1", "Expected a quoted string value for dataset attributes. Got value 1"},
		{"start_time = 'x'", "Expected numeric value type for numeric attribute: start_time. Found 'x'"},
		{"created = 'x'", "Expected numeric value type for numeric attribute: created. Found 'x'"},
		{"1=1", "Invalid comparison clause. Expected 'Identifier' found '1'"},
		{"metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"},

		// SQL injection attempts never get through.
		{"metrics.a > 1; DROP TABLE runs", "Search filter contained multiple expression"},
		{"metrics.a > 1;DROP TABLE runs;", "Search filter contained multiple expression"},
		{"params.x = 'a' OR 1=1", "Invalid clause(s) in filter string"},
		{"params.x = 'a' OR '1'='1'", "Invalid clause(s) in filter string"},
		{"tags.x = 'a'--", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' -- comment", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' # comment", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' /* c */", "Invalid clause(s) in filter string"},
		{"tags.x = 'a';", "Invalid clause(s) in filter string"},
		{"tags.x = 'a'; -- trailing", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' UNION SELECT * FROM runs", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' AND (SELECT 1) = 1", "Expected 'Identifier' found '(SELECT 1)'"},
		{"params.x = ('a') OR 1", "Invalid clause(s) in filter string"},
		{"metrics.a > 1 OR metrics.b < 2", "Invalid clause(s) in filter string"},
		{"(metrics.a > 1)", "Invalid clause(s) in filter string"},
		{"NOT metrics.a > 1", "Invalid clause(s) in filter string"},
		{"metrics.a > ?", "Invalid clause(s) in filter string"},
		{"params.a = :x", "Invalid clause(s) in filter string"},
		{"metrics.a > abs(1)", "Expected numeric value type for metric. Found abs(1)"},
		{"metrics.a > 1 + 1", "Invalid clause(s) in filter string"},
		{"metrics.a > +1", "Invalid clause(s) in filter string"},
		{"metrics.a > - 1", "Invalid clause(s) in filter string"},
		{"metrics.a > 1.5.6", "Invalid clause(s) in filter string"},
		{"metrics . a > 1", "Invalid clause(s) in filter string"},
		{"tags.x = 'a' 'b'", "Invalid clause(s) in filter string"},
		{"tags.[x] = 'a'", "Invalid clause(s) in filter string"},
		{"metrics.a > 1 metrics.b", "Invalid clause(s) in filter string: 'metrics.b'"},

		// IN lists: run_id and datasets only, non-empty lists of 'strings'.
		{"status IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."},
		{"attributes.user_id NOT IN ('a')", "Only the 'run_id' attribute supports comparison"},
		{"run_id IN 'a'", "Invalid clause(s) in filter string: 'run_id', 'IN', ''a''"},
		{"run_id NOT ('a')", "Invalid clause(s) in filter string"},
		{"run_id IN ()", "expected a non-empty list of string values, but got empty list"},
		{"run_id IN ( )", "but got ill-formed list."},
		{"run_id IN ('a',)", "but got ill-formed list."},
		{"run_id IN (,'a')", "but got ill-formed list."},
		{"run_id IN ('a',,'b')", "but got ill-formed list."},
		{"run_id IN ('a' 'b')", "but got ill-formed list."},
		{"run_id IN (('a'))", "but got ill-formed list."},
		{"run_id IN (1)", "but got ill-formed list."},
		{`run_id IN ("a")`, "but got ill-formed list."},
		{"run_id IN ('a'; 'b')", "but got ill-formed list."},
		{"run_id IN ('a', 1)", "expected string value, punctuation, or whitespace, but got different type in list: ('a', 1)"},
		{`run_id IN ("a", "b")`, "but got different type in list"},
		{"run_id IN ('a', b)", "but got different type in list"},
		{"run_id = ('a')", "Invalid comparator '=' for a list of values"},
		{"run_id LIKE ('a', 'b')", "Invalid comparator 'LIKE' for a list of values"},
		{"run_id IN ('a'", "Invalid clause(s) in filter string"},
		{"run_id IN 'a')", "Invalid clause(s) in filter string"},
		{"metrics.a IN (1, 2)", "Expected numeric value type for metric. Found (1, 2)"},
		{"params.p IN ('a')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value ('a')"},
		{"tags.t NOT IN ('a')", "Expected a quoted string value for tag"},
		{"start_time IN (1)", "Expected numeric value type for numeric attribute: start_time. Found (1)"},

		// Comparators MLflow's lexer knows but no entity accepts.
		{"metrics.a == 1", "Invalid comparator '==' not one of"},
		{"metrics.a <> 1", "Invalid comparator '<>' not one of"},
		{"metrics.a =! 1", "Invalid comparator '=!' not one of"},
		{"metrics.a LIKE 1", "Invalid comparator 'LIKE' not one of"},
		{"params.p NOT LIKE 'x'", "Invalid comparator 'NOT LIKE' not one of"},
		{"status not ilike 'x'", "Invalid comparator 'NOT ILIKE' not one of"},
		{"params.p RLIKE 'x'", "Invalid comparator 'RLIKE' not one of"},
		{"params.p REGEXP 'x'", "Invalid comparator 'REGEXP' not one of"},
		{"status IN ('a') AND run_id != 'x'", "Only the 'run_id' attribute"},

		// Values of the wrong kind.
		{"metrics.a = 0x1F", "Expected numeric value type for metric. Found 0x1F"},
		{"metrics.a = NULL", "Expected numeric value type for metric. Found NULL"},
		{"params.a = NULL", "Expected a quoted string value for parameter"},
		{"metrics.a = \"1\"", "Expected numeric value type for metric"},
		{"metrics.a > 1abc", "Expected numeric value type for metric. Found 1abc"},
		{"metrics.a > 1_000", "Expected numeric value type for metric. Found 1_000"},
		{"metrics.a > 1.5x", "Invalid clause(s) in filter string"},
		{"params.a = x.y", "Parameter value is either not quoted"},
		{"params.a = `x`.y", "Parameter value is either not quoted"},
		{"attributes.run_name = runName", "Parameter value is either not quoted"},
		{"datasets.name = name1", "Parameter value is either not quoted"},
		{"end_time > '2024-01-01'", "Expected numeric value type for numeric attribute: end_time"},

		// Function calls are operands to sqlparse, but never a valid key or value.
		{"params.x = f('a')", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value f('a')"},
		{"params.x = lower ('a')", "Got value lower ('a')"},
		{"f('a') = 1", "Expected 'Identifier' found 'f('a')'"},
		{"tags.x ilike('a')", "Invalid clause(s) in filter string: 'tags.x', 'ilike('a')'"},
		{"metrics.a > 1 AND(metrics.b < 2)", "Invalid clause(s) in filter string: 'AND(metrics.b < 2)'"},

		// MLflow parses every clause before its store checks comparators, so
		// a bad key anywhere wins over a bad comparator earlier on.
		{"metrics.a ~ 1 AND foo.b = 'x'", "Invalid entity type 'foo'"},
		{"metrics.a ~ 1 AND params.b = 1", "Expected a quoted string value for parameter"},
		{"metrics.a ~ 1 AND params.b > 'x'", "Invalid comparator '~'"},

		// Identifiers.
		{"metrics.a.b > 1 AND foo.bar = 'x'", "Invalid entity type 'foo'"},
		{`"metrics".a > 1`, `Invalid entity type '"metrics"'`},
		{"lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'"},
		{"experiment_id = '0'", "Invalid attribute key 'experiment_id'"},
		{"run_uuid = 'x'", "Invalid attribute key 'run_uuid'"},
		{"attributes.RUN_ID = 'x'", "Invalid attribute key 'RUN_ID'"},
		{"datasets.Name = 'x'", "Invalid dataset key 'Name'"},
		{"'metrics'.a > 1", "Invalid clause(s) in filter string"},
		{"tags.a$b = 'v'", "Invalid clause(s) in filter string: 'tags.a', '$'"}, // sqlparse: (?<=\.)[A-Z]\w*
		{"a$b = 'v'", "Invalid attribute key 'a$b'"},

		// Text that cannot be tokenized at all.
		{"params.p = '\xff'", "Invalid filter"},
		{"params.p = 'a\x00b'", "Invalid filter"},
	})
}

func TestParseExperimentFilter(t *testing.T) {
	checkFilter(t, ParseExperimentFilter, []filterCase{
		// mlflow: test_file_store.py / test_sqlalchemy.py::test_search_experiments_filter_by_attribute
		{"name = 'a'", []Clause{str(Attribute, "name", Eq, "a")}},
		{"attribute.name = 'a'", []Clause{str(Attribute, "name", Eq, "a")}},
		{"attribute.`name` = 'a'", []Clause{str(Attribute, "name", Eq, "a")}},
		{"attribute.`name` != 'a'", []Clause{str(Attribute, "name", Ne, "a")}},
		{"name LIKE 'a%'", []Clause{str(Attribute, "name", Like, "a%")}},
		{"name ILIKE 'a%'", []Clause{str(Attribute, "name", ILike, "a%")}},
		{"name ILIKE 'a%' AND name ILIKE '%b'", []Clause{str(Attribute, "name", ILike, "a%"), str(Attribute, "name", ILike, "%b")}},
		// mlflow: ...::test_search_experiments_filter_by_time_attribute
		{"creation_time = 1650000000000", []Clause{num(Attribute, "creation_time", Eq, 1650000000000)}},
		{"creation_time != 5", []Clause{num(Attribute, "creation_time", Ne, 5)}},
		{"creation_time >= 5", []Clause{num(Attribute, "creation_time", Ge, 5)}},
		{"creation_time < 5", []Clause{num(Attribute, "creation_time", Lt, 5)}},
		{"creation_time > 5", []Clause{num(Attribute, "creation_time", Gt, 5)}},
		{"last_update_time >= 5", []Clause{num(Attribute, "last_update_time", Ge, 5)}},
		{"last_update_time <= 5", []Clause{num(Attribute, "last_update_time", Le, 5)}},
		{"last_update_time = 5", []Clause{num(Attribute, "last_update_time", Eq, 5)}},
		// mlflow: ...::test_search_experiments_filter_by_attribute_and_tag, _by_tag
		{"name ILIKE 'exp%' AND tag.a = '1'", []Clause{str(Attribute, "name", ILike, "exp%"), str(Tag, "a", Eq, "1")}},
		{"tag.key = 'value'", []Clause{str(Tag, "key", Eq, "value")}},
		{"tag.`k e y` = 'value'", []Clause{str(Tag, "k e y", Eq, "value")}},
		{"tag.\"k e y\" = 'value'", []Clause{str(Tag, "k e y", Eq, "value")}},
		{"tag.key != 'value'", []Clause{str(Tag, "key", Ne, "value")}},
		{"tag.key LIKE 'val%'", []Clause{str(Tag, "key", Like, "val%")}},
		{"tag.key LIKE '%Lue'", []Clause{str(Tag, "key", Like, "%Lue")}},
		{"tag.key ILIKE '%alu%'", []Clause{str(Tag, "key", ILike, "%alu%")}},
		{"tag.key LIKE 'va%' AND tags.key LIKE '%Lue'", []Clause{str(Tag, "key", Like, "va%"), str(Tag, "key", Like, "%Lue")}},
		// mlflow: test_search_utils.py::test_like_pattern_with_plus_character
		{`name LIKE "jamie-foo C+%"`, []Clause{str(Attribute, "name", Like, "jamie-foo C+%")}},
		// Own cases.
		{"", nil},
		{" ", nil},
		{"name like 'a%'", []Clause{str(Attribute, "name", Like, "a%")}},
		{"attribute.creation_time > -1.5e3", []Clause{num(Attribute, "creation_time", Gt, -1500)}},
		{"tags.mlflow.note.content ILIKE '%x%'", []Clause{str(Tag, "mlflow.note.content", ILike, "%x%")}},
	})
}

func TestParseExperimentFilterErrors(t *testing.T) {
	checkErr(t, ParseExperimentFilter, []errCase{
		{"attributes.name = 'a'", "Invalid entity type 'attributes'. Valid entity types are ('attribute', 'tag', 'tags')"},
		{"`tags`.x = 'a'", "Invalid entity type '`tags`'"},
		{"metrics.a > 1", "Invalid entity type 'metrics'"},
		{"params.a = 'x'", "Invalid entity type 'params'"},
		{"datasets.name = 'x'", "Invalid entity type 'datasets'"},
		{"experiment_id = '1'", "Invalid attribute key 'experiment_id' specified. Valid keys are '{'creation_time', 'last_update_time', 'name'}'"},
		{"lifecycle_stage = 'active'", "Invalid attribute key 'lifecycle_stage'"},
		{"name > 'a'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'"},
		{"creation_time LIKE 5", "Invalid comparator 'LIKE' not one of"},
		{"tags.a > 'x'", "Invalid comparator '>' not one of"},
		{"name IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."},
		{"tags.a IN ('a')", "Expected a quoted string value for tag"},
		{"creation_time = 'x'", "Expected numeric value type for numeric attribute: creation_time. Found 'x'"},
		{"name = 1", "Expected a quoted string value for attributes. Got value 1"},
		{"tag.a = 1", "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1"},
		{"name = a", "Parameter value is either not quoted"},
		{"name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: OR"},
		{"name = 'a'; name = 'b'", "Search filter contained multiple expression"},
		{"name = 'a' -- x", "Invalid clause(s) in filter string"},
		{"1 = name", "Expected 'Identifier' found '1'"},
		{"name = '\xfe'", "Invalid filter"},
	})
}

func TestParseRunOrderBy(t *testing.T) {
	cases := []struct {
		in   []string
		want []Order
	}{
		{nil, nil},
		{[]string{}, nil},
		// mlflow: test_search_utils.py::test_correct_sorting
		{[]string{"tags.noSuchTag"}, []Order{{Tag, "noSuchTag", true}}},
		{[]string{"attributes.status"}, []Order{{Attribute, "status", true}}},
		{[]string{"attributes.start_time"}, []Order{{Attribute, "start_time", true}}},
		{[]string{"metrics.key1 asc"}, []Order{{Metric, "key1", true}}},
		{[]string{`metrics."key1"  desc`}, []Order{{Metric, "key1", false}}},
		{[]string{"params.my_param"}, []Order{{Param, "my_param", true}}},
		{[]string{"params.my_param aSc", "attributes.status  ASC"}, []Order{{Param, "my_param", true}, {Attribute, "status", true}}},
		{[]string{"params.my_param", "attributes.status DESC"}, []Order{{Param, "my_param", true}, {Attribute, "status", false}}},
		{[]string{"params.my_param DESC", "attributes.status   DESC"}, []Order{{Param, "my_param", false}, {Attribute, "status", false}}},
		{[]string{"params.`my_param` DESC", "attributes.status DESC"}, []Order{{Param, "my_param", false}, {Attribute, "status", false}}},
		{[]string{"tags.tag1"}, []Order{{Tag, "tag1", true}}},
		{[]string{"tags.tag1    DESC"}, []Order{{Tag, "tag1", false}}},
		// mlflow: test_search_utils.py::test_space_order_by_search_runs
		{[]string{"metrics.`Mean Square Error`"}, []Order{{Metric, "Mean Square Error", true}}},
		{[]string{"metrics.`Mean Square Error` ASC"}, []Order{{Metric, "Mean Square Error", true}}},
		{[]string{"metrics.`Mean Square Error` DESC"}, []Order{{Metric, "Mean Square Error", false}}},
		// mlflow: test_sqlalchemy.py::test_get_orderby_clauses
		{[]string{"attribute.start_time ASC"}, []Order{{Attribute, "start_time", true}}},
		{[]string{"param.a", "metric.a", "tag.a"}, []Order{{Param, "a", true}, {Metric, "a", true}, {Tag, "a", true}}},
		// Aliases and other spellings.
		{[]string{"attributes.created DESC"}, []Order{{Attribute, "start_time", false}}},
		{[]string{"Created"}, []Order{{Attribute, "start_time", true}}},
		{[]string{"run.end_time", "attr.run_name", "attribute.user_id", "artifact_uri", "run_id desc"},
			[]Order{{Attribute, "end_time", true}, {Attribute, "run_name", true}, {Attribute, "user_id", true},
				{Attribute, "artifact_uri", true}, {Attribute, "run_id", false}}},
		{[]string{"`metrics`.a\tdesc"}, []Order{{Metric, "a", false}}},
		{[]string{`tags."a b" DESC`, "tags.'c d'"}, []Order{{Tag, "a b", false}, {Tag, "c d", true}}},
		{[]string{"tags.mlflow.runName"}, []Order{{Tag, "mlflow.runName", true}}},
		// MLflow runs the entry through shlex with backticks made double quotes.
		{[]string{"metrics.a `desc`", `metrics.b "ASC"`}, []Order{{Metric, "a", false}, {Metric, "b", true}}},
		{[]string{`"tags".x DESC`, `tags."a\"b" asc`, `tags.'c\d' asc`}, []Order{{Tag, "x", false}, {Tag, `a"b`, true}, {Tag, `c\d`, true}}},
		{[]string{"parameters.lr", "metric.loss"}, []Order{{Param, "lr", true}, {Metric, "loss", true}}},
	}
	for _, tc := range cases {
		got, err := ParseRunOrderBy(tc.in)
		if err != nil {
			t.Errorf("%q: unexpected error: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseRunOrderByErrors(t *testing.T) {
	one := func(s string) ([]Order, error) { return ParseRunOrderBy([]string{s}) }
	checkErr(t, one, []errCase{
		// mlflow: test_search_utils.py::test_invalid_order_by_search_runs
		{"m.acc", "Invalid entity type"},
		{"acc", "Invalid attribute key"},
		{"attri.x", "Invalid entity type"},
		{"`metrics.A", "Invalid order_by clause"},
		{"`metrics.A`", "Invalid entity type"},
		{"attribute.start", "Invalid attribute key"},
		{"attribute.experiment_id", "Invalid attribute key"},
		{"metrics.A != 1", "Invalid order_by clause"},
		{"params.my_param ", "Invalid order_by clause"},
		{"attribute.run_id ACS", "Invalid ordering key"},
		{"attribute.run_id decs", "Invalid ordering key"},
		// Exact messages.
		{"params.my_param ", "Invalid order_by clause 'params.my_param '. Could not be parsed."},
		{"attribute.run_id ACS", "Invalid ordering key in order_by clause 'attribute.run_id ACS'."},
		{"acc", "Invalid attribute key 'acc' specified. Valid keys are '{'Created', 'artifact_uri', 'created', " +
			"'end_time', 'run_id', 'run_name', 'start_time', 'status', 'user_id'}'"},
		// Own cases.
		{"", "Invalid order_by clause ''. Could not be parsed."},
		{" metrics.a", "Could not be parsed"},
		{"metrics.a DESC NULLS LAST", "Could not be parsed"},
		{"metrics.a asc desc", "Could not be parsed"},
		{"metrics.a foo", "Invalid ordering key"},
		{"metrics.a, metrics.b", "Could not be parsed"},
		{"metrics.a; DROP TABLE runs", "Could not be parsed"},
		{"metrics.a -- x", "Could not be parsed"},
		{"metrics.a AND", "Could not be parsed"},
		{"(metrics.a)", "Could not be parsed"},
		{"1", "Could not be parsed"},
		{"'metrics.a'", "Could not be parsed"},
		{"metrics.a\x00", "Could not be parsed"},
		{"metrics.\xff", "Could not be parsed"},
		{"attributes.`run name`", "Invalid attribute key 'run name'"},
		{"datasets.name", "Invalid identifier type 'dataset'"},
		{"datasets.profile", "Invalid dataset key 'profile'"},
	})
	// mlflow: test_sqlalchemy.py::test_get_orderby_clauses (duplicates)
	checkErr(t, runOrderByPiped, []errCase{
		{"attribute.start_time|attribute.start_time", "`order_by` contains duplicate fields: ['attribute.start_time', 'attribute.start_time']"},
		{"param.p|param.p", "`order_by` contains duplicate fields"},
		{"metric.m|metric.m", "`order_by` contains duplicate fields"},
		{"tag.t|tag.t", "`order_by` contains duplicate fields"},
		{"metrics.m ASC|metric.m DESC", "`order_by` contains duplicate fields"},
		{"start_time|attributes.created DESC", "`order_by` contains duplicate fields"},
		{"tags.`a b`|tags.\"a b\"", "`order_by` contains duplicate fields"},
		{"metrics.a|bad.b", "Invalid entity type 'bad'"},
	})
}

// runOrderByPiped parses a '|'-separated order_by list (a test helper).
func runOrderByPiped(s string) ([]Order, error) { return ParseRunOrderBy(strings.Split(s, "|")) }

func TestParseExperimentOrderBy(t *testing.T) {
	cases := []struct {
		in   []string
		want []Order
	}{
		{nil, nil},
		// mlflow: test_file_store.py::test_search_experiments_order_by and _order_by_time_attribute
		{[]string{"name"}, []Order{{Attribute, "name", true}}},
		{[]string{"name ASC"}, []Order{{Attribute, "name", true}}},
		{[]string{"name DESC"}, []Order{{Attribute, "name", false}}},
		{[]string{"creation_time DESC"}, []Order{{Attribute, "creation_time", false}}},
		{[]string{"creation_time ASC"}, []Order{{Attribute, "creation_time", true}}},
		{[]string{"name", "last_update_time asc"}, []Order{{Attribute, "name", true}, {Attribute, "last_update_time", true}}},
		{[]string{"creation_time"}, []Order{{Attribute, "creation_time", true}}},
		{[]string{"last_update_time"}, []Order{{Attribute, "last_update_time", true}}},
		// MLflow SqlAlchemyStore's default order.
		{[]string{"creation_time DESC", "experiment_id ASC"}, []Order{{Attribute, "creation_time", false}, {Attribute, "experiment_id", true}}},
		// Own cases: attribute prefix; duplicates are not an error for experiments (as in MLflow).
		{[]string{"attribute.name desc", "attribute.`experiment_id`"}, []Order{{Attribute, "name", false}, {Attribute, "experiment_id", true}}},
		{[]string{"name", "name DESC"}, []Order{{Attribute, "name", true}, {Attribute, "name", false}}},
	}
	for _, tc := range cases {
		got, err := ParseExperimentOrderBy(tc.in)
		if err != nil {
			t.Errorf("%q: unexpected error: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
	}
	one := func(s string) ([]Order, error) { return ParseExperimentOrderBy([]string{s}) }
	checkErr(t, one, []errCase{
		{"tags.x", "Invalid order_by entity: tag"},
		{"`tags`.x", "Invalid entity type '`tags`'"},
		{"`tags`.x ASC", "Invalid order_by entity: tag"}, // shlex unquotes when a direction follows
		{"tag.x DESC", "Invalid order_by entity: tag"},
		{"lifecycle_stage", "Invalid attribute key 'lifecycle_stage' specified. Valid keys are " +
			"'{'creation_time', 'experiment_id', 'last_update_time', 'name'}'"},
		{"attributes.name", "Invalid entity type 'attributes'"},
		{"metrics.x", "Invalid entity type 'metrics'"},
		// mlflow: test_search_utils.py::test_invalid_order_by_search_registered_models (same parser)
		{"name ASC EXTRA", "Invalid order_by clause"},
		{"name aCs", "Invalid ordering key"},
		{"", "Invalid order_by clause"},
	})
}

// TestErrorKind checks that errors are errdefs.InvalidArgument all the way,
// also through wrapping.
func TestErrorKind(t *testing.T) {
	_, err := ParseRunFilter("metrics.a ~ 1")
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("got %v", err)
	}
	if errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("%v matches ErrNotFound", err)
	}
}

func TestBlankFilterIsNil(t *testing.T) {
	for _, s := range []string{"", " ", "\t\r\n", "\u00a0"} {
		for name, parse := range map[string]func(string) ([]Clause, error){
			"run": ParseRunFilter, "experiment": ParseExperimentFilter,
		} {
			got, err := parse(s)
			if got != nil || err != nil {
				t.Errorf("%s %q: got %#v, %v; want nil, nil", name, s, got, err)
			}
		}
	}
}
