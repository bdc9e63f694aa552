package remote

import (
	"math"
	"strings"
	"testing"
)

func TestDecodeMLflowResponse(t *testing.T) {
	for _, c := range []struct {
		body          string
		rows, outputs int
		want          []float64
	}{
		{`{"predictions": [1, 2.5e3, -0]}`, 3, 1, []float64{1, 2500, 0}},
		{` { "other": {"a": [1, "x", null]}, "predictions" : [ [1], [2] ] } `, 2, 1, []float64{1, 2}},
		{`{"predictions": [true, false, "3.5", "NaN", Infinity, -Infinity, 1e999]}`, 7, 1,
			[]float64{1, 0, 3.5, math.NaN(), math.Inf(1), math.Inf(-1), math.Inf(1)}},
		{`{"pred\u0069ctions": [[1, 2], [3, 4]]}`, 2, 2, []float64{1, 2, 3, 4}},
		{`{"predictions": [], "x": 1}`, 0, 1, []float64{}},
		{`[{"b": 2, "a": 1}]`, 1, 2, []float64{2, 1}},
	} {
		out := make([]float64, c.rows*c.outputs)
		if err := decodeMLflowResponse([]byte(c.body), c.rows, c.outputs, out); err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if !sameFloats(out, c.want) {
			t.Errorf("%s: %v, want %v", c.body, out, c.want)
		}
	}
}

func TestDecodeOIPResponse(t *testing.T) {
	for _, c := range []struct {
		body          string
		rows, outputs int
		want          []float64
	}{
		{`{"outputs":[{"name":"y","shape":[2],"datatype":"INT32","data":[1,2]}]}`, 2, 1, []float64{1, 2}},
		{`{"outputs":[{"data":[[0.5,0.5],[1,0]],"shape":[2,2],"datatype":"FP16"}],"model_name":"m"}`, 2, 2, []float64{0.5, 0.5, 1, 0}},
		{`{"outputs":[{"datatype":"FP64","data":[null, NaN, "Infinity"]}]}`, 3, 1, []float64{math.NaN(), math.NaN(), math.Inf(1)}},
		{`{"outputs":[{"datatype":"BOOL","shape":[1,2],"data":[[true, 0]]}]}`, 1, 2, []float64{1, 0}},
		{`{"outputs":[{"datatype":"UINT8","shape":[0],"data":[]}]}`, 0, 1, []float64{}},
	} {
		out := make([]float64, c.rows*c.outputs)
		if err := decodeOIPResponse([]byte(c.body), c.rows, c.outputs, out); err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if !sameFloats(out, c.want) {
			t.Errorf("%s: %v, want %v", c.body, out, c.want)
		}
	}
	// Decoding stops at the first surplus value, whatever the length.
	long := `{"outputs":[{"datatype":"FP64","data":[` + strings.Repeat("1,", 1<<16) + `1]}]}`
	if err := decodeOIPResponse([]byte(long), 1, 1, make([]float64, 1)); err == nil || !strings.Contains(err.Error(), "more than 1 values") {
		t.Errorf("long data: %v", err)
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error": "Input 'x' is \"bad\""}`:                        `Input 'x' is "bad"`,
		`{"error_code": "BAD_REQUEST", "message": "Incompatible"}`: "Incompatible",
		`{"detail": "Not Found"}`:                                  "Not Found",
		"  Internal Server Error\n":                                "Internal Server Error",
		`{"error": {"nested": true}}`:                              `{"error": {"nested": true}}`,
		"\xff\xfe oops":                                            "? oops",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("%q: %q, want %q", body, got, want)
		}
	}
}

// sentinel marks output values a decoder did not write.
var sentinel = math.Float64frombits(0x7ff4_dead_beef_0001)

func fuzzShape(rows, outputs uint8) (int, int) { return int(rows % 9), int(outputs%5) + 1 }

// checkWritten fails when a successful decode left a value unwritten.
func checkWritten(t *testing.T, out []float64) {
	for i, v := range out {
		if math.Float64bits(v) == math.Float64bits(sentinel) {
			t.Fatalf("value %d not written", i)
		}
	}
}

func FuzzDecodeMLflowResponse(f *testing.F) {
	for _, s := range []string{`{"predictions": [1, 2]}`, `[[0.1, 0.9], [NaN, null]]`, `{"predictions": [{"a": 1}], "x": [[[]]]}`,
		`{"predictions": ["1", true, -Infinity, 1e999]}`, `{"message": "no"}`, `{"predictions": [1, 2`, `{"p\u00e9": "\ud800"}`} {
		f.Add([]byte(s), uint8(2), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, r, o uint8) {
		rows, outputs := fuzzShape(r, o)
		out := make([]float64, rows*outputs)
		for i := range out {
			out[i] = sentinel
		}
		if err := decodeMLflowResponse(b, rows, outputs, out); err == nil {
			checkWritten(t, out)
		}
	})
}

func FuzzDecodeOIPResponse(f *testing.F) {
	for _, s := range []string{`{"outputs":[{"name":"y","shape":[2],"datatype":"FP64","data":[1,2]}]}`,
		`{"outputs":[{"data":[[1],[0]],"datatype":"BOOL","shape":[2,1]}, {"name":"z"}]}`, `{"error": "x"}`,
		`{"outputs":[{"datatype":"INT64","shape":[-1],"data":[[[[1]]]]}]}`, `{"outputs":[{"datatype":"FP32","data":[null,"NaN",Infinity]}]}`} {
		f.Add([]byte(s), uint8(2), uint8(1))
	}
	f.Fuzz(func(t *testing.T, b []byte, r, o uint8) {
		rows, outputs := fuzzShape(r, o)
		out := make([]float64, rows*outputs)
		for i := range out {
			out[i] = sentinel
		}
		if err := decodeOIPResponse(b, rows, outputs, out); err == nil {
			checkWritten(t, out)
		}
	})
}
