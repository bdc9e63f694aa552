package audit

import (
	"context"
	"errors"
	"slices"
	"sync"
)

// memStore is an in-memory Store for the package's tests. Tests tamper
// with recs and cps directly.
type memStore struct {
	mu      sync.Mutex
	head    Head
	recs    []Record // ascending seq
	cps     []Checkpoint
	commits int   // transactions committed
	fail    error // AppendAudit fails with it, writing nothing

	// When gate is set, AppendAudit reports on entered and waits on gate
	// before its transaction.
	gate    chan struct{}
	entered chan struct{}
}

func newMemStore() *memStore { return &memStore{head: Head{Seq: 0, Hash: GenesisHash}} }

func (m *memStore) AppendAudit(ctx context.Context, fn func(Head) ([]Record, *Checkpoint, error)) error {
	if m.gate != nil {
		m.entered <- struct{}{}
		<-m.gate
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	recs, cp, err := fn(m.head)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	for i, r := range recs {
		if r.Seq != m.head.Seq+int64(i)+1 {
			return errors.New("memStore: records do not continue the head")
		}
	}
	m.recs = append(m.recs, recs...)
	if cp != nil {
		m.cps = append(m.cps, *cp)
	}
	last := recs[len(recs)-1]
	m.head = Head{Seq: last.Seq, Hash: last.Hash}
	m.commits++
	return nil
}

func (m *memStore) ReadAudit(ctx context.Context, afterSeq int64, limit int) (Chunk, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ch Chunk
	for _, r := range m.recs {
		if r.Seq > afterSeq && len(ch.Records) < limit {
			ch.Records = append(ch.Records, r)
		}
	}
	ch.End = len(ch.Records) < limit
	for _, c := range m.cps {
		if c.Seq > afterSeq && (ch.End || c.Seq <= ch.Records[len(ch.Records)-1].Seq) && len(ch.Checkpoints) < limit {
			ch.Checkpoints = append(ch.Checkpoints, c)
		}
	}
	return ch, nil
}

func (m *memStore) ListAudit(ctx context.Context, q Query) ([]Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	for _, r := range m.recs {
		if MatchResource(q.Resource, r.Resource) && (!q.ExactResource || q.Resource == r.Resource) && (q.Actor == "" || q.Actor == r.Actor) &&
			(q.AfterSeq == 0 || r.Seq > q.AfterSeq) && (q.BeforeSeq == 0 || r.Seq < q.BeforeSeq) {
			out = append(out, r)
		}
	}
	if q.NewestFirst {
		slices.Reverse(out)
	}
	return out[:min(len(out), q.Limit)], nil
}

// edit changes entry seq in place.
func (m *memStore) edit(seq int64, fn func(*Record)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.recs {
		if m.recs[i].Seq == seq {
			fn(&m.recs[i])
		}
	}
}

// remove deletes the entries and checkpoints whose seq del selects.
func (m *memStore) remove(entries, checkpoints func(seq int64) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if entries != nil {
		m.recs = slices.DeleteFunc(m.recs, func(r Record) bool { return entries(r.Seq) })
	}
	if checkpoints != nil {
		m.cps = slices.DeleteFunc(m.cps, func(c Checkpoint) bool { return checkpoints(c.Seq) })
	}
}

// rehash recomputes hashes and links from seq on, as an attacker without
// the key can.
func (m *memStore) rehash(from int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := GenesisHash
	for i := range m.recs {
		r := &m.recs[i]
		if r.Seq >= from {
			r.PrevHash = prev
			r.Hash = HashRecord(*r)
		}
		prev = r.Hash
	}
}
