package audit

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// filled returns a store with n entries appended one per transaction by
// a log with key, and the head file that log wrote.
func filled(t *testing.T, key ed25519.PrivateKey, n int) (*memStore, string) {
	t.Helper()
	s := newMemStore()
	head := filepath.Join(t.TempDir(), "audit-head")
	l, err := New(s, key, Options{HeadFile: head})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		if err := l.Append(context.Background(), ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return s, head
}

func TestVerify(t *testing.T) {
	const n = 20
	key := testKey(t)
	stranger := testKey(t)
	cases := []struct {
		name     string
		noHead   bool // verify without the head file
		tamper   func(t *testing.T, s *memStore, head string)
		firstBad int64 // 0: no entry named
		problem  string
	}{
		{name: "untouched", tamper: func(*testing.T, *memStore, string) {}},
		{name: "actor edited", firstBad: 7, problem: "entry 7: hash mismatch (row edited?)",
			tamper: func(t *testing.T, s *memStore, _ string) { s.edit(7, func(r *Record) { r.Actor = "mallory" }) }},
		{name: "hash column edited", firstBad: 7, problem: "entry 7: hash mismatch",
			tamper: func(t *testing.T, s *memStore, _ string) { s.edit(7, func(r *Record) { r.Hash = GenesisHash }) }},
		{name: "link edited", firstBad: 8, problem: "entry 8: previous-hash link broken (it does not name entry 7; row edited?)",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.edit(8, func(r *Record) { r.PrevHash = GenesisHash; r.Hash = HashRecord(*r) })
			}},
		{name: "first link edited", firstBad: 1, problem: "entry 1: previous-hash link broken (it does not name the genesis hash",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.edit(1, func(r *Record) { r.PrevHash = strings.Repeat("1", 64); r.Hash = HashRecord(*r) })
			}},
		{name: "middle entry deleted", firstBad: 17, problem: "entry 17 missing (sequence jumps from 16 to 18)",
			tamper: func(t *testing.T, s *memStore, _ string) { s.remove(func(q int64) bool { return q == 17 }, nil) }},
		{name: "entries deleted", firstBad: 5, problem: "entries 5..9 missing (sequence jumps from 4 to 10)",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.remove(func(q int64) bool { return q >= 5 && q <= 9 }, func(q int64) bool { return q >= 5 && q <= 9 })
			}},
		{name: "entry below 1", firstBad: -3, problem: "entry -3: sequence number out of range",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.recs = append([]Record{{Seq: -3, PrevHash: GenesisHash}}, s.recs...)
			}},
		{name: "tail deleted, checkpoints kept", firstBad: 18, problem: "log ends at 17 but a signed checkpoint covers 20 (truncated)",
			tamper: func(t *testing.T, s *memStore, _ string) { s.remove(func(q int64) bool { return q > 17 }, nil) }},
		{name: "everything deleted, checkpoints kept", firstBad: 1, problem: "log ends at 0 but a signed checkpoint covers 20 (truncated)",
			tamper: func(t *testing.T, s *memStore, _ string) { s.remove(func(int64) bool { return true }, nil) }},
		{name: "tail and checkpoints deleted", firstBad: 18, problem: "log ends at 17 but the checkpoint in the head file covers 20 (truncated)",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.remove(func(q int64) bool { return q > 17 }, func(q int64) bool { return q > 17 })
			}},
		{name: "everything deleted", firstBad: 1, problem: "log ends at 0 but the checkpoint in the head file covers 20 (truncated)",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.remove(func(int64) bool { return true }, func(int64) bool { return true })
			}},
		{name: "tail and checkpoints deleted, no head file", noHead: true,
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.remove(func(q int64) bool { return q > 17 }, func(q int64) bool { return q > 17 })
			}},
		{name: "rewritten and rehashed", firstBad: 12, problem: "entry 12: rewritten (the signed checkpoint at 12 does not match",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.edit(12, func(r *Record) { r.Status = 403 })
				s.rehash(12)
			}},
		{name: "rewritten and rehashed, sparse checkpoints", firstBad: 9, problem: "entries 9..12: rewritten (the signed checkpoint at 12 does not match",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.remove(nil, func(q int64) bool { return q > 8 && q < 12 })
				s.edit(10, func(r *Record) { r.Status = 403 })
				s.rehash(10)
			}},
		{name: "rewritten, rehashed, checkpoints deleted", firstBad: 12, problem: "entries 12..20: rewritten (the checkpoint at 20 in the head file does not match)",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.edit(12, func(r *Record) { r.Status = 403 })
				s.rehash(12)
				s.remove(nil, func(q int64) bool { return q >= 12 })
			}},
		{name: "rewritten, rehashed, checkpoints deleted, no head file", noHead: true, firstBad: 12,
			problem: "entries 12..20 not covered by a signed checkpoint (the newest valid one is at 11",
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.edit(12, func(r *Record) { r.Status = 403 })
				s.rehash(12)
				s.remove(nil, func(q int64) bool { return q >= 12 })
			}},
		{name: "checkpoint signature edited", firstBad: 4, problem: "checkpoint at 4: bad signature",
			tamper: func(t *testing.T, s *memStore, _ string) { s.cps[3].Signature[0] ^= 1 }},
		{name: "checkpoint by a stranger", firstBad: 4, problem: "checkpoint at 4 signed by unknown key " + KeyID(stranger.Public().(ed25519.PublicKey)),
			tamper: func(t *testing.T, s *memStore, _ string) {
				s.cps[3] = signCheckpoint(stranger, KeyID(stranger.Public().(ed25519.PublicKey)), s.cps[3].Seq, s.cps[3].Hash, time.Now())
			}},
		{name: "tail signed by a stranger", firstBad: 15, problem: "checkpoint at 15 signed by unknown key " + KeyID(stranger.Public().(ed25519.PublicKey)),
			tamper: func(t *testing.T, s *memStore, _ string) {
				// Another server (a key the verifier does not trust) appended
				// entries 11..20, in two transactions.
				s.remove(nil, func(q int64) bool { return q > 10 })
				for _, q := range []int64{15, 20} {
					s.cps = append(s.cps, signCheckpoint(stranger, KeyID(stranger.Public().(ed25519.PublicKey)), q, s.recs[q-1].Hash, time.Now()))
				}
			}},
		{name: "entry forged at the end", firstBad: 21, problem: "entry 21 not covered by a signed checkpoint (the newest valid one is at 20",
			tamper: func(t *testing.T, s *memStore, _ string) {
				r := Record{Seq: 21, Event: ev(21), PrevHash: s.recs[19].Hash}
				r.Hash = HashRecord(r)
				s.recs = append(s.recs, r)
			}},
		{name: "head file by a stranger", problem: "the head file: checkpoint at 20 signed by unknown key",
			tamper: func(t *testing.T, s *memStore, head string) {
				cp := signCheckpoint(stranger, KeyID(stranger.Public().(ed25519.PublicKey)), 20, s.recs[19].Hash, time.Now())
				writeFile(t, head, cp.Text())
			}},
		{name: "head file signature edited", problem: "the head file: checkpoint at 30: bad signature",
			tamper: func(t *testing.T, s *memStore, head string) {
				data, _ := os.ReadFile(head)
				cp, _ := ParseCheckpoint(data)
				cp.Seq = 30
				writeFile(t, head, cp.Text())
			}},
		{name: "head file unreadable", problem: "is unreadable: checkpoint must have exactly 5 newline-terminated lines",
			tamper: func(t *testing.T, s *memStore, head string) {
				data, _ := os.ReadFile(head)
				writeFile(t, head, data[:len(data)-1])
			}},
		{name: "head file removed", tamper: func(t *testing.T, s *memStore, head string) { os.Remove(head) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, head := filled(t, key, n)
			tc.tamper(t, s, head)
			// The outcome does not depend on how the scan is chunked.
			for _, chunk := range []int{1, 2, 3, 7, 1000} {
				opts := Options{HeadFile: head, ScanChunk: chunk}
				if tc.noHead {
					opts.HeadFile = ""
				}
				l := newTestLog(t, s, key, opts)
				rep, err := l.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tc.problem == "" {
					if !rep.OK || rep.Problems != 0 || rep.Problem != "" || rep.FirstBad != nil {
						t.Fatalf("chunk %d: %+v, want OK", chunk, rep)
					}
					continue
				}
				first := int64(0)
				if rep.FirstBad != nil {
					first = *rep.FirstBad
				}
				if rep.OK || first != tc.firstBad || !strings.Contains(rep.Problem, tc.problem) {
					t.Fatalf("chunk %d: first bad %d, %q (%d problems); want %d, %q", chunk, first, rep.Problem, rep.Problems, tc.firstBad, tc.problem)
				}
				if !strings.HasPrefix(rep.String(), "audit log BROKEN: "+rep.Problem) {
					t.Fatalf("String() = %q", rep.String())
				}
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyUsesOwnLastAppend: a running server detects entries removed
// with their checkpoints since its last append even before its head file
// is written.
func TestVerifyUsesOwnLastAppend(t *testing.T) {
	s := newMemStore()
	l := newTestLog(t, s, testKey(t), Options{})
	for i := range 5 {
		if err := l.Append(context.Background(), ev(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.remove(func(q int64) bool { return q > 3 }, func(q int64) bool { return q > 3 })
	rep, err := l.Verify(context.Background())
	if err != nil || rep.OK || !strings.Contains(rep.Problem, "log ends at 3 but the checkpoint in this server's last append covers 5") {
		t.Fatalf("%+v %v", rep, err)
	}
}

func TestVerifyTrustedKeys(t *testing.T) {
	old := testKey(t)
	s, _ := filled(t, old, 3)
	cur := testKey(t)
	l := newTestLog(t, s, cur, Options{TrustedKeys: []ed25519.PublicKey{old.Public().(ed25519.PublicKey)}})
	if err := l.Append(context.Background(), ev(4)); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background())
	if err != nil || !rep.OK || rep.Entries != 4 || rep.Checkpoints != 4 || rep.Signed != 4 {
		t.Fatalf("verify across a key rotation: %+v %v", rep, err)
	}
	if rep.String() != "audit log OK: 4 entries, 4 checkpoints, signed up to 4" {
		t.Fatalf("String() = %q", rep.String())
	}
}

func TestReportString(t *testing.T) {
	for problems, want := range map[int]string{1: "audit log BROKEN: p", 2: "audit log BROKEN: p (and 1 more problem)", 5: "audit log BROKEN: p (and 4 more problems)"} {
		if got := (Report{Problem: "p", Problems: problems}).String(); got != want {
			t.Errorf("%d problems: %q, want %q", problems, got, want)
		}
	}
}
