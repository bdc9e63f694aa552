package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// WebhookPayload is the body a webhook channel POSTs: Alertmanager's webhook
// format, version 4.
type WebhookPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
}

// WebhookAlert is one alert of a WebhookPayload. EndsAt is the zero time
// (0001-01-01T00:00:00Z) while the alert fires, as Alertmanager sends it.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Alert statuses in payloads.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// commonPairs returns the pairs every map holds with the same value.
func commonPairs(ms []map[string]string) map[string]string {
	out := map[string]string{}
	if len(ms) == 0 {
		return out
	}
	maps.Copy(out, ms[0])
	for _, m := range ms[1:] {
		for k, v := range out {
			if w, ok := m[k]; !ok || w != v {
				delete(out, k)
			}
		}
	}
	return out
}

func buildPayload(receiver, groupKey, externalURL string, groupLabels map[string]string, alerts []WebhookAlert) *WebhookPayload {
	p := &WebhookPayload{
		Version:     "4",
		GroupKey:    groupKey,
		Status:      StatusResolved,
		Receiver:    receiver,
		GroupLabels: maps.Clone(groupLabels),
		ExternalURL: externalURL,
		Alerts:      alerts,
	}
	labels := make([]map[string]string, len(alerts))
	annots := make([]map[string]string, len(alerts))
	for i, a := range alerts {
		if a.Status == StatusFiring {
			p.Status = StatusFiring
		}
		labels[i], annots[i] = a.Labels, a.Annotations
	}
	p.CommonLabels = commonPairs(labels)
	p.CommonAnnotations = commonPairs(annots)
	if p.GroupLabels == nil {
		p.GroupLabels = map[string]string{}
	}
	return p
}

// SlackMessage is the body a slack channel POSTs (incoming-webhook format).
type SlackMessage struct {
	Text string `json:"text"`
}

// slackText renders a payload the way Alertmanager's default Slack title
// does, followed by one line per alert.
func slackText(p *WebhookPayload) string {
	var b strings.Builder
	firing := 0
	for _, a := range p.Alerts {
		if a.Status == StatusFiring {
			firing++
		}
	}
	if p.Status == StatusFiring {
		fmt.Fprintf(&b, "[FIRING:%d] %s", firing, p.CommonLabels["alertname"])
	} else {
		fmt.Fprintf(&b, "[RESOLVED] %s", p.CommonLabels["alertname"])
	}
	if len(p.GroupLabels) > 0 {
		b.WriteString(" (" + labelString(p.GroupLabels) + ")")
	}
	for _, a := range p.Alerts {
		line := a.Annotations["summary"]
		if line == "" {
			line = labelString(a.Labels)
		}
		fmt.Fprintf(&b, "\n• [%s] %s", a.Status, line)
	}
	return b.String()
}

func labelString(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}
