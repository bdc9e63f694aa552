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

const deployUsage = `Usage: ferry deploy ENDPOINT --model URI [--strategy direct]

Serve a registered model version at ENDPOINT, after the policy gates that
guard deployments allow it. URI is models:/NAME/VERSION, models:/NAME@ALIAS,
models:/NAME/STAGE or models:/NAME/latest. The endpoint then answers the Open
Inference Protocol at /v2/models/ENDPOINT/infer and MLflow's scoring protocol
at /endpoints/ENDPOINT/invocations. Deploying again replaces what it serves.

Flags:
  --model URI       the model version to serve (required)
  --strategy S      direct (the only strategy so far)
`

const endpointsListUsage = `Usage: ferry endpoints list

List the endpoints: ENDPOINT, MODEL, VERSION, STRATEGY, STATUS, UPDATED (UTC).
`

const endpointsStatusUsage = `Usage: ferry endpoints status ENDPOINT

Show what an endpoint serves, its status (ready, or failed with the reason)
and the URLs that answer predictions.
`

const endpointsRemoveUsage = `Usage: ferry endpoints rm ENDPOINT

Stop serving ENDPOINT.
`

type deployment struct {
	Endpoint  string `json:"endpoint"`
	Model     string `json:"model"`
	Version   int64  `json:"version"`
	Strategy  string `json:"strategy"`
	Status    string `json:"status"`
	Message   string `json:"message"`
	CreatedAt int64  `json:"created_at"`
	UpdatedAt int64  `json:"updated_at"`
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
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		if *model == "" {
			return usagef("--model is required (models:/NAME/VERSION or models:/NAME@ALIAS)")
		}
		var out struct {
			Deployment deployment `json:"deployment"`
		}
		raw, err := s.client.callV1(ctx, "POST", "endpoints", nil,
			map[string]string{"endpoint": endpoint, "model": *model, "strategy": *strategy}, &out)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		d := out.Deployment
		return writeString(s.stdout, fmt.Sprintf("Deployed version %d of model %s at endpoint %s (%s).\n%s",
			d.Version, cell(d.Model, 0), cell(d.Endpoint, 0), d.Strategy, servingURLs(s.server, d.Endpoint)))
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
		t.row("ENDPOINT", "MODEL", "VERSION", "STRATEGY", "STATUS", "UPDATED (UTC)")
		for _, d := range out.Deployments {
			t.row(cell(d.Endpoint, 0), cell(d.Model, 0), strconv.FormatInt(d.Version, 10), cell(d.Strategy, 0), cell(d.Status, 0), fmtTime(d.UpdatedAt))
		}
		return t.flush()
	}
}

func endpointsStatus(*flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		endpoint, err := oneArg(args, "ENDPOINT")
		if err != nil {
			return err
		}
		var out struct {
			Deployment deployment `json:"deployment"`
		}
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
		fmt.Fprintf(&b, "  Deployed:  %s\n  Updated:   %s\n%s", fmtTime(d.CreatedAt), fmtTime(d.UpdatedAt), servingURLs(s.server, d.Endpoint))
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
