package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
)

// errPermanent marks a delivery failure that a retry cannot fix (a 4xx).
var errPermanent = errors.New("permanent delivery failure")

// channel delivers one payload once; the dispatcher retries.
type channel interface {
	// deliver sends the job's notification; target names what the
	// delivery started (a pipeline channel's run), "" otherwise.
	deliver(ctx context.Context, j job) (target string, err error)
}

func newChannel(c ChannelConfig, client *http.Client, logger *slog.Logger, trigger Trigger) (channel, error) {
	switch c.Type {
	case ChannelPipeline:
		if trigger == nil {
			return nil, fmt.Errorf("channel %s: pipeline channels need a server that runs pipelines", c.Name)
		}
		return &pipelineChannel{pipeline: c.Pipeline, params: c.Params, trigger: trigger}, nil
	case ChannelWebhook:
		return &httpChannel{url: c.URL, client: client, body: func(p *WebhookPayload) any { return p }}, nil
	case ChannelSlack:
		return &httpChannel{url: c.URL, client: client, body: func(p *WebhookPayload) any { return SlackMessage{Text: slackText(p)} }}, nil
	case ChannelLog:
		return &logChannel{logger: logger}, nil
	}
	return nil, fmt.Errorf("channel %s: unknown type %q", c.Name, c.Type)
}

type httpChannel struct {
	url    string
	client *http.Client
	body   func(*WebhookPayload) any
}

func (c *httpChannel) deliver(ctx context.Context, j job) (string, error) {
	return "", c.post(ctx, j.payload)
}

func (c *httpChannel) post(ctx context.Context, p *WebhookPayload) error {
	body, err := json.Marshal(c.body(p))
	if err != nil {
		return fmt.Errorf("encode payload: %w: %w", err, errPermanent)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w: %w", err, errPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Ferry-Alert")
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	err = fmt.Errorf("post %s: HTTP %d: %s", c.url, resp.StatusCode, bytes.TrimSpace(snippet))
	if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusRequestTimeout {
		return fmt.Errorf("%w: %w", err, errPermanent)
	}
	return err
}

type logChannel struct{ logger *slog.Logger }

func (c *logChannel) deliver(ctx context.Context, j job) (string, error) {
	p := j.payload
	c.logger.LogAttrs(ctx, slog.LevelWarn, "alert notification",
		slog.String("receiver", p.Receiver),
		slog.String("status", p.Status),
		slog.String("group_key", p.GroupKey),
		slog.Any("group_labels", p.GroupLabels),
		slog.Int("alerts", len(p.Alerts)),
		slog.String("text", slackText(p)))
	return "", nil
}

// TriggerRequest asks for a run of a registered pipeline on behalf of a
// firing alert group.
type TriggerRequest struct {
	Pipeline string
	Params   map[string]string
	Rule     string
	// Group is the group's lineage name (GroupURI).
	Group   string
	Payload *WebhookPayload
}

// Trigger starts a pipeline run and returns its lineage name
// (pipelines:/ID).
type Trigger func(ctx context.Context, req TriggerRequest) (run string, err error)

type pipelineChannel struct {
	pipeline string
	params   map[string]string
	trigger  Trigger
}

// deliver starts the pipeline when the group starts firing — its first
// notification with firing alerts since it had none — not on repeats,
// on alerts joining a group that fires already, or on resolution; a
// refused start is not retried.
func (c *pipelineChannel) deliver(ctx context.Context, j job) (string, error) {
	if !j.starts {
		return "", nil
	}
	p := j.payload
	run, err := c.trigger(ctx, TriggerRequest{Pipeline: c.pipeline, Params: c.params, Rule: j.rule,
		Group: GroupURI(j.rule, p.GroupKey), Payload: p})
	if err != nil {
		return "", fmt.Errorf("start pipeline %s: %w: %w", c.pipeline, err, errPermanent)
	}
	return run, nil
}
