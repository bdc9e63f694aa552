package inference

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// OIPRequest is a decoded Open Inference Protocol (KServe v2) request.
type OIPRequest struct {
	// ID is the request's id, echoed in the response.
	ID string
	// Parameters are the request's parameters, as sent.
	Parameters map[string]any
	// Outputs names the outputs asked for (nil: all of them).
	Outputs []string
	Batch   Batch
}

type oipTensor struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters map[string]any  `json:"parameters"`
	Data       json.RawMessage `json:"data"`
}

type oipBody struct {
	ID         string         `json:"id"`
	Parameters map[string]any `json:"parameters"`
	Inputs     []oipTensor    `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs"`
}

// numericTypes are the OIP datatypes a tree model reads.
var numericTypes = map[string]bool{
	"BOOL": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true,
	"INT8": true, "INT16": true, "INT32": true, "INT64": true, "FP16": true, "FP32": true, "FP64": true,
}

// DecodeOIP decodes an inference request. The features come either as one
// tensor of shape [rows, features] (in the model's feature order) or as
// one tensor per feature, named like it, of shape [rows] or [rows, 1].
func DecodeOIP(body []byte, sig modelrt.Signature) (OIPRequest, error) {
	return NewSchema(sig).DecodeOIP(body)
}

// DecodeOIP is the package's DecodeOIP for the schema's model.
func (s *Schema) DecodeOIP(body []byte) (OIPRequest, error) {
	c, sig := s.c, s.c.sig
	var in oipBody
	if err := json.Unmarshal(body, &in); err != nil {
		return OIPRequest{}, invalid("Invalid inference request: %v", err)
	}
	req := OIPRequest{ID: in.ID, Parameters: in.Parameters}
	for _, o := range in.Outputs {
		req.Outputs = append(req.Outputs, o.Name)
	}
	if len(in.Inputs) == 0 {
		return OIPRequest{}, invalid("Invalid inference request: 'inputs' is missing or empty.")
	}
	nf := len(sig.Inputs)
	for _, t := range in.Inputs {
		if !numericTypes[t.Datatype] {
			return OIPRequest{}, invalid("Input '%s': datatype %q is not supported; use one of FP32, FP64, INT8..INT64, UINT8..UINT64, BOOL.", t.Name, t.Datatype)
		}
	}
	if len(in.Inputs) == 1 && len(in.Inputs[0].Shape) == 2 && in.Inputs[0].Shape[1] == int64(nf) {
		// The whole matrix (for a one-feature model this reads the same
		// as the per-feature form).
		t := in.Inputs[0]
		vals, err := tensorValues(t)
		if err != nil {
			return OIPRequest{}, err
		}
		rows := int(t.Shape[0])
		if err := checkRows(rows); err != nil {
			return OIPRequest{}, err
		}
		for k, v := range vals {
			i := k % nf
			if err := categoryOK(c, i, v); err != nil {
				return OIPRequest{}, invalid("Input '%s', row %d: %v", t.Name, k/nf, err)
			}
		}
		req.Batch = Batch{X: vals, Rows: rows}
		return req, nil
	}
	// One tensor per feature.
	names := make([]string, len(in.Inputs))
	for j, t := range in.Inputs {
		names[j] = t.Name
	}
	pos, err := c.positions(names)
	if err != nil {
		if len(in.Inputs) == 1 {
			t := in.Inputs[0]
			return OIPRequest{}, invalid("Input '%s' has shape %v: send all %d features as one tensor of shape [rows, %d], or one tensor per feature named like it (%v).", t.Name, t.Shape, nf, nf, err)
		}
		return OIPRequest{}, err
	}
	rows := -1
	var X []float64
	for j, t := range in.Inputs {
		if pos[j] < 0 {
			continue
		}
		if len(t.Shape) == 0 || len(t.Shape) > 2 || (len(t.Shape) == 2 && t.Shape[1] != 1) {
			return OIPRequest{}, invalid("Input '%s': shape %v; a per-feature tensor has shape [rows] or [rows, 1].", t.Name, t.Shape)
		}
		vals, err := tensorValues(t)
		if err != nil {
			return OIPRequest{}, err
		}
		if rows < 0 {
			rows = len(vals)
			if err := checkRows(rows); err != nil {
				return OIPRequest{}, err
			}
			X = make([]float64, rows*nf)
		} else if len(vals) != rows {
			return OIPRequest{}, invalid("Input '%s' has %d rows, the others %d.", t.Name, len(vals), rows)
		}
		for r, v := range vals {
			if err := categoryOK(c, pos[j], v); err != nil {
				return OIPRequest{}, invalid("Input '%s', row %d: %v", t.Name, r, err)
			}
			X[r*nf+pos[j]] = v
		}
	}
	req.Batch = Batch{X: X, Rows: rows}
	return req, nil
}

func categoryOK(c columns, i int, v float64) error {
	if c.sig.Inputs[i].Type == modelrt.Categorical && !math.IsNaN(v) && (v < 0 || v != math.Trunc(v)) {
		return fmt.Errorf("feature '%s' is a category, a non-negative integer; got %v", c.featureName(i), v)
	}
	return nil
}

// tensorValues flattens a tensor's data (flat or nested, row-major) and
// checks it against the shape.
func tensorValues(t oipTensor) ([]float64, error) {
	want := int64(1)
	for _, d := range t.Shape {
		if d < 0 {
			return nil, invalid("Input '%s': shape %v has a negative dimension.", t.Name, t.Shape)
		}
		if d > 0 && want > int64(MaxRows)*1024/d {
			return nil, invalid("Input '%s': shape %v is too large.", t.Name, t.Shape)
		}
		want *= d
	}
	if int64(len(t.Data)) < want { // each value takes at least one byte
		return nil, invalid("Input '%s': shape %v needs %d values; the data is shorter than that.", t.Name, t.Shape, want)
	}
	if len(bytes.TrimSpace(t.Data)) == 0 {
		return nil, invalid("Input '%s': 'data' is missing.", t.Name)
	}
	out := make([]float64, 0, want)
	// t.Data is valid JSON (the decoder checked it): scan it directly
	// rather than decoding every element into its own value.
	depth := 0
	d := t.Data
	for i := 0; i < len(d); {
		switch ch := d[i]; {
		case ch == '[':
			depth++
			if depth > max(1, len(t.Shape)) {
				return nil, invalid("Input '%s': data is nested deeper than its shape %v.", t.Name, t.Shape)
			}
			i++
		case ch == ']':
			depth--
			i++
		case ch == ',' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			i++
		case ch == '{':
			return nil, invalid("Input '%s', value %d: expected a number, got an object.", t.Name, len(out))
		default:
			j := i + 1
			if ch == '"' {
				for j < len(d) && (d[j] != '"' || d[j-1] == '\\') {
					j++
				}
				j++
			} else {
				for j < len(d) && d[j] != ',' && d[j] != ']' && d[j] != ' ' && d[j] != '\n' && d[j] != '\t' && d[j] != '\r' {
					j++
				}
			}
			if int64(len(out)) == want {
				return nil, invalid("Input '%s': shape %v needs %d values; the data has more.", t.Name, t.Shape, want)
			}
			v, err := scalar(d[i:min(j, len(d))])
			if err != nil {
				return nil, invalid("Input '%s', value %d: %v", t.Name, len(out), err)
			}
			if t.Datatype == "BOOL" && v != 0 && v != 1 {
				return nil, invalid("Input '%s', value %d: a BOOL must be true or false.", t.Name, len(out))
			}
			out = append(out, v)
			i = j
		}
	}
	if int64(len(out)) != want {
		return nil, invalid("Input '%s': shape %v needs %d values, the data has %d.", t.Name, t.Shape, want, len(out))
	}
	return out, nil
}
