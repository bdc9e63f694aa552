package inference

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// The benchmark shape: one row of the 30 breast-cancer features.
func benchSig() (modelrt.Signature, []string, []string) {
	sig := modelrt.Signature{Task: modelrt.Binary, Outputs: 1}
	var names, vals []string
	for i := 0; i < 30; i++ {
		sig.Inputs = append(sig.Inputs, modelrt.Feature{Name: fmt.Sprintf("feature_%d", i), Type: modelrt.Float})
		names = append(names, fmt.Sprintf("%q", fmt.Sprintf("feature_%d", i)))
		vals = append(vals, fmt.Sprintf("%.4f", 10+float64(i)*1.37))
	}
	return sig, names, vals
}

func BenchmarkDecodeOIPRow(b *testing.B) {
	sig, _, vals := benchSig()
	body := []byte(`{"id": "1", "inputs": [{"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": [` + strings.Join(vals, ", ") + `]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeOIP(body, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeMLflowSplitRow(b *testing.B) {
	sig, names, vals := benchSig()
	body := []byte(`{"dataframe_split": {"columns": [` + strings.Join(names, ", ") + `], "data": [[` + strings.Join(vals, ", ") + `]]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMLflow(body, "application/json", sig); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareJSONRow is the baseline handler body: decode the
// same OIP JSON into a generic structure, nothing else.
func BenchmarkBareJSONRow(b *testing.B) {
	_, _, vals := benchSig()
	body := []byte(`{"id": "1", "inputs": [{"name": "input-0", "shape": [1, 30], "datatype": "FP64", "data": [` + strings.Join(vals, ", ") + `]}]}`)
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}
