package gbdt

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"testing"
)

const (
	benchTrain = 100_000
	benchTest  = 30_000
	benchCols  = 30
)

func benchData() (*Dataset, *Dataset) {
	d := synthetic(benchTrain+benchTest, benchCols, 2024)
	return subset(d, seq(0, benchTrain)), subset(d, seq(benchTrain, benchTrain+benchTest))
}

// BenchmarkTrain100k trains 100 trees of depth 6 on 100,000 rows × 30
// features and reports the test accuracy.
func BenchmarkTrain100k(b *testing.B) {
	tr, te := benchData()
	p := DefaultParams(BinaryLogistic)
	b.ResetTimer()
	var m *Model
	for b.Loop() {
		var err error
		if m, err = Train(context.Background(), tr, nil, p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(score(b, m, te), "accuracy")
	b.Logf("Go: %d trees, GOMAXPROCS %d, test accuracy %.4f", m.NumTrees(), runtime.GOMAXPROCS(0), score(b, m, te))
}

// BenchmarkTrain100kXGBoost times python3-xgboost (tree_method "hist",
// the same parameters) on the same data through testdata/bench_xgboost.py.
func BenchmarkTrain100kXGBoost(b *testing.B) {
	pythonXGBoost(b)
	tr, te := benchData()
	path := filepath.Join(b.TempDir(), "data.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for _, d := range []*Dataset{tr, te} {
		for r := range d.Rows {
			for c := range d.Cols {
				w.WriteString(strconv.FormatFloat(float64(float32(d.X[r*d.Cols+c])), 'g', -1, 32))
				w.WriteByte(',')
			}
			w.WriteString(strconv.FormatFloat(d.Y[r], 'g', -1, 64))
			w.WriteByte('\n')
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	threads := strconv.Itoa(runtime.GOMAXPROCS(0))
	re := regexp.MustCompile(`xgboost_train_seconds=([0-9.]+) accuracy=([0-9.]+)`)
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Command("/usr/bin/python3", "testdata/bench_xgboost.py", path, strconv.Itoa(benchTrain), threads).CombinedOutput()
		if err != nil {
			b.Fatalf("bench_xgboost.py: %v\n%s", err, out)
		}
		m := re.FindSubmatch(out)
		if m == nil {
			b.Fatalf("bench_xgboost.py printed %q", out)
		}
		secs, _ := strconv.ParseFloat(string(m[1]), 64)
		acc, _ := strconv.ParseFloat(string(m[2]), 64)
		b.ReportMetric(secs, "xgb-train-s")
		b.ReportMetric(acc, "accuracy")
		b.Logf("xgboost (nthread %s): train %.3f s, test accuracy %.4f", threads, secs, acc)
	}
}
