package dataset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWideDeterministicAndBounded profiles 60,000 rows of the benchmark's
// layout (sketches compact; the id column passes DistinctExactLimit, so
// HyperLogLog and Space-Saving take over) with 1, 2 and 5 workers: the
// JSON must be identical, and the approximate figures within their bounds.
func TestWideDeterministicAndBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wide.csv")
	writeWideCSV(t, path, 60_000)
	var first []byte
	var p *Profile
	for _, w := range []int{1, 2, 5} {
		p = profileFile(t, path, Options{Workers: w})
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Fatalf("workers=%d: profile differs from workers=1", w)
		}
	}
	if p.Rows != 60_000 || len(p.Columns) != 20 {
		t.Fatalf("rows %d cols %d", p.Rows, len(p.Columns))
	}
	// Exact counts of the user column, read back from the file.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		truth[line[strings.LastIndexByte(line, ',')+1:]]++
	}
	user := p.Columns[19]
	if user.Type != TypeString || user.DistinctExact || user.TopExact {
		t.Fatalf("user column %+v", user)
	}
	if rel := float64(user.Distinct-int64(len(truth))) / float64(len(truth)); rel > 0.03 || rel < -0.03 {
		t.Errorf("user distinct ~%d, true %d", user.Distinct, len(truth))
	}
	for _, c := range user.Top {
		if n := truth[c.Value]; n > c.Count || n < c.Count-c.Error {
			t.Errorf("user %s: true count %d outside [%d, %d]", c.Value, n, c.Count-c.Error, c.Count)
		}
	}
	for _, c := range p.Columns[:15] {
		if c.Numeric == nil || c.Numeric.QuantilesExact || c.Nulls == 0 {
			t.Errorf("%s: %+v", c.Name, c)
		}
	}
	if city := p.Columns[15]; !city.TopExact || len(city.Top) != 8 || city.Distinct != 8 {
		t.Errorf("city %+v", city)
	}
	found := false
	for _, c := range p.Columns[16].Top {
		found = found || c.Value == "dark, blue"
	}
	if !found || len(p.Columns[16].Top) != 5 {
		t.Errorf("colour top %+v lacks the quoted value", p.Columns[16].Top)
	}
}
