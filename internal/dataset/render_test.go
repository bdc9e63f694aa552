package dataset

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestProfileJSONRoundTrip: a profile survives JSON, and a diff computed
// from decoded profiles equals the one from the originals.
func TestProfileJSONRoundTrip(t *testing.T) {
	p := profileFile(t, "testdata/mixed.csv", Options{})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Profile
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	w := profileFile(t, "testdata/wine.csv", Options{})
	if !reflect.DeepEqual(Diff(p, w), Diff(&q, w)) {
		t.Error("diff from decoded profile differs")
	}
	if q.Columns[5].Type != TypeBoolean || q.Rows != p.Rows {
		t.Errorf("decoded %+v", q.Columns[5])
	}
}

func TestProfileText(t *testing.T) {
	p := profileFile(t, "testdata/mixed.csv", Options{})
	var buf bytes.Buffer
	if err := WriteProfileText(&buf, p); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"sha256 " + p.Digest, "500 rows", "11 columns", "flag", "boolean", "2024-01-01T00:00:00Z", `city top values: "Berlin"=135`, "x quantiles: p1="} {
		if !strings.Contains(out, s) {
			t.Errorf("profile text lacks %q:\n%s", s, out)
		}
	}
}

// TestMLflowDataset: the schema is MLflow's mlflow_colspec JSON and the
// digest fits MLflow's 36-character limit.
func TestMLflowDataset(t *testing.T) {
	p := mustProfile(t, "id,x,ok,day,name\n1,1.5,true,2024-01-02,a\n2,,false,2024-01-03,b\n")
	ds := p.MLflowDataset("train", "local", "file:///data/train.csv")
	want := `{"mlflow_colspec":[{"type":"long","name":"id","required":true},{"type":"double","name":"x","required":false},` +
		`{"type":"boolean","name":"ok","required":true},{"type":"datetime","name":"day","required":true},{"type":"string","name":"name","required":true}]}`
	if ds.Schema != want {
		t.Errorf("schema\n%s\nwant\n%s", ds.Schema, want)
	}
	if ds.Profile != `{"num_elements":10,"num_rows":2}` || len(ds.Digest) > 36 || !strings.HasPrefix(p.Digest, ds.Digest) {
		t.Errorf("dataset %+v", ds)
	}
}
