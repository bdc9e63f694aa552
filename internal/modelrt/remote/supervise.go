package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"
)

// supervise runs the command until ctx is cancelled (Close) or it has
// restarted too often: each run is started on a fresh port, made ready,
// health-checked, and restarted with exponential backoff when it exits or
// stops answering.
func (m *Model) supervise(ctx context.Context) {
	defer close(m.done)
	t := m.tune
	backoff := t.backoffMin
	var recent []time.Time // restarts within the window
	for first := true; ; first = false {
		healthy, reason, fatal := m.runOnce(ctx)
		if ctx.Err() != nil {
			return // Close sets the state
		}
		if fatal && first {
			m.fail(reason, "could not start")
			return
		}
		if healthy >= t.resetAfter {
			backoff = t.backoffMin
		}
		now := time.Now()
		kept := recent[:0]
		for _, r := range recent {
			if now.Sub(r) < t.window {
				kept = append(kept, r)
			}
		}
		recent = kept
		if len(recent) >= m.spec.MaxRestarts {
			m.fail(reason, fmt.Sprintf("restarted %d times within %s", len(recent), t.window))
			return
		}
		recent = append(recent, now)
		m.setStatus(func(s *Status) {
			s.State, s.LastError, s.PID = StateRestarting, reason, 0
			s.Restarts++
		}, "")
		m.log.Warn("external runtime stopped; restarting", "reason", reason, "in", backoff.String())
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		backoff = min(2*backoff, t.backoffMax)
	}
}

// fail marks the runtime failed for good.
func (m *Model) fail(reason, why string) {
	m.log.Error("external runtime failed", "reason", reason, "why", why)
	m.setStatus(func(s *Status) { s.State, s.LastError, s.PID = StateFailed, reason, 0 }, "")
}

// runOnce starts the process and watches it until it is gone. It
// returns how long it was healthy and why it stopped; fatal when it
// could not be started at all.
func (m *Model) runOnce(ctx context.Context) (healthy time.Duration, reason string, fatal bool) {
	port, err := freePort()
	if err != nil {
		return 0, "no free port: " + err.Error(), false
	}
	argv := make([]string, len(m.spec.Command))
	for i, a := range m.spec.Command {
		argv[i] = strings.ReplaceAll(a, "${PORT}", port)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = m.workDir
	cmd.Env = m.environ(port)
	stdout := newLineWriter(m.log, "stdout")
	stderr := newLineWriter(m.log, "stderr")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A grandchild holding the pipes open does not keep Wait waiting.
	cmd.WaitDelay = time.Second
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return 0, "cannot start: " + err.Error(), true
	}
	pid := cmd.Process.Pid
	stdout.setPID(pid)
	stderr.setPID(pid)
	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	m.setStatus(func(s *Status) { s.PID = pid }, "")
	m.log.Info("external runtime started", "pid", pid, "port", port)
	base := "http://127.0.0.1:" + port

	// why tells how the process ended, with its last words.
	why := func() string {
		killGroup(cmd) // what the process left behind in its group
		stdout.flush()
		stderr.flush()
		r := exitReason(waitErr)
		if l := stderr.lastLine(); l != "" {
			r += ": " + l
		} else if l := stdout.lastLine(); l != "" {
			r += ": " + l
		}
		return r
	}
	stop := func() {
		m.stopProcess(cmd, exited)
		stdout.flush()
		stderr.flush()
	}

	// Starting: poll until healthy.
	deadline := time.NewTimer(m.spec.StartupTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(m.tune.poll)
	defer tick.Stop()
	var lastProbe error
	for ready := false; !ready; {
		select {
		case <-ctx.Done():
			stop()
			return 0, "stopped", false
		case <-exited:
			return 0, why(), false
		case <-deadline.C:
			stop()
			r := fmt.Sprintf("not ready within %s", m.spec.StartupTimeout)
			if lastProbe != nil {
				r += " (" + lastProbe.Error() + ")"
			}
			if l := stderr.lastLine(); l != "" {
				r += ": " + l
			}
			return 0, r, false
		case <-tick.C:
			if lastProbe = m.probe(ctx, base, m.spec.HealthPath); lastProbe == nil {
				ready = true
			} else {
				m.mu.Lock()
				m.startProbe = lastProbe.Error()
				m.mu.Unlock()
			}
		}
	}
	readyAt := time.Now()
	m.setStatus(func(s *Status) { s.State = StateReady }, base)
	m.log.Info("external runtime ready", "pid", pid, "port", port)

	// Ready: check every health_interval.
	tick.Reset(m.spec.HealthInterval)
	fails := 0
	for {
		select {
		case <-ctx.Done():
			stop()
			return time.Since(readyAt), "stopped", false
		case <-exited:
			m.setStatus(func(s *Status) { s.State = StateRestarting }, "")
			return time.Since(readyAt), why(), false
		case <-tick.C:
			err := m.probe(ctx, base, m.spec.HealthPath)
			if err == nil {
				fails = 0
				continue
			}
			if ctx.Err() != nil {
				continue
			}
			fails++
			m.log.Warn("external runtime health check failed", "pid", pid, "error", err.Error(), "in_a_row", fails)
			if fails >= m.tune.failedChecks {
				m.setStatus(func(s *Status) { s.State = StateRestarting }, "")
				stop()
				return time.Since(readyAt), fmt.Sprintf("%d health checks in a row failed: %v", fails, err), false
			}
		}
	}
}

// stopProcess ends the process group: SIGTERM, then SIGKILL after the
// grace period; it returns once the process is reaped.
func (m *Model) stopProcess(cmd *exec.Cmd, exited <-chan struct{}) {
	terminateGroup(cmd)
	grace := time.NewTimer(m.tune.grace)
	defer grace.Stop()
	select {
	case <-exited:
	case <-grace.C:
		m.log.Warn("external runtime ignored SIGTERM; killing it", "pid", cmd.Process.Pid)
		killGroup(cmd)
		<-exited
	}
	killGroup(cmd) // anything of its group still there
}

func exitReason(err error) string {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "exited with status 0"
	case errors.As(err, &ee):
		if code := ee.ExitCode(); code >= 0 {
			return "exited with status " + strconv.Itoa(code)
		}
		return "ended by " + ee.ProcessState.String()
	}
	return "ended: " + err.Error()
}

// environ is the command's environment: Ferry's own less its FERRY_*
// settings (they may hold secrets), the spec's env, and PORT.
func (m *Model) environ(port string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FERRY_") || strings.HasPrefix(kv, "PORT=") {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(m.spec.Env))
	for k := range m.spec.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+strings.ReplaceAll(m.spec.Env[k], "${PORT}", port))
	}
	return append(env, "PORT="+port)
}

// freePort picks a free loopback port.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return "", err
	}
	return strconv.Itoa(port), nil
}
