package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ferry-ml/ferry/internal/modelrt"
)

// SpecFile is the name of the file in a model directory that makes it an
// external runtime.
const SpecFile = "ferry-runtime.yaml"

// Protocol is the wire protocol of an external runtime.
type Protocol string

// Protocols.
const (
	// MLflow is MLflow's scoring protocol: GET /ping, POST /invocations.
	MLflow Protocol = "mlflow"
	// OIP is the Open Inference Protocol v2 (KServe v2) over REST.
	OIP Protocol = "oip"
)

// Defaults of a Spec.
const (
	DefaultModelName      = "model"
	DefaultHealthInterval = 5 * time.Second
	DefaultStartupTimeout = 60 * time.Second
	DefaultTimeout        = 5 * time.Second
	DefaultMaxRestarts    = 5
)

// Spec says how to reach (or start) an external runtime: what
// ferry-runtime.yaml holds. ParseSpec fills in every default; Open
// fills in zero durations and an empty HealthPath or ModelName too.
type Spec struct {
	// Protocol is MLflow or OIP; "" (ParseURLSource only) means detect
	// it when opening.
	Protocol Protocol
	// URL is the base URL of a running server (no trailing slash).
	URL string
	// Command is the argv of a server Ferry starts and supervises instead;
	// "${PORT}" in it is replaced by the port Ferry picked (also in $PORT).
	Command []string
	// Env adds to the command's environment; Dir is its working
	// directory, relative to the model directory (command only).
	Env map[string]string
	Dir string
	// ModelName is the OIP model name used in paths.
	ModelName string
	// HealthPath answers 200 when the runtime is ready.
	HealthPath     string
	HealthInterval time.Duration
	StartupTimeout time.Duration
	// Timeout bounds one prediction.
	Timeout time.Duration
	// MaxRestarts is how many restarts are allowed within 10 minutes
	// before the runtime is marked failed (0: none).
	MaxRestarts int
	// Signature, when set, describes the inputs and outputs; else
	// Options.Signature, else (OIP) the server's model metadata.
	Signature *modelrt.Signature
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", modelrt.ErrBadModel, SpecFile, fmt.Sprintf(format, args...))
}

// specNodes is the file's shape; every value is read by hand so that an
// error names its field.
type specNodes struct {
	Protocol       yaml.Node `yaml:"protocol"`
	URL            yaml.Node `yaml:"url"`
	Command        yaml.Node `yaml:"command"`
	Env            yaml.Node `yaml:"env"`
	Dir            yaml.Node `yaml:"dir"`
	ModelName      yaml.Node `yaml:"model_name"`
	HealthPath     yaml.Node `yaml:"health_path"`
	HealthInterval yaml.Node `yaml:"health_interval"`
	StartupTimeout yaml.Node `yaml:"startup_timeout"`
	Timeout        yaml.Node `yaml:"timeout"`
	MaxRestarts    yaml.Node `yaml:"max_restarts"`
	Signature      *sigNodes `yaml:"signature"`
}

type sigNodes struct {
	Inputs  []inputNodes `yaml:"inputs"`
	Outputs yaml.Node    `yaml:"outputs"`
	Task    yaml.Node    `yaml:"task"`
}

type inputNodes struct {
	Name yaml.Node `yaml:"name"`
	Type yaml.Node `yaml:"type"`
}

// ParseSpec parses ferry-runtime.yaml. Unknown fields are errors; every
// error matches modelrt.ErrBadModel and names the field at fault.
func ParseSpec(b []byte) (spec Spec, err error) {
	defer func() {
		// The YAML decoder is third-party code run on untrusted input:
		// a panic in it is a bad file, not a crashed server.
		if p := recover(); p != nil {
			spec, err = Spec{}, bad("YAML parser failed: %v", p)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var n specNodes
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, bad("the file is empty")
		}
		return Spec{}, bad("%s", yamlMessage(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Spec{}, bad("the file holds more than one YAML document")
	}
	return n.spec()
}

func (n *specNodes) spec() (Spec, error) {
	var s Spec
	var err error
	p, err := scalar(&n.Protocol, "protocol")
	if err != nil {
		return Spec{}, err
	}
	switch Protocol(p) {
	case MLflow, OIP:
		s.Protocol = Protocol(p)
	case "":
		return Spec{}, bad("protocol is required: mlflow or oip")
	default:
		return Spec{}, bad("protocol: %q is not mlflow or oip (line %d)", truncate(p, 40), n.Protocol.Line)
	}
	if s.URL, err = scalar(&n.URL, "url"); err != nil {
		return Spec{}, err
	}
	if s.Command, err = stringList(&n.Command, "command"); err != nil {
		return Spec{}, err
	}
	if s.Env, err = stringMap(&n.Env, "env"); err != nil {
		return Spec{}, err
	}
	if s.Dir, err = scalar(&n.Dir, "dir"); err != nil {
		return Spec{}, err
	}
	if s.ModelName, err = scalar(&n.ModelName, "model_name"); err != nil {
		return Spec{}, err
	}
	if s.HealthPath, err = scalar(&n.HealthPath, "health_path"); err != nil {
		return Spec{}, err
	}
	for _, d := range []struct {
		node *yaml.Node
		name string
		dst  *time.Duration
	}{
		{&n.HealthInterval, "health_interval", &s.HealthInterval},
		{&n.StartupTimeout, "startup_timeout", &s.StartupTimeout},
		{&n.Timeout, "timeout", &s.Timeout},
	} {
		if *d.dst, err = duration(d.node, d.name); err != nil {
			return Spec{}, err
		}
	}
	s.MaxRestarts = DefaultMaxRestarts
	if present(&n.MaxRestarts) {
		if s.MaxRestarts, err = integer(&n.MaxRestarts, "max_restarts"); err != nil {
			return Spec{}, err
		}
	}
	if n.Signature != nil {
		sig, err := n.Signature.signature()
		if err != nil {
			return Spec{}, err
		}
		s.Signature = &sig
	}
	// Fields that must be set are absent or empty; the rest of the
	// checks are the ones Open makes of any Spec.
	if present(&n.URL) && s.URL == "" {
		return Spec{}, bad("url is empty")
	}
	if present(&n.Command) && len(s.Command) == 0 {
		return Spec{}, bad("command is empty")
	}
	if s.ModelName == "" && present(&n.ModelName) {
		return Spec{}, bad("model_name is empty")
	}
	if s.HealthPath == "" && present(&n.HealthPath) {
		return Spec{}, bad("health_path is empty")
	}
	s.withDefaults()
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}

func (n *sigNodes) signature() (modelrt.Signature, error) {
	var sig modelrt.Signature
	if len(n.Inputs) == 0 {
		return sig, bad("signature.inputs is required: a list of {name, type}")
	}
	for i := range n.Inputs {
		in := &n.Inputs[i]
		name, err := scalar(&in.Name, fmt.Sprintf("signature.inputs[%d].name", i))
		if err != nil {
			return sig, err
		}
		typ, err := scalar(&in.Type, fmt.Sprintf("signature.inputs[%d].type", i))
		if err != nil {
			return sig, err
		}
		f := modelrt.Feature{Name: name, Type: modelrt.FeatureType(typ)}
		if typ == "" {
			f.Type = modelrt.Float
		}
		sig.Inputs = append(sig.Inputs, f)
	}
	sig.Outputs = 1
	if present(&n.Outputs) {
		o, err := integer(&n.Outputs, "signature.outputs")
		if err != nil {
			return sig, err
		}
		sig.Outputs = o
	}
	task, err := scalar(&n.Task, "signature.task")
	if err != nil {
		return sig, err
	}
	sig.Task = modelrt.Task(task)
	if task == "" {
		sig.Task = modelrt.Regression
		if sig.Outputs > 1 {
			sig.Task = modelrt.Multiclass
		}
	}
	return sig, nil
}

// ParseURLSource makes the spec of a model version whose source is the
// http(s) base URL of a running server. It makes no request: the
// protocol is left empty, and Open detects it by probing — GET
// {url}/v2/health/ready answering 200 means oip, else GET {url}/ping
// answering 200 means mlflow — until one answers or the startup timeout
// passes. Every other field takes its default.
func ParseURLSource(rawURL string) (Spec, error) {
	s := Spec{URL: rawURL, MaxRestarts: DefaultMaxRestarts}
	s.withDefaults()
	if s.URL == "" {
		return Spec{}, bad("url is empty")
	}
	if err := s.Validate(); err != nil {
		return Spec{}, err
	}
	return s, nil
}
