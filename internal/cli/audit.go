package cli

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

const auditVerifyUsage = `Usage: ferry audit verify

Ask the server to verify its whole audit trail: that the entries are numbered
without gaps, that each entry's hash recomputes from its fields and links to
the previous one, and that signed checkpoints vouch for the entries up to the
last. Prints

  audit trail OK: N entries, signed up to seq S (C checkpoints)

or the first entry that cannot be trusted and what is wrong with it:

  audit trail BROKEN at entry 17: hash mismatch (row edited?)

Exit status: 0 when the trail is intact, 1 when it is broken (the verdict is on
stdout, stderr stays empty) or on an error (reported on stderr), 2 on a usage
error. With --json the server's report is printed instead; the exit status is
the same.
`

const auditLogUsage = `Usage: ferry audit log [--resource R] [--actor A] [--after SEQ] [--before SEQ] [--limit N] [--newest]

List entries of the audit trail as a table: SEQ, TIME (UTC), ACTOR, ACTION,
RESOURCE, STATUS (the HTTP status of the request), oldest first.

Flags:
  --resource R   entries about R and what lies below it: models:/fraud matches
                 models:/fraud, models:/fraud/3 and models:/fraud@champion
  --actor A      entries of one user
  --after SEQ    entries after sequence number SEQ (to page forward)
  --before SEQ   entries before sequence number SEQ (to page back with --newest)
  --limit N      at most N entries (default 100, at most 10000)
  --newest       newest first
`

func auditVerify(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		rep, raw, err := s.client.verifyAudit(ctx)
		if err != nil {
			return err
		}
		if s.json {
			err = writeJSON(s.stdout, raw)
		} else {
			err = writeString(s.stdout, auditVerdict(rep))
		}
		if err != nil {
			return err
		}
		if !rep.OK {
			return errVerdict
		}
		return nil
	}
}

// auditVerdict renders a verification report.
func auditVerdict(r auditReport) string {
	if r.OK {
		return fmt.Sprintf("audit trail OK: %d %s, signed up to seq %d (%d %s)\n",
			r.Entries, pluralWord(r.Entries, "entry", "entries"), r.Signed, r.Checkpoints, pluralWord(int64(r.Checkpoints), "checkpoint", "checkpoints"))
	}
	problem := oneLine(r.Problem, 0)
	if problem == "" {
		problem = "the server found a problem but did not describe it"
	}
	var b strings.Builder
	if r.FirstBad != nil {
		// The problem usually starts by naming the same entry.
		rest, _ := strings.CutPrefix(problem, fmt.Sprintf("entry %d: ", *r.FirstBad))
		fmt.Fprintf(&b, "audit trail BROKEN at entry %d: %s\n", *r.FirstBad, rest)
	} else {
		fmt.Fprintf(&b, "audit trail BROKEN: %s\n", problem)
	}
	if r.Problems > 1 {
		fmt.Fprintf(&b, "%d more %s found; ", r.Problems-1, pluralWord(int64(r.Problems-1), "problem", "problems"))
	}
	fmt.Fprintf(&b, "%d %s read (last seq %d); %d %s, the last that matches its entry at seq %d\n",
		r.Entries, pluralWord(r.Entries, "entry", "entries"), r.LastSeq, r.Checkpoints, pluralWord(int64(r.Checkpoints), "checkpoint", "checkpoints"), r.Signed)
	return b.String()
}

func pluralWord(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// maxAuditLimit is the most entries one request may ask for.
const maxAuditLimit = 10000

func auditLog(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error {
	resource := fs.String("resource", "", "")
	actor := fs.String("actor", "", "")
	after := fs.Int64("after", 0, "")
	before := fs.Int64("before", 0, "")
	limit := fs.Int("limit", 100, "")
	newest := fs.Bool("newest", false, "")
	return func(ctx context.Context, s *session, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		switch {
		case *after < 0:
			return usagef("--after must be a sequence number (0 or more), got %d", *after)
		case *before < 0:
			return usagef("--before must be a sequence number (0 or more), got %d", *before)
		case *limit < 1 || *limit > maxAuditLimit:
			return usagef("--limit must be between 1 and %d, got %d", maxAuditLimit, *limit)
		}
		q := url.Values{"limit": {strconv.Itoa(*limit)}}
		if *resource != "" {
			q.Set("resource", *resource)
		}
		if *actor != "" {
			q.Set("actor", *actor)
		}
		if *after > 0 {
			q.Set("after", strconv.FormatInt(*after, 10))
		}
		if *before > 0 {
			q.Set("before", strconv.FormatInt(*before, 10))
		}
		if *newest {
			q.Set("order", "desc")
		}
		events, raw, err := s.client.auditEvents(ctx, q)
		if err != nil {
			return err
		}
		if s.json {
			return writeJSON(s.stdout, raw)
		}
		if len(events) == 0 {
			fmt.Fprintln(s.stdout, "No audit events found.")
			return nil
		}
		t := newTable(s.stdout)
		t.row("SEQ", "TIME", "ACTOR", "ACTION", "RESOURCE", "STATUS")
		for _, e := range events {
			ts := "-"
			if !e.Time.IsZero() {
				ts = e.Time.UTC().Format(timeLayout)
			}
			status := "-"
			if e.Status != 0 {
				status = strconv.Itoa(e.Status)
			}
			t.row(strconv.FormatInt(e.Seq, 10), ts, cell(e.Actor, 40), cell(e.Action, 60), cell(e.Resource, 80), status)
		}
		if err := t.flush(); err != nil {
			return err
		}
		if len(events) == *limit {
			next := fmt.Sprintf("--after %d", events[len(events)-1].Seq)
			if *newest {
				next = fmt.Sprintf("--newest --before %d", events[len(events)-1].Seq)
			}
			fmt.Fprintf(s.stderr, "ferry: showing %d events; there may be more (%s continues)\n", len(events), next)
		}
		return nil
	}
}
