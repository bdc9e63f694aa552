package dataset

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// writeWideCSV writes rows × 20 columns, seeded: 10 float columns, 5
// integer columns and 5 string columns (four low-cardinality categories,
// one high-cardinality id), with about 1% nulls in the numeric columns.
func writeWideCSV(tb testing.TB, path string, rows int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(42, 7))
	for i := range 10 {
		fmt.Fprintf(w, "f%d,", i)
	}
	for i := range 5 {
		fmt.Fprintf(w, "i%d,", i)
	}
	w.WriteString("city,colour,grade,flag,user\n")
	cities := []string{"Berlin", "Paris", "Rome", "Madrid", "Lisbon", "Vienna", "Prague", "Oslo"}
	colours := []string{"red", "green", "blue", "\"dark, blue\"", "yellow"}
	var buf []byte
	for range rows {
		buf = buf[:0]
		for c := range 10 {
			if rng.IntN(100) != 0 {
				buf = strconv.AppendFloat(buf, float64(c)+rng.NormFloat64()*float64(c+1), 'f', 6, 64)
			}
			buf = append(buf, ',')
		}
		for c := range 5 {
			if rng.IntN(100) != 0 {
				buf = strconv.AppendInt(buf, int64(rng.IntN(1000*(c+1)))-100, 10)
			}
			buf = append(buf, ',')
		}
		buf = append(buf, cities[rng.IntN(len(cities))]...)
		buf = append(buf, ',')
		buf = append(buf, colours[rng.IntN(len(colours))]...)
		buf = append(buf, ',')
		buf = append(buf, byte('A'+rng.IntN(6)), ',')
		buf = append(buf, []string{"yes", "no"}[rng.IntN(2)]...)
		buf = append(buf, ",user_"...)
		buf = strconv.AppendInt(buf, int64(rng.IntN(200_000)), 10)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkProfile1M profiles a 1,000,000-row × 20-column CSV.
func BenchmarkProfile1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "wide.csv")
	writeWideCSV(b, path, 1_000_000)
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ResetTimer()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		p, err := ProfileCSV(context.Background(), f, Options{})
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		if p.Rows != 1_000_000 || len(p.Columns) != 20 {
			b.Fatalf("rows %d cols %d", p.Rows, len(p.Columns))
		}
	}
}
