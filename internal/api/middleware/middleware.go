package middleware

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/ferry-ml/ferry/internal/requestid"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain composes middlewares; the first is the outermost:
// Chain(a, b)(h) serves a request with a(b(h)).
func Chain(mws ...Middleware) Middleware {
	return func(h http.Handler) http.Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// HeaderRequestID carries the request id in requests and responses.
const HeaderRequestID = "X-Request-Id"

// RequestIDs accepts a sane incoming X-Request-Id (1 to 128 characters
// out of letters, digits and "-_.:") or generates one, echoes it in the
// response header and puts it in the request's Info. Generated ids are a
// random per-process prefix and a counter: unique, cheap, and ordered
// within one process.
func RequestIDs() Middleware {
	var seed [6]byte
	_, _ = rand.Read(seed[:])
	prefix := hex.EncodeToString(seed[:]) + "-"
	var counter atomic.Uint64
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, r := ensureInfo(r)
			id := r.Header.Get(HeaderRequestID)
			if !requestid.Valid(id) {
				id = prefix + strconv.FormatUint(counter.Add(1), 36)
			}
			info.ID = id
			w.Header().Set(HeaderRequestID, id)
			next.ServeHTTP(w, r)
		})
	}
}

// AccessLog writes one line per request to logger: method, path (never the
// query string, which may carry secrets), route, status, response bytes,
// duration, request id, remote address and principal. Bodies are never
// logged. Server errors (5xx) are logged at WARN, everything else at INFO.
func AccessLog(logger *slog.Logger) Middleware {
	if logger == nil {
		logger = slog.Default()
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, r := ensureInfo(r)
			rec := ensureRecorder(w)
			next.ServeHTTP(rec, r)
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			level := slog.LevelInfo
			switch {
			case status >= 500:
				level = slog.LevelWarn
			case info.quiet && status < 400:
				level = slog.LevelDebug
			}
			ctx := r.Context()
			if !logger.Enabled(ctx, level) {
				return
			}
			principal := ""
			if info.Authenticated {
				principal = info.Principal.Name
			}
			logger.LogAttrs(ctx, level, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", info.Route),
				slog.Int("status", status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("duration", time.Since(info.Start)),
				slog.String("request_id", info.ID),
				slog.String("remote", r.RemoteAddr),
				slog.String("principal", principal),
			)
		})
	}
}

// Recover turns a panic in the handler into an ERROR log with the stack and,
// if nothing has been written yet, a 500 answer in the error format of the
// route that panicked (ew when no route was matched; WriteJSONError if ew is
// nil). http.ErrAbortHandler is passed through, as net/http expects.
func Recover(logger *slog.Logger, ew ErrorWriter) Middleware {
	if logger == nil {
		logger = slog.Default()
	}
	if ew == nil {
		ew = WriteJSONError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info, r := ensureInfo(r)
			rec := ensureRecorder(w)
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					writer := ew
					if info.errorWriter != nil {
						writer = info.errorWriter
					}
					answerPanic(rec, r, logger, writer, p)
				}
			}()
			next.ServeHTTP(rec, r)
		})
	}
}

// PanicError is the error an ErrorWriter receives for a recovered panic.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// answerPanic logs a recovered panic with the stack of the panicking
// goroutine (still intact inside the deferred call) and answers 500 if the
// response has not started.
func answerPanic(w *recorder, r *http.Request, logger *slog.Logger, ew ErrorWriter, p any) {
	ctx := r.Context()
	logger.LogAttrs(ctx, slog.LevelError, "panic serving request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("request_id", RequestID(ctx)),
		slog.String("panic", fmt.Sprint(p)),
		slog.String("stack", string(debug.Stack())),
	)
	if w.wrote {
		return
	}
	ew(w, r, &PanicError{Value: p})
}

// detach returns a context with ctx's values but no cancellation, for work
// that must finish after the client went away (the audit record).
func detach(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
