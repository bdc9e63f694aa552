package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// maxBody bounds an answer of the runtime.
const maxBody = 64 << 20

// Predict is PredictContext without a context of its own: the spec's
// timeout bounds it.
func (m *Model) Predict(x []float64, rows int, out []float64, raw bool) error {
	return m.PredictContext(context.Background(), x, rows, out, raw)
}

// PredictContext sends rows of x to the runtime and writes its answer
// into out (Signature().Outputs values per row). It returns when ctx is
// done or the spec's timeout passes (ErrTimeout), whatever the runtime
// does. raw is not supported (errdefs.ErrInvalidArgument).
func (m *Model) PredictContext(ctx context.Context, x []float64, rows int, out []float64, raw bool) error {
	if raw {
		return errdefs.InvalidArgument("raw margins are not available from an external runtime")
	}
	nf, no := len(m.sig.Inputs), m.sig.Outputs
	if rows < 0 || rows > len(x) || len(x) != rows*nf {
		return errdefs.InvalidArgument("remote: %d values are not %d rows of %d features", len(x), rows, nf)
	}
	if rows > len(out) || len(out) != rows*no {
		return errdefs.InvalidArgument("remote: %d outputs asked for %d rows of %d outputs", len(out), rows, no)
	}
	if rows == 0 {
		return nil
	}
	base, err := m.readyBase()
	if err != nil {
		return err
	}
	body := m.wire.encode(x, rows)
	ctx, cancel := context.WithTimeout(ctx, m.spec.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+m.wire.path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("remote: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := m.client.Do(req)
	if err != nil {
		return m.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Enough of the body to find the message in; 512 bytes kept.
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil && ctx.Err() != nil {
			return m.transportError(ctx, err)
		}
		return &RuntimeError{StatusCode: resp.StatusCode, Body: string(b[:min(len(b), maxErrorBody)]), Message: errorMessage(b)}
	}
	b, err := readBody(resp, maxBody)
	if err != nil {
		if ctx.Err() != nil {
			return m.transportError(ctx, err)
		}
		return badAnswer(err)
	}
	if m.spec.Protocol == MLflow {
		err = decodeMLflowResponse(b, rows, no, out)
	} else {
		err = decodeOIPResponse(b, rows, no, out)
	}
	if err != nil {
		return badAnswer(err)
	}
	return nil
}

// transportError is the error of a request that got no (whole) answer.
func (m *Model) transportError(ctx context.Context, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return timeoutError("the external runtime did not answer in time (timeout %s)", m.spec.Timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("remote: prediction abandoned: %w", ctx.Err())
	}
	return notReady(err, "the external runtime cannot be reached: %v", unwrapURLError(err))
}

// readBody reads a whole answer of at most limit bytes.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("the answer is %d bytes, more than the %d accepted", resp.ContentLength, limit)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength) + 1)
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("the answer is more than the %d bytes accepted", limit)
	}
	return buf.Bytes(), nil
}

// unwrapURLError drops the method and URL net/http puts before an error
// (the URL may hold credentials).
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the runtime"
	}
	return u.Redacted()
}
