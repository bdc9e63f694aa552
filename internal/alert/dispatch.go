package alert

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// job is one notification queued for one channel.
type job struct {
	rule    string
	at      time.Time
	payload *WebhookPayload
	// starts is set on the first notification with firing alerts since
	// the group had none: the start of a firing episode.
	starts bool
}

// dispatcher runs one worker goroutine per channel so that a channel sees
// its notifications in order and delivery never blocks evaluation.
type dispatcher struct {
	history     History
	logger      *slog.Logger
	timeout     time.Duration
	maxAttempts int
	backoff     time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	queues map[string]chan job
	chans  map[string]channel
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	pending int
	idle    chan struct{} // closed when pending drops to 0
}

func newDispatcher(chans map[string]channel, queueSize int, o Options) *dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcher{
		history: o.History, logger: o.Logger, timeout: o.Timeout,
		maxAttempts: o.MaxAttempts, backoff: o.Backoff,
		ctx: ctx, cancel: cancel,
		queues: map[string]chan job{}, chans: chans,
		idle: make(chan struct{}),
	}
	close(d.idle)
	for name, ch := range chans {
		q := make(chan job, queueSize)
		d.queues[name] = q
		d.wg.Add(1)
		go d.work(name, ch, q)
	}
	return d
}

// enqueue never blocks: a full queue drops the notification and records it.
func (d *dispatcher) enqueue(ctx context.Context, name string, j job) {
	d.mu.Lock()
	q, ok := d.queues[name]
	if d.closed || !ok {
		d.mu.Unlock()
		d.record(ctx, name, j, 0, "", errors.New("dispatcher closed"))
		return
	}
	select {
	case q <- j:
		if d.pending == 0 {
			d.idle = make(chan struct{})
		}
		d.pending++
		d.mu.Unlock()
	default:
		d.mu.Unlock()
		d.record(ctx, name, j, 0, "", errors.New("notification queue full; dropped"))
	}
}

func (d *dispatcher) done() {
	d.mu.Lock()
	d.pending--
	if d.pending == 0 {
		close(d.idle)
	}
	d.mu.Unlock()
}

func (d *dispatcher) work(name string, ch channel, q chan job) {
	defer d.wg.Done()
	for j := range q {
		d.send(name, ch, j)
		d.done()
	}
}

func (d *dispatcher) send(name string, ch channel, j job) {
	wait := d.backoff
	for attempt := 1; attempt <= d.maxAttempts; attempt++ {
		ctx, cancel := context.WithTimeout(d.ctx, d.timeout)
		target, err := ch.deliver(ctx, j)
		cancel()
		d.record(d.ctx, name, j, attempt, target, err)
		if err == nil || errors.Is(err, errPermanent) || d.ctx.Err() != nil || attempt == d.maxAttempts {
			if err != nil {
				d.logger.Warn("alert notification failed", "channel", name, "rule", j.rule,
					"group_key", j.payload.GroupKey, "attempts", attempt, "err", err)
			}
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-d.ctx.Done():
			t.Stop()
		}
		wait *= 2
	}
}

func (d *dispatcher) record(ctx context.Context, name string, j job, attempt int, target string, err error) {
	e := Event{Kind: EventNotification, Time: j.at, Rule: j.rule, GroupKey: j.payload.GroupKey,
		Channel: name, Status: j.payload.Status, Alerts: len(j.payload.Alerts), Attempt: attempt, Target: target,
		Labels: j.payload.GroupLabels}
	if err != nil {
		e.Err = err.Error()
	}
	if rerr := d.history.Record(context.WithoutCancel(ctx), e); rerr != nil {
		d.logger.Warn("alert history", "err", rerr)
	}
}

// flush waits until every queued notification has been attempted.
func (d *dispatcher) flush(ctx context.Context) error {
	for {
		d.mu.Lock()
		if d.pending == 0 {
			d.mu.Unlock()
			return nil
		}
		idle := d.idle
		d.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// close stops accepting work, waits for the queues to drain until ctx ends,
// then cancels in-flight deliveries and waits for the workers.
func (d *dispatcher) close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, q := range d.queues {
		close(q)
	}
	d.mu.Unlock()
	err := d.flush(ctx)
	d.cancel()
	d.wg.Wait()
	return err
}
