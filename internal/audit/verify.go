package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"runtime"
	"sync"
)

// Report is the outcome of Verify.
type Report struct {
	// OK reports that no problem was found.
	OK bool `json:"ok"`
	// Entries is the number of entries read; LastSeq the last one's seq.
	Entries int64 `json:"entries"`
	LastSeq int64 `json:"last_seq"`
	// Checkpoints is the number of signed checkpoints read from the store.
	Checkpoints int `json:"checkpoints"`
	// Signed is the seq up to which a valid checkpoint vouches for the log.
	Signed int64 `json:"signed"`
	// FirstBad is the first entry that cannot be trusted, when a problem
	// concerns entries (nil otherwise, e.g. an unreadable head file).
	FirstBad *int64 `json:"first_bad,omitempty"`
	// Problem describes the first problem, naming the entry and what is
	// wrong: "entry 17: hash mismatch (row edited?)".
	Problem string `json:"problem,omitempty"`
	// Problems counts the problems found; one tampering may cause more
	// than one.
	Problems int `json:"problems"`
}

// String summarises the report in one line.
func (r Report) String() string {
	if r.OK {
		return fmt.Sprintf("audit log OK: %d entries, %d checkpoints, signed up to %d", r.Entries, r.Checkpoints, r.Signed)
	}
	more := ""
	switch {
	case r.Problems == 2:
		more = " (and 1 more problem)"
	case r.Problems > 2:
		more = fmt.Sprintf(" (and %d more problems)", r.Problems-1)
	}
	return fmt.Sprintf("audit log BROKEN: %s%s", r.Problem, more)
}

// Verify reads the whole log and checks that
//
//   - the entries are numbered 1, 2, 3, ... without gaps;
//   - every entry's hash recomputes from its fields (HashRecord) and its
//     PrevHash is the previous entry's hash (GenesisHash for entry 1);
//   - every checkpoint in the store is signed by a trusted key and names
//     the hash of the entry at its seq, and no checkpoint lies beyond the
//     last entry;
//   - the last entry is covered by a valid checkpoint (every append signs
//     one in its own transaction, so an entry without one was not
//     written by Ferry);
//   - the head file (Options.HeadFile), and the newest checkpoint this Log
//     committed, are signed by a trusted key and match the entry at their
//     seq, which must exist: entries removed together with their
//     checkpoints are detected this way.
//
// Problems with the log are reported in the Report, the first one (in
// seq order) in Problem; the error is for failures to read it. Verify
// does not trust the store's head row, which only serialises appenders.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	v := &verifier{l: l, expect: 1, prevHash: GenesisHash}
	// External heads are read before the scan: whatever they cover was
	// committed before the scan starts, so the scan must reach it.
	if l.opts.HeadFile != "" {
		data, err := os.ReadFile(l.opts.HeadFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return v.rep, fmt.Errorf("audit: verify: read head file: %w", err)
		default:
			if cp, err := ParseCheckpoint(data); err != nil {
				v.problem(nil, fmt.Sprintf("head file %s is unreadable: %v", l.opts.HeadFile, err))
			} else {
				v.addHead("the head file", cp)
			}
		}
	}
	if cp, ok := l.latestCheckpoint(); ok {
		v.addHead("this server's last append", cp)
	}

	after := int64(math.MinInt64) // entries numbered below 1 are problems too
	for {
		ch, err := l.store.ReadAudit(ctx, after, l.opts.ScanChunk)
		if err != nil {
			return v.rep, fmt.Errorf("audit: verify: read entries after %d: %w", max(after, 0), err)
		}
		sigs := l.checkSignatures(ch.Checkpoints)
		ci := 0
		for _, r := range ch.Records {
			for ci < len(ch.Checkpoints) && ch.Checkpoints[ci].Seq < r.Seq {
				v.checkpoint(ch.Checkpoints[ci], sigs[ci], nil) // its entry is missing
				ci++
			}
			v.record(r)
			for ci < len(ch.Checkpoints) && ch.Checkpoints[ci].Seq == r.Seq {
				v.checkpoint(ch.Checkpoints[ci], sigs[ci], &r)
				ci++
			}
		}
		for ; ci < len(ch.Checkpoints); ci++ { // beyond the last entry
			v.checkpoint(ch.Checkpoints[ci], sigs[ci], nil)
		}
		// At the end, a full page of checkpoints may have more behind it.
		if ch.End && len(ch.Checkpoints) < l.opts.ScanChunk {
			break
		}
		next := after
		if n := len(ch.Records); n > 0 {
			next = ch.Records[n-1].Seq
		}
		if n := len(ch.Checkpoints); n > 0 {
			next = max(next, ch.Checkpoints[n-1].Seq)
		}
		if next <= after {
			return v.rep, errors.New("audit: verify: the store's scan does not advance")
		}
		after = next
	}
	v.finish()
	v.rep.OK = v.rep.Problems == 0
	return v.rep, nil
}

// sigStatus is the outcome of checking one checkpoint's signature.
type sigStatus uint8

const (
	sigValid sigStatus = iota
	sigUnknownKey
	sigBad
)

// checkSignatures checks the checkpoints' signatures, in parallel: an
// Ed25519 verification costs about 40 µs, far more than the rest of the
// work per entry.
func (l *Log) checkSignatures(cps []Checkpoint) []sigStatus {
	out := make([]sigStatus, len(cps))
	check := func(i int) {
		pub, ok := l.trusted[cps[i].KeyID]
		switch {
		case !ok:
			out[i] = sigUnknownKey
		case !cps[i].VerifySignature(pub):
			out[i] = sigBad
		}
	}
	workers := min(runtime.GOMAXPROCS(0), (len(cps)+31)/32)
	if workers <= 1 {
		for i := range cps {
			check(i)
		}
		return out
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(cps); i += workers {
				check(i)
			}
		})
	}
	wg.Wait()
	return out
}

// externalHead is a checkpoint kept outside the store.
type externalHead struct {
	source string
	cp     Checkpoint
}

// verifier holds the state of one Verify scan.
type verifier struct {
	l   *Log
	rep Report

	expect   int64  // the seq the next entry must have
	prevHash string // the stored hash of the previous entry
	started  bool   // an entry has been read

	signed     int64 // seq of the last checkpoint that is valid and matches
	mismatched bool  // a checkpoint since `signed` did not match its entry
	invalid    bool  // a checkpoint since `signed` had a bad or unknown signature
	beyond     int64 // highest valid checkpoint seq beyond the last entry

	heads []externalHead
}

// problem records one problem; the report keeps the one about the
// lowest entry (or the first found, when none names an entry).
func (v *verifier) problem(firstBad *int64, msg string) {
	v.rep.Problems++
	switch {
	case v.rep.Problems == 1,
		firstBad != nil && v.rep.FirstBad == nil,
		firstBad != nil && *firstBad < *v.rep.FirstBad:
		v.rep.FirstBad, v.rep.Problem = firstBad, msg
	}
}

func seqp(n int64) *int64 { return &n }

// entries names the range from..to.
func entries(from, to int64) string {
	if from == to {
		return fmt.Sprintf("entry %d", from)
	}
	return fmt.Sprintf("entries %d..%d", from, to)
}

// addHead checks an external checkpoint's signature and keeps it for the
// comparison with the entries.
func (v *verifier) addHead(source string, cp Checkpoint) {
	pub, ok := v.l.trusted[cp.KeyID]
	switch {
	case !ok:
		v.problem(nil, fmt.Sprintf("%s: checkpoint at %d signed by unknown key %s", source, cp.Seq, cp.KeyID))
	case !cp.VerifySignature(pub):
		v.problem(nil, fmt.Sprintf("%s: checkpoint at %d: bad signature", source, cp.Seq))
	default:
		v.heads = append(v.heads, externalHead{source: source, cp: cp})
	}
}

// record checks one entry against its predecessor and its own hash.
func (v *verifier) record(r Record) {
	v.rep.Entries++
	if r.Seq < v.expect { // only below 1: the store returns unique seqs in order
		v.problem(seqp(r.Seq), fmt.Sprintf("entry %d: sequence number out of range (the log starts at 1)", r.Seq))
		return
	}
	linked := true
	if r.Seq > v.expect {
		v.problem(seqp(v.expect), fmt.Sprintf("%s missing (sequence jumps from %d to %d)", entries(v.expect, r.Seq-1), v.expect-1, r.Seq))
		linked = false
	}
	if linked && r.PrevHash != v.prevHash {
		what := fmt.Sprintf("entry %d", r.Seq-1)
		if r.Seq == 1 {
			what = "the genesis hash"
		}
		v.problem(seqp(r.Seq), fmt.Sprintf("entry %d: previous-hash link broken (it does not name %s; row edited?)", r.Seq, what))
	}
	if HashRecord(r) != r.Hash {
		v.problem(seqp(r.Seq), fmt.Sprintf("entry %d: hash mismatch (row edited?)", r.Seq))
	}
	for _, h := range v.heads {
		if h.cp.Seq == r.Seq && h.cp.Hash != r.Hash {
			v.problem(seqp(v.signed+1), fmt.Sprintf("%s: rewritten (the checkpoint at %d in %s does not match)",
				entries(v.signed+1, r.Seq), r.Seq, h.source))
		}
	}
	v.prevHash = r.Hash
	v.expect = r.Seq + 1
	v.rep.LastSeq = r.Seq
	v.started = true
}

// checkpoint checks one stored checkpoint; rec is the entry at its seq,
// nil when there is none (a gap, or beyond the end of the log).
func (v *verifier) checkpoint(cp Checkpoint, sig sigStatus, rec *Record) {
	v.rep.Checkpoints++
	switch sig {
	case sigUnknownKey:
		v.problem(seqp(cp.Seq), fmt.Sprintf("checkpoint at %d signed by unknown key %s", cp.Seq, cp.KeyID))
		v.invalid = true
		return
	case sigBad:
		v.problem(seqp(cp.Seq), fmt.Sprintf("checkpoint at %d: bad signature", cp.Seq))
		v.invalid = true
		return
	}
	switch {
	case rec == nil && cp.Seq >= v.expect:
		// Beyond the entries read so far: the log was truncated, unless
		// it is a gap that a later entry will report.
		v.beyond = max(v.beyond, cp.Seq)
	case rec == nil:
		// The entry is missing: reported as a gap.
	case cp.Hash != rec.Hash:
		if !v.mismatched {
			v.problem(seqp(v.signed+1), fmt.Sprintf("%s: rewritten (the signed checkpoint at %d does not match; hashes recomputed without the key?)",
				entries(v.signed+1, cp.Seq), cp.Seq))
		}
		v.mismatched = true
	default:
		v.signed, v.mismatched, v.invalid = cp.Seq, false, false
	}
}

// finish checks what only the end of the scan shows: truncation and
// unsigned entries at the end.
func (v *verifier) finish() {
	last := v.rep.LastSeq
	// A checkpoint counted as beyond may have been followed by its entry
	// after all (a gap in between); only those beyond the last entry count.
	if v.beyond > last {
		v.problem(seqp(last+1), fmt.Sprintf("log ends at %d but a signed checkpoint covers %d (truncated)", last, v.beyond))
	}
	for _, h := range v.heads {
		if h.cp.Seq > last {
			v.problem(seqp(last+1), fmt.Sprintf("log ends at %d but the checkpoint in %s covers %d (truncated)", last, h.source, h.cp.Seq))
		}
	}
	// Unsigned entries at the end are reported unless a checkpoint after
	// the last good one was already reported as bad: that is the cause.
	if v.started && v.signed < last && !v.mismatched && !v.invalid {
		v.problem(seqp(v.signed+1), fmt.Sprintf("%s not covered by a signed checkpoint (the newest valid one is at %d; added outside Ferry?)",
			entries(v.signed+1, last), v.signed))
	}
	v.rep.Signed = v.signed
}
