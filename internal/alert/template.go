package alert

import (
	"errors"
	"maps"
	"strings"
)

// TemplateData is what annotation templates see: {{ .Labels.endpoint }},
// {{ .Value }}.
type TemplateData struct {
	Labels map[string]string
	Value  float64
}

const maxAnnotation = 16 << 10

var errTooLong = errors.New("annotation longer than 16 KiB")

type limitedBuilder struct{ strings.Builder }

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxAnnotation {
		return 0, errTooLong
	}
	return b.Builder.Write(p)
}

// render expands a rule's annotation templates. A template that fails reads
// "<error expanding template: ...>", as in Prometheus, rather than failing
// the evaluation.
func render(r *Rule, labels map[string]string, v float64) map[string]string {
	if len(r.templates) == 0 {
		return nil
	}
	data := TemplateData{Labels: maps.Clone(labels), Value: v}
	out := make(map[string]string, len(r.templates))
	for k, t := range r.templates {
		var b limitedBuilder
		if err := t.Execute(&b, data); err != nil {
			out[k] = "<error expanding template: " + err.Error() + ">"
			continue
		}
		out[k] = b.String()
	}
	return out
}
