package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type parquetRow struct {
	ID      int64     `parquet:"id"`
	Amount  *float64  `parquet:"amount,optional"`
	Country string    `parquet:"country"`
	OK      bool      `parquet:"ok"`
	TS      time.Time `parquet:"ts,timestamp(millisecond)"`
}

// A table written as Parquet profiles exactly as the same table written
// as CSV (whose profile is checked against pandas in golden_test.go),
// and converts back to that CSV.
func TestParquetMatchesCSV(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var rows []parquetRow
	var csvText strings.Builder
	csvText.WriteString("id,amount,country,ok,ts\n")
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3000 {
		row := parquetRow{ID: int64(i), Country: []string{"DE", "FR", "US"}[r.IntN(3)], OK: r.IntN(2) == 0,
			TS: base.Add(time.Duration(r.IntN(1e6)) * time.Second)}
		amount := ""
		if r.IntN(10) != 0 {
			v := float64(r.IntN(100000)) / 100
			row.Amount = &v
			amount = strconv.FormatFloat(v, 'g', -1, 64)
		}
		rows = append(rows, row)
		fmt.Fprintf(&csvText, "%d,%s,%s,%t,%s\n", row.ID, amount, row.Country, row.OK, row.TS.Format(time.RFC3339Nano))
	}
	var pq bytes.Buffer
	w := parquet.NewGenericWriter[parquetRow](&pq)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if !IsParquet(pq.Bytes()) {
		t.Fatal("not recognised as Parquet")
	}
	fromPQ, err := ProfileParquet(context.Background(), bytes.NewReader(pq.Bytes()), int64(pq.Len()))
	if err != nil {
		t.Fatal(err)
	}
	fromCSV, err := ProfileCSV(context.Background(), strings.NewReader(csvText.String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromPQ.Columns)
	b, _ := json.Marshal(fromCSV.Columns)
	if !bytes.Equal(a, b) || fromPQ.Rows != 3000 || fromPQ.Format != "parquet" || len(fromPQ.Digest) != 64 {
		t.Fatalf("parquet profile differs from the CSV one:\n%s\n%s", a, b)
	}
	var back bytes.Buffer
	if err := ParquetToCSV(context.Background(), bytes.NewReader(pq.Bytes()), int64(pq.Len()), &back); err != nil {
		t.Fatal(err)
	}
	if back.String() != csvText.String() {
		t.Fatalf("ParquetToCSV differs; first lines:\n%.300s\n%.300s", back.String(), csvText.String())
	}
	if _, err := ProfileParquet(context.Background(), bytes.NewReader([]byte("PAR1 nope")), 9); err == nil {
		t.Fatal("a broken file profiled")
	}
}

func FuzzProfileParquet(f *testing.F) {
	var pq bytes.Buffer
	w := parquet.NewGenericWriter[parquetRow](&pq)
	v := 1.5
	_, _ = w.Write([]parquetRow{{ID: 1, Amount: &v, Country: "DE"}})
	_ = w.Close()
	f.Add(pq.Bytes())
	f.Add([]byte("PAR1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ProfileParquet(context.Background(), bytes.NewReader(b), int64(len(b)))
	})
}
