package remote

import (
	"net/url"
	"path/filepath"
	"strings"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// maxOutputs and maxInputs bound a signature.
const (
	maxOutputs = 1 << 16
	maxInputs  = 1 << 16
)

// checkSignature checks a signature given in the spec or by the caller.
func checkSignature(sig modelrt.Signature, where string) error {
	if len(sig.Inputs) == 0 || len(sig.Inputs) > maxInputs {
		return bad("%s.inputs: %d features; want 1 to %d", where, len(sig.Inputs), maxInputs)
	}
	names := map[string]bool{}
	named := sig.Inputs[0].Name != ""
	for i, f := range sig.Inputs {
		switch f.Type {
		case modelrt.Float, modelrt.Integer, modelrt.Categorical, "": // "": float
		default:
			return bad("%s.inputs[%d].type: %q is not float, int or categorical", where, i, truncate(string(f.Type), 40))
		}
		if (f.Name != "") != named {
			return bad("%s.inputs[%d].name: name every input or none", where, i)
		}
		if names[f.Name] && named {
			return bad("%s.inputs[%d].name: %q is named twice", where, i, truncate(f.Name, 60))
		}
		names[f.Name] = true
	}
	if sig.Outputs < 1 || sig.Outputs > maxOutputs {
		return bad("%s.outputs: %d; want 1 to %d values per row", where, sig.Outputs, maxOutputs)
	}
	switch sig.Task {
	case modelrt.Multiclass:
	case modelrt.Regression, modelrt.Binary, modelrt.Ranking:
		if sig.Outputs != 1 {
			return bad("%s.task: %s has one output per row, not %d (use multiclass)", where, sig.Task, sig.Outputs)
		}
	default:
		return bad("%s.task: %q is not regression, binary or multiclass", where, truncate(string(sig.Task), 40))
	}
	return nil
}

// withDefaults fills in what is left unset.
func (s *Spec) withDefaults() {
	if s.ModelName == "" {
		s.ModelName = DefaultModelName
	}
	if s.HealthPath == "" {
		switch s.Protocol {
		case MLflow:
			s.HealthPath = "/ping"
		case OIP:
			s.HealthPath = "/v2/health/ready"
		}
	}
	if s.HealthInterval == 0 {
		s.HealthInterval = DefaultHealthInterval
	}
	if s.StartupTimeout == 0 {
		s.StartupTimeout = DefaultStartupTimeout
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	s.URL = strings.TrimRight(s.URL, "/")
}

// Validate checks a spec (with its defaults filled in); every error
// matches modelrt.ErrBadModel.
func (s Spec) Validate() error {
	switch s.Protocol {
	case MLflow, OIP:
	case "":
		if s.Command != nil {
			return bad("protocol is required with command")
		}
	default:
		return bad("protocol: %q is not mlflow or oip", truncate(string(s.Protocol), 40))
	}
	switch {
	case s.URL != "" && s.Command != nil:
		return bad("url and command: give exactly one of them")
	case s.URL == "" && s.Command == nil:
		return bad("url or command is required")
	case s.URL != "":
		if err := checkURL(s.URL); err != nil {
			return err
		}
		if s.Env != nil {
			return bad("env: only with command (Ferry does not start the server at url)")
		}
		if s.Dir != "" {
			return bad("dir: only with command (Ferry does not start the server at url)")
		}
	default:
		if len(s.Command) == 0 || s.Command[0] == "" {
			return bad("command: the first element (the program) is empty")
		}
		for i, a := range s.Command {
			if strings.IndexByte(a, 0) >= 0 {
				return bad("command[%d] holds a NUL byte", i)
			}
		}
		for k, v := range s.Env {
			if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
				return bad("env: %q is not a valid variable", truncate(k, 60))
			}
			if k == "PORT" {
				return bad("env: PORT is set by Ferry (the port it picked)")
			}
		}
		if s.Dir != "" && !filepath.IsLocal(s.Dir) {
			return bad("dir: %q must be a relative path inside the model directory", truncate(s.Dir, 100))
		}
	}
	if s.Protocol != OIP && s.Protocol != "" && s.ModelName != "" && s.ModelName != DefaultModelName {
		return bad("model_name: only for protocol oip")
	}
	if strings.ContainsAny(s.ModelName, "/?#") {
		return bad("model_name: %q may not hold '/', '?' or '#'", truncate(s.ModelName, 60))
	}
	if s.HealthPath != "" && (!strings.HasPrefix(s.HealthPath, "/") || strings.ContainsAny(s.HealthPath, "#\x00 ")) {
		return bad("health_path: %q must be a path starting with '/'", truncate(s.HealthPath, 100))
	}
	if s.HealthInterval < 0 || s.StartupTimeout < 0 || s.Timeout < 0 {
		return bad("health_interval, startup_timeout and timeout must be positive")
	}
	if s.MaxRestarts < 0 {
		return bad("max_restarts: %d; want 0 or more", s.MaxRestarts)
	}
	if s.Signature != nil {
		if err := checkSignature(*s.Signature, "signature"); err != nil {
			return err
		}
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return bad("url: %q is not a URL", truncate(raw, 100))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return bad("url: %s: only http and https are served", u.Redacted())
	}
	if u.Host == "" {
		return bad("url: %s has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("url: %s: a base URL has no query or fragment", u.Redacted())
	}
	return nil
}
