package remote

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// State is where an external runtime is in its life.
type State string

// States.
const (
	StateStarting   State = "starting"   // the process is starting, not yet healthy
	StateReady      State = "ready"      // predictions are sent to it
	StateRestarting State = "restarting" // it died or stopped answering; a new one is on its way
	StateFailed     State = "failed"     // it restarted too often (or could not start); no more tries
	StateStopped    State = "stopped"    // Close was called
)

// Status is a snapshot of an external runtime.
type Status struct {
	State State
	// Restarts counts the restarts since Open.
	Restarts int
	// LastError is why the process last stopped or a check failed
	// ("exited with status 1: <its last stderr line>").
	LastError string
	// PID is the process's id (0 for a url runtime or when none runs).
	PID int
}

// Options configures Open.
type Options struct {
	// Logger gets the runtime's events and its process's output, one
	// record per line (nil: slog.Default()).
	Logger *slog.Logger
	// Signature is used when the spec has none (e.g. an MLmodel file's).
	Signature *modelrt.Signature
	// Client sends the requests (nil: one with keep-alives and up to 64
	// idle connections per host).
	Client *http.Client

	tune *tuning // tests: faster backoff and grace
}

// tuning holds the supervisor's timings.
type tuning struct {
	poll         time.Duration // health polling while starting
	backoffMin   time.Duration // first restart delay
	backoffMax   time.Duration
	resetAfter   time.Duration // healthy this long: the delay starts over
	window       time.Duration // restarts counted against max_restarts within
	grace        time.Duration // SIGTERM → SIGKILL
	failedChecks int           // consecutive failed checks that restart it
}

func defaultTuning() tuning {
	return tuning{poll: 100 * time.Millisecond, backoffMin: 500 * time.Millisecond, backoffMax: 30 * time.Second,
		resetAfter: time.Minute, window: 10 * time.Minute, grace: 5 * time.Second, failedChecks: 3}
}

// Model is an external runtime: a model served by another process over
// HTTP. It implements modelrt.Model and is safe for concurrent use.
type Model struct {
	spec      Spec
	sig       modelrt.Signature
	wire      wire
	client    *http.Client
	ownClient bool
	log       *slog.Logger
	tune      tuning
	workDir   string

	mu         sync.Mutex
	status     Status
	base       string        // where predictions go; "" when not ready
	startProbe string        // the last failed health check while starting
	changed    chan struct{} // a state change (capacity 1)

	cancel    context.CancelFunc // stops the supervisor (command only)
	done      chan struct{}      // closed when the supervisor has stopped
	closeOnce sync.Once
}

var _ modelrt.Model = (*Model)(nil)

// Open connects to (url) or starts (command) the runtime spec describes
// and waits until it is ready, at most the spec's startup timeout. For a
// command, modelDir is the model's local directory, the base of the
// spec's dir; the process is supervised until Close. Without a signature
// in the spec or opts, an OIP runtime's comes from its model metadata;
// an MLflow runtime's is required. A bad spec or signature matches
// modelrt.ErrBadModel, a runtime that was not ready in time ErrNotReady.
func Open(ctx context.Context, spec Spec, modelDir string, opts Options) (*Model, error) {
	m, sig, err := newModel(spec, modelDir, opts)
	if err != nil {
		return nil, err
	}
	if err := m.start(ctx); err != nil {
		m.Close()
		return nil, err
	}
	var tensors []tensor
	if sig == nil && m.spec.Protocol == MLflow { // detected
		m.Close()
		return nil, bad("%s speaks MLflow's scoring protocol, which describes no inputs: give the model a signature", redact(m.spec.URL))
	}
	if sig == nil {
		s, t, err := m.metadata(ctx)
		if err != nil {
			m.Close()
			return nil, err
		}
		sig, tensors = &s, t
	}
	m.sig = copySignature(*sig)
	m.wire = newWire(m.spec.Protocol, m.spec.ModelName, m.sig, tensors)
	return m, nil
}

// newModel checks what Open is given; the signature is nil when it is
// to come from the runtime's metadata.
func newModel(spec Spec, modelDir string, opts Options) (*Model, *modelrt.Signature, error) {
	spec.withDefaults()
	if err := spec.Validate(); err != nil {
		return nil, nil, err
	}
	m := &Model{spec: spec, client: opts.Client, log: opts.Logger, tune: defaultTuning(), changed: make(chan struct{}, 1)}
	if opts.tune != nil {
		m.tune = *opts.tune
	}
	if m.client == nil {
		m.client, m.ownClient = newClient(), true
	}
	if m.log == nil {
		m.log = slog.Default()
	}
	var sig *modelrt.Signature
	switch {
	case spec.Signature != nil:
		sig = spec.Signature
	case opts.Signature != nil:
		if err := checkSignature(*opts.Signature, "the model's signature"); err != nil {
			return nil, nil, err
		}
		sig = opts.Signature
	case spec.Protocol == MLflow:
		return nil, nil, bad("signature is required for protocol mlflow (its scoring server describes no inputs): add signature.inputs")
	}
	if spec.Command != nil {
		if modelDir == "" {
			return nil, nil, fmt.Errorf("remote: a command runtime needs the model's local directory")
		}
		m.workDir = filepath.Join(modelDir, filepath.FromSlash(spec.Dir))
		if st, err := os.Stat(m.workDir); err != nil || !st.IsDir() {
			return nil, nil, bad("dir: %q is not a directory of the model", spec.Dir)
		}
		m.log = m.log.With("runtime", "external", "command", spec.Command[0])
	} else {
		m.log = m.log.With("runtime", "external", "url", redact(spec.URL))
	}
	if sig != nil {
		m.sig = copySignature(*sig)
	}
	return m, sig, nil
}

// copySignature copies s, with Float for a feature of no type.
func copySignature(s modelrt.Signature) modelrt.Signature {
	s.Inputs = append([]modelrt.Feature(nil), s.Inputs...)
	for i := range s.Inputs {
		if s.Inputs[i].Type == "" {
			s.Inputs[i].Type = modelrt.Float
		}
	}
	return s
}

func newClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// Signature describes the inputs and outputs.
func (m *Model) Signature() modelrt.Signature { return copySignature(m.sig) }

// Status returns a snapshot of the runtime's state.
func (m *Model) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.status
}

// setStatus changes the status under the lock and says so.
func (m *Model) setStatus(change func(*Status), base string) {
	m.mu.Lock()
	change(&m.status)
	m.base = base
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// readyBase returns where to send a request, or an ErrNotReady error at
// once when the runtime is not ready.
func (m *Model) readyBase() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.status.State == StateReady && m.base != "" {
		return m.base, nil
	}
	if m.status.LastError != "" {
		return "", notReady(nil, "the external runtime is %s: %s", m.status.State, m.status.LastError)
	}
	return "", notReady(nil, "the external runtime is %s", m.status.State)
}

// Close stops the runtime: a supervised process gets SIGTERM (its whole
// process group), then SIGKILL after a 5 s grace. Close returns once the
// process is gone; calling it again does nothing.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		if m.cancel != nil {
			m.cancel()
			<-m.done
		}
		m.setStatus(func(s *Status) { s.State, s.PID = StateStopped, 0 }, "")
		if m.ownClient {
			m.client.CloseIdleConnections()
		}
	})
	return nil
}
