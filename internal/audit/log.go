package audit

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Store is the persistence the log needs. An implementation keeps the
// entries, the checkpoints and the head (a single row that serialises
// appenders) and must let several Log instances, in one process or in
// several sharing a database, append to one chain.
type Store interface {
	// AppendAudit runs one write transaction: it locks and reads the
	// head (Head{0, GenesisHash} for an empty log), calls fn with it,
	// inserts the records and the checkpoint fn returns, sets the head to
	// the last record, and commits. Concurrent calls, also from other
	// processes, must be serialised by the lock on the head, so that fn
	// always sees the latest committed head. Nothing is written when fn
	// or any insert fails. fn may be called again if the store retries.
	AppendAudit(ctx context.Context, fn func(head Head) ([]Record, *Checkpoint, error)) error
	// ReadAudit returns, from one consistent snapshot, up to limit
	// records with seq > afterSeq in ascending seq order, and the
	// checkpoints with afterSeq < seq <= the last returned record's seq
	// in ascending order (at most limit of them). When fewer than limit
	// records are returned (End), the checkpoints are all those with seq
	// > afterSeq (again at most limit), including any beyond the last
	// record. Verify reads the whole log this way, chunk by chunk.
	ReadAudit(ctx context.Context, afterSeq int64, limit int) (Chunk, error)
	// ListAudit returns the records q selects; q is Normalized.
	ListAudit(ctx context.Context, q Query) ([]Record, error)
}

// Chunk is one step of a scan of the log (Store.ReadAudit).
type Chunk struct {
	Records     []Record
	Checkpoints []Checkpoint
	// End reports that no record follows the returned ones.
	End bool
}

// ErrClosed is returned by Append after Close.
var ErrClosed = fmt.Errorf("audit log is closed: %w", errdefs.ErrUnavailable)

// Options configure a Log. Zero fields take the documented defaults.
type Options struct {
	// TrustedKeys are the public keys, besides the log's own, whose
	// checkpoints Verify accepts: the keys of the other servers sharing
	// the database, and retired keys of this one.
	TrustedKeys []ed25519.PublicKey
	// HeadFile is where the log keeps a copy of its latest checkpoint,
	// outside the database (normally in the data directory); "" keeps
	// none. Verify checks that the log still reaches it, which detects
	// entries removed together with their checkpoints.
	HeadFile string
	// HeadInterval is the least time between two writes of HeadFile
	// (default: one second).
	HeadInterval time.Duration
	// Now is the clock (default: time.Now).
	Now func() time.Time
	// Logger receives errors of the background head file writer
	// (default: slog.Default()).
	Logger *slog.Logger
	// MaxBatch caps the events that concurrent Append calls share one
	// transaction with (default 1000); one call's events always go into
	// one transaction, however many.
	MaxBatch int
	// ScanChunk is the number of entries Verify reads at a time (default 1000).
	ScanChunk int
}

// Log is the audit trail: it appends events to the store's hash chain,
// signs a checkpoint in every append transaction, keeps the head file
// and verifies the whole. Its methods are safe for concurrent use.
type Log struct {
	store   Store
	key     ed25519.PrivateKey
	keyID   string
	trusted map[string]ed25519.PublicKey // by KeyID
	opts    Options

	reqs      chan *appendReq
	stop      chan struct{} // closed by Close
	headDirty chan struct{} // a new checkpoint awaits the head file writer
	wg        sync.WaitGroup

	mu          sync.Mutex
	latest      *Checkpoint // newest checkpoint this Log committed
	headWritten int64       // seq of the last checkpoint written to the head file

	closeOnce sync.Once
	closeErr  error
}

// appendReq is one Append call waiting for the writer.
type appendReq struct {
	events []Event
	done   chan error // buffered: the writer never blocks on it
}

// New returns a log over store that signs with key, and starts its
// writer. Close it to stop the writer and write the head file a last time.
func New(store Store, key ed25519.PrivateKey, opts Options) (*Log, error) {
	if store == nil {
		return nil, errors.New("audit: nil store")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("audit: signing key has %d bytes, want an Ed25519 private key (%d)", len(key), ed25519.PrivateKeySize)
	}
	if opts.HeadInterval <= 0 {
		opts.HeadInterval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 1000
	}
	if opts.ScanChunk <= 0 {
		opts.ScanChunk = 1000
	}
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("audit: signing key has no Ed25519 public key")
	}
	l := &Log{
		store:     store,
		key:       key,
		keyID:     KeyID(pub),
		trusted:   map[string]ed25519.PublicKey{KeyID(pub): pub},
		opts:      opts,
		reqs:      make(chan *appendReq),
		stop:      make(chan struct{}),
		headDirty: make(chan struct{}, 1),
	}
	for _, k := range opts.TrustedKeys {
		if len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("audit: trusted key has %d bytes, want an Ed25519 public key (%d)", len(k), ed25519.PublicKeySize)
		}
		l.trusted[KeyID(k)] = k
	}
	l.wg.Add(1)
	go l.writer()
	if opts.HeadFile != "" {
		l.wg.Add(1)
		go l.headWriter()
	}
	return l, nil
}

// KeyID returns the id of the log's signing key.
func (l *Log) KeyID() string { return l.keyID }

// PublicKey returns the public half of the log's signing key.
func (l *Log) PublicKey() ed25519.PublicKey {
	pub, _ := l.key.Public().(ed25519.PublicKey)
	return pub
}

// Append appends events as consecutive entries, atomically: all of them
// or none. It returns once they are committed (or failed). Concurrent
// calls share transactions (group commit); a lone call is committed at
// once. Events are normalized first (see Event): a zero Time becomes the
// log's clock, invalid UTF-8 and NUL become U+FFFD, overlong text is cut.
//
// When ctx ends while the events wait for their transaction, Append
// returns ctx's error, and the events may still be recorded.
func (l *Log) Append(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	evs := make([]Event, len(events))
	for i, e := range events {
		var err error
		if evs[i], err = normalize(e, l.opts.Now); err != nil {
			return fmt.Errorf("audit: append: %w", err)
		}
	}
	r := &appendReq{events: evs, done: make(chan error, 1)}
	select {
	case l.reqs <- r:
	case <-l.stop:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("audit: append: %w", ctx.Err())
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit: append (the events may still be recorded): %w", ctx.Err())
	}
}

// writer is the single goroutine that commits appends: it takes the
// calls that are waiting, up to MaxBatch events, and commits them in one
// transaction, so that concurrent requests share the cost of a commit.
func (l *Log) writer() {
	defer l.wg.Done()
	var carry *appendReq // the call that did not fit the previous batch
	for {
		first := carry
		carry = nil
		if first == nil {
			select {
			case first = <-l.reqs:
			case <-l.stop:
				l.drain()
				return
			}
		}
		batch, n := []*appendReq{first}, len(first.events)
	collect:
		for n < l.opts.MaxBatch {
			select {
			case r := <-l.reqs:
				if n+len(r.events) > l.opts.MaxBatch {
					carry = r
					break collect
				}
				batch, n = append(batch, r), n+len(r.events)
			default:
				break collect
			}
		}
		l.commit(batch)
	}
}

// drain commits the calls caught waiting when the log closed.
func (l *Log) drain() {
	for {
		select {
		case r := <-l.reqs:
			l.commit([]*appendReq{r})
		default:
			return
		}
	}
}

// commit appends the events of batch in one transaction and answers
// every call of it.
func (l *Log) commit(batch []*appendReq) {
	var cp Checkpoint
	// A background context, never a request's: an append must commit
	// durably, and stores may relax the commits of a request's own writes
	// because the append that follows makes them durable (see
	// sqlstore.Dialect.RelaxedSync).
	err := l.store.AppendAudit(context.Background(), func(h Head) ([]Record, *Checkpoint, error) {
		if h.Seq < 0 || !validHash(h.Hash) {
			return nil, nil, fmt.Errorf("audit head (%d, %q) is corrupt", h.Seq, h.Hash)
		}
		var recs []Record
		seq, prev := h.Seq, h.Hash
		for _, r := range batch {
			for _, e := range r.events {
				seq++
				rec := Record{Seq: seq, Event: e, PrevHash: prev}
				rec.Hash = HashRecord(rec)
				prev = rec.Hash
				recs = append(recs, rec)
			}
		}
		cp = signCheckpoint(l.key, l.keyID, seq, prev, l.opts.Now())
		return recs, &cp, nil
	})
	if err != nil {
		err = fmt.Errorf("audit: append: %w", err)
	} else {
		l.mu.Lock()
		if l.latest == nil || cp.Seq > l.latest.Seq {
			l.latest = &cp
		}
		l.mu.Unlock()
		select {
		case l.headDirty <- struct{}{}:
		default:
		}
	}
	for _, r := range batch {
		r.done <- err
	}
}

// latestCheckpoint returns the newest checkpoint this Log committed.
func (l *Log) latestCheckpoint() (Checkpoint, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latest == nil {
		return Checkpoint{}, false
	}
	return *l.latest, true
}

// headWriter writes the head file after appends, at most once per
// HeadInterval.
func (l *Log) headWriter() {
	defer l.wg.Done()
	for {
		select {
		case <-l.headDirty:
		case <-l.stop:
			return
		}
		if err := l.writeHead(); err != nil {
			l.opts.Logger.Error("audit: write head file", slog.String("path", l.opts.HeadFile), slog.String("error", err.Error()))
		}
		t := time.NewTimer(l.opts.HeadInterval)
		select {
		case <-t.C:
		case <-l.stop:
			t.Stop()
			return
		}
	}
}

// writeHead writes the latest checkpoint to the head file unless the file
// already holds one as new: the head file never moves backwards, so a
// server restarted on a truncated database keeps the evidence.
func (l *Log) writeHead() error {
	if l.opts.HeadFile == "" {
		return nil
	}
	cp, ok := l.latestCheckpoint()
	if !ok {
		return nil
	}
	l.mu.Lock()
	done := cp.Seq <= l.headWritten
	l.mu.Unlock()
	if done {
		return nil
	}
	old, err := os.ReadFile(l.opts.HeadFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read head file: %w", err)
	default:
		prev, perr := ParseCheckpoint(old)
		if perr == nil && prev.Seq >= cp.Seq {
			return nil
		}
		if perr != nil {
			l.opts.Logger.Warn("audit: replacing unreadable head file", slog.String("path", l.opts.HeadFile), slog.String("error", perr.Error()))
		}
	}
	if err := writeFileAtomic(l.opts.HeadFile, cp.Text()); err != nil {
		return err
	}
	l.mu.Lock()
	l.headWritten = max(l.headWritten, cp.Seq)
	l.mu.Unlock()
	return nil
}

// Close stops the writer after committing the appends already waiting,
// and writes the head file a last time. Append fails with ErrClosed
// afterwards. Close is idempotent.
func (l *Log) Close() error {
	l.closeOnce.Do(func() {
		close(l.stop)
		l.wg.Wait()
		if err := l.writeHead(); err != nil {
			l.closeErr = fmt.Errorf("audit: write head file: %w", err)
		}
	})
	return l.closeErr
}

// List returns the entries q selects (Query.Normalized applies).
func (l *Log) List(ctx context.Context, q Query) ([]Record, error) {
	recs, err := l.store.ListAudit(ctx, q.Normalized())
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return recs, nil
}
