package remote

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlTypes names the Go types of the file's parts the way a person
// writing it would.
var yamlTypes = strings.NewReplacer(
	"yaml: ", "",
	"unmarshal errors:\n  ", "",
	"\n  ", "; ",
	" in type remote.specNodes", " (known fields: protocol, url, command, env, dir, model_name, health_path, health_interval, startup_timeout, timeout, max_restarts, signature)",
	" in type remote.sigNodes", " in signature (known fields: inputs, outputs, task)",
	" in type remote.inputNodes", " in signature.inputs (known fields: name, type)",
	"into []remote.inputNodes", "into signature.inputs (a list of {name, type})",
	"into remote.specNodes", "into the spec (a mapping of fields)",
	"into remote.sigNodes", "into signature (a mapping of inputs, outputs and task)",
	"into remote.inputNodes", "into a signature input ({name, type})",
)

func yamlMessage(err error) string { return yamlTypes.Replace(err.Error()) }

func present(n *yaml.Node) bool {
	return n.Kind != 0 && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return "a " + strings.TrimPrefix(n.Tag, "!!")
	}
	return "nothing"
}

// scalar reads a string field ("" when absent).
func scalar(n *yaml.Node, field string) (string, error) {
	if !present(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", bad("%s: want a string, got %s (line %d)", field, kindName(n), n.Line)
	}
	return n.Value, nil
}

func stringList(n *yaml.Node, field string) ([]string, error) {
	if !present(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, bad("%s: want a list of strings (the argv), got %s (line %d)", field, kindName(n), n.Line)
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		v, err := scalar(c, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		if !present(c) {
			return nil, bad("%s[%d]: missing value (line %d)", field, i, c.Line)
		}
		out = append(out, v)
	}
	return out, nil
}

func stringMap(n *yaml.Node, field string) (map[string]string, error) {
	if !present(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, bad("%s: want a mapping of names to values, got %s (line %d)", field, kindName(n), n.Line)
	}
	out := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, err := scalar(n.Content[i], field+" key")
		if err != nil {
			return nil, err
		}
		v, err := scalar(n.Content[i+1], field+"."+k)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, bad("%s: %q is set twice (line %d)", field, truncate(k, 60), n.Content[i].Line)
		}
		out[k] = v
	}
	return out, nil
}

func duration(n *yaml.Node, field string) (time.Duration, error) {
	v, err := scalar(n, field)
	if err != nil || v == "" {
		return 0, err
	}
	d, perr := time.ParseDuration(v)
	if perr != nil {
		return 0, bad("%s: %q is not a duration like 500ms, 5s or 1m (line %d)", field, truncate(v, 40), n.Line)
	}
	if d <= 0 {
		return 0, bad("%s: %s must be positive (line %d)", field, v, n.Line)
	}
	return d, nil
}

func integer(n *yaml.Node, field string) (int, error) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		return 0, bad("%s: want an integer, got %s (line %d)", field, kindName(n), n.Line)
	}
	return v, nil
}
