package dataset

import "encoding/json"

// Schema is the column layout of a dataset version.
type Schema struct {
	Columns []SchemaColumn `json:"columns"`
}

// SchemaColumn is one column of a Schema. Nullable is true when the
// profiled data had at least one null in the column.
type SchemaColumn struct {
	Name     string     `json:"name"`
	Type     ColumnType `json:"type"`
	Nullable bool       `json:"nullable"`
}

// Schema derives the schema of the profiled data.
func (p *Profile) Schema() Schema {
	s := Schema{Columns: make([]SchemaColumn, len(p.Columns))}
	for i, c := range p.Columns {
		s.Columns[i] = SchemaColumn{Name: c.Name, Type: c.Type, Nullable: c.Nulls > 0}
	}
	return s
}

// MLflowType is the MLflow DataType name (mlflow.types.DataType) of t:
// integer → long (pandas reads integer columns as int64), float → double,
// boolean → boolean, datetime → datetime, string → string.
func MLflowType(t ColumnType) string {
	switch t {
	case TypeInteger:
		return "long"
	case TypeFloat:
		return "double"
	case TypeBoolean:
		return "boolean"
	case TypeDatetime:
		return "datetime"
	}
	return "string"
}

// mlflowColSpec is one entry of MLflow's ColSpec.to_dict().
type mlflowColSpec struct {
	Type     string `json:"type"`
	Name     string `json:"name"`
	Required bool   `json:"required"`
}

// MLflowColSpec returns the schema as MLflow writes a dataset's `schema`
// field: {"mlflow_colspec": [{"type": "double", "name": "x", "required":
// true}, ...]} (mlflow.data.PandasDataset; `required` is false for
// nullable columns, as MLflow ≥ 2.10 marks optional columns).
func (s Schema) MLflowColSpec() string {
	specs := make([]mlflowColSpec, len(s.Columns))
	for i, c := range s.Columns {
		specs[i] = mlflowColSpec{Type: MLflowType(c.Type), Name: c.Name, Required: !c.Nullable}
	}
	// Strings and bools only: Marshal cannot fail.
	b, _ := json.Marshal(map[string]any{"mlflow_colspec": specs})
	return string(b)
}

// MLflowDataset carries the fields of MLflow's Dataset message
// (runs/log-inputs): name, digest, source_type, source, schema, profile.
type MLflowDataset struct {
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	SourceType string `json:"source_type"`
	Source     string `json:"source"`
	Schema     string `json:"schema"`
	Profile    string `json:"profile"`
}

// MLflowDigestLen is the length of the digest put in MLflow's Dataset
// message, which MLflow limits to 36 characters.
const MLflowDigestLen = 32

// MLflowDataset returns the profile as an MLflow dataset input: the digest
// is the first MLflowDigestLen hex digits of the SHA-256, the schema the
// mlflow_colspec JSON and the profile {"num_rows", "num_elements"} as
// MLflow's PandasDataset writes it.
func (p *Profile) MLflowDataset(name, sourceType, source string) MLflowDataset {
	prof, _ := json.Marshal(map[string]int64{
		"num_rows":     p.Rows,
		"num_elements": p.Rows * int64(len(p.Columns)),
	})
	digest := p.Digest
	if len(digest) > MLflowDigestLen {
		digest = digest[:MLflowDigestLen]
	}
	return MLflowDataset{
		Name: name, Digest: digest, SourceType: sourceType, Source: source,
		Schema: p.Schema().MLflowColSpec(), Profile: string(prof),
	}
}
