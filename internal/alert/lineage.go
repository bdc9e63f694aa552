package alert

import (
	"context"
	"strings"

	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/lineage"
)

// HistoryReader answers history queries (a persisted History).
type HistoryReader interface {
	ListAlertEvents(ctx context.Context, q HistoryQuery) ([]Event, error)
}

// LineageSource adds alert groups (alerts:/RULE/HASH) to the lineage
// graph: what a group watched leads to it ("alerted"), and it leads to
// the pipeline runs it started ("triggered"), so a retrained model's
// upstream shows the drift that caused it.
type LineageSource struct {
	History HistoryReader
	// Subjects names the lineage nodes a group's labels refer to (the
	// endpoint of an endpoint label, say); nil: none.
	Subjects func(labels map[string]string) []string
}

// Node implements lineage.Source.
func (l LineageSource) Node(ctx context.Context, uri string) (lineage.Node, bool, error) {
	if !strings.HasPrefix(uri, "alerts:/") {
		return lineage.Node{}, false, nil
	}
	evs, err := l.History.ListAlertEvents(ctx, HistoryQuery{Group: uri, Kind: EventNotification, Limit: 1})
	if err != nil {
		return lineage.Node{}, true, err
	}
	if len(evs) == 0 {
		return lineage.Node{}, true, errdefs.NotFound("No alert group %s in the alert history.", uri)
	}
	e := evs[0]
	attrs := map[string]string{"rule": e.Rule, "group_key": e.GroupKey, "status": e.Status,
		"last_notified": e.Time.UTC().Format("2006-01-02T15:04:05Z")}
	return lineage.Node{URI: uri, Kind: lineage.KindAlert, Label: e.Rule, Attrs: attrs}, true, nil
}

// Edges implements lineage.Source.
func (l LineageSource) Edges(ctx context.Context, uri string) (up, down []lineage.Edge, err error) {
	if strings.HasPrefix(uri, "alerts:/") {
		evs, err := l.History.ListAlertEvents(ctx, HistoryQuery{Group: uri, Kind: EventNotification, Limit: MaxHistoryLimit})
		if err != nil || len(evs) == 0 {
			return nil, nil, err
		}
		if l.Subjects != nil {
			for _, s := range l.Subjects(evs[0].Labels) {
				up = append(up, lineage.Edge{From: s, To: uri, Relation: "alerted"})
			}
		}
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Target != "" && !seen[e.Target] {
				seen[e.Target] = true
				down = append(down, lineage.Edge{From: uri, To: e.Target, Relation: "triggered"})
			}
		}
		return up, down, nil
	}
	if !strings.HasPrefix(uri, "pipelines:/") {
		return nil, nil, nil // alerts start pipeline runs only
	}
	evs, err := l.History.ListAlertEvents(ctx, HistoryQuery{Target: uri, Kind: EventNotification, Limit: MaxHistoryLimit})
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	for _, e := range evs {
		if g := GroupURI(e.Rule, e.GroupKey); !seen[g] {
			seen[g] = true
			up = append(up, lineage.Edge{From: g, To: uri, Relation: "triggered"})
		}
	}
	return up, nil, nil
}
