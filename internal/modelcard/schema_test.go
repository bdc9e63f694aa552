package modelcard

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// datasetExtensions are the keys Ferry adds to the schema's dataset
// objects (model_parameters.data[]); docs/model-cards.md lists them.
var datasetExtensions = []string{"context", "digest", "profile", "schema", "source", "source_type"}

// schemaNames reads the Model Card Toolkit property names in testdata.
func schemaNames(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("testdata/mct_schema_v0.0.2_names.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Properties map[string][]string `json:"properties"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Properties
}

// fullCard is the sample card with every optional schema field filled, so
// that its JSON has every key the types can emit.
func fullCard() *Card {
	c := Build(sampleInput())
	g := &GraphicsCollection{Description: "d", Collection: []Graphic{{Name: "n", Image: "aW1n"}}}
	c.QuantitativeAnalysis.Graphics = g
	c.QuantitativeAnalysis.PerformanceMetrics[0].ConfidenceInterval = &ConfidenceInterval{LowerBound: "0.96", UpperBound: "0.98"}
	d := &c.ModelParameters.Data[0]
	d.Graphics, d.Description, d.Sensitive = g, "desc", SensitiveData{SensitiveData: []string{"sex"}}
	c.ModelDetails.Licenses = append(c.ModelDetails.Licenses, License{CustomText: "custom"})
	c.ModelDetails.Citations = append(c.ModelDetails.Citations, Citation{Citation: "c"})
	return c
}

// TestSchemaKeys checks every key the card emits in the four standard
// sections against the schema's property names; the only others allowed
// are Ferry's dataset extensions, and at the root the "ferry" section.
func TestSchemaKeys(t *testing.T) {
	names := schemaNames(t)
	b, err := JSON(fullCard())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	emitted := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if path == "" && k == "ferry" {
					continue
				}
				allowed := slices.Contains(names[path], k) ||
					(path == "model_parameters.data[]" && slices.Contains(datasetExtensions, k))
				if !allowed {
					t.Errorf("key %q under %q is not in Model Card Toolkit schema %s", k, cmpOr(path, "(root)"), SchemaVersion)
				}
				emitted[join(path, k)] = true
				walk(join(path, k), child)
			}
		case []any:
			for _, item := range v {
				walk(path+"[]", item)
			}
		}
	}
	walk("", doc)
	if _, ok := doc["ferry"]; !ok {
		t.Error("no ferry section")
	}

	// The full card really exercises every field of the Go types in the
	// four sections (else the check above proves little).
	for _, typ := range []struct {
		path string
		v    any
	}{
		{"model_details", ModelDetails{}}, {"model_parameters", ModelParameters{}},
		{"quantitative_analysis", QuantitativeAnalysis{}}, {"considerations", Considerations{}},
	} {
		for _, p := range jsonPaths(typ.path, reflect.TypeOf(typ.v)) {
			if !emitted[p] {
				t.Errorf("the full card does not emit %q", p)
			}
		}
	}
}

// TestDatasetExtensionsDocumented keeps the extension list and the docs
// in step.
func TestDatasetExtensionsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/model-cards.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range datasetExtensions {
		if !strings.Contains(string(b), "`"+k+"`") {
			t.Errorf("docs/model-cards.md does not mention dataset extension `%s`", k)
		}
	}
	var ours []string
	for _, p := range jsonPaths("", reflect.TypeOf(Dataset{})) {
		if !strings.Contains(p, ".") && !slices.Contains(schemaNames(t)["model_parameters.data[]"], p) {
			ours = append(ours, p)
		}
	}
	sort.Strings(ours)
	if !slices.Equal(ours, datasetExtensions) {
		t.Errorf("Dataset's extension fields are %q, the documented list is %q", ours, datasetExtensions)
	}
}

// jsonPaths lists the JSON paths of t's fields, recursively.
func jsonPaths(prefix string, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := join(prefix, name)
		out = append(out, p)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			p += "[]"
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, jsonPaths(p, ft)...)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
