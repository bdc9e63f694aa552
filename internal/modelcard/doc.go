// Package modelcard builds the model card of one registered model version
// and renders it as JSON, Markdown and a self-contained HTML page.
//
// A Card follows the field set of Google's Model Card Toolkit schema
// (version 0.0.2): the four standard sections model_details,
// model_parameters, quantitative_analysis and considerations keep the
// schema's property names, so tools that read that schema read these
// sections. Ferry fills the slots the schema has for what it knows (owners,
// version, datasets, metrics, considerations) and adds a handful of facts to
// dataset entries (digest, source, schema, profile, context). Everything else
// Ferry records about a version (registry state, the producing run and its
// parameters, tags, approvals, policy verdicts, lineage and the change
// history from the audit trail) lives in a separate top-level "ferry"
// section.
//
// The package is pure: Build turns a plain Input, filled by the caller from
// the registry, tracking, approval, policy, lineage and audit services, into
// a Card, and it imports none of those packages. The same Input always gives
// the same bytes: lists are sorted and the generation time is an input.
//
// Authors write the free-text parts of a card as tags on the registered
// model or the version (a version tag overrides the model tag of the same
// key):
//
//	card.owners                                  "Name <contact>, Team <#channel>"
//	card.model_details.documentation             free text
//	card.model_details.licenses                  SPDX identifiers or license text
//	card.model_details.references                links
//	card.model_details.citations                 citations, separated by blank lines
//	card.model_details.citations.<style>         one citation in that style
//	card.model_details.version.diff              changes from the previous version
//	card.model_parameters.model_architecture     free text
//	card.model_parameters.input_format           free text
//	card.model_parameters.output_format          free text
//	card.considerations.users                    list
//	card.considerations.use_cases                list
//	card.considerations.limitations              list
//	card.considerations.tradeoffs                list
//	card.considerations.ethical_considerations   list of "risk: mitigation"
//
// A list is one item per line or per ';'. Per-slice metrics are logged as
// run metrics named "<metric>/<key>:<value>" (or "<metric>/<key>=<value>"
// where the tracking server accepts '='); see ParseMetricName.
//
// docs/model-cards.md describes the card for users.
package modelcard
