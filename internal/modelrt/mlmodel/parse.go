package mlmodel

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// MLmodel is the parsed MLmodel file of an MLflow model directory, as
// mlflow.models.Model.to_dict/save write it (MLflow 2.x): top-level
// artifact_path, flavors (flavor name → configuration), model_uuid,
// run_id, utc_time_created, mlflow_version, model_size_bytes and an
// optional signature whose inputs, outputs and params are JSON strings.
// Unknown keys are ignored.
type MLmodel struct {
	ArtifactPath   string                    `yaml:"artifact_path"`
	Flavors        map[string]map[string]any `yaml:"flavors"`
	ModelUUID      string                    `yaml:"model_uuid"`
	RunID          string                    `yaml:"run_id"`
	UTCTimeCreated string                    `yaml:"utc_time_created"`
	MLflowVersion  string                    `yaml:"mlflow_version"`
	ModelSizeBytes int64                     `yaml:"model_size_bytes"`
	Signature      *RawSignature             `yaml:"signature"`
}

// RawSignature is the signature block of an MLmodel file: each part is a
// JSON document in a YAML string (ModelSignature.to_dict), or absent/null.
type RawSignature struct {
	Inputs  *string `yaml:"inputs"`
	Outputs *string `yaml:"outputs"`
	Params  *string `yaml:"params"`
}

// ParseMLmodel parses the contents of an MLmodel file. Every error
// matches modelrt.ErrBadModel; YAML errors carry the YAML library's line
// number ("yaml: line 3: ...").
func ParseMLmodel(data []byte) (m *MLmodel, err error) {
	defer func() {
		// The YAML decoder is third-party code run on untrusted input:
		// a panic in it is a bad file, not a crashed server.
		if p := recover(); p != nil {
			m, err = nil, bad("MLmodel: YAML parser failed: %v", p)
		}
	}()
	var doc MLmodel
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, bad("MLmodel: %v", err)
	}
	if len(doc.Flavors) == 0 {
		return nil, bad("MLmodel: no flavors")
	}
	return &doc, nil
}

// FlavorNames returns the names of the MLmodel's flavors, sorted.
func (m *MLmodel) FlavorNames() []string {
	names := make([]string, 0, len(m.Flavors))
	for k := range m.Flavors {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Info is what an MLmodel file says about the model, for the model card.
type Info struct {
	ArtifactPath  string
	RunID         string
	ModelUUID     string
	MLflowVersion string
	// Created is utc_time_created (MLflow writes str(datetime.utcnow()),
	// "2024-03-05 10:11:12.123456"), zero when absent or unparsable;
	// CreatedRaw is the string as written.
	Created    time.Time
	CreatedRaw string
	// Flavors lists every flavor of the file, sorted; FlavorVersions maps
	// a flavor to the library version its configuration records
	// (xgb_version, lgb_version, python_version, sklearn_version, ...).
	Flavors        []string
	FlavorVersions map[string]string
	ModelSizeBytes int64
}

// Info extracts the model card fields.
func (m *MLmodel) Info() Info {
	in := Info{
		ArtifactPath:   m.ArtifactPath,
		RunID:          m.RunID,
		ModelUUID:      m.ModelUUID,
		MLflowVersion:  m.MLflowVersion,
		CreatedRaw:     m.UTCTimeCreated,
		Flavors:        m.FlavorNames(),
		FlavorVersions: map[string]string{},
		ModelSizeBytes: m.ModelSizeBytes,
	}
	for _, layout := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, m.UTCTimeCreated); err == nil {
			in.Created = t.UTC()
			break
		}
	}
	for _, name := range in.Flavors {
		conf := m.Flavors[name]
		keys := make([]string, 0, len(conf))
		for k := range conf {
			if strings.HasSuffix(k, "_version") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v, ok := scalar(conf[k]); ok && v != "" {
				in.FlavorVersions[name] = v
				break
			}
		}
	}
	return in
}

// scalar renders a YAML scalar (a version written unquoted may decode as
// a number) as a string; ok is false for lists and mappings.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case int, int64, uint64, bool:
		return fmt.Sprint(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case time.Time:
		return v.Format("2006-01-02 15:04:05.999999999"), true
	}
	return "", false
}

// confString reads a string key of a flavor configuration; absent or
// null is "".
func confString(conf map[string]any, flavor, key string) (string, error) {
	s, ok := scalar(conf[key])
	if !ok {
		return "", bad("MLmodel: flavors.%s.%s is not a string", flavor, key)
	}
	return s, nil
}

// colSpec is one element of a schema's JSON list: a column
// ({"type": "double", "name": "x", "required": true}, mlflow.types.ColSpec)
// or a tensor ({"type": "tensor", "tensor-spec": {"dtype": "float64",
// "shape": [-1, 30]}}, mlflow.types.TensorSpec).
type colSpec struct {
	Type       json.RawMessage `json:"type"`
	Name       *string         `json:"name"`
	TensorSpec *struct {
		Dtype string    `json:"dtype"`
		Shape []float64 `json:"shape"`
	} `json:"tensor-spec"`
}

// maxColumns bounds a signature's columns, as the runtimes bound features.
const maxColumns = 1 << 20

// ParseInputs converts the JSON of a signature's inputs into features:
// named columns of type double/float (→ float) and long/integer/boolean
// (→ int), or one 2-D tensor [-1, n] of a float, integer or bool dtype
// (n unnamed float or int features). Other types (string, binary,
// datetime, array, object, map) cannot feed a tree model and are errors.
func ParseInputs(js string) ([]modelrt.Feature, error) {
	var specs []colSpec
	if err := json.Unmarshal([]byte(js), &specs); err != nil {
		return nil, bad("MLmodel: signature.inputs: %v", err)
	}
	if len(specs) == 0 {
		return nil, bad("MLmodel: signature.inputs: empty schema")
	}
	if len(specs) > maxColumns {
		return nil, bad("MLmodel: signature.inputs: %d columns", len(specs))
	}
	var feats []modelrt.Feature
	for i, s := range specs {
		var typ string
		if err := json.Unmarshal(s.Type, &typ); err != nil {
			// Array/object/map types in MLflow ≥ 2.10 are still strings
			// ("array"); anything else is not a schema MLflow wrote.
			return nil, bad("MLmodel: signature.inputs[%d]: type is not a string", i)
		}
		if typ == "tensor" {
			if len(specs) != 1 {
				return nil, bad("MLmodel: signature.inputs: %d tensors; only one 2-D tensor is supported", len(specs))
			}
			return tensorFeatures(s)
		}
		name := ""
		if s.Name != nil {
			name = *s.Name
		}
		var ft modelrt.FeatureType
		switch typ {
		case "double", "float":
			ft = modelrt.Float
		case "long", "integer", "boolean":
			ft = modelrt.Integer
		default:
			return nil, bad("MLmodel: signature.inputs[%d] (%q): type %q is not a number; tree models take numeric columns only", i, name, typ)
		}
		feats = append(feats, modelrt.Feature{Name: name, Type: ft})
	}
	return feats, nil
}

func tensorFeatures(s colSpec) ([]modelrt.Feature, error) {
	ts := s.TensorSpec
	if ts == nil {
		return nil, bad("MLmodel: signature.inputs[0]: tensor without tensor-spec")
	}
	var ft modelrt.FeatureType
	switch ts.Dtype {
	case "float16", "float32", "float64", "float", "double":
		ft = modelrt.Float
	case "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool":
		ft = modelrt.Integer
	default:
		return nil, bad("MLmodel: signature.inputs[0]: tensor dtype %q is not numeric", ts.Dtype)
	}
	if len(ts.Shape) != 2 {
		return nil, bad("MLmodel: signature.inputs[0]: tensor shape %v; want [-1, features]", ts.Shape)
	}
	n := ts.Shape[1]
	if n < 1 || n > maxColumns || n != math.Trunc(n) {
		return nil, bad("MLmodel: signature.inputs[0]: tensor shape %v; want [-1, features]", ts.Shape)
	}
	feats := make([]modelrt.Feature, int(n))
	for i := range feats {
		feats[i].Type = ft
	}
	return feats, nil
}
