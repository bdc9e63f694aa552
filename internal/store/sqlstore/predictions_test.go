package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
)

// BenchmarkAppendPredictions writes batches of 256 one-row records of 30
// features to SQLite, one transaction per batch, as predlog.Logger does.
func BenchmarkAppendPredictions(b *testing.B) {
	for _, sync := range []string{"full", "normal"} {
		b.Run("synchronous="+sync, func(b *testing.B) {
			ctx := context.Background()
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "ferry.db"), sqlite.Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const batch, features = 256, 30
			names := make([]string, features)
			for i := range names {
				names[i] = fmt.Sprintf("feature_%02d", i)
			}
			recs := make([]predlog.Record, batch)
			for i := range recs {
				in := make([]float64, features)
				for j := range in {
					in[j] = float64(i*features+j) * 0.37
				}
				recs[i] = predlog.Record{Endpoint: "fraud", Model: "fraud-model", Version: 3, Time: 1_700_000_000_000 + int64(i),
					LatencyMicros: 95, Rows: 1, Features: features, Outputs: 1, Inputs: in, Predictions: []float64{0.42},
					FeatureNames: names, Variant: predlog.VariantStable}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for n := range b.N {
				b.StopTimer()
				for i := range recs {
					recs[i].RequestID = fmt.Sprintf("req-%d-%d", n, i)
				}
				b.StartTimer()
				if err := s.AppendPredictions(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
