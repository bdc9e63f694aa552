package predlog

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultBatchSize     = 256
	DefaultFlushInterval = time.Second
	DefaultBuffer        = 8192
	DefaultMaxRate       = 1000
)

// writeTimeout bounds one batch write, so that a stalled database makes
// the buffer overflow (records dropped and counted) instead of holding the
// writer forever.
const writeTimeout = 30 * time.Second

// warnEvery rate-limits the log lines about failed writes.
const warnEvery = 10 * time.Second

// Options tune a Logger. Zero fields take the defaults, except SampleRate,
// whose zero logs nothing.
type Options struct {
	// SampleRate is the share of requests logged, 0 to 1 (1 = all).
	// Values outside are clamped; NaN counts as 0.
	SampleRate float64
	// BatchSize is the most records written in one transaction
	// (default DefaultBatchSize).
	BatchSize int
	// FlushInterval is the longest a logged record waits for its batch to
	// fill (default DefaultFlushInterval).
	FlushInterval time.Duration
	// Buffer is how many records may wait to be written; more are dropped
	// (default DefaultBuffer).
	Buffer int
	// MaxRate bounds the records logged per second (default
	// DefaultMaxRate; negative: no bound). When the requests offered in a
	// second exceed it, the next second admits each with probability
	// MaxRate/offered: the log stays a uniform sample, and its cost stays
	// bounded however busy the endpoints are.
	MaxRate float64
	// Logger receives (rate-limited) write failures. Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock of the rate bound (default time.Now).
	Now func() time.Time
}

// Stats count what became of logged records.
type Stats struct {
	// Logged records were written.
	Logged uint64
	// Dropped records found the buffer full, or came after Close.
	Dropped uint64
	// Failed records were invalid or their batch failed to write.
	Failed uint64
	// Limited requests were sampled out to keep within MaxRate.
	Limited uint64
}

// Logger writes prediction records in batches, off the request path. A
// nil *Logger samples nothing and logs nothing.
type Logger struct {
	store    Store
	rate     float64
	batch    int
	interval time.Duration
	log      *slog.Logger

	ch chan Record
	// mu orders Log against Close: Log sends under the read lock, Close
	// sets closed under the write lock, so that once the writer drains the
	// channel no record can arrive after it.
	mu     sync.RWMutex
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	ctx       context.Context // cancelled when Close gives up waiting
	cancel    context.CancelFunc

	logged, dropped, failed, limited atomic.Uint64

	// The rate bound (admit): requests offered in the current second,
	// which second that is, and the probability of admission in it.
	maxRate float64
	now     func() time.Time
	offered atomic.Int64
	window  atomic.Int64
	admitP  atomic.Uint64 // float64 bits

	// Owned by the writer goroutine.
	lastWarn   time.Time
	suppressed uint64
}

// New starts a Logger writing to store; Close stops it.
func New(store Store, opts Options) *Logger {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	rate := opts.SampleRate
	switch {
	case math.IsNaN(rate) || rate < 0:
		rate = 0
	case rate > 1:
		rate = 1
	}
	if opts.MaxRate == 0 {
		opts.MaxRate = DefaultMaxRate
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Logger{
		store: store, rate: rate, batch: opts.BatchSize, interval: opts.FlushInterval, log: opts.Logger,
		ch: make(chan Record, opts.Buffer), stop: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel, maxRate: opts.MaxRate, now: opts.Now,
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.admitP.Store(math.Float64bits(1))
	go l.run()
	return l
}

// Sample reports whether this request should be logged: true with
// probability SampleRate, within MaxRate (see Admit). Call it before
// building the Record. It takes no lock.
func (l *Logger) Sample() bool {
	if l == nil || l.rate <= 0 {
		return false
	}
	if l.rate < 1 && rand.Float64() >= l.rate {
		return false
	}
	return l.Admit()
}

// Admit applies MaxRate alone, for requests logged whatever the sample
// rate (an A/B split's): it counts the request as offered and admits it
// with the probability the previous second's offers set.
func (l *Logger) Admit() bool {
	if l == nil {
		return false
	}
	if l.maxRate < 0 {
		return true
	}
	now := l.now().Unix()
	if w := l.window.Load(); w != now && l.window.CompareAndSwap(w, now) {
		n := l.offered.Swap(0)
		p := 1.0
		if now == w+1 && float64(n) > l.maxRate {
			p = l.maxRate / float64(n)
		}
		l.admitP.Store(math.Float64bits(p))
	}
	l.offered.Add(1)
	if p := math.Float64frombits(l.admitP.Load()); p >= 1 || rand.Float64() < p {
		return true
	}
	l.limited.Add(1)
	return false
}

// Log queues rec for writing and never blocks: when the buffer is full,
// or after Close, the record is dropped and counted. The Logger keeps the
// record's slices; the caller must not change them afterwards. A zero
// rec.Time is set to now. Log does not sample (see Sample).
func (l *Logger) Log(rec Record) {
	if l == nil {
		return
	}
	if rec.Time == 0 {
		rec.Time = time.Now().UnixMilli()
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		l.dropped.Add(1)
		return
	}
	select {
	case l.ch <- rec:
	default:
		l.dropped.Add(1)
	}
	l.mu.RUnlock()
}

// Stats returns the counts so far.
func (l *Logger) Stats() Stats {
	if l == nil {
		return Stats{}
	}
	return Stats{Logged: l.logged.Load(), Dropped: l.dropped.Load(), Failed: l.failed.Load(), Limited: l.limited.Load()}
}

// Close writes what is buffered and stops the writer; later Logs are
// dropped. If ctx ends first, the write in flight is cancelled, what is
// still buffered is dropped, and Close returns once the writer has
// stopped (the Store must honour its context). Close may be called more
// than once.
func (l *Logger) Close(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.stop)
	})
	select {
	case <-l.done:
		return nil
	case <-ctx.Done():
		l.cancel()
		<-l.done
		return fmt.Errorf("prediction log: close: %w", ctx.Err())
	}
}

// run is the writer goroutine.
func (l *Logger) run() {
	defer close(l.done)
	defer l.cancel()
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	batch := make([]Record, 0, l.batch)
	for {
		select {
		case rec := <-l.ch:
			batch = append(batch, rec)
			if len(batch) >= l.batch {
				batch = l.flush(batch)
			}
		case <-tick.C:
			batch = l.flush(batch)
		case <-l.stop:
			for {
				select {
				case rec := <-l.ch:
					batch = append(batch, rec)
					if len(batch) >= l.batch {
						batch = l.flush(batch)
					}
				default:
					l.flush(batch)
					return
				}
			}
		}
	}
}

// flush writes batch and returns it emptied for reuse.
func (l *Logger) flush(batch []Record) []Record {
	if len(batch) == 0 {
		return batch
	}
	defer clear(batch) // let the records' arrays go
	if l.ctx.Err() != nil {
		l.dropped.Add(uint64(len(batch)))
		return batch[:0]
	}
	valid := batch[:0]
	for _, rec := range batch {
		if err := rec.Validate(); err != nil {
			l.failed.Add(1)
			l.warn("prediction log: invalid record skipped", err, 1)
			continue
		}
		valid = append(valid, rec)
	}
	if len(valid) == 0 {
		return batch[:0]
	}
	ctx, cancel := context.WithTimeout(l.ctx, writeTimeout)
	err := l.store.AppendPredictions(ctx, valid)
	cancel()
	if err != nil {
		l.failed.Add(uint64(len(valid)))
		l.warn("prediction log: write failed", err, len(valid))
	} else {
		l.logged.Add(uint64(len(valid)))
	}
	return batch[:0]
}

// warn logs at most one line per warnEvery, with the number of failed
// records not reported since the last line.
func (l *Logger) warn(msg string, err error, records int) {
	l.suppressed += uint64(records)
	now := time.Now()
	if !l.lastWarn.IsZero() && now.Sub(l.lastWarn) < warnEvery {
		return
	}
	l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, slog.String("error", err.Error()),
		slog.Uint64("records", l.suppressed), slog.Uint64("failed_total", l.failed.Load()))
	l.lastWarn, l.suppressed = now, 0
}
