package predlog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
)

// benchIDs are request ids the benchmarks cycle through (a repeated id is
// ignored by the store, which costs the writer about as much).
func benchIDs() []string {
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = fmt.Sprintf("5f2c9a41b7e0-%x", i)
	}
	return ids
}

// BenchmarkLog is what Log costs the request path, with a real SQLite
// store (synchronous=full) behind the Logger. queue: a buffer of up to 1<<20
// records; parallel: the same from every core; full: the store is stuck and
// every record is dropped. dropped/op shows how many calls took the drop
// path: Log is far faster than the writer, so with the default benchtime
// most calls find the buffer full; -benchtime=1000000x keeps every call of
// queue and parallel on the queueing path.
func BenchmarkLog(b *testing.B) {
	ids := benchIDs()
	rec := record("", 30)
	open := func(b *testing.B) predlog.Store {
		s, err := sqlite.Open(context.Background(), b.TempDir()+"/ferry.db", sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	run := func(b *testing.B, st predlog.Store, buffer int, parallel bool) {
		l := predlog.New(st, predlog.Options{SampleRate: 1, Buffer: buffer})
		b.ReportAllocs()
		b.ResetTimer()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				r := rec
				for i := 0; pb.Next(); i++ {
					r.RequestID = ids[i&(len(ids)-1)]
					l.Log(r)
				}
			})
		} else {
			r := rec
			for i := range b.N {
				r.RequestID = ids[i&(len(ids)-1)]
				l.Log(r)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(l.Stats().Dropped)/float64(b.N), "dropped/op")
		if bs, ok := st.(*blockingStore); ok {
			close(bs.release)
		}
		if err := l.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("queue", func(b *testing.B) { run(b, open(b), min(b.N, 1<<20)+1, false) })
	b.Run("parallel", func(b *testing.B) { run(b, open(b), min(b.N, 1<<20)+1, true) })
	b.Run("full", func(b *testing.B) {
		st := newBlockingStore(open(b))
		run(b, st, 1, false)
	})
}

// BenchmarkLogThroughput is the cost per record of logging and writing
// it to SQLite (synchronous=full, batches of 256): Log b.N records, then
// Close, which returns when all are written.
func BenchmarkLogThroughput(b *testing.B) {
	ids := benchIDs()
	if b.N > len(ids) {
		for i := len(ids); i < b.N; i++ {
			ids = append(ids, fmt.Sprintf("5f2c9a41b7e0-%x", i))
		}
	}
	st, err := sqlite.Open(context.Background(), b.TempDir()+"/ferry.db", sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rec := record("", 30)
	l := predlog.New(st, predlog.Options{SampleRate: 1, Buffer: b.N + 1})
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rec.RequestID = ids[i]
		l.Log(rec)
	}
	if err := l.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if s := l.Stats(); s.Logged != uint64(b.N) {
		b.Fatalf("stats %+v after %d records", s, b.N)
	}
}
