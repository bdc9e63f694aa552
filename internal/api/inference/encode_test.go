package inference

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// The hand-written encoder says what encoding/json would say.
func TestAppendInferResponse(t *testing.T) {
	outs := []oipOutput{
		{Name: OutputPredict, Shape: []int64{2}, Datatype: "FP64", Data: []float64{0.999900221824646, 1e-7}},
		{Name: OutputRaw, Shape: []int64{2, 3}, Datatype: "FP64", Data: []float64{-3.5, 0, 1e21, math.SmallestNonzeroFloat64, math.MaxFloat64, 42}},
	}
	for _, id := range []string{"", `req "7" <&>` + "\u2028"} {
		b := appendInferResponse(nil, `fr"aud`, 3, id, outs)
		var got, want map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		ref := map[string]any{"model_name": `fr"aud`, "model_version": "3", "outputs": outs}
		if id != "" {
			ref["id"] = id
		}
		rb, _ := json.Marshal(ref)
		_ = json.Unmarshal(rb, &want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %s\nwant %s", b, rb)
		}
	}
}
