package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
)

const policyCheckUsage = `Usage: ferry policy check URI (--alias A | --stage S | --deploy [--endpoint E])

Ask the server whether the policy gates (the global policy file and the model's
own policy) allow a move of a model version, without making it, and print the
verdict with every rule's outcome and why. URI is models:/NAME/VERSION or
models:/NAME@ALIAS (models:/NAME/STAGE and models:/NAME/latest work too).

Exit status, for scripts and CI jobs:
  0  the move is allowed
  1  the policies refuse it (the verdict is on stdout, stderr stays empty),
     or an error occurred (reported on stderr)
  2  usage error
With --json the server's verdict is printed instead; the exit status is the same.

  ferry policy check models:/fraud/3 --alias production && promote.sh

Flags (exactly one of --alias, --stage and --deploy):
  --alias A      setting alias A (production, champion, ...) to the version
  --stage S      moving the version to stage S (Staging, Production, Archived, None)
  --deploy       deploying the version
  --endpoint E   with --deploy: the deployment's name
`

const policyShowUsage = `Usage: ferry policy show [NAME]

Without NAME, show the server's global policy: the file it was loaded from and
its gates. With NAME, print registered model NAME's own policy document as it
was set, so that it can be saved, edited and set again:

  ferry policy show fraud > fraud-policy.yaml
`

const policySetUsage = `Usage: ferry policy set NAME FILE

Set registered model NAME's own policy to the YAML document in FILE, replacing
the one it had; its gates apply to that model alongside the global policy. The
server validates the document: a mistake is reported with its line and column
in FILE, and the policy in force stays (exit status 1).
`

const policyUnsetUsage = `Usage: ferry policy unset NAME

Remove registered model NAME's own policy; the global policy still applies.
`

const policyReloadUsage = `Usage: ferry policy reload

Make the server read its global policy file (setting policy_file) again, as
SIGHUP does, and show the gates now in force. A file that does not parse is
reported with its line and column, and the policy in force stays (exit status 1).
`

func policyCheck(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	alias := fs.String("alias", "", "")
	stage := fs.String("stage", "", "")
	deploy := fs.Bool("deploy", false, "")
	endpoint := fs.String("endpoint", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing URI (models:/NAME/VERSION or models:/NAME@ALIAS)")
		case len(args) > 1:
			return usagef("unexpected argument %q", args[1])
		}
		uri := args[0]
		if !strings.HasPrefix(uri, "models:/") {
			return usagef("%q is not a model version URI such as models:/NAME/3 or models:/NAME@champion", uri)
		}
		n := 0
		for _, set := range []bool{*alias != "", *stage != "", *deploy} {
			if set {
				n++
			}
		}
		if n != 1 {
			return usagef("give exactly one of --alias, --stage and --deploy")
		}
		if *endpoint != "" && !*deploy {
			return usagef("--endpoint goes with --deploy")
		}
		res, raw, err := s.client.checkPolicy(ctx, policyCheckRequest{URI: uri, Alias: *alias, Stage: *stage, Deploy: *deploy, Endpoint: *endpoint})
		if err != nil {
			return err
		}
		if s.json {
			err = writeJSON(s.stdout, raw)
		} else {
			err = writeString(s.stdout, explanation(res))
		}
		if err != nil {
			return err
		}
		if !res.Allowed {
			return errVerdict
		}
		return nil
	}
}

// explanation is the server's explanation of a verdict, or one made from
// its rules when the server sent none.
func explanation(res policyCheckResponse) string {
	if strings.TrimSpace(res.Explanation) != "" {
		return ensureNewline(res.Explanation)
	}
	var b strings.Builder
	target := res.Target.Kind
	if res.Target.Name != "" {
		target += " " + res.Target.Name
	}
	fmt.Fprintf(&b, "Policy check: %s version %d → %s\n", res.Model, int64(res.Version), target)
	verdict := "REFUSED"
	if res.Allowed {
		verdict = "ALLOWED"
	}
	if res.Note != "" {
		fmt.Fprintf(&b, "Verdict: %s (%s)\n", verdict, res.Note)
	} else {
		fmt.Fprintf(&b, "Verdict: %s\n", verdict)
	}
	for _, r := range res.Rules {
		mark := "pass"
		if !r.Passed {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "  %s  %s: %s  %s\n", mark, oneLine(r.Gate, 0), oneLine(r.Rule, 0), oneLine(r.Detail, 0))
	}
	return b.String()
}

func policyShow(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 1 {
			return usagef("unexpected argument %q", args[1])
		}
		if len(args) == 0 {
			g, raw, err := s.client.globalPolicy(ctx)
			if err != nil {
				return err
			}
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			return writeString(s.stdout, globalPolicyText(g))
		}
		name := args[0]
		p, raw, err := s.client.modelPolicy(ctx, name)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if strings.TrimSpace(p.Policy) == "" {
			// stdout stays empty, as the document is.
			fmt.Fprintf(s.stderr, "ferry: model %s has no policy of its own; the global policy applies to it (ferry policy show)\n", oneLine(name, 0))
			return nil
		}
		return writeString(s.stdout, ensureNewline(p.Policy))
	}
}

// globalPolicyText describes the global policy.
func globalPolicyText(g globalPolicy) string {
	switch {
	case g.File == "" && !g.Loaded:
		return "Global policy: none (the server has no policy_file)\n"
	case !g.Loaded:
		return fmt.Sprintf("Global policy: %s (not loaded)\n", oneLine(g.File, 0))
	}
	file := oneLine(g.File, 0)
	if file == "" {
		file = "loaded"
	}
	if len(g.Gates) == 0 {
		return fmt.Sprintf("Global policy: %s\nGates: none\n", file)
	}
	names := make([]string, len(g.Gates))
	for i, n := range g.Gates {
		names[i] = oneLine(n, 0)
	}
	return fmt.Sprintf("Global policy: %s\nGates (%d): %s\n", file, len(g.Gates), strings.Join(names, ", "))
}

func policySet(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing NAME and FILE")
		case len(args) == 1:
			return usagef("missing FILE (the policy YAML document)")
		case len(args) > 2:
			return usagef("unexpected argument %q", args[2])
		}
		name, file := args[0], args[1]
		doc, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		if strings.TrimSpace(string(doc)) == "" {
			return fmt.Errorf("%s is empty; `ferry policy unset %s` removes a model's policy", file, name)
		}
		raw, err := s.client.setModelPolicy(ctx, name, doc)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		_, err = fmt.Fprintf(s.stdout, "Set the policy of model %s from %s.\n", oneLine(name, 0), file)
		return err
	}
}

func policyUnset(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		switch {
		case len(args) == 0:
			return usagef("missing NAME")
		case len(args) > 1:
			return usagef("unexpected argument %q", args[1])
		}
		raw, err := s.client.unsetModelPolicy(ctx, args[0])
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		_, err = fmt.Fprintf(s.stdout, "Removed the policy of model %s; the global policy still applies.\n", oneLine(args[0], 0))
		return err
	}
}

func policyReload(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		g, raw, err := s.client.reloadPolicy(ctx)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if g.File == "" {
			return writeString(s.stdout, "The server has no global policy file (setting policy_file); nothing to reload.\n")
		}
		return writeString(s.stdout, "Reloaded.\n"+globalPolicyText(g))
	}
}
