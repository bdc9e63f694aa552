package dataset

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// golden is testdata/golden.json, written by testdata/golden.py from
// pandas and numpy.
type golden struct {
	Files []struct {
		File    string `json:"file"`
		Rows    int64  `json:"rows"`
		Columns []struct {
			Name      string    `json:"name"`
			Type      string    `json:"type"`
			Count     int64     `json:"count"`
			Nulls     int64     `json:"nulls"`
			NUnique   int64     `json:"nunique"`
			Min       *float64  `json:"min"`
			Max       float64   `json:"max"`
			Mean      float64   `json:"mean"`
			Std       float64   `json:"std"`
			Quantiles []float64 `json:"quantiles"`
			Top       [][2]any  `json:"top"`
		} `json:"columns"`
	} `json:"files"`
	Sketch struct {
		N    int       `json:"n"`
		Seed uint64    `json:"seed"`
		Qs   []float64 `json:"qs"`
		U    []float64 `json:"u"`
		S    []float64 `json:"s"`
		T    []float64 `json:"t"`
	} `json:"sketch"`
}

func loadGolden(t *testing.T) *golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return &g
}

func profileFile(t *testing.T, path string, opts Options) *Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := ProfileCSV(context.Background(), f, opts)
	if err != nil {
		t.Fatalf("profile %s: %v", path, err)
	}
	return p
}

func relClose(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(1, math.Abs(want))
}

// TestGoldenPandas checks every statistic against pandas/numpy on a
// generated CSV with nulls, quoting, booleans and datetimes and on the wine
// data set. Small files keep the sketch exact, so quantiles must equal
// numpy's to the last bits; mean and std (ddof=1) within 1e-12 relative
// (Welford's update order differs from numpy's pairwise sum).
func TestGoldenPandas(t *testing.T) {
	g := loadGolden(t)
	for _, gf := range g.Files {
		t.Run(gf.File, func(t *testing.T) {
			for _, workers := range []int{1, 2, 3} {
				p := profileFile(t, filepath.Join("testdata", gf.File), Options{Workers: workers})
				if p.Rows != gf.Rows || len(p.Columns) != len(gf.Columns) {
					t.Fatalf("rows %d cols %d, want %d %d", p.Rows, len(p.Columns), gf.Rows, len(gf.Columns))
				}
				for i, want := range gf.Columns {
					got := p.Columns[i]
					if got.Name != want.Name || got.Type.String() != want.Type {
						t.Errorf("column %d: %s %s, want %s %s", i, got.Name, got.Type, want.Name, want.Type)
						continue
					}
					if got.Count != want.Count || got.Nulls != want.Nulls || got.Distinct != want.NUnique || !got.DistinctExact {
						t.Errorf("%s: count %d nulls %d distinct %d (exact %v), want %d %d %d", got.Name, got.Count, got.Nulls, got.Distinct, got.DistinctExact, want.Count, want.Nulls, want.NUnique)
					}
					if want.Min != nil {
						checkNumeric(t, got, want.Min, want.Max, want.Mean, want.Std, want.Quantiles)
					}
					if want.Top != nil {
						checkTop(t, got, want.Top)
					}
				}
			}
		})
	}
}

func checkNumeric(t *testing.T, got ColumnProfile, lo *float64, hi, mean, std float64, qs []float64) {
	t.Helper()
	n := got.Numeric
	if n == nil {
		t.Errorf("%s: no numeric stats", got.Name)
		return
	}
	if n.Min != *lo || n.Max != hi {
		t.Errorf("%s: min/max %v %v, want %v %v", got.Name, n.Min, n.Max, *lo, hi)
	}
	if !relClose(n.Mean, mean, 1e-12) || !relClose(n.Std, std, 1e-12) {
		t.Errorf("%s: mean/std %v %v, want %v %v", got.Name, n.Mean, n.Std, mean, std)
	}
	if !n.QuantilesExact {
		t.Errorf("%s: quantiles not exact on a small file", got.Name)
	}
	for i, q := range n.Quantiles {
		if q.Value != qs[i] && !relClose(q.Value, qs[i], 1e-15) {
			t.Errorf("%s: p%g = %v, numpy %v", got.Name, q.Q*100, q.Value, qs[i])
		}
	}
	var total int64
	for _, c := range n.Histogram.Counts {
		total += c
	}
	if len(n.Histogram.Counts) != HistogramBins || total != got.Count {
		t.Errorf("%s: histogram %d bins holding %d, want %d bins holding %d", got.Name, len(n.Histogram.Counts), total, HistogramBins, got.Count)
	}
}

// checkTop compares counts in order; values only where the count is not
// tied with the last reported one (pandas orders ties arbitrarily).
func checkTop(t *testing.T, got ColumnProfile, want [][2]any) {
	t.Helper()
	if !got.TopExact || len(got.Top) != len(want) {
		t.Errorf("%s: top %v (exact %v), want %v", got.Name, got.Top, got.TopExact, want)
		return
	}
	last := int64(want[len(want)-1][1].(float64))
	wantCount := map[string]int64{}
	for _, w := range want {
		wantCount[w[0].(string)] = int64(w[1].(float64))
	}
	for i, c := range got.Top {
		if c.Count != int64(want[i][1].(float64)) {
			t.Errorf("%s: top[%d] count %d, want %d", got.Name, i, c.Count, int64(want[i][1].(float64)))
		}
		if c.Count > last && wantCount[c.Value] != c.Count {
			t.Errorf("%s: top[%d] = %q×%d, pandas counts %d", got.Name, i, c.Value, c.Count, wantCount[c.Value])
		}
	}
}

// lcg is the generator testdata/golden.py's lcg_sample replicates.
type lcg uint64

func (l *lcg) next() uint64 {
	*l = lcg(uint64(*l)*6364136223846793005 + 1442695040888963407)
	return uint64(*l) >> 33
}

// TestSketchAccuracy profiles 200,000 rows (the sketch compacts) and checks
// 99 percentiles of three columns against numpy: each estimate's true rank
// (fraction of values ≤ it, from the sorted data) lies within
// SketchRankError of q. It logs the largest rank error observed.
func TestSketchAccuracy(t *testing.T) {
	g := loadGolden(t).Sketch
	state := lcg(g.Seed)
	cols := [3][]float64{}
	csv := []byte("u,s,t\n")
	for range g.N {
		a, b, c := state.next(), state.next(), state.next()
		u, s, tt := float64(a%1000003)/1000, float64((b%1000)*(b%1000)*(b%1000))/7, float64(c%50)
		cols[0], cols[1], cols[2] = append(cols[0], u), append(cols[1], s), append(cols[2], tt)
		csv = appendFloatRow(csv, u, s, tt)
	}
	p, err := ProfileCSV(context.Background(), bytesReader(csv), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for ci, want := range [][]float64{g.U, g.S, g.T} {
		sorted := slices.Clone(cols[ci])
		slices.Sort(sorted)
		sk := p.Columns[ci].Numeric.Sketch
		if sk.IsExact() {
			t.Fatalf("column %d: sketch still exact at n=%d", ci, g.N)
		}
		est := sk.Quantiles(g.Qs)
		worst := 0.0
		for i, q := range g.Qs {
			// The estimate's rank interval [lo, hi] among the sorted values;
			// ties make it wide, and any q inside it is exact.
			lo := float64(lowerBound(sorted, est[i])) / float64(len(sorted))
			hi := float64(upperBound(sorted, est[i])) / float64(len(sorted))
			err := 0.0
			if q < lo {
				err = lo - q
			} else if q > hi {
				err = q - hi
			}
			worst = math.Max(worst, err)
			if err > SketchRankError {
				t.Errorf("column %d: q=%.2f estimate %v has rank [%.4f, %.4f], numpy quantile %v", ci, q, est[i], lo, hi, want[i])
			}
		}
		t.Logf("column %s: max normalised rank error %.4f over 99 percentiles (bound %.2f), %d items retained", p.Columns[ci].Name, worst, SketchRankError, retained(sk))
	}
}

func retained(s *Sketch) int {
	n := len(s.Exact)
	for _, lv := range s.Levels {
		n += len(lv)
	}
	return n
}

func lowerBound(s []float64, x float64) int {
	i, _ := slices.BinarySearch(s, x)
	return i
}

func upperBound(s []float64, x float64) int {
	i := lowerBound(s, x)
	for i < len(s) && s[i] == x {
		i++
	}
	return i
}
