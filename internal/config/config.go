// Package config holds Ferry's settings and loads them in layers:
// built-in defaults, then the dev preset (when asked for), then an
// optional YAML file, then FERRY_* environment variables, then flags.
// Every layer goes through the same table of settings and parsers, so
// the dev preset is not a second code path: it is a set of values.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the server's configuration.
type Config struct {
	Addr              string
	DataDir           string
	DB                string
	ArtifactsDir      string
	SQLiteSync        string
	DBMaxConns        int
	LogLevel          string
	LogFormat         string
	MaxBodyBytes      int64
	ShutdownTimeout   time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	InsecureListen    bool
	Dev               bool
	// PolicyFile is the global policy-gate document ("" = none).
	PolicyFile string
	// SelfApproval lets the author of a model version approve it.
	SelfApproval bool
	// AuditTrustedKeys are further Ed25519 public keys (PEM files) whose
	// audit checkpoints verify: the keys of other servers sharing the store.
	AuditTrustedKeys []string
	// PredictionSampleRate is the share of prediction requests logged
	// (0 to 1); an A/B split logs all of its own. PredictionMaxRate bounds
	// the records logged per second (0: no bound).
	PredictionSampleRate float64
	PredictionMaxRate    int
	// RolloutTick is how often canary steps are analysed.
	RolloutTick time.Duration
	// PipelineExecutors is the number of submitted pipeline steps the
	// server runs at once itself (0: only ferry worker processes).
	PipelineExecutors int
	// MonitorInterval is how often the monitor ticks (0: off);
	// MonitorRetention how long monitored points are kept;
	// PerformanceWindow the span of prediction time each version's
	// performance is measured over.
	MonitorInterval, MonitorRetention, PerformanceWindow time.Duration
	// AlertRules is the alert rules YAML ("" = no alerts).
	AlertRules string
}

// setting is one configuration key: its name in files (and, upper-cased
// with FERRY_, in the environment; as --kebab-case on the command line).
type setting struct {
	key   string
	usage string
	def   string
	dev   string // value in the dev preset; "" = unchanged
	set   func(c *Config, v string) error
}

type parser func(c *Config, v string) error

func str(p func(*Config) *string) parser {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func oneOf(p func(*Config) *string, allowed ...string) parser {
	return func(c *Config, v string) error {
		v = strings.ToLower(strings.TrimSpace(v))
		for _, a := range allowed {
			if v == a {
				*p(c) = v
				return nil
			}
		}
		return fmt.Errorf("must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func boolean(p func(*Config) *bool) parser {
	return func(c *Config, v string) error {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", v)
		}
		*p(c) = b
		return nil
	}
}

func duration(p func(*Config) *time.Duration) parser {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < 0 {
			return fmt.Errorf("must be a duration such as 30s, got %q", v)
		}
		*p(c) = d
		return nil
	}
}

func integer(p func(*Config) *int) parser {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return fmt.Errorf("must be a non-negative integer, got %q", v)
		}
		*p(c) = n
		return nil
	}
}

func fraction(p func(*Config) *float64) parser {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return fmt.Errorf("must be a number from 0 to 1, got %q", v)
		}
		*p(c) = f
		return nil
	}
}

func size(p func(*Config) *int64) parser {
	return func(c *Config, v string) error {
		n, err := ParseBytes(v)
		if err != nil {
			return err
		}
		*p(c) = n
		return nil
	}
}

// ParseBytes parses a byte size with an optional KB/MB/GB (1000s) or
// KiB/MiB/GiB (1024s) suffix.
func ParseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("must be a positive size such as 1MiB, got %q", v)
	}
	return n * mult, nil
}

// settings is the single table every layer is parsed with.
func settings() []setting {
	return []setting{
		{"addr", "HOST:PORT to listen on (loopback unless auth is configured)", "127.0.0.1:5000", "",
			str(func(c *Config) *string { return &c.Addr })},
		{"data", "data directory: SQLite database and artifacts", "ferry-data", "{tmp}",
			str(func(c *Config) *string { return &c.DataDir })},
		{"db", "metadata store: empty for SQLite in the data directory, or postgres://user@host:5432/db", "", "",
			str(func(c *Config) *string { return &c.DB })},
		{"artifacts", "artifact directory (default DATA/artifacts)", "", "",
			str(func(c *Config) *string { return &c.ArtifactsDir })},
		{"sqlite_sync", "SQLite durability: full (survives power loss) or normal (survives crashes of Ferry only)", "full", "",
			oneOf(func(c *Config) *string { return &c.SQLiteSync }, "full", "normal")},
		{"db_max_conns", "Postgres connection pool size", "16", "",
			integer(func(c *Config) *int { return &c.DBMaxConns })},
		{"log_level", "debug, info, warn or error", "info", "debug",
			oneOf(func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error")},
		{"log_format", "json or text", "json", "text",
			oneOf(func(c *Config) *string { return &c.LogFormat }, "json", "text")},
		{"max_body", "largest JSON request body accepted (artifact uploads stream and are not limited)", "16MiB", "",
			size(func(c *Config) *int64 { return &c.MaxBodyBytes })},
		{"shutdown_timeout", "how long SIGTERM waits for in-flight requests", "30s", "",
			duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
		{"read_header_timeout", "time allowed to read request headers", "10s", "",
			duration(func(c *Config) *time.Duration { return &c.ReadHeaderTimeout })},
		{"idle_timeout", "keep-alive idle timeout", "120s", "",
			duration(func(c *Config) *time.Duration { return &c.IdleTimeout })},
		{"insecure_listen", "allow a non-loopback address without authentication (unsafe)", "false", "",
			boolean(func(c *Config) *bool { return &c.InsecureListen })},
		{"dev", "dev preset: throwaway data directory, debug text logs, self-approval allowed", "false", "",
			boolean(func(c *Config) *bool { return &c.Dev })},
		{"policy_file", "global policy-gate YAML (see docs/policy.md); reloaded on SIGHUP and POST /api/v1/policy/reload", "", "",
			str(func(c *Config) *string { return &c.PolicyFile })},
		{"registry_self_approval", "whether the author of a model version may approve it", "false", "true",
			boolean(func(c *Config) *bool { return &c.SelfApproval })},
		{"prediction_log_sample_rate", "share of prediction requests whose inputs and outputs are logged (0 to 1; A/B splits log all)", "1", "",
			fraction(func(c *Config) *float64 { return &c.PredictionSampleRate })},
		{"prediction_log_max_rate", "most prediction records logged per second, a uniform sample beyond (0: no bound)", "1000", "",
			integer(func(c *Config) *int { return &c.PredictionMaxRate })},
		{"rollout_tick", "how often canary rollouts are analysed", "1s", "",
			duration(func(c *Config) *time.Duration { return &c.RolloutTick })},
		{"pipeline_executors", "submitted pipeline steps the server runs at once itself (0: leave them to ferry worker)", "2", "",
			integer(func(c *Config) *int { return &c.PipelineExecutors })},
		{"monitor_interval", "how often the monitor records each endpoint's system series, drift and performance and evaluates alert rules (0: monitoring off)", "10s", "",
			duration(func(c *Config) *time.Duration { return &c.MonitorInterval })},
		{"monitor_retention", "how long monitored time series and the alert history are kept", "336h", "",
			duration(func(c *Config) *time.Duration { return &c.MonitorRetention })},
		{"performance_window", "span of prediction time each served version's performance against delayed ground truth is measured over", "1h", "",
			func(c *Config, v string) error {
				d, err := time.ParseDuration(strings.TrimSpace(v))
				if err != nil || d < time.Minute || d > 90*24*time.Hour {
					return fmt.Errorf("must be a duration from 1m to 2160h, got %q", v)
				}
				c.PerformanceWindow = d
				return nil
			}},
		{"alert_rules", "alert rules YAML over the monitored series (see docs/monitoring.md)", "", "",
			str(func(c *Config) *string { return &c.AlertRules })},
		{"audit_trusted_keys", "comma-separated PEM files of other servers' audit public keys (shared Postgres)", "", "",
			func(c *Config, v string) error {
				c.AuditTrustedKeys = nil
				for _, f := range strings.Split(v, ",") {
					if f = strings.TrimSpace(f); f != "" {
						c.AuditTrustedKeys = append(c.AuditTrustedKeys, f)
					}
				}
				return nil
			}},
	}
}

func envName(key string) string  { return "FERRY_" + strings.ToUpper(key) }
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// Source is where configuration comes from; Load reads it in layers.
type Source struct {
	Args    []string                                // command-line arguments after the subcommand
	Getenv  func(string) string                     // os.Getenv in production
	TempDir func() (string, error)                  // makes the dev preset's data directory
	Output  interface{ Write([]byte) (int, error) } // flag usage output
}

// ErrHelp is returned when -h/--help was asked for; usage was printed.
var ErrHelp = flag.ErrHelp

// Load builds a Config from defaults, the dev preset, the file named by
// --config or FERRY_CONFIG, FERRY_* variables and flags, then validates it.
func Load(src Source) (Config, error) {
	if src.Getenv == nil {
		src.Getenv = os.Getenv
	}
	table := settings()
	fs := flag.NewFlagSet("ferry server", flag.ContinueOnError)
	if src.Output != nil {
		fs.SetOutput(src.Output)
	}
	flagVals := map[string]string{}
	for _, st := range table {
		st := st
		if st.key == "dev" || st.key == "insecure_listen" {
			fs.Func(flagName(st.key), st.usage+" (env "+envName(st.key)+")", func(v string) error { flagVals[st.key] = v; return nil })
			continue
		}
		fs.Func(flagName(st.key), fmt.Sprintf("%s (env %s, default %q)", st.usage, envName(st.key), st.def), func(v string) error {
			flagVals[st.key] = v
			return nil
		})
	}
	// Boolean flags may be given bare: --dev.
	args := make([]string, 0, len(src.Args))
	for _, a := range src.Args {
		switch a {
		case "--dev", "-dev":
			a = "--dev=true"
		case "--insecure-listen", "-insecure-listen":
			a = "--insecure-listen=true"
		}
		args = append(args, a)
	}
	configFile := fs.String("config", src.Getenv("FERRY_CONFIG"), "YAML configuration file (env FERRY_CONFIG)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	var c Config
	apply := func(layer string, vals map[string]string) error {
		for _, st := range table {
			v, ok := vals[st.key]
			if !ok {
				continue
			}
			if err := st.set(&c, v); err != nil {
				return fmt.Errorf("%s: %s %w", layer, st.key, err)
			}
		}
		return nil
	}
	defaults := map[string]string{}
	for _, st := range table {
		defaults[st.key] = st.def
	}
	if err := apply("default", defaults); err != nil {
		return Config{}, err
	}
	var fileVals map[string]string
	if *configFile != "" {
		var err error
		if fileVals, err = readFile(*configFile, table); err != nil {
			return Config{}, err
		}
	}
	envVals := map[string]string{}
	for _, st := range table {
		if v, ok := lookup(src.Getenv, envName(st.key)); ok {
			envVals[st.key] = v
		}
	}
	// The dev preset applies when any later layer switches it on; it sits
	// just above the defaults so that file, env and flags still win.
	devOn := false
	for _, vals := range []map[string]string{fileVals, envVals, flagVals} {
		if v, ok := vals["dev"]; ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return Config{}, fmt.Errorf("dev must be true or false, got %q", v)
			}
			devOn = b
		}
	}
	if devOn {
		preset := map[string]string{}
		for _, st := range table {
			if st.dev != "" {
				preset[st.key] = st.dev
			}
		}
		if preset["data"] == "{tmp}" {
			if src.TempDir == nil {
				src.TempDir = func() (string, error) { return os.MkdirTemp("", "ferry-dev-") }
			}
			dir, err := src.TempDir()
			if err != nil {
				return Config{}, fmt.Errorf("dev preset: %w", err)
			}
			preset["data"] = dir
		}
		if err := apply("dev preset", preset); err != nil {
			return Config{}, err
		}
	}
	for _, layer := range []struct {
		name string
		vals map[string]string
	}{{"config file " + *configFile, fileVals}, {"environment", envVals}, {"flag", flagVals}} {
		if err := apply(layer.name, layer.vals); err != nil {
			return Config{}, err
		}
	}
	return c, c.Validate()
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// readFile reads a flat YAML mapping of setting keys to scalars; unknown
// keys are refused with their line so that typos do not go unnoticed.
func readFile(path string, table []setting) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := map[string]string{}
	if len(doc.Content) == 0 {
		return out, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config file %s:%d:%d: expected a mapping of settings", path, m.Line, m.Column)
	}
	known := map[string]bool{}
	for _, st := range table {
		known[st.key] = true
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := strings.ReplaceAll(k.Value, "-", "_")
		if !known[key] {
			return nil, fmt.Errorf("config file %s:%d:%d: unknown setting %q", path, k.Line, k.Column, k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("config file %s:%d:%d: %s must be a single value", path, v.Line, v.Column, k.Value)
		}
		out[key] = v.Value
	}
	return out, nil
}

// Validate checks values that depend on each other.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("addr: %w", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("addr: bad port %q", port)
	}
	if !IsLoopback(host) && !c.InsecureListen {
		return errors.New("addr: listening on " + c.Addr + " would expose Ferry without authentication; " +
			"bind a loopback address (127.0.0.1, ::1, localhost) or set insecure_listen (not recommended)")
	}
	if c.DataDir == "" {
		return errors.New("data: a data directory is required")
	}
	if c.DB != "" && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		return fmt.Errorf("db: expected empty (SQLite) or a postgres:// URL, got %q", redact(c.DB))
	}
	return nil
}

// IsLoopback reports whether host names only this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ArtifactsPath is where local artifacts live.
func (c *Config) ArtifactsPath() string {
	if c.ArtifactsDir != "" {
		return c.ArtifactsDir
	}
	return filepath.Join(c.DataDir, "artifacts")
}

// SQLitePath is the embedded database file.
func (c *Config) SQLitePath() string { return filepath.Join(c.DataDir, "ferry.db") }

// redact hides a password in a URL-ish string.
func redact(s string) string {
	if at := strings.Index(s, "@"); at > 0 {
		if colon := strings.LastIndex(s[:at], ":"); colon > strings.Index(s, "://")+2 {
			return s[:colon+1] + "xxxxx" + s[at:]
		}
	}
	return s
}

// Reference returns the configuration reference as Markdown table rows,
// for the README and `ferry server --help`.
func Reference() string {
	var b strings.Builder
	b.WriteString("| setting (file) | flag | environment | default | dev preset | meaning |\n|---|---|---|---|---|---|\n")
	for _, st := range settings() {
		dev := st.dev
		if dev == "{tmp}" {
			dev = "a new temporary directory"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | `%s` | %s | %s |\n", st.key, flagName(st.key), envName(st.key), st.def, dev, st.usage)
	}
	return b.String()
}
