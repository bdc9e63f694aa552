package remote

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMeta struct {
	Name     string       `json:"name"`
	Platform string       `json:"platform"`
	Inputs   []tensorMeta `json:"inputs"`
	Outputs  []tensorMeta `json:"outputs"`
}

// signatureFromMetadata reads an OIP model metadata answer (GET
// /v2/models/{name}): one input tensor of shape [-1, N] is N unnamed
// features; tensors of shape [-1] or [-1, 1] are one named feature each.
// Integer and boolean tensors are int features, the rest float. The
// first output tensor's shape gives the outputs per row ([-1] or [-1, 1]:
// one; [-1, K]: K), one when the metadata lists no outputs; more than
// one output makes the task multiclass, else regression. The tensors
// returned are what requests send.
func signatureFromMetadata(b []byte) (modelrt.Signature, []tensor, error) {
	var sig modelrt.Signature
	var meta modelMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return sig, nil, fmt.Errorf("model metadata: %v", err)
	}
	if len(meta.Inputs) == 0 {
		return sig, nil, fmt.Errorf("the model metadata lists no inputs")
	}
	if len(meta.Inputs) > maxInputs {
		return sig, nil, fmt.Errorf("the model metadata lists %d inputs; at most %d are served", len(meta.Inputs), maxInputs)
	}
	featureType := func(t tensorMeta) (modelrt.FeatureType, error) {
		switch {
		case t.Datatype == "BOOL", strings.HasPrefix(t.Datatype, "INT"), strings.HasPrefix(t.Datatype, "UINT"):
			if oipNumeric[t.Datatype] {
				return modelrt.Integer, nil
			}
		case strings.HasPrefix(t.Datatype, "FP"):
			if oipNumeric[t.Datatype] {
				return modelrt.Float, nil
			}
		}
		return "", fmt.Errorf("input %q has datatype %q; Ferry sends only numbers (BOOL, INT*, UINT*, FP*)", truncate(t.Name, 60), truncate(t.Datatype, 20))
	}
	var tensors []tensor
	if in := meta.Inputs[0]; len(meta.Inputs) == 1 && len(in.Shape) == 2 && in.Shape[1] != 1 {
		n := in.Shape[1]
		if n < 1 || n > maxInputs {
			return sig, nil, fmt.Errorf("input %q has shape %v: the number of features is not known", truncate(in.Name, 60), in.Shape)
		}
		typ, err := featureType(in)
		if err != nil {
			return sig, nil, err
		}
		t := tensor{name: in.Name, datatype: in.Datatype, features: make([]int, n)}
		for i := range t.features {
			t.features[i] = i
			sig.Inputs = append(sig.Inputs, modelrt.Feature{Type: typ})
		}
		tensors = append(tensors, t)
	} else {
		seen := map[string]bool{}
		for i, in := range meta.Inputs {
			if len(in.Shape) == 0 || len(in.Shape) > 2 || (len(in.Shape) == 2 && in.Shape[1] != 1) {
				return sig, nil, fmt.Errorf("input %q has shape %v; Ferry sends one tensor of shape [-1, N] or one of shape [-1] or [-1, 1] per feature", truncate(in.Name, 60), in.Shape)
			}
			if in.Name == "" || seen[in.Name] {
				return sig, nil, fmt.Errorf("input %d has no name or the name of another", i)
			}
			seen[in.Name] = true
			typ, err := featureType(in)
			if err != nil {
				return sig, nil, err
			}
			sig.Inputs = append(sig.Inputs, modelrt.Feature{Name: in.Name, Type: typ})
			tensors = append(tensors, tensor{name: in.Name, datatype: in.Datatype, features: []int{i}, column: len(in.Shape) == 2})
		}
	}
	sig.Outputs = 1
	if len(meta.Outputs) > 0 {
		switch s := meta.Outputs[0].Shape; {
		case len(s) == 1 || (len(s) == 2 && s[1] == 1):
		case len(s) == 2 && s[1] > 1 && s[1] <= maxOutputs:
			sig.Outputs = int(s[1])
		default:
			return sig, nil, fmt.Errorf("output %q has shape %v; Ferry reads [-1] or [-1, K]", truncate(meta.Outputs[0].Name, 60), s)
		}
	}
	sig.Task = modelrt.Regression
	if sig.Outputs > 1 {
		sig.Task = modelrt.Multiclass
	}
	return sig, tensors, nil
}
