package serving

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/stats"
)

// Verdicts of a canary check.
const (
	VerdictWaiting = "waiting"
	VerdictPassed  = "passed"
	VerdictFailed  = "failed"
)

// shiftMinSample is the predictions each side needs before the shift
// of their distribution is judged.
const shiftMinSample = 50

// control runs the canary analysis every tick until ctx ends.
func (s *Service) control(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for name, e := range *s.endpoints.Load() {
				if e.Rollout.Active() && e.Rollout.Strategy == StrategyCanary {
					if err := s.analyse(ctx, name); err != nil && ctx.Err() == nil {
						s.log.Error("canary analysis failed", "endpoint", name, "error", err.Error())
					}
				}
			}
		}
	}
}

// analyse judges a canary's current step and acts on the verdict:
// nothing while waiting, the next weight (or promotion after the last)
// when it passed, a rollback with the reason when it failed.
func (s *Service) analyse(ctx context.Context, name string) error {
	s.change.Lock()
	defer s.change.Unlock()
	e := (*s.endpoints.Load())[name]
	if e == nil || !e.Rollout.Active() || e.Rollout.Strategy != StrategyCanary || e.Candidate == nil {
		return nil
	}
	now := s.now()
	c := judge(e.Rollout, e.Candidate.Window.Stats(), e.Stable.Window.Stats(), now.UnixMilli())
	switch c.Verdict {
	case VerdictFailed:
		return s.endRollout(ctx, e, ActorRollout, RolloutRolledBack,
			fmt.Sprintf("step %d (%d%%) failed: %s", c.Step+1, c.Weight, c.Reason), &c)
	case VerdictPassed:
		if e.Rollout.Step == len(e.Rollout.Steps)-1 {
			return s.endRollout(ctx, e, ActorRollout, RolloutPromoted,
				fmt.Sprintf("all %d steps passed", len(e.Rollout.Steps)), &c)
		}
		return s.step(ctx, e, now, &c)
	}
	// Waiting: keep the check for the status, without a transition.
	r := *e.Rollout
	r.LastCheck = &c
	d := e.Deployment
	d.Rollout = &r
	s.publish(newEndpoint(d, e.Stable, e.Candidate, e.Previous, e.shadow))
	return nil
}

// step moves a canary to its next weight with fresh analysis windows
// (the stable's is kept when the next weight leaves it no traffic).
func (s *Service) step(ctx context.Context, e *Endpoint, now time.Time, c *Check) error {
	r := *e.Rollout
	r.Step++
	r.Weight, r.StepStartedAt, r.LastCheck = r.Steps[r.Step], now.UnixMilli(), c
	d := e.Deployment
	d.Rollout, d.UpdatedAt = &r, now.UnixMilli()
	stable := &Variant{Ref: e.Stable.Ref, Loaded: e.Stable.Loaded, Role: RoleStable, Window: e.Stable.Window}
	if r.Weight < 100 {
		stable.Window = newWindow(now)
	}
	cand := &Variant{Ref: e.Candidate.Ref, Loaded: e.Candidate.Loaded, Role: RoleCandidate, Window: newWindow(now)}
	reason := fmt.Sprintf("step %d passed: error rate %.4g, p99 %.3g ms over %d requests", c.Step+1,
		c.Candidate.ErrorRate, c.Candidate.P99Ms, c.Candidate.Requests)
	return s.commit(ctx, e, newEndpoint(d, stable, cand, e.Previous, nil), ActorRollout, "rollout_step", reason)
}

// commit stores a transition of e to next, publishes it, records it in
// the history and the audit trail (on the request's record, or as the
// controller's own when actor is ActorRollout).
func (s *Service) commit(ctx context.Context, e, next *Endpoint, actor, action, reason string) error {
	d := next.Deployment
	if err := s.store.SaveDeployment(ctx, d, s.event(ctx, actor, action, d, reason)); err != nil {
		return err
	}
	s.publish(next)
	_ = s.retire(e, next, true)
	c := audit.Change{Action: "serving." + action, Resource: URI(d.Endpoint), Before: audit.Digest(e.Deployment), After: audit.Digest(d)}
	if actor != ActorRollout {
		audit.Note(ctx, c)
		return nil
	}
	if s.audit != nil {
		ev := audit.Event{Time: s.now(), Actor: actor, Action: c.Action, Resource: c.Resource, Before: c.Before, After: c.After, Status: 200}
		if err := s.audit.Append(context.WithoutCancel(ctx), ev); err != nil {
			s.log.Error("audit failed", "action", c.Action, "endpoint", d.Endpoint, "error", err.Error())
		}
	}
	s.log.Info("rollout "+action, "endpoint", d.Endpoint, "model", d.Model, "version", d.Version, "reason", reason)
	return nil
}

// endRollout promotes the candidate (it becomes the stable version) or
// rolls it back (the stable version keeps all traffic).
func (s *Service) endRollout(ctx context.Context, e *Endpoint, actor, state, reason string, c *Check) error {
	now := s.now().UnixMilli()
	r := endRollout(e.Rollout, state, reason, now)
	if c != nil {
		r.LastCheck = c
	}
	d := e.Deployment
	d.Rollout, d.UpdatedAt = r, now
	stable := &Variant{Ref: e.Stable.Ref, Loaded: e.Stable.Loaded, Role: RoleStable}
	action := "rollback"
	if state == RolloutPromoted {
		prev := e.Stable.Ref
		d.Ref, d.Previous, d.PreviousWarm = r.Ref, &prev, false
		stable = &Variant{Ref: e.Candidate.Ref, Loaded: e.Candidate.Loaded, Role: RoleStable}
		action = "promote"
	}
	var warm *Variant
	if d.PreviousWarm {
		warm = e.Previous
	}
	return s.commit(ctx, e, newEndpoint(d, stable, nil, warm, nil), actor, action, reason)
}

func endRollout(r *Rollout, state, reason string, now int64) *Rollout {
	c := *r
	c.State, c.Reason, c.EndedAt = state, reason, now
	if state == RolloutRolledBack {
		c.Weight = 0
	}
	return &c
}

// judge analyses a canary step from the windows of both variants.
func judge(r *Rollout, cand, stable WindowStats, now int64) Check {
	a := r.Analysis
	c := Check{Time: now, Step: r.Step, Weight: r.Weight, Candidate: cand, Stable: stable, Verdict: VerdictWaiting}
	if cand.Requests < a.MinRequests {
		c.Reason = fmt.Sprintf("waiting for traffic: the candidate answered %d of the %d requests a check needs", cand.Requests, a.MinRequests)
		return c
	}
	fail := func(format string, args ...any) Check {
		c.Verdict, c.Reason = VerdictFailed, fmt.Sprintf(format, args...)
		return c
	}
	if cand.ErrorRate > a.MaxErrorRate {
		return fail("error rate %.2f%% (%d of %d requests) is above the limit of %.2f%%",
			100*cand.ErrorRate, cand.Errors, cand.Requests, 100*a.MaxErrorRate)
	}
	if a.MaxP99Ms > 0 && cand.P99Ms > a.MaxP99Ms {
		return fail("p99 latency %.3g ms is above the limit of %.3g ms", cand.P99Ms, a.MaxP99Ms)
	}
	if stable.Requests >= a.MinRequests && cand.P99Ms > stable.P99Ms*a.MaxLatencyRatio+latencySlackMs {
		return fail("p99 latency %.3g ms is above %.3g × the stable version's %.3g ms + %g ms",
			cand.P99Ms, a.MaxLatencyRatio, stable.P99Ms, latencySlackMs)
	}
	if a.MaxShift > 0 && len(cand.sample) >= shiftMinSample && len(stable.sample) >= shiftMinSample {
		psi, err := stats.PSI(stable.sample, cand.sample, 0) // Evidently's binning
		if err == nil {
			c.Shift = psi
			if psi > a.MaxShift {
				return fail("the prediction distribution shifted: PSI %.3g against the stable version is above %.3g", psi, a.MaxShift)
			}
		}
	}
	if left := r.StepStartedAt + r.IntervalMs - now; left > 0 {
		c.Reason = fmt.Sprintf("passing so far; the step ends in %s", (time.Duration(left) * time.Millisecond).Round(time.Millisecond))
		return c
	}
	c.Verdict = VerdictPassed
	return c
}

// Promote ends an endpoint's rollout by making the candidate its stable
// version, or, after a blue-green switch, releases the previous version
// it kept warm.
func (s *Service) Promote(ctx context.Context, endpoint string) (Deployment, error) {
	e, err := s.changing(endpoint)
	if err != nil {
		return Deployment{}, err
	}
	defer s.change.Unlock()
	actor := audit.Actor(ctx)
	switch {
	case e.Rollout.Active():
		if err := s.endRollout(ctx, e, actor, RolloutPromoted, "promoted by "+actorName(actor), nil); err != nil {
			return Deployment{}, err
		}
	case e.Previous != nil:
		d := e.Deployment
		d.PreviousWarm, d.UpdatedAt = false, s.now().UnixMilli()
		stable := &Variant{Ref: e.Stable.Ref, Loaded: e.Stable.Loaded, Role: RoleStable}
		if err := s.commit(ctx, e, newEndpoint(d, stable, nil, nil, nil), actor, "promote",
			fmt.Sprintf("released version %d of model '%s' kept for rollback", e.Previous.Version, e.Previous.Model)); err != nil {
			return Deployment{}, err
		}
	default:
		return Deployment{}, errdefs.Conflict("Endpoint '%s' has no rollout in progress and no previous version kept warm: nothing to promote.", endpoint)
	}
	return (*s.endpoints.Load())[endpoint].Deployment, nil
}

// Rollback ends an endpoint's rollout keeping the stable version, or
// switches the endpoint back to the version it served before (instantly
// when a blue-green deployment kept it warm; otherwise it is loaded
// first).
func (s *Service) Rollback(ctx context.Context, endpoint string) (Deployment, error) {
	e, err := s.changing(endpoint)
	if err != nil {
		return Deployment{}, err
	}
	defer s.change.Unlock()
	actor := audit.Actor(ctx)
	if e.Rollout.Active() {
		if err := s.endRollout(ctx, e, actor, RolloutRolledBack, "rolled back by "+actorName(actor), nil); err != nil {
			return Deployment{}, err
		}
		return (*s.endpoints.Load())[endpoint].Deployment, nil
	}
	if e.Deployment.Previous == nil {
		return Deployment{}, errdefs.Conflict("Endpoint '%s' has no rollout in progress and no previous version: nothing to roll back to.", endpoint)
	}
	prev := e.Previous
	if prev == nil {
		if prev, err = s.loadVariant(ctx, *e.Deployment.Previous, RoleStable); err != nil {
			return Deployment{}, errdefs.Unavailable("The previous version %d of model '%s' cannot be loaded: %v", e.Deployment.Previous.Version, e.Deployment.Previous.Model, err)
		}
	}
	d := e.Deployment
	from := d.Ref
	d.Ref, d.Previous, d.PreviousWarm, d.UpdatedAt = prev.Ref, &from, false, s.now().UnixMilli()
	d.Strategy = StrategyDirect
	stable := &Variant{Ref: prev.Ref, Loaded: prev.Loaded, Role: RoleStable}
	reason := fmt.Sprintf("rolled back from version %d of model '%s' by %s", from.Version, from.Model, actorName(actor))
	if err := s.commit(ctx, e, newEndpoint(d, stable, nil, nil, nil), actor, "rollback", reason); err != nil {
		return Deployment{}, err
	}
	return d, nil
}

// changing takes the change lock and returns the endpoint; the caller
// unlocks.
func (s *Service) changing(endpoint string) (*Endpoint, error) {
	if err := ValidateEndpoint(endpoint); err != nil {
		return nil, err
	}
	s.change.Lock()
	e := (*s.endpoints.Load())[endpoint]
	if e == nil {
		s.change.Unlock()
		return nil, errdefs.NotFound("Endpoint '%s' does not exist or is not ready", endpoint)
	}
	return e, nil
}

func actorName(a string) string {
	if a == "" {
		return "an anonymous user"
	}
	return a
}
