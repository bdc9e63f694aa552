package predlog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/predlog"
)

func TestFlushBySize(t *testing.T) {
	st := &batchRecorder{Store: openStore(t)}
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 5, FlushInterval: time.Hour})
	for i := range 12 {
		l.Log(record(fmt.Sprintf("r%d", i), 3))
	}
	waitFor(t, "two full batches", func() bool { return stored(t, st) == 10 })
	// The last two wait for a full batch, the hour or Close.
	if got := st.sizes(); got != "[5 5]" {
		t.Fatalf("batches %s, want [5 5]", got)
	}
	if s := l.Stats(); s != (predlog.Stats{Logged: 10}) {
		t.Fatalf("stats %+v", s)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.sizes(); got != "[5 5 2]" || stored(t, st) != 12 {
		t.Fatalf("after close: batches %s, %d stored", got, stored(t, st))
	}
	if s := l.Stats(); s != (predlog.Stats{Logged: 12}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestFlushByInterval(t *testing.T) {
	st := openStore(t)
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 1000, FlushInterval: 10 * time.Millisecond})
	defer l.Close(context.Background())
	for i := range 3 {
		l.Log(record(fmt.Sprintf("a%d", i), 3))
	}
	waitFor(t, "the first records", func() bool { return stored(t, st) == 3 })
	for i := range 2 {
		l.Log(record(fmt.Sprintf("b%d", i), 3))
	}
	waitFor(t, "the later records", func() bool { return stored(t, st) == 5 })
	if s := l.Stats(); s != (predlog.Stats{Logged: 5}) {
		t.Fatalf("stats %+v", s)
	}
}

func TestCloseFlushesAndIsIdempotent(t *testing.T) {
	st := openStore(t)
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 1000, FlushInterval: time.Hour})
	for i := range 50 {
		l.Log(record(fmt.Sprintf("r%02d", i), 30))
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := stored(t, st); n != 50 {
		t.Fatalf("%d stored after close, want 50", n)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
	l.Log(record("late", 30))
	if s := l.Stats(); s != (predlog.Stats{Logged: 50, Dropped: 1}) {
		t.Fatalf("stats %+v", s)
	}
	if n := stored(t, st); n != 50 {
		t.Fatalf("a record logged after close was written")
	}
}

// TestFullBufferDrops: while the store is stuck, Log keeps returning and
// drops what the buffer cannot hold.
func TestFullBufferDrops(t *testing.T) {
	st := newBlockingStore(openStore(t))
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 1, Buffer: 4, FlushInterval: time.Hour})
	l.Log(record("first", 3))
	<-st.entered // the writer holds "first" and waits on the store
	for i := range 10 {
		l.Log(record(fmt.Sprintf("r%d", i), 3)) // 4 fit, 6 are dropped
	}
	if s := l.Stats(); s != (predlog.Stats{Dropped: 6}) {
		t.Fatalf("stats while blocked %+v, want 6 dropped", s)
	}
	close(st.release)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s != (predlog.Stats{Logged: 5, Dropped: 6}) {
		t.Fatalf("stats %+v", s)
	}
	if n := stored(t, st); n != 5 {
		t.Fatalf("%d stored, want 5", n)
	}
}

// TestCloseGivesUp: a Close whose context ends cancels the stuck write,
// drops the rest and still stops the writer.
func TestCloseGivesUp(t *testing.T) {
	st := newBlockingStore(openStore(t))
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 1, FlushInterval: time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	for i := range 3 {
		l.Log(record(fmt.Sprintf("r%d", i), 3))
	}
	<-st.entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("close: %v, want context.Canceled", err)
	}
	if s := l.Stats(); s != (predlog.Stats{Failed: 1, Dropped: 2}) {
		t.Fatalf("stats %+v, want the stuck write failed and two dropped", s)
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestWriteFailuresAreCountedAndLoggedSparingly(t *testing.T) {
	var out syncBuffer
	l := predlog.New(failingStore{}, predlog.Options{SampleRate: 1, BatchSize: 1, FlushInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(&out, nil))})
	for i := range 20 {
		l.Log(record(fmt.Sprintf("r%d", i), 3))
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s != (predlog.Stats{Failed: 20}) {
		t.Fatalf("stats %+v", s)
	}
	lines := strings.Count(out.String(), "prediction log: write failed")
	if lines < 1 || lines >= 20 || !strings.Contains(out.String(), "disk on fire") {
		t.Fatalf("%d warning lines for 20 failed writes:\n%s", lines, out.String())
	}
}

func TestInvalidRecordsAreSkipped(t *testing.T) {
	st := openStore(t)
	var out syncBuffer
	l := predlog.New(st, predlog.Options{SampleRate: 1, FlushInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(&out, nil))})
	bad := record("bad", 3)
	bad.Inputs = bad.Inputs[:2]
	l.Log(bad)
	l.Log(predlog.Record{Endpoint: "fraud"}) // no request id
	l.Log(record("good", 3))
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s != (predlog.Stats{Logged: 1, Failed: 2}) {
		t.Fatalf("stats %+v", s)
	}
	if n := stored(t, st); n != 1 {
		t.Fatalf("%d stored, want the valid record only", n)
	}
	if !strings.Contains(out.String(), "2 inputs for 1 rows of 3 features") {
		t.Fatalf("log:\n%s", out.String())
	}
}

// TestLogRacingClose: every Log is accounted for (written or dropped),
// whatever its order with a concurrent Close.
func TestLogRacingClose(t *testing.T) {
	st := openStore(t)
	l := predlog.New(st, predlog.Options{SampleRate: 1, BatchSize: 16, Buffer: 64, FlushInterval: time.Millisecond})
	const writers, each = 8, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.Log(record(fmt.Sprintf("w%d-%d", w, i), 4))
			}
		}()
	}
	waitFor(t, "some records written", func() bool { return l.Stats().Logged > 0 })
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	s := l.Stats()
	if s.Logged+s.Dropped != writers*each || s.Failed != 0 {
		t.Fatalf("stats %+v: %d records unaccounted for", s, writers*each-int(s.Logged+s.Dropped))
	}
	if n := stored(t, st); n != int(s.Logged) {
		t.Fatalf("%d stored, %d counted as logged", n, s.Logged)
	}
}

func TestSampling(t *testing.T) {
	const n = 4000
	for _, tc := range []struct {
		rate   float64
		lo, hi int // bounds on samples of n: ±10 standard deviations
	}{
		{0, 0, 0},
		{-1, 0, 0},
		{math.NaN(), 0, 0},
		{1, n, n},
		{7, n, n},
		{0.25, 1000 - 274, 1000 + 274},
		{0.05, 200 - 138, 200 + 138},
	} {
		t.Run(fmt.Sprint(tc.rate), func(t *testing.T) {
			st := openStore(t)
			l := predlog.New(st, predlog.Options{SampleRate: tc.rate, BatchSize: 1000, Buffer: n, MaxRate: -1})
			got := 0
			for i := range n {
				if l.Sample() {
					got++
					l.Log(record(fmt.Sprintf("r%d", i), 2))
				}
			}
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got < tc.lo || got > tc.hi {
				t.Fatalf("%d of %d sampled at rate %v, want %d to %d", got, n, tc.rate, tc.lo, tc.hi)
			}
			if stored(t, st) != got || l.Stats().Logged != uint64(got) {
				t.Fatalf("%d sampled, %d stored, stats %+v", got, stored(t, st), l.Stats())
			}
		})
	}
}

// MaxRate keeps the logged rate near its bound by admitting, each second,
// a uniform share of the requests set by the previous second's offers.
func TestMaxRate(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	l := predlog.New(failingStore{}, predlog.Options{SampleRate: 1, MaxRate: 100, Now: func() time.Time { return now }})
	defer l.Close(context.Background())
	offer := func(n int) int {
		got := 0
		for range n {
			if l.Sample() {
				got++
			}
		}
		return got
	}
	for _, tc := range []struct {
		advance time.Duration
		offer   int
		lo, hi  int // ±10 standard deviations
	}{
		{0, 1000, 1000, 1000},                        // the first second admits all
		{time.Second, 10000, 1000 - 300, 1000 + 300}, // 1000 offered before: p = 0.1
		{time.Second, 10000, 100 - 100, 100 + 100},   // 10000 before: p = 0.01
		{0, 1000, 0, 30},                             // same second, same p
		{5 * time.Second, 50, 50, 50},                // a quiet gap admits all again
		{time.Second, 50, 50, 50},                    // under the bound
	} {
		now = now.Add(tc.advance)
		if got := offer(tc.offer); got < tc.lo || got > tc.hi {
			t.Fatalf("at %v: %d of %d admitted, want %d to %d", now, got, tc.offer, tc.lo, tc.hi)
		}
	}
	if st := l.Stats(); st.Limited == 0 {
		t.Fatalf("stats: %+v", st)
	}
	// Admit alone (an A/B split's requests) is bound too.
	now = now.Add(time.Second)
	if l.Admit() != true {
		t.Fatal("under the bound, Admit refuses")
	}
}

func TestNilLoggerIsOff(t *testing.T) {
	var l *predlog.Logger
	if l.Sample() {
		t.Fatal("a nil logger samples")
	}
	l.Log(record("x", 1))
	if l.Stats() != (predlog.Stats{}) || l.Close(context.Background()) != nil {
		t.Fatal("a nil logger is not inert")
	}
}
