// Package modelrttest is the conformance suite of model runtimes: every
// runtime's tests call Run for each model they can load, with rows and
// the predictions the model's own library made for them.
package modelrttest

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// Case is one model with reference predictions made by its own library.
type Case struct {
	Name  string
	Model modelrt.Model
	// X holds the rows (row-major, NaN for missing), Rows their number.
	X    []float64
	Rows int
	// Want holds the library's predictions, Outputs per row; Raw says
	// whether they are margins.
	Want []float64
	Raw  bool
	// Tol is the largest absolute difference accepted (default 1e-6);
	// RelTol, when set, also accepts a difference within RelTol×|want|.
	Tol, RelTol float64
}

// Run checks a runtime's model against its library's predictions: batch
// and row by row, concurrently, with NaN rows, and with bad buffer sizes.
func Run(t *testing.T, c Case) {
	t.Helper()
	sig := c.Model.Signature()
	nf, no := len(sig.Inputs), sig.Outputs
	if nf == 0 || no == 0 {
		t.Fatalf("%s: signature has %d inputs and %d outputs", c.Name, nf, no)
	}
	if len(c.X) != c.Rows*nf {
		t.Fatalf("%s: %d values for %d rows of %d features", c.Name, len(c.X), c.Rows, nf)
	}
	if len(c.Want) != c.Rows*no {
		t.Fatalf("%s: %d expected values for %d rows of %d outputs", c.Name, len(c.Want), c.Rows, no)
	}
	tol := c.Tol
	if tol == 0 {
		tol = 1e-6
	}
	check := func(what string, got []float64) {
		t.Helper()
		bad := 0
		for i := range got {
			w, g := c.Want[i], got[i]
			d := math.Abs(g - w)
			if d <= tol || (c.RelTol > 0 && d <= c.RelTol*math.Abs(w)) || (math.IsNaN(w) && math.IsNaN(g)) {
				continue
			}
			if bad < 5 {
				t.Errorf("%s %s: row %d output %d = %.9g, want %.9g (diff %.3g)", c.Name, what, i/no, i%no, g, w, d)
			}
			bad++
		}
		if bad > 0 {
			t.Errorf("%s %s: %d of %d values differ", c.Name, what, bad, len(got))
		}
	}

	out := make([]float64, c.Rows*no)
	if err := c.Model.Predict(c.X, c.Rows, out, c.Raw); err != nil {
		t.Fatalf("%s: batch: %v", c.Name, err)
	}
	check("batch", out)

	one := make([]float64, c.Rows*no)
	for r := 0; r < c.Rows; r++ {
		if err := c.Model.Predict(c.X[r*nf:(r+1)*nf], 1, one[r*no:(r+1)*no], c.Raw); err != nil {
			t.Fatalf("%s: row %d: %v", c.Name, r, err)
		}
	}
	check("row by row", one)

	// Concurrent use gives the same answers.
	var wg sync.WaitGroup
	results := make([][]float64, 4)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := make([]float64, c.Rows*no)
			if err := c.Model.Predict(c.X, c.Rows, res, c.Raw); err == nil {
				results[g] = res
			}
		}()
	}
	wg.Wait()
	for g, res := range results {
		if res == nil {
			t.Fatalf("%s: concurrent call %d failed", c.Name, g)
		}
		check("concurrent", res)
	}

	// All-missing rows and non-finite values never panic and give finite
	// or NaN outputs, not garbage lengths.
	nan := make([]float64, nf)
	for i := range nan {
		nan[i] = math.NaN()
	}
	if err := c.Model.Predict(nan, 1, make([]float64, no), c.Raw); err != nil {
		t.Errorf("%s: all-missing row: %v", c.Name, err)
	}
	inf := make([]float64, nf)
	for i := range inf {
		inf[i] = math.Inf(1 - 2*(i%2))
	}
	if err := c.Model.Predict(inf, 1, make([]float64, no), c.Raw); err != nil {
		t.Errorf("%s: infinite values: %v", c.Name, err)
	}

	// Wrong buffer sizes are errors, not panics.
	for _, bad := range []struct {
		x    []float64
		rows int
		out  []float64
	}{
		{c.X[:nf-1], 1, make([]float64, no)},
		{c.X[:nf], 1, make([]float64, no-1)},
		{c.X[:nf], 2, make([]float64, 2*no)},
		{c.X[:nf], -1, nil},
	} {
		if err := c.Model.Predict(bad.x, bad.rows, bad.out, c.Raw); err == nil {
			t.Errorf("%s: %d values, %d rows, %d outputs accepted", c.Name, len(bad.x), bad.rows, len(bad.out))
		}
	}
}

// LoadFails checks that loading each corrupt input fails with
// modelrt.ErrBadModel (and never panics): truncations of a good file at
// many points, and the given hand-made bad inputs.
func LoadFails(t *testing.T, load func([]byte) (modelrt.Model, error), good []byte, bad map[string][]byte) {
	t.Helper()
	try := func(name string, b []byte) {
		t.Helper()
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("%s: load panicked: %v", name, p)
			}
		}()
		if _, err := load(b); err == nil || !errors.Is(err, modelrt.ErrBadModel) {
			t.Errorf("%s: load error %v, want one matching modelrt.ErrBadModel", name, err)
		}
	}
	step := max(1, len(good)/200)
	for n := 0; n < len(good); n += step {
		try("truncated", good[:n])
	}
	for name, b := range bad {
		try(name, b)
	}
}

// ReferenceDir returns the directory of the shared reference models (the
// predictions their own libraries made; see its INDEX.md), which tests
// read in place. Without it the test is skipped, except under CI.
func ReferenceDir(tb testing.TB) string {
	tb.Helper()
	if d, ok := FindReferenceDir(); ok {
		return d
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("reference models not found; set FERRY_TREE_MODELS")
	}
	tb.Skipf("reference models not found; set FERRY_TREE_MODELS")
	return ""
}

// FindReferenceDir looks for the reference models: $FERRY_TREE_MODELS,
// else shared/testdata/tree-models beside any directory above the working
// directory (the checkout's parent holds it on the project's machines),
// else /work/shared/testdata/tree-models.
func FindReferenceDir() (string, bool) {
	var candidates []string
	if d := os.Getenv("FERRY_TREE_MODELS"); d != "" {
		candidates = append(candidates, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, "shared", "testdata", "tree-models"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	candidates = append(candidates, "/work/shared/testdata/tree-models")
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "INDEX.md")); err == nil && !st.IsDir() {
			return c, true
		}
	}
	return "", false
}

// ReadTable reads a table of numbers: one row per line, blank- or
// tab-separated ("nan" is NaN), dropping the first skip fields of each
// row. Every row must have the same number of values.
func ReadTable(tb testing.TB, path string, skip int) (vals []float64, rows, cols int) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) < skip {
			tb.Fatalf("%s: row %d has %d fields, fewer than the %d to skip", path, rows, len(f), skip)
		}
		f = f[skip:]
		if rows == 0 {
			cols = len(f)
		} else if len(f) != cols {
			tb.Fatalf("%s: row %d has %d values, want %d", path, rows, len(f), cols)
		}
		for _, s := range f {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				tb.Fatalf("%s: %v", path, err)
			}
			vals = append(vals, v)
		}
		rows++
	}
	return vals, rows, cols
}

// ReadLibSVM reads "label index:value ..." rows into rows of nf features
// (row-major), absent where a row has no value for an index.
func ReadLibSVM(tb testing.TB, path string, nf int, absent float64) (vals []float64, rows int) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		row := make([]float64, nf)
		for i := range row {
			row[i] = absent
		}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, ":")
			i, err1 := strconv.Atoi(k)
			x, err2 := strconv.ParseFloat(v, 64)
			if err1 != nil || err2 != nil || i < 0 || i >= nf {
				tb.Fatalf("%s: bad entry %q", path, kv)
			}
			row[i] = x
		}
		vals = append(vals, row...)
		rows++
	}
	return vals, rows
}
