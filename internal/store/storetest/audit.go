package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
)

// AuditStore is what the audit suite exercises.
type AuditStore interface {
	audit.Store
}

// RunAudit runs the audit trail's conformance suite; newStore returns a
// fresh, empty store that is closed by the test's cleanup.
func RunAudit(t *testing.T, newStore func(t *testing.T) AuditStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s AuditStore)
	}{
		{"AppendVerifyList", testAuditAppendVerifyList},
		{"ListResourcePrefix", testAuditListPrefix},
		{"StoredAsAppended", testAuditRoundTrip},
		{"MultiEventAppendIsAtomic", testAuditAtomic},
		{"FailedAppendWritesNothing", testAuditFailedAppend},
		{"ConcurrentAppenders", testAuditConcurrent},
		{"TwoLogsOneStore", testAuditTwoLogs},
		{"ChunkedVerify", testAuditChunked},
		{"UnknownKey", testAuditUnknownKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	return k
}

// newAuditLog returns a log over s that the test's cleanup closes.
func newAuditLog(t *testing.T, s audit.Store, key ed25519.PrivateKey, opts audit.Options) *audit.Log {
	t.Helper()
	l, err := audit.New(s, key, opts)
	must(t, err)
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close audit log: %v", err)
		}
	})
	return l
}

func auditEvent(i int, actor, resource string) audit.Event {
	return audit.Event{
		Time:          time.Unix(1700000000, int64(i)*1_000_001).UTC(),
		Actor:         actor,
		Action:        "test.action",
		Resource:      resource,
		RequestDigest: audit.Digest(i),
		Status:        200,
		RequestID:     fmt.Sprint("req-", i),
	}
}

// wantOK fails unless l verifies with entries entries.
func wantOK(t *testing.T, l *audit.Log, entries int64) audit.Report {
	t.Helper()
	rep, err := l.Verify(context.Background())
	must(t, err)
	if !rep.OK || rep.Entries != entries || rep.LastSeq != entries || rep.Signed != entries {
		t.Fatalf("verify = %+v (%s), want OK with %d entries", rep, rep, entries)
	}
	return rep
}

func seqs(recs []audit.Record) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r.Seq
	}
	return out
}

// wantChain checks that recs are entries 1..n linked by their hashes.
func wantChain(t *testing.T, recs []audit.Record, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("%d entries, want %d", len(recs), n)
	}
	prev := audit.GenesisHash
	for i, r := range recs {
		if r.Seq != int64(i+1) || r.PrevHash != prev || r.Hash != audit.HashRecord(r) {
			t.Fatalf("entry %d of the chain is %+v", i+1, r)
		}
		prev = r.Hash
	}
}

func testAuditAppendVerifyList(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{})
	wantOK(t, l, 0) // an empty log verifies
	for i := 1; i <= 5; i++ {
		actor := "alice"
		if i%2 == 0 {
			actor = "bob"
		}
		must(t, l.Append(ctx, auditEvent(i, actor, "runs:/r"+strconv.Itoa(i))))
	}
	rep := wantOK(t, l, 5)
	if rep.Checkpoints != 5 {
		t.Fatalf("checkpoints = %d, want one per append (5)", rep.Checkpoints)
	}
	all, err := l.List(ctx, audit.Query{})
	must(t, err)
	wantChain(t, all, 5)
	if all[2].Actor != "alice" || all[2].Resource != "runs:/r3" || all[2].RequestID != "req-3" {
		t.Fatalf("entry 3 = %+v", all[2])
	}
	cases := []struct {
		q    audit.Query
		want string
	}{
		{audit.Query{Actor: "bob"}, "[2 4]"},
		{audit.Query{Actor: "carol"}, "[]"},
		{audit.Query{AfterSeq: 3}, "[4 5]"},
		{audit.Query{BeforeSeq: 3}, "[1 2]"},
		{audit.Query{AfterSeq: 1, BeforeSeq: 5, NewestFirst: true}, "[4 3 2]"},
		{audit.Query{NewestFirst: true, Limit: 2}, "[5 4]"},
		{audit.Query{Limit: 2}, "[1 2]"},
		{audit.Query{Actor: "alice", Resource: "runs:/r3"}, "[3]"},
		{audit.Query{Resource: "runs:"}, "[1 2 3 4 5]"},
		{audit.Query{Resource: "runs:/"}, "[1 2 3 4 5]"},
	}
	for _, tc := range cases {
		got, err := l.List(ctx, tc.q)
		must(t, err)
		if fmt.Sprint(seqs(got)) != tc.want {
			t.Errorf("List(%+v) = %v, want %s", tc.q, seqs(got), tc.want)
		}
	}
}

// testAuditListPrefix checks that the store's resource matching is
// audit.MatchResource's.
func testAuditListPrefix(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{})
	resources := []string{
		"models:/m", "models:/m/1", "models:/m/12", "models:/m@champion", "models:/mx", "models:/mx/1",
		"models:/m-x", "models:/m.x", "models:/m0", "models:/m?", "models:/M", "models:/", "models:",
		"models:/m/1/x", "models:/m%", "models:/m_", "models:/é", "models:/é/1", "runs:/abc", "/api/2.0/mlflow/runs/create",
	}
	for i, r := range resources {
		must(t, l.Append(ctx, auditEvent(i, "a", r)))
	}
	prefixes := []string{"", "models:/m", "models:/m/1", "models:/mx", "models:/M", "models:/é", "models:", "models:/",
		"models:/m%", "models:/m_", "/api/2.0/mlflow/runs", "runs:/abc", "nothing"}
	for _, p := range prefixes {
		got, err := l.List(ctx, audit.Query{Resource: p, Limit: 1000})
		must(t, err)
		var want, have []string
		for _, r := range resources {
			if audit.MatchResource(strings.TrimRight(p, "/"), r) {
				want = append(want, r)
			}
		}
		for _, r := range got {
			have = append(have, r.Resource)
		}
		if fmt.Sprintf("%q", have) != fmt.Sprintf("%q", want) {
			t.Errorf("resource %q: got %q, want %q", p, have, want)
		}
		exact, err := l.List(ctx, audit.Query{Resource: p, ExactResource: true, Limit: 1000})
		must(t, err)
		want = nil
		for _, r := range resources {
			if r == strings.TrimRight(p, "/") || p == "" {
				want = append(want, r)
			}
		}
		have = nil
		for _, r := range exact {
			have = append(have, r.Resource)
		}
		if fmt.Sprintf("%q", have) != fmt.Sprintf("%q", want) {
			t.Errorf("exact resource %q: got %q, want %q", p, have, want)
		}
	}
}

// testAuditRoundTrip checks that entries come back exactly as appended
// (after normalization): nanosecond times, any Unicode, text that
// Postgres could not store as given, long values.
func testAuditRoundTrip(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{})
	long := strings.Repeat("é", audit.MaxIndexedBytes) // cut to MaxIndexedBytes
	in := []audit.Event{
		{Time: time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600)), Actor: "ünïcødé 👩‍🔬", Action: "registry.set_alias",
			Resource: "models:/naïve@prod", RequestDigest: audit.Digest("x"), Before: audit.Digest(1), After: audit.Digest(2), Status: 201, RequestID: "r1"},
		{Actor: "nul\x00byte", Action: "bad\xffutf8", Resource: long, Status: 500},
		{Time: time.Unix(0, -5).UTC(), Action: "before 1970", Status: -1},
		{Action: "huge status", Status: math.MaxInt},
	}
	must(t, l.Append(ctx, in...))
	got, err := l.List(ctx, audit.Query{})
	must(t, err)
	wantChain(t, got, 4)
	if !got[0].Time.Equal(in[0].Time) || got[0].Time.Location() != time.UTC || got[0].Actor != in[0].Actor ||
		got[0].Resource != in[0].Resource || got[0].Before != in[0].Before || got[0].After != in[0].After ||
		got[0].RequestDigest != in[0].RequestDigest || got[0].Status != 201 || got[0].Action != in[0].Action {
		t.Errorf("entry 1 = %+v, appended %+v", got[0], in[0])
	}
	if got[1].Actor != "nul\uFFFDbyte" || got[1].Action != "bad\uFFFDutf8" || len(got[1].Resource) > audit.MaxIndexedBytes ||
		!strings.HasPrefix(long, got[1].Resource) || got[1].Time.IsZero() {
		t.Errorf("entry 2 not normalized: %+v", got[1])
	}
	if got[2].Time.UnixNano() != -5 || got[2].Status != -1 || got[3].Status != math.MaxInt {
		t.Errorf("entries 3, 4 = %+v, %+v", got[2], got[3])
	}
	wantOK(t, l, 4)
	if err := l.Append(ctx, audit.Event{Time: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("append of an event in the year 3000 succeeded; its time cannot be stored")
	}
}

// testAuditAtomic checks that one Append's events are consecutive entries
// under one checkpoint, also among concurrent appenders.
func testAuditAtomic(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{})
	const writers, perWriter, perCall = 4, 10, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				evs := make([]audit.Event, perCall)
				for j := range evs {
					evs[j] = auditEvent(j, fmt.Sprint("w", w), fmt.Sprintf("call:/%d/%d", w, i))
				}
				if err := l.Append(ctx, evs...); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	got, err := l.List(ctx, audit.Query{Limit: audit.MaxListLimit})
	must(t, err)
	wantChain(t, got, writers*perWriter*perCall)
	for i := 0; i < len(got); i += perCall {
		for j := 1; j < perCall; j++ {
			if got[i+j].Resource != got[i].Resource {
				t.Fatalf("entries %d..%d interleave calls: %q then %q", i+1, i+perCall, got[i].Resource, got[i+j].Resource)
			}
		}
	}
	wantOK(t, l, writers*perWriter*perCall)
}

// testAuditFailedAppend checks that an append transaction that fails
// halfway writes nothing, and the chain continues where it was.
func testAuditFailedAppend(t *testing.T, s AuditStore) {
	ctx := context.Background()
	key := newKey(t)
	l := newAuditLog(t, s, key, audit.Options{})
	must(t, l.Append(ctx, auditEvent(1, "a", "x:/1")))
	// Three records of which the third repeats the first's seq: the third
	// insert fails after two succeeded.
	err := s.AppendAudit(ctx, func(h audit.Head) ([]audit.Record, *audit.Checkpoint, error) {
		if h.Seq != 1 {
			return nil, nil, fmt.Errorf("head = %+v, want seq 1", h)
		}
		var recs []audit.Record
		prev := h.Hash
		for i, seq := range []int64{2, 3, 2} {
			r := audit.Record{Seq: seq, Event: auditEvent(i, "a", "x:/bad"), PrevHash: prev}
			r.Hash = audit.HashRecord(r)
			prev = r.Hash
			recs = append(recs, r)
		}
		return recs, nil, nil
	})
	if err == nil {
		t.Fatal("append with a duplicate seq succeeded")
	}
	err = s.AppendAudit(ctx, func(h audit.Head) ([]audit.Record, *audit.Checkpoint, error) {
		return nil, nil, errors.New("refused")
	})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("error of fn = %v, want it returned", err)
	}
	must(t, l.Append(ctx, auditEvent(2, "a", "x:/2")))
	got, err := l.List(ctx, audit.Query{})
	must(t, err)
	wantChain(t, got, 2)
	if got[1].Resource != "x:/2" {
		t.Fatalf("entry 2 = %+v", got[1])
	}
	wantOK(t, l, 2)
}

// testAuditConcurrent appends from many goroutines at once: one linear
// chain, no gaps, no forks.
func testAuditConcurrent(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{})
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := l.Append(ctx, auditEvent(i, fmt.Sprint("w", w), "x:/"+strconv.Itoa(i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	got, err := l.List(ctx, audit.Query{Limit: audit.MaxListLimit})
	must(t, err)
	wantChain(t, got, writers*perWriter)
	rep := wantOK(t, l, writers*perWriter)
	if rep.Checkpoints < 1 || rep.Checkpoints > writers*perWriter {
		t.Fatalf("checkpoints = %d", rep.Checkpoints)
	}
	for w := range writers {
		mine, err := l.List(ctx, audit.Query{Actor: fmt.Sprint("w", w), Limit: audit.MaxListLimit})
		must(t, err)
		if len(mine) != perWriter {
			t.Fatalf("writer %d has %d entries, want %d", w, len(mine), perWriter)
		}
	}
}

// testAuditTwoLogs runs two logs, as two servers with their own keys,
// over one store.
func testAuditTwoLogs(t *testing.T, s AuditStore) {
	runTwoLogs(t, s, s)
}

// RunAuditShared checks two stores over one database, as two server
// processes would use it: their logs, each with its own key and trusting
// the other's, append concurrently to one chain.
func RunAuditShared(t *testing.T, a, b AuditStore) {
	runTwoLogs(t, a, b)
}

func runTwoLogs(t *testing.T, a, b audit.Store) {
	ctx := context.Background()
	ka, kb := newKey(t), newKey(t)
	la := newAuditLog(t, a, ka, audit.Options{TrustedKeys: []ed25519.PublicKey{kb.Public().(ed25519.PublicKey)}})
	lb := newAuditLog(t, b, kb, audit.Options{TrustedKeys: []ed25519.PublicKey{ka.Public().(ed25519.PublicKey)}})
	const writers, perWriter = 4, 40
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*perWriter)
	for w := range 2 * writers {
		l := la
		if w%2 == 1 {
			l = lb
		}
		wg.Go(func() {
			for i := range perWriter {
				if err := l.Append(ctx, auditEvent(i, fmt.Sprint("w", w), "x:/"+strconv.Itoa(i))); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	n := 2 * writers * perWriter
	got, err := la.List(ctx, audit.Query{Limit: audit.MaxListLimit})
	must(t, err)
	wantChain(t, got, n)
	wantOK(t, la, int64(n))
	wantOK(t, lb, int64(n))
	// A verifier that trusts only a's key names a checkpoint of b's.
	only, err := audit.New(a, ka, audit.Options{})
	must(t, err)
	defer only.Close()
	rep, err := only.Verify(ctx)
	must(t, err)
	if rep.OK || !strings.Contains(rep.Problem, "signed by unknown key "+audit.KeyID(kb.Public().(ed25519.PublicKey))) {
		t.Fatalf("verify trusting one key = %+v", rep)
	}
}

// testAuditChunked verifies a log longer than the scan chunk, with chunk
// boundaries inside multi-event appends.
func testAuditChunked(t *testing.T, s AuditStore) {
	ctx := context.Background()
	l := newAuditLog(t, s, newKey(t), audit.Options{ScanChunk: 7})
	for i := range 20 {
		evs := []audit.Event{auditEvent(i, "a", "x:/1")}
		if i%3 == 0 {
			evs = append(evs, auditEvent(i, "a", "x:/2"), auditEvent(i, "a", "x:/3"))
		}
		must(t, l.Append(ctx, evs...))
	}
	rep := wantOK(t, l, 34)
	if rep.Checkpoints != 20 {
		t.Fatalf("checkpoints = %d, want 20", rep.Checkpoints)
	}
	// The store's chunks: limit respected, checkpoints within the range.
	ch, err := s.ReadAudit(ctx, 0, 7)
	must(t, err)
	if len(ch.Records) != 7 || ch.End || ch.Records[0].Seq != 1 {
		t.Fatalf("first chunk: %d records (End %v)", len(ch.Records), ch.End)
	}
	for _, cp := range ch.Checkpoints {
		if cp.Seq < 1 || cp.Seq > 7 {
			t.Fatalf("first chunk has the checkpoint at %d", cp.Seq)
		}
	}
	ch, err = s.ReadAudit(ctx, 30, 7)
	must(t, err)
	if len(ch.Records) != 4 || !ch.End || len(ch.Checkpoints) == 0 || ch.Checkpoints[len(ch.Checkpoints)-1].Seq != 34 {
		t.Fatalf("last chunk: %d records, End %v, %d checkpoints", len(ch.Records), ch.End, len(ch.Checkpoints))
	}
}

func testAuditUnknownKey(t *testing.T, s AuditStore) {
	ctx := context.Background()
	must(t, newAuditLog(t, s, newKey(t), audit.Options{}).Append(ctx, auditEvent(1, "a", "x:/1")))
	other := newKey(t)
	l := newAuditLog(t, s, other, audit.Options{})
	rep, err := l.Verify(ctx)
	must(t, err)
	if rep.OK || rep.FirstBad == nil || *rep.FirstBad != 1 || !strings.Contains(rep.Problem, "checkpoint at 1 signed by unknown key") {
		t.Fatalf("verify with a stranger's key = %+v", rep)
	}
}

// AuditTamperTarget is a fresh store and a separate, raw connection to
// the same database, through which RunAuditTamper edits the audit tables
// as someone with direct database access would.
type AuditTamperTarget struct {
	Store AuditStore
	DB    *sql.DB
	// Numbered: the raw connection's placeholders are $1, $2, ...
	Numbered bool
	// Unguard are the statements that drop the append-only guards
	// (triggers), as an attacker with DDL rights would first.
	Unguard []string
}

// exec runs q on the raw connection, "?" placeholders rebound.
func (tt AuditTamperTarget) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := tt.DB.ExecContext(context.Background(), tt.rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (tt AuditTamperTarget) rebind(q string) string {
	if !tt.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// rows reads entries from seq on through the raw connection.
func (tt AuditTamperTarget) rows(t *testing.T, from int64) []audit.Record {
	t.Helper()
	rows, err := tt.DB.QueryContext(context.Background(), tt.rebind(`SELECT seq, time_ns, actor, action, resource,
		request_digest, before_digest, after_digest, status, request_id, prev_hash, hash
		FROM audit_events WHERE seq >= ? ORDER BY seq`), from)
	must(t, err)
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		var r audit.Record
		var ns int64
		must(t, rows.Scan(&r.Seq, &ns, &r.Actor, &r.Action, &r.Resource, &r.RequestDigest, &r.Before, &r.After,
			&r.Status, &r.RequestID, &r.PrevHash, &r.Hash))
		r.Time = time.Unix(0, ns).UTC()
		out = append(out, r)
	}
	must(t, rows.Err())
	return out
}

// rehash recomputes, as an attacker without the signing key can, the
// hashes and links of the entries from seq on, so that the chain is
// consistent again after an edit.
func (tt AuditTamperTarget) rehash(t *testing.T, from int64) {
	t.Helper()
	prev := audit.GenesisHash
	if from > 1 {
		prev = tt.rows(t, from-1)[0].Hash
	}
	for _, r := range tt.rows(t, from) {
		r.PrevHash = prev
		r.Hash = audit.HashRecord(r)
		tt.exec(t, `UPDATE audit_events SET prev_hash = ?, hash = ? WHERE seq = ?`, r.PrevHash, r.Hash, r.Seq)
		prev = r.Hash
	}
}

// RunAuditTamper is the acceptance test of the audit trail: it appends 20
// entries (one per append, so one checkpoint each), changes the database
// behind Ferry's back through a raw connection, and checks that Verify
// names the first broken entry. newTarget returns a fresh store and a
// raw connection to its database.
func RunAuditTamper(t *testing.T, newTarget func(t *testing.T) AuditTamperTarget) {
	const n = 20
	cases := []struct {
		name string
		// headFile: verify with the head file the appending log wrote.
		headFile bool
		tamper   func(t *testing.T, tt AuditTamperTarget)
		firstBad int64  // 0: the log must verify
		problem  string // a substring of Report.Problem
	}{
		{name: "untouched", headFile: true, tamper: func(*testing.T, AuditTamperTarget) {}},
		{
			name: "actor edited", headFile: true, firstBad: 7, problem: "entry 7: hash mismatch (row edited?)",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 7`)
			},
		},
		{
			name: "time edited", firstBad: 3, problem: "entry 3: hash mismatch",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `UPDATE audit_events SET time_ns = time_ns + 1 WHERE seq = 3`)
			},
		},
		{
			name: "middle entry deleted", headFile: true, firstBad: 10, problem: "entry 10 missing (sequence jumps from 9 to 11)",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `DELETE FROM audit_events WHERE seq = 10`)
			},
		},
		{
			name: "first entries deleted", firstBad: 1, problem: "entries 1..2 missing (sequence jumps from 0 to 3)",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `DELETE FROM audit_events WHERE seq <= 2`)
				tt.exec(t, `DELETE FROM audit_checkpoints WHERE seq <= 2`)
			},
		},
		{
			name: "last entries deleted, checkpoints kept", firstBad: 18, problem: "log ends at 17 but a signed checkpoint covers 20 (truncated)",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `DELETE FROM audit_events WHERE seq > 17`)
			},
		},
		{
			name: "last entries and their checkpoints deleted", headFile: true, firstBad: 18,
			problem: "log ends at 17 but the checkpoint in the head file covers 20 (truncated)",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `DELETE FROM audit_events WHERE seq > 17`)
				tt.exec(t, `DELETE FROM audit_checkpoints WHERE seq > 17`)
			},
		},
		{
			// The documented limit: without the head file (or with one
			// written before the removed entries), such a truncation
			// leaves a consistent, validly signed log.
			name: "last entries and their checkpoints deleted, no head file",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `DELETE FROM audit_events WHERE seq > 17`)
				tt.exec(t, `DELETE FROM audit_checkpoints WHERE seq > 17`)
			},
		},
		{
			name: "entry edited and hashes recomputed", headFile: true, firstBad: 17,
			problem: "entry 17: rewritten (the signed checkpoint at 17 does not match",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 17`)
				tt.rehash(t, 17)
			},
		},
		{
			name: "entry edited, hashes recomputed, checkpoints deleted", firstBad: 17,
			problem: "entries 17..20 not covered by a signed checkpoint (the newest valid one is at 16",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `UPDATE audit_events SET actor = 'mallory' WHERE seq = 17`)
				tt.rehash(t, 17)
				tt.exec(t, `DELETE FROM audit_checkpoints WHERE seq >= 17`)
			},
		},
		{
			name: "checkpoint rewritten to match a recomputed chain", firstBad: 5, problem: "checkpoint at 5: bad signature",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				tt.exec(t, `UPDATE audit_events SET resource = 'x:/other' WHERE seq = 5`)
				tt.rehash(t, 5)
				for _, r := range tt.rows(t, 5) {
					tt.exec(t, `UPDATE audit_checkpoints SET hash = ? WHERE seq = ?`, r.Hash, r.Seq)
				}
			},
		},
		{
			name: "entry forged at the end", firstBad: 21, problem: "entry 21 not covered by a signed checkpoint",
			tamper: func(t *testing.T, tt AuditTamperTarget) {
				last := tt.rows(t, n)[0]
				r := audit.Record{Seq: n + 1, Event: auditEvent(99, "mallory", "models:/m/1"), PrevHash: last.Hash}
				r.Hash = audit.HashRecord(r)
				tt.exec(t, `INSERT INTO audit_events (seq, time_ns, actor, action, resource, request_digest,
					before_digest, after_digest, status, request_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					r.Seq, r.Time.UnixNano(), r.Actor, r.Action, r.Resource, r.RequestDigest, r.Before, r.After,
					r.Status, r.RequestID, r.PrevHash, r.Hash)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			tt := newTarget(t)
			key := newKey(t)
			head := filepath.Join(t.TempDir(), "audit-head")
			l, err := audit.New(tt.Store, key, audit.Options{HeadFile: head})
			must(t, err)
			for i := 1; i <= n; i++ {
				if err := l.Append(ctx, auditEvent(i, "alice", "models:/m/"+strconv.Itoa(i))); err != nil {
					l.Close()
					t.Fatal(err)
				}
			}
			must(t, l.Close()) // writes the head file
			// The guards refuse changes until dropped.
			if _, err := tt.DB.ExecContext(ctx, `UPDATE audit_events SET actor = 'mallory'`); err == nil {
				t.Fatal("the append-only guard let an UPDATE of audit_events through")
			}
			if _, err := tt.DB.ExecContext(ctx, `DELETE FROM audit_checkpoints`); err == nil {
				t.Fatal("the append-only guard let a DELETE from audit_checkpoints through")
			}
			for _, q := range tt.Unguard {
				tt.exec(t, q)
			}
			tc.tamper(t, tt)

			opts := audit.Options{}
			if tc.headFile {
				opts.HeadFile = head
			}
			v, err := audit.New(tt.Store, key, opts)
			must(t, err)
			defer v.Close()
			rep, err := v.Verify(ctx)
			must(t, err)
			t.Logf("%s", rep)
			if tc.firstBad == 0 {
				if !rep.OK || rep.Problems != 0 {
					t.Fatalf("verify = %+v, want OK", rep)
				}
				return
			}
			if rep.OK || rep.FirstBad == nil || *rep.FirstBad != tc.firstBad || !strings.Contains(rep.Problem, tc.problem) {
				first := "nil"
				if rep.FirstBad != nil {
					first = strconv.FormatInt(*rep.FirstBad, 10)
				}
				t.Fatalf("verify: first bad %s, problem %q (%d problems); want %d, %q", first, rep.Problem, rep.Problems, tc.firstBad, tc.problem)
			}
		})
	}
}

// BenchAuditAppend measures audit.Log.Append of a typical request event
// over stores from newStore: "sequential" (one caller at a time: one
// transaction each) and "parallel" (8 × GOMAXPROCS callers: group
// commit). It reports events/s and the events per commit.
func BenchAuditAppend(b *testing.B, newStore func(b *testing.B) AuditStore) {
	ev := audit.Event{
		Actor: "alice", Action: "POST /api/2.0/mlflow/runs/log-metric", Resource: "runs:/0123456789abcdef0123456789abcdef",
		RequestDigest: audit.Digest("body"), Status: 200, RequestID: "0123456789abcdef",
	}
	run := func(b *testing.B, parallel bool) {
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		l, err := audit.New(newStore(b), key, audit.Options{HeadFile: filepath.Join(b.TempDir(), "audit-head")})
		if err != nil {
			b.Fatal(err)
		}
		defer l.Close()
		ctx := context.Background()
		b.ResetTimer()
		if parallel {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := l.Append(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		} else {
			for b.Loop() {
				if err := l.Append(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		rep, err := l.Verify(ctx)
		if err != nil || !rep.OK {
			b.Fatalf("verify: %v %v", rep, err)
		}
		b.ReportMetric(float64(rep.Entries)/float64(max(rep.Checkpoints, 1)), "events/commit")
	}
	b.Run("sequential", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}
