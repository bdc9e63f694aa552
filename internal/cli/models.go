package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// versionArgs explains VERSION, on lines of its own.
const versionArgs = `VERSION is a version number, @ALIAS (@champion), a stage (Production) or latest.`

const modelsShowUsage = `Usage: ferry models show NAME VERSION

Show one version of a registered model: its URI, stage, aliases, source, run,
approval state and tags. --json prints the server's {"model_version": {...}}.
` + versionArgs + `
`

const modelsApproveUsage = `Usage: ferry models approve NAME VERSION [--comment TEXT]

Approve a model version as the authenticated user, then print its approval
state: status, approvers and the latest review. A reviewer's latest decision
counts: approving after rejecting replaces the rejection. Unless the server
allows self-approval (setting registry_self_approval), the user who registered
a version may not review it.
` + versionArgs + `

Flags:
  --comment TEXT  the reason for the decision, kept with the review
`

const modelsRejectUsage = `Usage: ferry models reject NAME VERSION [--comment TEXT]

Reject a model version as the authenticated user, then print its approval
state: a standing rejection by any reviewer makes the version rejected, and
policy gates that require approvals refuse it.
` + versionArgs + `

Flags:
  --comment TEXT  the reason for the decision, kept with the review
`

const modelsReviewsUsage = `Usage: ferry models reviews NAME VERSION

List a model version's reviews, oldest first: TIME (UTC), REVIEWER, DECISION,
COMMENT, after its approval state.
` + versionArgs + `
`

const modelsCardUsage = `Usage: ferry models card NAME VERSION [--format json|md|html] [-o FILE]

Write a model version's model card, assembled by the server from the registry,
tracking, approvals, policy verdicts, lineage and the audit trail, to stdout or
to FILE. --json prints the JSON card pretty-printed.
` + versionArgs + `

Flags:
  --format F          md (Markdown, default), html (a self-contained page) or json
  -o, --output FILE   write the card to FILE instead of stdout
`

// versionArgsOf checks the NAME VERSION arguments.
func versionArgsOf(args []string) (name, version string, err error) {
	switch {
	case len(args) == 0:
		return "", "", usagef("missing NAME and VERSION")
	case len(args) == 1:
		return "", "", usagef("missing VERSION (a number, @ALIAS, a stage or latest)")
	case len(args) > 2:
		return "", "", usagef("unexpected argument %q", args[2])
	}
	name, version = args[0], args[1]
	if strings.TrimSpace(name) == "" {
		return "", "", usagef("NAME is empty")
	}
	if strings.TrimSpace(version) == "" || version == "@" {
		return "", "", usagef("VERSION is empty")
	}
	return name, version, nil
}

func modelsShow(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		name, version, err := versionArgsOf(args)
		if err != nil {
			return err
		}
		mv, raw, err := s.client.modelVersion(ctx, name, version)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		w := s.stdout
		t := newTable(w)
		field := func(label, value string) { t.row(label+":", value) }
		field("Model", cell(mv.Name, 0))
		field("Version", strconv.FormatInt(int64(mv.Version), 10))
		field("URI", cell(mv.URI, 0))
		field("Stage", cell(mv.CurrentStage, 0))
		aliases := append([]string(nil), mv.Aliases...)
		sort.Strings(aliases)
		field("Aliases", cell(strings.Join(aliases, ", "), 200))
		status := mv.Status
		if mv.StatusMessage != "" {
			status += " (" + mv.StatusMessage + ")"
		}
		field("Status", cell(status, 200))
		field("Source", cell(mv.Source, 0))
		if mv.StorageLocation != "" && mv.StorageLocation != mv.Source {
			field("Storage", cell(mv.StorageLocation, 0))
		}
		field("Run", cell(mv.RunID, 0))
		if mv.RunLink != "" {
			field("Run link", cell(mv.RunLink, 0))
		}
		field("User", cell(mv.UserID, 100))
		field("Created", fmtTime(int64(mv.CreationTime)))
		field("Updated", fmtTime(int64(mv.LastUpdatedTime)))
		if mv.Description != "" {
			field("Description", cell(mv.Description, 200))
		}
		if err := t.flush(); err != nil {
			return err
		}

		fmt.Fprintf(w, "\nApproval: %s\n", cell(mv.Approval.Status, 0))
		writeApproval(w, mv.Approval, "  ")

		tags := append([]tag(nil), mv.Tags...)
		sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
		section(w, "Tags", len(tags), "")
		if len(tags) > 0 {
			t := newTable(w)
			t.row("  KEY", "VALUE")
			for _, tg := range tags {
				t.row("  "+cell(tg.Key, 0), showValue(tg.Value))
			}
			return t.flush()
		}
		return nil
	}
}

// writeApproval prints the approvers and the latest review of an
// approval state, each line indented.
func writeApproval(w io.Writer, a approval, indent string) error {
	t := newTable(w)
	approvers := "none"
	if len(a.Approvers) > 0 {
		approvers = cell(strings.Join(a.Approvers, ", "), 200)
	}
	t.row(indent+"Approvers:", approvers)
	if a.Reviewer == "" {
		t.row(indent+"Latest review:", "none")
		return t.flush()
	}
	t.row(indent+"Latest review:", cell(a.Reviewer, 100)+" at "+fmtTime(int64(a.Time)))
	if a.Comment != "" {
		t.row(indent+"Comment:", cell(a.Comment, 200))
	}
	return t.flush()
}

// modelsReview returns the setup of approve (decision "approve") or
// reject ("reject").
func modelsReview(decision string) func(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
		comment := fs.String("comment", "", "")
		return func(ctx context.Context, s *session, args []string) error {
			name, version, err := versionArgsOf(args)
			if err != nil {
				return err
			}
			mv, raw, err := s.client.reviewVersion(ctx, name, version, decision, *comment)
			if err != nil {
				return err
			}
			if s.json {
				return writeJSON(s.stdout, raw)
			}
			verb := "Approved"
			if decision == "reject" {
				verb = "Rejected"
			}
			w := s.stdout
			fmt.Fprintf(w, "%s version %d of model %s.\n", verb, int64(mv.Version), oneLine(mv.Name, 0))
			fmt.Fprintf(w, "Approval: %s\n", cell(mv.Approval.Status, 0))
			return writeApproval(w, mv.Approval, "  ")
		}
	}
}

func modelsReviews(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		name, version, err := versionArgsOf(args)
		if err != nil {
			return err
		}
		res, raw, err := s.client.reviews(ctx, name, version)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		w := s.stdout
		fmt.Fprintf(w, "Approval: %s\n", cell(res.Approval.Status, 0))
		if err := writeApproval(w, res.Approval, "  "); err != nil {
			return err
		}
		section(w, "Reviews", len(res.Reviews), "oldest first")
		if len(res.Reviews) == 0 {
			return nil
		}
		t := newTable(w)
		t.row("  TIME", "REVIEWER", "DECISION", "COMMENT")
		for _, r := range res.Reviews {
			t.row("  "+fmtTime(int64(r.Time)), cell(r.Reviewer, 40), cell(r.Decision, 0), cell(r.Comment, 100))
		}
		return t.flush()
	}
}

func modelsCard(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	format := fs.String("format", "", "")
	var output string
	fs.StringVar(&output, "output", "", "")
	fs.StringVar(&output, "o", "", "")
	return func(ctx context.Context, s *session, args []string) error {
		name, version, err := versionArgsOf(args)
		if err != nil {
			return err
		}
		f := strings.ToLower(strings.TrimSpace(*format))
		switch f {
		case "":
			f = "md"
			if s.json {
				f = "json"
			}
		case "markdown":
			f = "md"
		case "md", "html", "json":
		default:
			return usagef("--format must be json, md or html, got %q", *format)
		}
		if s.json && f != "json" {
			return usagef("--json prints the JSON card; it does not go with --format %s", f)
		}
		body, err := s.client.card(ctx, name, version, f)
		if err != nil {
			return err
		}
		if s.json {
			var buf strings.Builder
			if err := writeJSON(&buf, json.RawMessage(body)); err != nil {
				return fmt.Errorf("the server's JSON card does not parse: %w", err)
			}
			body = []byte(buf.String())
		}
		if output == "" || output == "-" {
			_, err := s.stdout.Write(body)
			return err
		}
		if err := writeFileAtomic(output, body); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "Wrote the model card of %s version %s (%s, %s) to %s\n",
			oneLine(name, 0), oneLine(version, 0), f, fmtSize(int64(len(body))), output)
		return nil
	}
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that path never holds a partial card.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
