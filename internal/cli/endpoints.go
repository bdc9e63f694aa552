package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

const deployUsage = `Usage: ferry deploy ENDPOINT --model URI [--strategy S] [rollout flags]

Serve a registered model version at ENDPOINT, after the policy gates that
guard deployments allow it. URI is models:/NAME/VERSION, models:/NAME@ALIAS,
models:/NAME/STAGE or models:/NAME/latest. The endpoint then answers the Open
Inference Protocol at /v2/models/ENDPOINT/infer and MLflow's scoring protocol
at /endpoints/ENDPOINT/invocations.

Strategies:
  direct       replace what the endpoint serves at once (the default)
  blue-green   load and health-check the version, switch all traffic at once,
               keep the previous version loaded: ferry rollback switches back
               instantly, ferry promote releases it
  canary       send the version a growing share of requests (--steps) and
               analyse each step (--interval) against the stable version:
               error rate, p99 latency and, with --max-shift, the shift of its
               predictions; a failed step rolls back by itself with the reason,
               the last passed step promotes it
  shadow       mirror --weight percent of requests to the version off the
               request path and compare its answers (clients get the stable's)
  ab           split requests by --weight, sticky per --sticky key; compare
               the variants' metrics and, with ground truth sent to the
               feedback API, their accuracy or error with a significance test
Canary, shadow and ab need a stable version at the endpoint; end them with
ferry promote or ferry rollback.

Flags:
  --model URI            the model version to serve (required)
  --strategy S           direct, blue-green, canary, shadow or ab
  --steps W,W,...        canary weights in percent (default 5,10,25,50,100)
  --interval D           canary step length (default 1m)
  --weight N             ab candidate share (default 50) or shadow mirror
                         share (default 100), in percent
  --sticky KEY           ab stickiness: header:NAME or field:FEATURE
  --max-error-rate R     canary: the highest error rate a step passes with
                         (default 0.01)
  --max-latency-ratio R  canary: the highest p99 latency, as a multiple of the
                         stable version's, plus 1 ms (default 2)
  --max-p99-ms MS        canary: an absolute p99 latency limit
  --max-shift PSI        canary: the highest PSI of the candidate's predictions
                         against the stable's (off by default)
  --min-requests N       canary: requests a step needs before it is judged
                         (default 10)
`

const promoteUsage = `Usage: ferry promote ENDPOINT

End the endpoint's rollout by making its candidate the stable version (a
canary skips its remaining steps), or after a blue-green deployment release
the previous version it kept loaded.
`

const rollbackUsage = `Usage: ferry rollback ENDPOINT

End the endpoint's rollout, keeping the stable version; without a rollout,
switch the endpoint back to the version it served before (instantly after a
blue-green deployment).
`

const endpointsListUsage = `Usage: ferry endpoints list

List the endpoints: ENDPOINT, MODEL, VERSION, STRATEGY, STATUS, ROLLOUT,
UPDATED (UTC).
`

const endpointsStatusUsage = `Usage: ferry endpoints status ENDPOINT

Show what an endpoint serves, its status (ready, or failed with the reason),
its rollout (state, weight, the last analysis), what each variant did, the
shadow's comparison or the A/B outcome, its latest transitions and the URLs
that answer predictions.
`

const endpointsRemoveUsage = `Usage: ferry endpoints rm ENDPOINT

Stop serving ENDPOINT.
`

type ref struct {
	Model   string `json:"model"`
	Version int64  `json:"version"`
}

type windowStats struct {
	Requests       int64   `json:"requests"`
	Errors         int64   `json:"errors"`
	ErrorRate      float64 `json:"error_rate"`
	P50Ms          float64 `json:"p50_ms"`
	P99Ms          float64 `json:"p99_ms"`
	MeanPrediction float64 `json:"mean_prediction"`
}

type rollout struct {
	Strategy  string `json:"strategy"`
	Model     string `json:"model"`
	Version   int64  `json:"version"`
	State     string `json:"state"`
	Weight    int    `json:"weight"`
	Steps     []int  `json:"steps"`
	Step      int    `json:"step"`
	Sticky    string `json:"sticky"`
	Reason    string `json:"reason"`
	LastCheck *struct {
		Verdict string  `json:"verdict"`
		Reason  string  `json:"reason"`
		Shift   float64 `json:"shift"`
	} `json:"last_check"`
}

type deployment struct {
	Endpoint     string   `json:"endpoint"`
	Model        string   `json:"model"`
	Version      int64    `json:"version"`
	Strategy     string   `json:"strategy"`
	Status       string   `json:"status"`
	Message      string   `json:"message"`
	Rollout      *rollout `json:"rollout"`
	Previous     *ref     `json:"previous"`
	PreviousWarm bool     `json:"previous_warm"`
	CreatedAt    int64    `json:"created_at"`
	UpdatedAt    int64    `json:"updated_at"`
}

func (d deployment) rolloutCell() string {
	r := d.Rollout
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%s v%d %s %d%%", r.Strategy, r.Version, r.State, r.Weight)
}

func oneArg(args []string, what string) (string, error) {
	switch {
	case len(args) == 0:
		return "", usagef("missing %s", what)
	case len(args) > 1:
		return "", usagef("unexpected argument %q", args[1])
	}
	return args[0], nil
}

func deployCmd(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	model := fs.String("model", "", "")
	strategy := fs.String("strategy", "direct", "")
	steps := fs.String("steps", "", "")
	interval := fs.String("interval", "", "")
	weight := fs.Int("weight", 0, "")
	sticky := fs.String("sticky", "", "")
	maxErr := fs.Float64("max-error-rate", 0, "")
	maxRatio := fs.Float64("max-latency-ratio", 0, "")
	maxP99 := fs.Float64("max-p99-ms", 0, "")
	maxShift := fs.Float64("max-shift", 0, "")
	minReq := fs.Int64("min-requests", 0, "")
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		if *model == "" {
			return usagef("--model is required (models:/NAME/VERSION or models:/NAME@ALIAS)")
		}
		body := map[string]any{"endpoint": endpoint, "model": *model, "strategy": *strategy}
		if *steps != "" {
			var ws []int
			for _, f := range strings.Split(*steps, ",") {
				w, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					return usagef("--steps: %q is not a whole number", f)
				}
				ws = append(ws, w)
			}
			body["steps"] = ws
		}
		if *interval != "" {
			body["interval"] = *interval
		}
		if *weight != 0 {
			body["weight"] = *weight
		}
		if *sticky != "" {
			body["sticky"] = *sticky
		}
		analysis := map[string]any{}
		for k, v := range map[string]float64{"max_error_rate": *maxErr, "max_latency_ratio": *maxRatio,
			"max_p99_ms": *maxP99, "max_shift": *maxShift, "min_requests": float64(*minReq)} {
			if v != 0 {
				analysis[k] = v
			}
		}
		if len(analysis) > 0 {
			body["analysis"] = analysis
		}
		var out struct {
			Deployment deployment `json:"deployment"`
		}
		raw, err := s.client.callV1(ctx, "POST", "endpoints", nil, body, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		d := out.Deployment
		if r := d.Rollout; r != nil && r.State != "" && (r.State == "progressing" || r.State == "running") {
			return writeString(s.stdout, fmt.Sprintf("Started a %s rollout of version %d of model %s at endpoint %s (%d%%); version %d serves the rest.\n%s",
				r.Strategy, r.Version, cell(r.Model, 0), cell(d.Endpoint, 0), r.Weight, d.Version, servingURLs(s.server, d.Endpoint)))
		}
		return writeString(s.stdout, fmt.Sprintf("Deployed version %d of model %s at endpoint %s (%s).\n%s",
			d.Version, cell(d.Model, 0), cell(d.Endpoint, 0), d.Strategy, servingURLs(s.server, d.Endpoint)))
	}
}

// endpointAction posts promote or rollback.
func endpointAction(action string) func(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
		return func(ctx context.Context, s *session, args []string) error {
			endpoint, err := oneArg(args, "ENDPOINT")
			if err != nil {
				return err
			}
			var out struct {
				Deployment deployment `json:"deployment"`
			}
			raw, err := s.client.callV1(ctx, "POST", "endpoints/"+url.PathEscape(endpoint)+"/"+action, nil, nil, &out)
			if err != nil {
				return err
			}
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			d := out.Deployment
			msg := fmt.Sprintf("Endpoint %s serves version %d of model %s.\n", cell(d.Endpoint, 0), d.Version, cell(d.Model, 0))
			if r := d.Rollout; r != nil && r.Reason != "" {
				msg += fmt.Sprintf("Rollout of version %d: %s (%s).\n", r.Version, strings.ReplaceAll(r.State, "_", " "), cell(r.Reason, 0))
			}
			return writeString(s.stdout, msg)
		}
	}
}

func servingURLs(server, endpoint string) string {
	e := url.PathEscape(endpoint)
	return fmt.Sprintf("  Open Inference Protocol: POST %s/v2/models/%s/infer\n  MLflow scoring:          POST %s/endpoints/%s/invocations\n", server, e, server, e)
}

func endpointsList(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		var out struct {
			Deployments []deployment `json:"deployments"`
		}
		raw, err := s.client.callV1(ctx, "GET", "endpoints", nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if len(out.Deployments) == 0 {
			return writeString(s.stderr, "no endpoints\n")
		}
		t := newTable(s.stdout)
		t.row("ENDPOINT", "MODEL", "VERSION", "STRATEGY", "STATUS", "ROLLOUT", "UPDATED (UTC)")
		for _, d := range out.Deployments {
			t.row(cell(d.Endpoint, 0), cell(d.Model, 0), strconv.FormatInt(d.Version, 10), cell(d.Strategy, 0), cell(d.Status, 0), cell(d.rolloutCell(), 0), fmtTime(d.UpdatedAt))
		}
		return t.flush()
	}
}

type endpointStatus struct {
	Deployment deployment `json:"deployment"`
	Report     struct {
		Runtimes []struct {
			Role      string `json:"role"`
			Version   int64  `json:"version"`
			State     string `json:"state"`
			Restarts  int    `json:"restarts"`
			LastError string `json:"last_error"`
			PID       int    `json:"pid"`
		} `json:"runtimes"`
		Variants []struct {
			Role    string `json:"role"`
			Model   string `json:"model"`
			Version int64  `json:"version"`
			windowStats
		} `json:"variants"`
		Shadow *struct {
			Mirrored, Dropped, Compared, Failed, Rows int64
			AgreementRate                             float64 `json:"agreement_rate"`
			MeanAbsDiff                               float64 `json:"mean_abs_diff"`
			LatencyDeltaMs                            float64 `json:"latency_delta_ms"`
		} `json:"shadow"`
		Outcome *struct {
			Metric      string  `json:"metric"`
			Test        string  `json:"test"`
			Stable      float64 `json:"stable"`
			Candidate   float64 `json:"candidate"`
			StableN     int     `json:"stable_n"`
			CandidateN  int     `json:"candidate_n"`
			PValue      float64 `json:"p_value"`
			Significant bool    `json:"significant"`
			Note        string  `json:"note"`
		} `json:"outcome"`
	} `json:"report"`
	History []struct {
		Time      int64  `json:"time"`
		Actor     string `json:"actor"`
		Action    string `json:"action"`
		Version   int64  `json:"version"`
		Candidate ref    `json:"candidate"`
		Weight    int    `json:"weight"`
		Reason    string `json:"reason"`
	} `json:"history"`
}

func endpointsStatus(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		var out endpointStatus
		raw, err := s.client.callV1(ctx, "GET", "endpoints/"+url.PathEscape(endpoint), nil, nil, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		d := out.Deployment
		var b strings.Builder
		fmt.Fprintf(&b, "Endpoint %s\n  Model:     models:/%s/%d\n  Strategy:  %s\n  Status:    %s\n", cell(d.Endpoint, 0), cell(d.Model, 0), d.Version, cell(d.Strategy, 0), cell(d.Status, 0))
		if d.Message != "" {
			fmt.Fprintf(&b, "  Reason:    %s\n", cell(d.Message, 0))
		}
		if p := d.Previous; p != nil {
			warm := ""
			if d.PreviousWarm {
				warm = " (kept loaded for an instant rollback)"
			}
			fmt.Fprintf(&b, "  Previous:  models:/%s/%d%s\n", cell(p.Model, 0), p.Version, warm)
		}
		if r := d.Rollout; r != nil {
			fmt.Fprintf(&b, "  Rollout:   %s of models:/%s/%d, %s, weight %d%%", r.Strategy, cell(r.Model, 0), r.Version, strings.ReplaceAll(r.State, "_", " "), r.Weight)
			if len(r.Steps) > 0 {
				fmt.Fprintf(&b, ", step %d of %d %v", r.Step+1, len(r.Steps), r.Steps)
			}
			if r.Sticky != "" {
				fmt.Fprintf(&b, ", sticky by %s", cell(r.Sticky, 0))
			}
			b.WriteString("\n")
			if r.Reason != "" {
				fmt.Fprintf(&b, "  Why:       %s\n", cell(r.Reason, 0))
			}
			if c := r.LastCheck; c != nil && c.Reason != "" {
				fmt.Fprintf(&b, "  Analysis:  %s: %s\n", c.Verdict, cell(c.Reason, 0))
			}
		}
		for _, rt := range out.Report.Runtimes {
			fmt.Fprintf(&b, "  Runtime:   external (%s v%d): %s, %d restarts", rt.Role, rt.Version, cell(rt.State, 0), rt.Restarts)
			if rt.PID != 0 {
				fmt.Fprintf(&b, ", pid %d", rt.PID)
			}
			if rt.LastError != "" {
				fmt.Fprintf(&b, "; last error: %s", cell(rt.LastError, 0))
			}
			b.WriteString("\n")
		}
		if rep := out.Report; len(rep.Variants) > 0 {
			t := newTable(&b)
			t.row("  VARIANT", "VERSION", "REQUESTS", "ERRORS", "P50 MS", "P99 MS", "MEAN PREDICTION")
			for _, v := range rep.Variants {
				t.row("  "+v.Role, strconv.FormatInt(v.Version, 10), strconv.FormatInt(v.Requests, 10), strconv.FormatInt(v.Errors, 10),
					fmtFloat(v.P50Ms, 4), fmtFloat(v.P99Ms, 4), fmtFloat(v.MeanPrediction, 4))
			}
			if err := t.flush(); err != nil {
				return err
			}
		}
		if sh := out.Report.Shadow; sh != nil {
			fmt.Fprintf(&b, "  Shadow:    %d mirrored (%d dropped), %d compared, %d failed; agreement %.2f%% over %d rows, mean |diff| %s, latency delta %s ms\n",
				sh.Mirrored, sh.Dropped, sh.Compared, sh.Failed, 100*sh.AgreementRate, sh.Rows, fmtFloat(sh.MeanAbsDiff, 4), fmtFloat(sh.LatencyDeltaMs, 4))
		}
		if o := out.Report.Outcome; o != nil {
			verdict := "not significant"
			if o.Significant {
				verdict = "significant"
			}
			fmt.Fprintf(&b, "  Outcome:   %s stable %s (n=%d) vs candidate %s (n=%d); %s p=%s, %s",
				o.Metric, fmtFloat(o.Stable, 4), o.StableN, fmtFloat(o.Candidate, 4), o.CandidateN, o.Test, fmtFloat(o.PValue, 4), verdict)
			if o.Note != "" {
				fmt.Fprintf(&b, " (%s)", cell(o.Note, 0))
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  Deployed:  %s\n  Updated:   %s\n%s", fmtTime(d.CreatedAt), fmtTime(d.UpdatedAt), servingURLs(s.server, d.Endpoint))
		if len(out.History) > 0 {
			b.WriteString("  History (newest first):\n")
			for _, h := range out.History {
				what := fmt.Sprintf("v%d", h.Version)
				if h.Candidate.Version != 0 {
					what += fmt.Sprintf(", candidate v%d at %d%%", h.Candidate.Version, h.Weight)
				}
				fmt.Fprintf(&b, "    %s  %-13s %-26s %s", fmtTime(h.Time), h.Action, what, cell(h.Actor, 0))
				if h.Reason != "" {
					fmt.Fprintf(&b, ": %s", cell(h.Reason, 0))
				}
				b.WriteString("\n")
			}
		}
		return writeString(s.stdout, b.String())
	}
}

func endpointsRemove(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		raw, err := s.client.callV1(ctx, "DELETE", "endpoints/"+url.PathEscape(endpoint), nil, nil, nil)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, json.RawMessage(raw))
		}
		return writeString(s.stdout, "Endpoint "+cell(endpoint, 0)+" removed.\n")
	}
}
