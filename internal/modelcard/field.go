package modelcard

import (
	"strings"
)

// field reads one card path as lines of text.
type field struct {
	path string
	get  func(*Card) []string
}

// fields are the paths Field resolves, in the card's reading order.
var fields = []field{
	{"model_details.name", func(c *Card) []string { return []string{c.ModelDetails.Name} }},
	{"model_details.overview", func(c *Card) []string { return []string{c.ModelDetails.Overview} }},
	{"model_details.documentation", func(c *Card) []string { return []string{c.ModelDetails.Documentation} }},
	{"model_details.owners", func(c *Card) []string { return each(c.ModelDetails.Owners, ownerText) }},
	{"model_details.version", func(c *Card) []string {
		v := c.ModelDetails.Version
		return []string{v.Name, v.Date, v.Diff}
	}},
	{"model_details.version.name", func(c *Card) []string { return []string{c.ModelDetails.Version.Name} }},
	{"model_details.version.date", func(c *Card) []string { return []string{c.ModelDetails.Version.Date} }},
	{"model_details.version.diff", func(c *Card) []string { return []string{c.ModelDetails.Version.Diff} }},
	{"model_details.licenses", func(c *Card) []string { return each(c.ModelDetails.Licenses, licenseText) }},
	{"model_details.references", func(c *Card) []string {
		return each(c.ModelDetails.References, func(r Reference) string { return r.Reference })
	}},
	{"model_details.citations", func(c *Card) []string { return each(c.ModelDetails.Citations, citationText) }},
	{"model_details.path", func(c *Card) []string { return []string{c.ModelDetails.Path} }},
	{"model_parameters.model_architecture", func(c *Card) []string { return []string{c.ModelParameters.ModelArchitecture} }},
	{"model_parameters.data", func(c *Card) []string { return each(c.ModelParameters.Data, datasetText) }},
	{"model_parameters.input_format", func(c *Card) []string { return []string{c.ModelParameters.InputFormat} }},
	{"model_parameters.output_format", func(c *Card) []string { return []string{c.ModelParameters.OutputFormat} }},
	{"quantitative_analysis.performance_metrics", func(c *Card) []string {
		return each(c.QuantitativeAnalysis.PerformanceMetrics, metricText)
	}},
	{"considerations.users", func(c *Card) []string {
		return each(c.Considerations.Users, func(u User) string { return u.Description })
	}},
	{"considerations.use_cases", func(c *Card) []string {
		return each(c.Considerations.UseCases, func(u UseCase) string { return u.Description })
	}},
	{"considerations.limitations", func(c *Card) []string {
		return each(c.Considerations.Limitations, func(l Limitation) string { return l.Description })
	}},
	{"considerations.tradeoffs", func(c *Card) []string {
		return each(c.Considerations.Tradeoffs, func(t Tradeoff) string { return t.Description })
	}},
	{"considerations.ethical_considerations", func(c *Card) []string {
		return each(c.Considerations.EthicalConsiderations, riskText)
	}},
}

// Fields lists the paths Field resolves, in the card's reading order. A
// policy rule that requires card fields should refuse paths not listed.
func Fields() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.path
	}
	return out
}

// Field returns the text of the card field at a dotted path, such as
// "considerations.limitations" or "model_details.owners" (see Fields). A
// list field gives one line per entry; blank entries are skipped. ok is
// false when the path is not one of Fields or the field is empty, so
// "the card has this field" is exactly ok.
func Field(c *Card, path string) (text string, ok bool) {
	if c == nil {
		return "", false
	}
	for _, f := range fields {
		if f.path != path {
			continue
		}
		var lines []string
		for _, l := range f.get(c) {
			if l = strings.TrimSpace(l); l != "" {
				lines = append(lines, l)
			}
		}
		text = strings.Join(lines, "\n")
		return text, text != ""
	}
	return "", false
}

// each maps f over s.
func each[T, R any](s []T, f func(T) R) []R {
	out := make([]R, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

func ownerText(o Owner) string {
	switch {
	case o.Contact == "":
		return o.Name
	case o.Name == "":
		return "<" + o.Contact + ">"
	}
	return o.Name + " <" + o.Contact + ">"
}

func licenseText(l License) string {
	if l.Identifier != "" {
		return l.Identifier
	}
	return l.CustomText
}

func citationText(c Citation) string {
	if c.Style == "" || c.Citation == "" {
		return c.Citation
	}
	return c.Style + ": " + c.Citation
}

func datasetText(d Dataset) string {
	if d.Digest == "" || d.Name == "" {
		return d.Name
	}
	return d.Name + "@" + d.Digest
}

func metricText(m PerformanceMetric) string {
	if m.Type == "" {
		return ""
	}
	s := m.Type
	if m.Slice != "" {
		s += " [" + m.Slice + "]"
	}
	return s + " = " + m.Value
}

func riskText(r Risk) string {
	if r.MitigationStrategy == "" || r.Name == "" {
		return r.Name + r.MitigationStrategy
	}
	return r.Name + ": " + r.MitigationStrategy
}
