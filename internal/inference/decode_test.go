package inference

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/modelrt"
)

var named = modelrt.Signature{Inputs: []modelrt.Feature{
	{Name: "age", Type: modelrt.Float}, {Name: "income", Type: modelrt.Float}, {Name: "region", Type: modelrt.Categorical},
}, Task: modelrt.Binary, Outputs: 1}

var unnamed = modelrt.Signature{Inputs: []modelrt.Feature{{Type: modelrt.Float}, {Type: modelrt.Float}}, Task: modelrt.Regression, Outputs: 1}

// render prints a batch as rows, NaN as "NaN".
func render(b Batch) string {
	if b.Rows == 0 {
		return ""
	}
	nf := len(b.X) / b.Rows
	var rows []string
	for r := 0; r < b.Rows; r++ {
		var vals []string
		for _, v := range b.X[r*nf : (r+1)*nf] {
			vals = append(vals, fmt.Sprint(v))
		}
		rows = append(rows, strings.Join(vals, " "))
	}
	return strings.Join(rows, "; ")
}

func TestDecodeMLflow(t *testing.T) {
	tests := []struct {
		name, ctype, body string
		sig               modelrt.Signature
		want              string // rendered batch, or "error: <substring>"
	}{
		{"split", "application/json", `{"dataframe_split": {"columns": ["income", "age", "region"], "data": [[100, 30, 2], [null, 41.5, 0]]}}`, named, "30 100 2; 41.5 NaN 0"},
		{"split extra column ignored", "application/json", `{"dataframe_split": {"columns": ["age", "id", "income", "region"], "data": [[1, "x", 2, 3]]}, "params": {"k": 1}}`, named, "1 2 3"},
		{"split without columns", "application/json", `{"dataframe_split": {"data": [[1, 2, 3]]}}`, named, "1 2 3"},
		{"split missing feature", "application/json", `{"dataframe_split": {"columns": ["age", "income"], "data": [[1, 2]]}}`, named, "error: Missing feature 'region'"},
		{"split ragged row", "application/json", `{"dataframe_split": {"columns": ["age", "income", "region"], "data": [[1, 2]]}}`, named, "error: row 0 has 2 values for 3 columns"},
		{"split duplicate column", "application/json", `{"dataframe_split": {"columns": ["age", "age", "income", "region"], "data": [[1, 1, 2, 3]]}}`, named, "error: Column 'age' appears twice"},
		{"split bad value", "application/json", `{"dataframe_split": {"columns": ["age", "income", "region"], "data": [[1, "lots", 3]]}}`, named, `error: row 0, feature 'income': "lots" is not a number`},
		{"category must be integer", "application/json", `{"dataframe_split": {"columns": ["age", "income", "region"], "data": [[1, 2, 1.5]]}}`, named, "error: a category must be a non-negative integer"},
		{"records", "application/json", `{"dataframe_records": [{"age": 1, "income": "2.5", "region": 0}, {"region": 1, "income": true, "age": -3e2}]}`, named, "1 2.5 0; -300 1 1"},
		{"records missing", "application/json", `{"dataframe_records": [{"age": 1, "income": 2, "region": 0}, {"age": 1}]}`, named, "error: dataframe_records row 1: Missing feature 'income'"},
		{"instances rows", "application/json", `{"instances": [[1, 2, 3], [4, 5, 6]]}`, named, "1 2 3; 4 5 6"},
		{"instances wrong width", "application/json", `{"instances": [[1, 2]]}`, named, "error: instances row 0 has 2 values; the model takes 3 features (age, income, region)"},
		{"instances records", "application/json", `{"instances": [{"age": 1, "income": 2, "region": 3}]}`, named, "1 2 3"},
		{"inputs columnar", "application/json", `{"inputs": {"age": [1, 2], "income": [3, 4], "region": [0, 1]}}`, named, "1 3 0; 2 4 1"},
		{"inputs columnar uneven", "application/json", `{"inputs": {"age": [1, 2], "income": [3], "region": [0, 1]}}`, named, "error: has 1 values, the others 2"},
		{"inputs rows", "application/json", `{"inputs": [[1, 2]]}`, unnamed, "1 2"},
		{"unnamed model by f-index", "application/json", `{"dataframe_records": [{"f1": 2, "f0": 1}]}`, unnamed, "1 2"},
		{"two formats", "application/json", `{"instances": [[1, 2]], "inputs": [[1, 2]]}`, unnamed, "error: exactly one of"},
		{"no format", "application/json", `{"rows": [[1, 2]]}`, unnamed, "error: Unknown key 'rows'"},
		{"bare list", "application/json", `[[1, 2]]`, unnamed, "error: must be a JSON object"},
		{"no rows", "application/json", `{"instances": []}`, unnamed, "error: holds no rows"},
		{"nested value", "application/json", `{"instances": [[1, [2]]]}`, unnamed, "error: expected a number, got a list"},
		{"csv", "text/csv; charset=utf-8", "region,age,income\n1,2,3\n0,,5\n", named, "2 3 1; NaN 5 0"},
		{"csv bad cell", "text/csv", "age,income,region\n1,x,3\n", named, "error: text/csv line 2, column 'income': \"x\" is not a number"},
		{"csv ragged", "text/csv", "age,income,region\n1,2\n", named, "error: text/csv"},
		{"csv no header", "text/csv", "", named, "error: header row"},
		{"csv missing column", "text/csv", "age,income\n1,2\n", named, "error: Missing feature 'region'"},
		{"csv negative category", "text/csv", "age,income,region\n1,2,-1\n", named, "error: a category must be a non-negative integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DecodeMLflow([]byte(tc.body), tc.ctype, tc.sig)
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(b); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	for _, ct := range []string{"application/xml", "text/csv; charset=latin-1", ""} {
		if _, err := DecodeMLflow([]byte("a\n1\n"), ct, unnamed); !errors.Is(err, ErrUnsupportedMedia) {
			t.Errorf("content type %q: %v", ct, err)
		}
	}
}

func TestDecodeOIP(t *testing.T) {
	tests := []struct {
		name, body string
		sig        modelrt.Signature
		want       string
	}{
		{"matrix flat", `{"id": "42", "inputs": [{"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]}`, named, "1 2 3; 4 5 6"},
		{"matrix nested", `{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP64", "data": [[1, 2, 3], [4, null, 6]]}]}`, named, "1 2 3; 4 NaN 6"},
		{"per feature", `{"inputs": [{"name": "region", "shape": [2], "datatype": "INT64", "data": [1, 0]}, {"name": "age", "shape": [2, 1], "datatype": "FP32", "data": [[30], [40]]}, {"name": "income", "shape": [2], "datatype": "FP32", "data": [5, 6]}]}`, named, "30 5 1; 40 6 0"},
		{"bool", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "BOOL", "data": [true, false]}]}`, unnamed, "1 0"},
		{"too few values", `{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5]}]}`, named, "error: shape [2 3] needs 6 values, the data has 5"},
		{"too many values", `{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3, 4]}]}`, named, "error: the data has more"},
		{"wrong width", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}`, named, "error: send all 3 features as one tensor of shape [rows, 3]"},
		{"bytes", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "BYTES", "data": ["a", "b"]}]}`, unnamed, "error: datatype \"BYTES\" is not supported"},
		{"negative shape", `{"inputs": [{"name": "x", "shape": [-1, 2], "datatype": "FP32", "data": [1, 2]}]}`, unnamed, "error: negative dimension"},
		{"huge shape", `{"inputs": [{"name": "x", "shape": [9223372036854775807, 2], "datatype": "FP32", "data": [1, 2]}]}`, unnamed, "error: too large"},
		{"no inputs", `{"id": "1"}`, unnamed, "error: 'inputs' is missing"},
		{"no data", `{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32"}]}`, unnamed, "error: needs 2 values; the data is shorter"},
		{"uneven features", `{"inputs": [{"name": "age", "shape": [2], "datatype": "FP32", "data": [1, 2]}, {"name": "income", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "region", "shape": [2], "datatype": "INT32", "data": [1, 2]}]}`, named, "error: Input 'income' has 1 rows, the others 2"},
		{"bad category", `{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 0.5]}]}`, named, "error: feature 'region' is a category"},
		{"malformed", `{"inputs": [`, unnamed, "error: Invalid inference request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeOIP([]byte(tc.body), tc.sig)
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				if err == nil || !errors.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v, want one containing %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := render(req.Batch); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	req, err := DecodeOIP([]byte(`{"id": "abc", "parameters": {"k": 1}, "outputs": [{"name": "probability"}], "inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}`), unnamed)
	if err != nil || req.ID != "abc" || len(req.Outputs) != 1 || req.Outputs[0] != "probability" || req.Parameters["k"] != float64(1) {
		t.Fatalf("request fields: %+v %v", req, err)
	}
}

// checkBatch holds for every decoded batch: the right size, and only
// values the request could mean (finite, NaN or ±Inf).
func checkBatch(t *testing.T, b Batch, sig modelrt.Signature) {
	if b.Rows < 1 || len(b.X) != b.Rows*len(sig.Inputs) {
		t.Fatalf("batch of %d rows has %d values for %d features", b.Rows, len(b.X), len(sig.Inputs))
	}
	for i, v := range b.X {
		if sig.Inputs[i%len(sig.Inputs)].Type == modelrt.Categorical && !math.IsNaN(v) && (v < 0 || v != math.Trunc(v)) {
			t.Fatalf("category value %v accepted", v)
		}
	}
}

func FuzzDecodeMLflow(f *testing.F) {
	f.Add([]byte(`{"dataframe_split": {"columns": ["age", "income", "region"], "data": [[1, 2, 3]]}}`), "application/json")
	f.Add([]byte(`{"inputs": {"age": [1], "income": [2], "region": [0]}}`), "application/json")
	f.Add([]byte(`{"instances": [{"age": 1, "income": 2, "region": 3}]}`), "application/json")
	f.Add([]byte("age,income,region\n1,2,3\n"), "text/csv")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		b, err := DecodeMLflow(body, ctype, named)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		checkBatch(t, b, named)
	})
}

func FuzzDecodeOIP(f *testing.F) {
	f.Add([]byte(`{"inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32", "data": [[1, 2, 3], [4, 5, 6]]}]}`))
	f.Add([]byte(`{"inputs": [{"name": "age", "shape": [1], "datatype": "FP32", "data": [1]}, {"name": "income", "shape": [1], "datatype": "FP32", "data": [2]}, {"name": "region", "shape": [1], "datatype": "INT8", "data": [3]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeOIP(body, named)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("error of the wrong kind: %v", err)
			}
			return
		}
		checkBatch(t, req.Batch, named)
	})
}

// scanRows reads what encoding/json reads as a list of lists of scalars,
// value for value, and refuses what it cannot.
func FuzzScanRows(f *testing.F) {
	for _, s := range []string{`[]`, `[[]]`, `[[1, 2], [3]]`, `[[null, "a\\\"b", true, -1.5e3]]`, ` [ [ 1 ,2 ] , [ "x" ] ] `,
		`[[[1]]]`, `[{"a": 1}]`, `[1, 2]`, `[["\u005d", ","]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return // decodeSplit scans only what encoding/json has validated
		}
		var want [][]json.RawMessage
		werr := json.Unmarshal([]byte(s), &want)
		var got [][]string
		rows, width, err := scanRows([]byte(s), func(r, n int) error {
			got = append(got, make([]string, 0, n))
			return nil
		}, func(r, j int, v []byte) error {
			got[r] = append(got[r], string(v))
			return nil
		})
		if werr != nil {
			if err == nil {
				t.Fatalf("%s: encoding/json refuses it (%v), scanRows read %q", s, werr, got)
			}
			return
		}
		for _, row := range want {
			for _, v := range row {
				if c := bytes.TrimSpace(v); len(c) > 0 && (c[0] == '[' || c[0] == '{') {
					if err == nil {
						t.Fatalf("%s: a nested value was taken", s)
					}
					return
				}
			}
		}
		if err != nil || rows != len(want) || (rows > 0 && width != len(want[0])) {
			t.Fatalf("%s: %d rows width %d err %v; want %d rows", s, rows, width, err, len(want))
		}
		for r, row := range want {
			if len(row) != len(got[r]) {
				t.Fatalf("%s row %d: %q, want %q", s, r, got[r], row)
			}
			for j, v := range row {
				if string(bytes.TrimSpace(v)) != got[r][j] {
					t.Fatalf("%s row %d value %d: %q, want %q", s, r, j, got[r][j], v)
				}
			}
		}
	})
}
