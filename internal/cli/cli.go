// Package cli is Ferry's command-line client for people. `ferry
// experiments list`, `ferry runs list` and `ferry runs show` talk to a
// running Ferry (or any MLflow-compatible) server over the MLflow REST API
// 2.0; the governance commands talk to Ferry's native API (/api/v1):
//
//   - `ferry lineage URI` draws what a model version, run or dataset came
//     from and what came of it, as a tree;
//   - `ferry models approve|reject|show|reviews|card` review a model
//     version, report it and its reviews, and fetch its model card;
//   - `ferry policy check|show|set|unset|reload` explain the policy gates'
//     verdict on a move and manage the policies;
//   - `ferry audit verify|log` check the audit trail's hash chain and
//     signatures and list its entries;
//   - `ferry deploy`, `ferry promote|rollback` and `ferry endpoints list|status|rm` put model
//     versions behind serving endpoints and report them;
//   - `ferry predict` scores a CSV file locally with a registered model;
//   - `ferry pipeline run` runs a pipeline file on this machine;
//   - `ferry data add|list|show|diff|validate|suggest` version, profile and
//     validate datasets;
//   - `ferry monitor report ENDPOINT` writes an endpoint's drift report as
//     HTML and JSON; `ferry monitor settings|reference ENDPOINT` show and
//     set its drift settings and reference dataset;
//   - `ferry alerts list|rules|history|silence` report the alerts, manage
//     the rules and silences, and list the history, as amtool does for
//     Alertmanager.
//
// Commands print aligned tables and readable reports, or with --json the
// server's own JSON objects, pretty-printed, for scripts.
//
// Main is the entry point; cmd/ferry dispatches every subcommand other
// than `server` and `version` to it. Exit codes: 0 success, 1 an error
// from or while reaching the server, 2 a usage error. Two commands are
// verdicts that scripts and CI jobs test with the exit code: `ferry policy
// check` exits 1 when the policies refuse the move and `ferry audit
// verify` exits 1 when the audit trail is broken (also with --json); the
// verdict is then on stdout and stderr stays empty, unlike for errors.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
)

// DefaultServer is the server used when neither --server nor FERRY_URL is set.
const DefaultServer = "http://127.0.0.1:5000"

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const globalUsage = `Global flags (accepted anywhere after the command):
  --server URL   Ferry server (default $FERRY_URL, else ` + DefaultServer + `)
  --json         print the server's JSON objects, pretty-printed, instead of tables
  -h, --help     show help
`

// Usage is the client's overview, printed by `ferry <group> --help` and
// on usage errors.
const Usage = `Usage:
  ferry experiments list [--view active|deleted|all] [--filter F] [--order-by O]... [--max N]
  ferry runs list --experiment NAME_OR_ID [--filter F] [--order-by O]... [--columns C,...]
                  [--view active|deleted|all] [--max N]
  ferry runs show RUN_ID [--all]
  ferry lineage URI [--depth N]
  ferry models show NAME VERSION
  ferry models approve NAME VERSION [--comment TEXT]
  ferry models reject NAME VERSION [--comment TEXT]
  ferry models reviews NAME VERSION
  ferry models card NAME VERSION [--format json|md|html] [-o FILE]
  ferry policy check URI (--alias A | --stage S | --deploy [--endpoint E])
  ferry policy show [NAME]
  ferry policy set NAME FILE
  ferry policy unset NAME
  ferry policy reload
  ferry audit verify
  ferry audit log [--resource R] [--actor A] [--after SEQ] [--before SEQ] [--limit N] [--newest]
  ferry deploy ENDPOINT --model URI [--strategy direct|blue-green|canary|shadow|ab] [--steps W,...]
               [--interval D] [--weight N] [--sticky header:H|field:F] [--max-error-rate R] ...
  ferry promote ENDPOINT
  ferry rollback ENDPOINT
  ferry endpoints list
  ferry endpoints status ENDPOINT
  ferry endpoints rm ENDPOINT
  ferry predict --model URI --input FILE [--output FILE] [--keep-columns C,...] [--proba|--raw]
  ferry pipeline run FILE [--param NAME=VALUE]... [--no-cache]
  ferry pipeline submit FILE [--param NAME=VALUE]... [--follow]
  ferry pipeline runs;  ferry pipeline show RUN_ID;  ferry pipeline logs RUN_ID STEP [--follow]
  ferry pipeline register FILE;  ferry pipeline list;  ferry pipeline unregister NAME
  ferry worker [--name NAME] [--lease 30s]
  ferry data add NAME FILE.csv
  ferry data list [NAME]
  ferry data show NAME[@VERSION]
  ferry data diff NAME@V1 NAME@V2
  ferry data validate NAME[@VERSION] SUITE.yaml
  ferry data suggest NAME[@VERSION]
  ferry monitor report ENDPOINT [--html FILE] [--json [FILE]] [--from T] [--to T]
  ferry monitor settings ENDPOINT [--stattest T] [--threshold X] [--drift-share S]
                         [--window D | --window-rows N] [--reset]
  ferry monitor reference ENDPOINT [NAME[@VERSION]]
  ferry alerts list
  ferry alerts rules [--document];  ferry alerts rules set FILE;  ferry alerts rules reset
  ferry alerts history [--rule R] [--kind transition|notification] [--since T] [--until T] [--max N]
  ferry alerts silence add MATCHER... [--duration D | --until T] [--comment TEXT]
  ferry alerts silence list [--expired] [-q];  ferry alerts silence expire ID...

` + globalUsage + `
Run 'ferry <command> <subcommand> --help' for details.
`

// command is one `ferry <group> <name>` subcommand, or with an empty
// name the only command of its group (`ferry lineage URI`). setup
// registers the command's flags on fs and returns the function that runs
// it with the positional arguments.
type command struct {
	group, name string
	aliases     []string
	usage       string
	setup       func(fs *flag.FlagSet) func(ctx context.Context, s *session, args []string) error
}

func commands() []command {
	return []command{
		{group: "experiments", name: "list", aliases: []string{"ls"}, usage: experimentsListUsage, setup: experimentsList},
		{group: "runs", name: "list", aliases: []string{"ls"}, usage: runsListUsage, setup: runsList},
		{group: "runs", name: "show", aliases: []string{"get"}, usage: runsShowUsage, setup: runsShow},
		{group: "lineage", usage: lineageUsage, setup: lineageCmd},
		{group: "models", name: "show", aliases: []string{"get"}, usage: modelsShowUsage, setup: modelsShow},
		{group: "models", name: "approve", usage: modelsApproveUsage, setup: modelsReview("approve")},
		{group: "models", name: "reject", usage: modelsRejectUsage, setup: modelsReview("reject")},
		{group: "models", name: "reviews", usage: modelsReviewsUsage, setup: modelsReviews},
		{group: "models", name: "card", usage: modelsCardUsage, setup: modelsCard},
		{group: "policy", name: "check", usage: policyCheckUsage, setup: policyCheck},
		{group: "policy", name: "show", aliases: []string{"get"}, usage: policyShowUsage, setup: policyShow},
		{group: "policy", name: "set", usage: policySetUsage, setup: policySet},
		{group: "policy", name: "unset", aliases: []string{"rm"}, usage: policyUnsetUsage, setup: policyUnset},
		{group: "policy", name: "reload", usage: policyReloadUsage, setup: policyReload},
		{group: "audit", name: "verify", usage: auditVerifyUsage, setup: auditVerify},
		{group: "audit", name: "log", aliases: []string{"list", "ls"}, usage: auditLogUsage, setup: auditLog},
		{group: "deploy", usage: deployUsage, setup: deployCmd},
		{group: "promote", usage: promoteUsage, setup: endpointAction("promote")},
		{group: "rollback", usage: rollbackUsage, setup: endpointAction("rollback")},
		{group: "endpoints", name: "list", aliases: []string{"ls"}, usage: endpointsListUsage, setup: endpointsList},
		{group: "endpoints", name: "status", aliases: []string{"show", "get"}, usage: endpointsStatusUsage, setup: endpointsStatus},
		{group: "endpoints", name: "rm", aliases: []string{"delete"}, usage: endpointsRemoveUsage, setup: endpointsRemove},
		{group: "predict", usage: predictUsage, setup: predictCmd},
		{group: "pipeline", name: "run", usage: pipelineRunUsage, setup: pipelineRun},
		{group: "pipeline", name: "submit", usage: pipelineSubmitUsage, setup: pipelineSubmit},
		{group: "pipeline", name: "runs", usage: pipelineRunsUsage, setup: pipelineRuns},
		{group: "pipeline", name: "show", aliases: []string{"get"}, usage: pipelineShowUsage, setup: pipelineShow},
		{group: "pipeline", name: "logs", usage: pipelineLogsUsage, setup: pipelineLogs},
		{group: "pipeline", name: "register", usage: pipelineRegisterUsage, setup: pipelineRegister},
		{group: "pipeline", name: "list", usage: pipelineListUsage, setup: pipelineList},
		{group: "pipeline", name: "unregister", aliases: []string{"rm"}, usage: pipelineUnregisterUsage, setup: pipelineUnregister},
		{group: "worker", usage: workerUsage, setup: workerCmd},
		{group: "data", name: "add", usage: dataAddUsage, setup: dataAdd},
		{group: "data", name: "list", aliases: []string{"ls"}, usage: dataListUsage, setup: dataList},
		{group: "data", name: "show", aliases: []string{"get"}, usage: dataShowUsage, setup: dataShow},
		{group: "data", name: "diff", usage: dataDiffUsage, setup: dataDiff},
		{group: "data", name: "validate", usage: dataValidateUsage, setup: dataValidate},
		{group: "data", name: "suggest", usage: dataSuggestUsage, setup: dataSuggest},
		{group: "monitor", name: "report", usage: monitorReportUsage, setup: monitorReport},
		{group: "monitor", name: "settings", usage: monitorSettingsUsage, setup: monitorSettings},
		{group: "monitor", name: "reference", aliases: []string{"ref"}, usage: monitorReferenceUsage, setup: monitorReference},
		{group: "alerts", name: "list", aliases: []string{"ls", "query"}, usage: alertsListUsage, setup: alertsList},
		{group: "alerts", name: "rules", usage: alertsRulesUsage, setup: alertsRules},
		{group: "alerts", name: "rules set", usage: alertsRulesSetUsage, setup: alertsRulesSet},
		{group: "alerts", name: "rules reset", usage: alertsRulesResetUsage, setup: alertsRulesReset},
		{group: "alerts", name: "history", aliases: []string{"log"}, usage: alertsHistoryUsage, setup: alertsHistory},
		{group: "alerts", name: "silence add", usage: silenceAddUsage, setup: silenceAdd},
		{group: "alerts", name: "silence list", aliases: []string{"silence ls", "silence query"}, usage: silenceListUsage, setup: silenceList},
		{group: "alerts", name: "silence expire", aliases: []string{"silence rm"}, usage: silenceExpireUsage, setup: silenceExpire},
	}
}

// session is what a running command needs.
type session struct {
	stdout, stderr io.Writer
	json           bool
	server         string
	client         *client
}

// globals are the flags every command accepts.
type globals struct {
	server string
	json   bool
	help   bool
}

// register binds the global flags on fs, keeping values already parsed.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.server, "server", g.server, "")
	fs.BoolVar(&g.json, "json", g.json, "")
	fs.BoolVar(&g.help, "help", g.help, "")
	fs.BoolVar(&g.help, "h", g.help, "")
}

// usageError is a mistake in the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errVerdict ends a command whose negative outcome is its answer and is
// already printed (a refused policy check, a broken audit trail): exit 1
// with nothing on stderr.
var errVerdict = errors.New("negative verdict")

// Main runs `ferry <args...>` for the client subcommands. args[0] is the
// command group (experiments, runs, lineage, models, policy, audit);
// getenv supplies FERRY_URL.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return exitUsage
	}
	group := args[0]
	var cmds []command
	for _, c := range commands() {
		if c.group == group {
			cmds = append(cmds, c)
		}
	}
	if len(cmds) == 0 {
		fmt.Fprintf(stderr, "ferry: unknown command %q\n\n%s", group, Usage)
		return exitUsage
	}

	var g globals
	var cmd *command
	var rest []string
	if len(cmds) == 1 && cmds[0].name == "" {
		// A group that is one command: ferry lineage URI.
		cmd, rest = &cmds[0], args[1:]
	} else {
		// Global flags may come before the subcommand: ferry runs --json list.
		gfs := newFlagSet(group)
		g.register(gfs)
		if err := gfs.Parse(args[1:]); err != nil {
			return usageFailure(stderr, flagError(err), groupUsage(group, cmds))
		}
		rest = gfs.Args()
		if len(rest) == 0 {
			if g.help {
				fmt.Fprint(stdout, groupUsage(group, cmds))
				return exitOK
			}
			return usageFailure(stderr, "missing subcommand for "+group, groupUsage(group, cmds))
		}
		var words int
		cmd, words = matchCommand(cmds, rest)
		if cmd == nil {
			// A subgroup: ferry alerts silence add.
			var sub []command
			for _, c := range cmds {
				if first, _, ok := strings.Cut(c.name, " "); ok && first == rest[0] {
					sub = append(sub, c)
				}
			}
			switch {
			case len(sub) == 0:
				return usageFailure(stderr, fmt.Sprintf("unknown command %q", group+" "+rest[0]), groupUsage(group, cmds))
			case len(rest) == 1:
				return usageFailure(stderr, "missing subcommand for "+group+" "+rest[0], groupUsage(group, sub))
			case rest[1] == "-h" || rest[1] == "--help" || rest[1] == "-help":
				fmt.Fprint(stdout, groupUsage(group, sub))
				return exitOK
			}
			return usageFailure(stderr, fmt.Sprintf("unknown command %q", group+" "+rest[0]+" "+rest[1]), groupUsage(group, sub))
		}
		rest = rest[words:]
	}

	fs := newFlagSet(strings.TrimSpace(group + " " + cmd.name))
	g.register(fs)
	run := cmd.setup(fs)
	pos, err := parseInterspersed(fs, rest)
	if err != nil {
		return usageFailure(stderr, flagError(err), cmd.usage)
	}
	if g.help {
		fmt.Fprint(stdout, cmd.usage+"\n"+globalUsage)
		return exitOK
	}
	server, err := serverURL(g.server, getenv("FERRY_URL"))
	if err != nil {
		return usageFailure(stderr, err.Error(), cmd.usage)
	}
	s := &session{stdout: stdout, stderr: stderr, json: g.json, server: server, client: newClient(server)}
	return report(stderr, server, cmd.usage, run(ctx, s, pos))
}

// matchCommand finds the command that args start with, and how many
// words its name takes: a name may be two words (silence add), the
// longest match wins.
func matchCommand(cmds []command, args []string) (*command, int) {
	var best *command
	words := 0
	for i := range cmds {
		for _, name := range append([]string{cmds[i].name}, cmds[i].aliases...) {
			w := strings.Fields(name)
			if len(w) > words && len(w) <= len(args) && slices.Equal(w, args[:len(w)]) {
				best, words = &cmds[i], len(w)
			}
		}
	}
	return best, words
}

// report prints err the way a person can act on it and returns the exit code.
func report(stderr io.Writer, server, usage string, err error) int {
	if err == nil {
		return exitOK
	}
	var ue *usageError
	var unreachable *unreachableError
	switch {
	case errors.Is(err, errVerdict):
		// The command printed its verdict.
	case errors.As(err, &ue):
		return usageFailure(stderr, ue.msg, usage)
	case errors.As(err, &unreachable):
		fmt.Fprintf(stderr, "ferry: %v\nferry: is `ferry server` running at %s? set --server or FERRY_URL\n", unreachable, server)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "ferry: interrupted")
	default:
		fmt.Fprintf(stderr, "ferry: %v\n", err)
	}
	return exitError
}

func usageFailure(stderr io.Writer, msg, usage string) int {
	fmt.Fprintf(stderr, "ferry: %s\n\n%s", msg, usage)
	return exitUsage
}

// flagError rewords the flag package's errors with the double-dash
// spelling the usage text uses.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag --" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return "flag --" + name + " needs a value"
	}
	return strings.Replace(msg, " for flag -", " for flag --", 1)
}

func groupUsage(group string, cmds []command) string {
	var b strings.Builder
	b.WriteString("Usage:\n")
	for _, c := range cmds {
		first, _, _ := strings.Cut(strings.TrimPrefix(c.usage, "Usage: "), "\n")
		b.WriteString("  " + first + "\n")
	}
	b.WriteString("\n" + globalUsage)
	return b.String()
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("ferry "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by Main, with our usage text
	fs.Usage = func() {}
	return fs
}

// parseInterspersed parses flags that may appear before, between and
// after positional arguments (ferry runs show RUN_ID --json); everything
// after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// serverURL picks the server from --server, then FERRY_URL, then the
// default, and normalises it: a bare host:port means http.
func serverURL(flagVal, envVal string) (string, error) {
	raw, source := strings.TrimSpace(flagVal), "--server"
	if raw == "" {
		raw, source = strings.TrimSpace(envVal), "FERRY_URL"
	}
	if raw == "" {
		return DefaultServer, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%s: expected a server URL such as http://127.0.0.1:5000, got %q", source, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// viewType maps --view to MLflow's ViewType names.
func viewType(v string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "active", "active_only":
		return "ACTIVE_ONLY", nil
	case "deleted", "deleted_only":
		return "DELETED_ONLY", nil
	case "all":
		return "ALL", nil
	}
	return "", usagef("--view must be active, deleted or all, got %q", v)
}
