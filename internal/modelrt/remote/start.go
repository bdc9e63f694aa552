package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// start connects to the url (detecting the protocol if need be) or
// starts the supervised process, and waits until the runtime is ready.
func (m *Model) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.spec.StartupTimeout)
	defer cancel()
	if m.spec.URL != "" {
		base := m.spec.URL
		if m.spec.Protocol == "" {
			if err := m.detect(ctx, base); err != nil {
				return err
			}
		}
		if err := m.waitHealthy(ctx, base); err != nil {
			return err
		}
		m.setStatus(func(s *Status) { s.State = StateReady }, base)
		return nil
	}
	m.launch()
	for {
		st := m.Status()
		switch st.State {
		case StateReady:
			return nil
		case StateFailed:
			return fmt.Errorf("%w: the external runtime could not be started (%d restarts): %s", modelrt.ErrBadModel, st.Restarts, st.LastError)
		}
		select {
		case <-m.changed:
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.Canceled) {
				return fmt.Errorf("remote: opening the external runtime: %w", ctx.Err())
			}
			m.mu.Lock()
			why := m.startProbe
			m.mu.Unlock()
			if why == "" {
				why = st.LastError
			}
			if why == "" {
				why = "no answer on " + m.spec.HealthPath
			}
			return notReady(ctx.Err(), "the external runtime was not ready within %s (%d restarts; last: %s)", m.spec.StartupTimeout, st.Restarts, why)
		}
	}
}

// launch starts the supervisor of a command runtime.
func (m *Model) launch() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	m.setStatus(func(s *Status) { s.State = StateStarting }, "")
	go m.supervise(ctx)
}

// detect finds the protocol of a url runtime: OIP when
// /v2/health/ready answers 200, else MLflow when /ping does.
func (m *Model) detect(ctx context.Context, base string) error {
	tick := time.NewTicker(m.tune.poll)
	defer tick.Stop()
	var last error
	for {
		err := m.probe(ctx, base, "/v2/health/ready")
		if err == nil {
			m.spec.Protocol = OIP
			break
		}
		if last == nil || ctx.Err() == nil {
			last = err
		}
		if err := m.probe(ctx, base, "/ping"); err == nil {
			m.spec.Protocol = MLflow
			break
		} else if ctx.Err() == nil {
			last = fmt.Errorf("%v; %v", last, err)
		}
		select {
		case <-ctx.Done():
			return notReady(ctx.Err(), "%s answered neither GET /v2/health/ready (Open Inference Protocol) nor GET /ping (MLflow) with 200 within %s: %v",
				redact(base), m.spec.StartupTimeout, last)
		case <-tick.C:
		}
	}
	m.spec.HealthPath = ""
	m.spec.withDefaults()
	return nil
}

// waitHealthy polls the health path until it answers 200.
func (m *Model) waitHealthy(ctx context.Context, base string) error {
	tick := time.NewTicker(m.tune.poll)
	defer tick.Stop()
	var last error
	for {
		err := m.probe(ctx, base, m.spec.HealthPath)
		if err == nil {
			return nil
		}
		if last == nil || ctx.Err() == nil {
			last = err // not the one the deadline cut short
		}
		select {
		case <-ctx.Done():
			return notReady(ctx.Err(), "the external runtime at %s was not ready within %s: %v", redact(base), m.spec.StartupTimeout, last)
		case <-tick.C:
		}
	}
}

// probe checks one GET answers 200.
func (m *Model) probe(ctx context.Context, base, path string) error {
	ctx, cancel := context.WithTimeout(ctx, min(max(m.spec.Timeout, time.Second), max(m.spec.HealthInterval, m.tune.poll)))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", path, resp.Status)
	}
	return nil
}

// metadata reads an OIP model's signature from GET /v2/models/{name}.
func (m *Model) metadata(ctx context.Context) (modelrt.Signature, []tensor, error) {
	base, err := m.readyBase()
	if err != nil {
		return modelrt.Signature{}, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, max(m.spec.Timeout, 5*time.Second))
	defer cancel()
	path := "/v2/models/" + url.PathEscape(m.spec.ModelName)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return modelrt.Signature{}, nil, err
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return modelrt.Signature{}, nil, notReady(err, "GET %s: %v", path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := readBody(resp, 1<<20)
	if err != nil {
		return modelrt.Signature{}, nil, notReady(err, "GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return modelrt.Signature{}, nil, bad("no signature given, and GET %s (the model's metadata) answered %s: %s", path, resp.Status, errorMessage(b))
	}
	sig, tensors, err := signatureFromMetadata(b)
	if err != nil {
		return modelrt.Signature{}, nil, bad("no signature given, and GET %s: %v; add signature to %s", path, err, SpecFile)
	}
	return sig, tensors, nil
}
