package mlflow

import (
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

func newReq(method, target, body, contentType string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

const ctJSON = "application/json"

// TestDecodeLogMetric covers the conversions of one message through both
// transports: JSON body and query string.
func TestDecodeLogMetric(t *testing.T) {
	type want struct {
		runID string
		m     tracking.Metric
		err   string // substring of the error message; "" for success
	}
	cases := []struct {
		name   string
		method string
		target string
		body   string
		ct     string
		want   want
	}{
		{"numbers", "POST", "/", `{"run_id":"r1","key":"loss","value":0.5,"timestamp":1700000000000,"step":3}`, ctJSON,
			want{runID: "r1", m: tracking.Metric{Key: "loss", Value: 0.5, Timestamp: 1700000000000, Step: 3}}},
		{"run_uuid alias and default step", "POST", "/", `{"run_uuid":"r2","key":"k","value":1,"timestamp":5}`, ctJSON,
			want{runID: "r2", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 5}}},
		{"numeric strings", "POST", "/", `{"run_id":"r","key":"k","value":"2.5","timestamp":"10","step":"-4"}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 2.5, Timestamp: 10, Step: -4}}},
		{"integral floats for int64", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1e3,"step":7.0}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1000, Step: 7}}},
		{"NaN string", "POST", "/", `{"run_id":"r","key":"k","value":"NaN","timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.NaN(), Timestamp: 1}}},
		{"Infinity string", "POST", "/", `{"run_id":"r","key":"k","value":"Infinity","timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.Inf(1), Timestamp: 1}}},
		{"-Infinity string", "POST", "/", `{"run_id":"r","key":"k","value":"-Infinity","timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.Inf(-1), Timestamp: 1}}},
		{"python spellings", "POST", "/", `{"run_id":"r","key":"k","value":"-inf","timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.Inf(-1), Timestamp: 1}}},
		{"bare NaN token as Python writes it", "POST", "/", `{"run_id":"r","key":"k","value":NaN,"timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.NaN(), Timestamp: 1}}},
		{"bare -Infinity token", "POST", "/", `{"run_id":"r","key":"k","value":-Infinity,"timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.Inf(-1), Timestamp: 1}}},
		{"overflow becomes Inf", "POST", "/", `{"run_id":"r","key":"k","value":1e400,"timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.Inf(1), Timestamp: 1}}},
		{"unknown fields ignored", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1,"model_id":"m","extra":{"a":[1,2,{"b":null}]}}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"duplicate keys: last wins", "POST", "/", `{"run_id":"a","run_id":"b","key":"k","value":1,"timestamp":1}`, ctJSON,
			want{runID: "b", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"null is absent", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1,"step":null}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"charset parameter", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1}`, "application/json; charset=utf-8",
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"escapes", "POST", "/", `{"run_id":"r","key":"a\/b\u00e9\ud83d\ude00","value":1,"timestamp":1}`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "a/bé😀", Value: 1, Timestamp: 1}}},
		{"double-encoded body", "POST", "/", `"{\"run_id\":\"r\",\"key\":\"k\",\"value\":1,\"timestamp\":1}"`, ctJSON,
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"GET query", "GET", "/?run_id=r&key=k&value=NaN&timestamp=12&step=2", "", "",
			want{runID: "r", m: tracking.Metric{Key: "k", Value: math.NaN(), Timestamp: 12, Step: 2}}},
		{"GET repeated scalar takes the first", "GET", "/?run_id=r&run_id=s&key=k&value=1&timestamp=1", "", "",
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},
		{"GET without query reads the body", "GET", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1}`, "",
			want{runID: "r", m: tracking.Metric{Key: "k", Value: 1, Timestamp: 1}}},

		{"missing run_id", "POST", "/", `{"key":"k","value":1,"timestamp":1}`, ctJSON,
			want{err: "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters."}},
		{"empty key", "POST", "/", `{"run_id":"r","key":"","value":1,"timestamp":1}`, ctJSON,
			want{err: "Missing value for required parameter 'key'."}},
		{"missing value", "POST", "/", `{"run_id":"r","key":"k","timestamp":1}`, ctJSON,
			want{err: "Missing value for required parameter 'value'."}},
		{"missing timestamp", "POST", "/", `{"run_id":"r","key":"k","value":1}`, ctJSON,
			want{err: "Missing value for required parameter 'timestamp'."}},
		{"run_id of wrong type", "POST", "/", `{"run_id":31,"key":"k","value":1,"timestamp":1}`, ctJSON,
			want{err: "Invalid value 31 for parameter 'run_id' supplied:  Hint: Value was of type 'int'. See the API docs for more information about request parameters."}},
		{"timestamp string", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":"soon"}`, ctJSON,
			want{err: `Invalid value "soon" for parameter 'timestamp' supplied:  Hint: Value was of type 'str'.`}},
		{"fractional timestamp", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":1.5}`, ctJSON,
			want{err: `Invalid value 1.5 for parameter 'timestamp' supplied:  Hint: Value was of type 'float'.`}},
		{"int64 overflow", "POST", "/", `{"run_id":"r","key":"k","value":1,"timestamp":99999999999999999999}`, ctJSON,
			want{err: `Invalid value 99999999999999999999 for parameter 'timestamp' supplied`}},
		{"bool value", "POST", "/", `{"run_id":"r","key":"k","value":true,"timestamp":1}`, ctJSON,
			want{err: `Invalid value true for parameter 'value' supplied:  Hint: Value was of type 'bool'.`}},
		{"list value", "POST", "/", `{"run_id":"r","key":"k","value":[1,"a"],"timestamp":1}`, ctJSON,
			want{err: `Invalid value [1,"a"] for parameter 'value' supplied:  Hint: Value was of type 'list'.`}},
		{"non-numeric string value", "POST", "/", `{"run_id":"r","key":"k","value":"high","timestamp":1}`, ctJSON,
			want{err: `Invalid value "high" for parameter 'value' supplied`}},
		{"object key", "POST", "/", `{"run_id":"r","key":{"a":1},"value":1,"timestamp":1}`, ctJSON,
			want{err: `Invalid value {"a":1} for parameter 'key' supplied:  Hint: Value was of type 'dict'.`}},

		{"missing content type", "POST", "/", `{}`, "",
			want{err: "Bad Request. Content-Type header is missing."}},
		{"wrong content type", "POST", "/", `{}`, "text/plain",
			want{err: "Bad Request. Content-Type must be one of ['application/json']."}},
		{"form content type", "POST", "/", `run_id=r`, "application/x-www-form-urlencoded",
			want{err: "Bad Request. Content-Type must be one of ['application/json']."}},
		{"malformed JSON", "POST", "/", `{"run_id":"r",}`, ctJSON,
			want{err: "Malformed request: the body is not valid JSON"}},
		{"truncated JSON", "POST", "/", `{"run_id":"r`, ctJSON,
			want{err: "Malformed request: the body is not valid JSON"}},
		{"trailing garbage", "POST", "/", `{} {}`, ctJSON,
			want{err: "Malformed request: the body is not valid JSON"}},
		{"array body", "POST", "/", `[1,2]`, ctJSON,
			want{err: "the request body must be a JSON object"}},
		{"invalid UTF-8", "POST", "/", "{\"run_id\":\"r\xff\"}", ctJSON,
			want{err: "invalid UTF-8"}},
		{"control character", "POST", "/", "{\"run_id\":\"a\nb\"}", ctJSON,
			want{err: "invalid control character"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := decodeRequest(newReq(c.method, c.target, c.body, c.ct))
			var runID string
			var m tracking.Metric
			if err == nil {
				defer q.release()
				runID, err = q.runID()
				if err == nil {
					m, err = q.metric(root, "")
				}
			}
			if c.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.want.err) {
					t.Fatalf("error %v, want one containing %q", err, c.want.err)
				}
				if !errors.Is(err, errdefs.ErrInvalidArgument) {
					t.Errorf("error %v is not an invalid argument", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if runID != c.want.runID {
				t.Errorf("run id %q, want %q", runID, c.want.runID)
			}
			same := m.Key == c.want.m.Key && m.Timestamp == c.want.m.Timestamp && m.Step == c.want.m.Step &&
				(m.Value == c.want.m.Value || math.IsNaN(m.Value) && math.IsNaN(c.want.m.Value))
			if !same {
				t.Errorf("metric %+v, want %+v", m, c.want.m)
			}
		})
	}
}

func TestDecodeExperimentIDs(t *testing.T) {
	cases := []struct {
		name, method, target, body string
		wantID                     string
		wantIDs                    []string
		err                        string
	}{
		{"numeric experiment_id", "POST", "/", `{"experiment_id":12}`, "12", nil, ""},
		{"string experiment_id", "POST", "/", `{"experiment_id":"12"}`, "12", nil, ""},
		{"numeric experiment_ids", "POST", "/", `{"experiment_ids":[1,"2",3]}`, "", []string{"1", "2", "3"}, ""},
		{"query repeated ids", "GET", "/?experiment_ids=1&experiment_ids=2", "", "", []string{"1", "2"}, ""},
		{"query single id", "GET", "/?experiment_ids=7", "", "", []string{"7"}, ""},
		{"float experiment_id", "POST", "/", `{"experiment_id":1.5}`, "", nil, "Invalid value 1.5 for parameter 'experiment_id'"},
		{"ids not a list", "POST", "/", `{"experiment_ids":"1"}`, "", nil, `Invalid value "1" for parameter 'experiment_ids'`},
		{"ids with an object", "POST", "/", `{"experiment_ids":[{}]}`, "", nil, `Invalid value [{}] for parameter 'experiment_ids'`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := decodeRequest(newReq(c.method, c.target, c.body, ctJSON))
			if err != nil {
				t.Fatal(err)
			}
			defer q.release()
			id, _, err1 := q.str(root, "experiment_id", "")
			ids, err2 := q.strList(root, "experiment_ids")
			err = errors.Join(err1, err2)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != c.wantID || strings.Join(ids, ",") != strings.Join(c.wantIDs, ",") {
				t.Errorf("got %q %q, want %q %q", id, ids, c.wantID, c.wantIDs)
			}
		})
	}
}

func TestDecodeEnums(t *testing.T) {
	cases := []struct {
		body string
		want int
		ok   bool
		err  bool
	}{
		{`{}`, 0, false, false},
		{`{"run_view_type":"ALL"}`, 3, true, false},
		{`{"run_view_type":2}`, 2, true, false},
		{`{"run_view_type":"2"}`, 2, true, false},
		{`{"run_view_type":"all"}`, 0, false, true},
		{`{"run_view_type":9}`, 0, false, true},
		{`{"run_view_type":0}`, 0, false, true},
	}
	for _, c := range cases {
		q, err := decodeRequest(newReq("POST", "/", c.body, ctJSON))
		if err != nil {
			t.Fatal(err)
		}
		v, ok, err := q.enum(root, "run_view_type", viewTypeNames)
		if v != c.want || ok != c.ok || (err != nil) != c.err {
			t.Errorf("%s: got %d %v %v", c.body, v, ok, err)
		}
		q.release()
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `{"run_id":"r","metrics":[{"key":"a","value":1,"timestamp":2,"step":3},{"key":"b","value":"NaN","timestamp":"4"}],
		"params":[{"key":"p","value":"v"}],"tags":[{"key":"t","value":"u"}]}`
	q, err := decodeRequest(newReq("POST", "/", body, ctJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer q.release()
	var got []tracking.Metric
	err = q.objects(root, "metrics", "", func(_ int, e int32, path string) error {
		m, err := q.metric(e, path)
		got = append(got, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (tracking.Metric{Key: "a", Value: 1, Timestamp: 2, Step: 3}) ||
		got[1].Key != "b" || !math.IsNaN(got[1].Value) || got[1].Timestamp != 4 {
		t.Errorf("metrics %+v", got)
	}
	tags, err := q.tags(root, "tags", "", true)
	if err != nil || len(tags) != 1 || tags[0] != (tracking.Tag{Key: "t", Value: "u"}) {
		t.Errorf("tags %+v %v", tags, err)
	}

	for _, c := range []struct{ body, err string }{
		{`{"metrics":[{"value":1,"timestamp":2}]}`, "Missing value for required parameter 'metrics[0].key'."},
		{`{"metrics":[{"key":"a","value":1,"timestamp":2},{"key":"b","timestamp":2}]}`, "Missing value for required parameter 'metrics[1].value'."},
		{`{"metrics":[{"key":"a","value":1}]}`, "Missing value for required parameter 'metrics[0].timestamp'."},
		{`{"metrics":[{"key":"a","value":1,"timestamp":"x"}]}`, `Invalid value "x" for parameter 'metrics[0].timestamp' supplied`},
		{`{"metrics":{"key":"a"}}`, `Invalid value {"key":"a"} for parameter 'metrics' supplied:  Hint: Value was of type 'dict'.`},
		{`{"metrics":[1]}`, `Invalid value 1 for parameter 'metrics[0]' supplied`},
	} {
		q, err := decodeRequest(newReq("POST", "/", c.body, ctJSON))
		if err != nil {
			t.Fatal(err)
		}
		err = q.objects(root, "metrics", "", func(_ int, e int32, path string) error {
			_, err := q.metric(e, path)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", c.body, err, c.err)
		}
		q.release()
	}
}

func TestParserAgainstSamples(t *testing.T) {
	valid := []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12E+2`, `true`, `false`, `null`, `"\u0000"`,
		`{"a":[1,{"b":[]},"c"],"d":{}}`, " \t\n{ \"a\" : 1 } \r\n", `"\"\\\/\b\f\n\r\t"`,
		`NaN`, `Infinity`, `-Infinity`, `[NaN,-Infinity]`,
	}
	invalid := []string{
		``, `{`, `}`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `01`, `1.`, `.5`, `1e`, `+1`, `-`, `--1`,
		`tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `[1 2]`, `{"a":1}}`, `"` + "\x01" + `"`, `nan`, `Inf`,
		strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	}
	var p parser
	for _, s := range valid {
		if err := p.parse(s); err != nil {
			t.Errorf("parse(%q): %v", s, err)
		}
	}
	for _, s := range invalid {
		if err := p.parse(s); err == nil {
			t.Errorf("parse(%q) accepted", s)
		}
	}
}

func TestValidateArtifactLocation(t *testing.T) {
	for loc, ok := range map[string]bool{
		"":                         true,
		"s3://bucket/path":         true,
		"file:///tmp/x":            true,
		"mlflow-artifacts:/x":      true,
		"s3://bucket/path#frag":    false,
		"s3://bucket/p;params":     false,
		"s3://bucket/p?x=../../a":  false,
		"s3://bucket/p?x=%2e%2e/a": false,
	} {
		if err := validateArtifactLocation(loc); (err == nil) != ok {
			t.Errorf("%q: %v", loc, err)
		}
	}
}

func TestAppendFloatAndString(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -2.5: "-2.5", 1e21: "1e+21", 1e-7: "1e-7", 123456789: "123456789",
		math.NaN(): `"NaN"`, math.Inf(1): `"Infinity"`, math.Inf(-1): `"-Infinity"`, 0.1: "0.1",
	} {
		if got := string(appendFloat(nil, f)); got != want {
			t.Errorf("appendFloat(%v) = %s, want %s", f, got, want)
		}
	}
	for s, want := range map[string]string{
		"plain": `"plain"`, `q"b\`: `"q\"b\\"`, "nl\n\t\x01": `"nl\n\t\u0001"`, "é😀": `"é😀"`,
		"bad\xffutf8": `"bad\ufffdutf8"`, "\u2028": `"\u2028"`,
	} {
		if got := string(appendString(nil, s)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}
