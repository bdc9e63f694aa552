package audit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

func testKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newTestLog(t *testing.T, s Store, key ed25519.PrivateKey, opts Options) *Log {
	t.Helper()
	l, err := New(s, key, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func ev(i int) Event {
	return Event{Time: time.Unix(1700000000+int64(i), 0), Actor: "alice", Action: "test", Resource: fmt.Sprint("x:/", i), Status: 200}
}

func TestNewRefusesBadKeys(t *testing.T) {
	if _, err := New(newMemStore(), ed25519.PrivateKey{1, 2, 3}, Options{}); err == nil {
		t.Error("New accepted a 3-byte key")
	}
	if _, err := New(newMemStore(), testKey(t), Options{TrustedKeys: []ed25519.PublicKey{{1}}}); err == nil {
		t.Error("New accepted a 1-byte trusted key")
	}
	if _, err := New(nil, testKey(t), Options{}); err == nil {
		t.Error("New accepted a nil store")
	}
}

func TestAppendNormalizes(t *testing.T) {
	s := newMemStore()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	l := newTestLog(t, s, testKey(t), Options{Now: func() time.Time { return now }})
	ctx := context.Background()
	if err := l.Append(ctx); err != nil || s.commits != 0 {
		t.Fatalf("empty append: %v, %d commits", err, s.commits)
	}
	long := strings.Repeat("ab", MaxIndexedBytes) + "é"
	if err := l.Append(ctx, Event{Actor: "a\x00b", Resource: long, Action: "\xff"}); err != nil {
		t.Fatal(err)
	}
	r := s.recs[0]
	if !r.Time.Equal(now) || r.Time.Location() != time.UTC || r.Actor != "a\uFFFDb" || r.Action != "\uFFFD" ||
		len(r.Resource) != MaxIndexedBytes || r.Hash != HashRecord(r) {
		t.Fatalf("stored %+v", r)
	}
	if got := clean("aé", 2); got != "a" { // never splits a character
		t.Fatalf("clean cut a character: %q", got)
	}
	err := l.Append(ctx, Event{Time: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)})
	if !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("append of a time before 1678: %v", err)
	}
}

// TestGroupCommit holds the first transaction open while more calls
// arrive: they are committed together in the next one, each call's events
// consecutive, MaxBatch respected.
func TestGroupCommit(t *testing.T) {
	s := newMemStore()
	s.gate, s.entered = make(chan struct{}), make(chan struct{}, 100)
	l := newTestLog(t, s, testKey(t), Options{MaxBatch: 10})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	wg.Go(func() { errs <- l.Append(ctx, ev(0)) })
	<-s.entered // the first transaction is under way
	const callers = 6
	for i := 1; i <= callers; i++ {
		wg.Go(func() { errs <- l.Append(ctx, ev(i*10), ev(i*10+1), ev(i*10+2)) })
	}
	// Let the callers queue up on the writer while it is busy.
	time.Sleep(100 * time.Millisecond)
	go func() {
		for range s.entered {
			s.gate <- struct{}{}
		}
	}()
	s.gate <- struct{}{}
	wg.Wait()
	close(s.entered)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(s.recs) != 1+3*callers {
		t.Fatalf("%d entries", len(s.recs))
	}
	// Normally 3 transactions: the first alone, then two batches of three
	// calls (9 events; a fourth would exceed MaxBatch). A slow machine may
	// split them further, but calls must have shared transactions.
	if s.commits >= 1+callers {
		t.Fatalf("%d transactions for %d calls: no group commit", s.commits, 1+callers)
	}
	prev := int64(0)
	for _, cp := range s.cps {
		if n := cp.Seq - prev; n > 10 || (prev > 0 && n%3 != 0) {
			t.Fatalf("a transaction of %d events (entries %d..%d)", n, prev+1, cp.Seq)
		}
		prev = cp.Seq
	}
	for i := 1; i < len(s.recs); i += 3 {
		a, b, c := s.recs[i], s.recs[i+1], s.recs[i+2]
		if b.Time.Sub(a.Time) != time.Second || c.Time.Sub(b.Time) != time.Second {
			t.Fatalf("entries %d..%d interleave calls", a.Seq, c.Seq)
		}
	}
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK || rep.Checkpoints != s.commits {
		t.Fatalf("verify: %+v %v", rep, err)
	}
}

func TestAppendErrorsReachEveryCaller(t *testing.T) {
	s := newMemStore()
	s.fail = errors.New("disk full")
	l := newTestLog(t, s, testKey(t), Options{})
	err := l.Append(context.Background(), ev(1))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("append error = %v", err)
	}
	s.fail = nil
	if err := l.Append(context.Background(), ev(2)); err != nil {
		t.Fatal(err)
	}
	if len(s.recs) != 1 || s.recs[0].Seq != 1 {
		t.Fatalf("entries after a failed append: %+v", s.recs)
	}
}

func TestAppendContext(t *testing.T) {
	s := newMemStore()
	s.gate, s.entered = make(chan struct{}), make(chan struct{}, 10)
	l := newTestLog(t, s, testKey(t), Options{})
	done := make(chan error, 1)
	go func() { done <- l.Append(context.Background(), ev(1)) }()
	<-s.entered // the writer is busy
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Append(ctx, ev(2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("append with an expired context = %v", err)
	}
	s.gate <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestCloseDrainsAndRefuses(t *testing.T) {
	s := newMemStore()
	s.gate, s.entered = make(chan struct{}), make(chan struct{}, 10)
	l, err := New(s, testKey(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- l.Append(context.Background(), ev(1)) }()
	<-s.entered
	go func() { errs <- l.Append(context.Background(), ev(2)) }()
	time.Sleep(50 * time.Millisecond) // the second call waits for the writer
	closed := make(chan error)
	go func() { closed <- l.Close() }()
	time.Sleep(20 * time.Millisecond)
	go func() {
		for range s.entered {
			s.gate <- struct{}{}
		}
	}()
	s.gate <- struct{}{}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	close(s.entered)
	for range 2 {
		if err := <-errs; err != nil && !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
	}
	if err := l.Append(context.Background(), ev(3)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after close = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("verify after close: %+v %v", rep, err)
	}
}

func readHead(t *testing.T, path string) Checkpoint {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := ParseCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestHeadFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	head := filepath.Join(dir, "audit-head")
	s := newMemStore()
	key := testKey(t)
	l, err := New(s, key, Options{HeadFile: head, HeadInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := l.Append(ctx, ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The background writer catches up within the interval.
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, _ := os.ReadFile(head)
		if cp, err := ParseCheckpoint(data); err == nil && cp.Seq == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("head file not written")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := l.Append(ctx, ev(4)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	cp := readHead(t, head)
	if cp.Seq != 4 || cp.Hash != s.head.Hash || !cp.VerifySignature(key.Public().(ed25519.PublicKey)) {
		t.Fatalf("head file after close = %+v, head %+v", cp, s.head)
	}
	if info, _ := os.Stat(head); info.Mode().Perm()&0o077 != 0 {
		t.Errorf("head file mode %04o", info.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files in the directory, want only the head file", len(entries))
	}

	// A log on a fresh (or truncated) store never lowers the head file.
	l2 := newTestLog(t, newMemStore(), key, Options{HeadFile: head})
	if err := l2.Append(ctx, ev(1)); err != nil {
		t.Fatal(err)
	}
	if err := l2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readHead(t, head); got.Seq != 4 {
		t.Fatalf("head file lowered to %d", got.Seq)
	}
	rep, err := l2.Verify(ctx)
	if err != nil || rep.OK || !strings.Contains(rep.Problem, "log ends at 1 but the checkpoint in the head file covers 4") {
		t.Fatalf("verify against a higher head file: %+v %v", rep, err)
	}

	// An unreadable head file is replaced (and reported by Verify until then).
	if err := os.WriteFile(head, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	l3 := newTestLog(t, newMemStore(), key, Options{HeadFile: head})
	rep, err = l3.Verify(ctx)
	if err != nil || rep.OK || rep.FirstBad != nil || !strings.Contains(rep.Problem, "is unreadable") {
		t.Fatalf("verify with a garbage head file: %+v %v", rep, err)
	}
	if err := l3.Append(ctx, ev(1)); err != nil {
		t.Fatal(err)
	}
	if err := l3.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readHead(t, head); got.Seq != 1 {
		t.Fatalf("garbage head file not replaced: %+v", got)
	}
}

func TestHeadFileErrors(t *testing.T) {
	// A head file in a missing directory: appends still work, Close
	// reports the failure, the logger gets the background one.
	var logged strings.Builder
	var mu sync.Mutex
	l, err := New(newMemStore(), testKey(t), Options{
		HeadFile: filepath.Join(t.TempDir(), "missing", "head"),
		Logger:   newTestLogger(&logged, &mu),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), ev(1)); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "head file") {
		t.Fatalf("close = %v, want a head file error", err)
	}
}
