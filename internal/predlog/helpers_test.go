package predlog_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/predlog"
	"github.com/ferry-ml/ferry/internal/store/sqlite"
	"github.com/ferry-ml/ferry/internal/store/sqlstore"
)

// openStore returns a fresh SQLite store closed by the test's cleanup.
func openStore(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "ferry.db"), sqlite.Options{Synchronous: "normal"})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// record is a one-row record of n features for endpoint "fraud".
func record(id string, n int) predlog.Record {
	in := make([]float64, n)
	for i := range in {
		in[i] = float64(i) / 10
	}
	return predlog.Record{RequestID: id, Endpoint: "fraud", Model: "fraud-model", Version: 1,
		Time: 1_700_000_000_000, LatencyMicros: 80, Rows: 1, Features: n, Outputs: 1,
		Inputs: in, Predictions: []float64{0.5}}
}

// stored counts the records of endpoint "fraud" in s.
func stored(t *testing.T, s predlog.Store) int {
	t.Helper()
	got, err := s.ListPredictions(context.Background(), predlog.Query{Endpoint: "fraud", Limit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return len(got)
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (no timing is asserted: a slow machine only waits longer).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// batchRecorder passes writes to a store and remembers their sizes.
type batchRecorder struct {
	predlog.Store
	mu      sync.Mutex
	batches []int
}

func (b *batchRecorder) AppendPredictions(ctx context.Context, recs []predlog.Record) error {
	b.mu.Lock()
	b.batches = append(b.batches, len(recs))
	b.mu.Unlock()
	return b.Store.AppendPredictions(ctx, recs)
}

func (b *batchRecorder) sizes() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprint(b.batches)
}

// blockingStore holds every write until release is closed (or the write's
// context ends); entered receives once per write begun.
type blockingStore struct {
	predlog.Store
	entered chan struct{}
	release chan struct{}
}

func newBlockingStore(s predlog.Store) *blockingStore {
	return &blockingStore{Store: s, entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blockingStore) AppendPredictions(ctx context.Context, recs []predlog.Record) error {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return b.Store.AppendPredictions(ctx, recs)
}

// failingStore fails every write.
type failingStore struct{ predlog.Store }

func (failingStore) AppendPredictions(context.Context, []predlog.Record) error {
	return fmt.Errorf("disk on fire")
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
