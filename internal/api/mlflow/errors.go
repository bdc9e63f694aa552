package mlflow

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// MLflow's error codes (databricks.proto ErrorCode names).
const (
	codeInvalidParameterValue = "INVALID_PARAMETER_VALUE"
	codeResourceDoesNotExist  = "RESOURCE_DOES_NOT_EXIST"
	codeResourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
	codeResourceConflict      = "RESOURCE_CONFLICT"
	codePermissionDenied      = "PERMISSION_DENIED"
	codeUnauthenticated       = "UNAUTHENTICATED"
	codeTemporarilyUnavail    = "TEMPORARILY_UNAVAILABLE"
	codeNotImplemented        = "NOT_IMPLEMENTED"
	codeEndpointNotFound      = "ENDPOINT_NOT_FOUND"
	codeBadRequest            = "BAD_REQUEST"
	codeInternalError         = "INTERNAL_ERROR"
)

// classify maps an error to MLflow's status, error code and message.
// internal is true for unexpected errors, whose message must not be shown.
func classify(err error) (status int, code string, internal bool) {
	var re *middleware.RouteError
	if errors.As(err, &re) {
		if re.Status == http.StatusMethodNotAllowed {
			return re.Status, codeBadRequest, false
		}
		return http.StatusNotFound, codeEndpointNotFound, false
	}
	if _, ok := middleware.BodyTooLarge(err); ok {
		return http.StatusRequestEntityTooLarge, codeInvalidParameterValue, false
	}
	switch {
	case errors.Is(err, errdefs.ErrInvalidArgument):
		return http.StatusBadRequest, codeInvalidParameterValue, false
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound, codeResourceDoesNotExist, false
	case errors.Is(err, errdefs.ErrAlreadyExists):
		return http.StatusBadRequest, codeResourceAlreadyExists, false
	case errors.Is(err, errdefs.ErrConflict):
		return http.StatusConflict, codeResourceConflict, false
	case errors.Is(err, errdefs.ErrPermission):
		return http.StatusForbidden, codePermissionDenied, false
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return http.StatusUnauthorized, codeUnauthenticated, false
	case errors.Is(err, errdefs.ErrUnavailable):
		return http.StatusServiceUnavailable, codeTemporarilyUnavail, false
	case errors.Is(err, errdefs.ErrNotImplemented):
		return http.StatusNotImplemented, codeNotImplemented, false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, codeTemporarilyUnavail, true
	}
	return http.StatusInternalServerError, codeInternalError, true
}

// writeError answers err as MLflow does: {"error_code": ..., "message": ...}.
// Unexpected errors are logged with the request id and answered with a
// generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, internal := classify(err)
	msg := err.Error()
	switch {
	case status == http.StatusRequestEntityTooLarge:
		limit, _ := middleware.BodyTooLarge(err)
		msg = "Request body too large: this endpoint accepts at most " + strconv.FormatInt(limit, 10) + " bytes."
	case internal:
		var pe *middleware.PanicError
		if !errors.As(err, &pe) { // panics are logged by the middleware
			level := slog.LevelError
			if r.Context().Err() != nil {
				level = slog.LevelInfo // the client went away
			}
			s.logger.LogAttrs(r.Context(), level, "mlflow request failed",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("request_id", middleware.RequestID(r.Context())),
				slog.String("error", err.Error()),
			)
		}
		if status == http.StatusServiceUnavailable {
			msg = "The request was cancelled or timed out; try again."
		} else {
			msg = middleware.InternalErrorMessage(r.Context())
		}
	}
	var re *middleware.RouteError
	if errors.As(err, &re) && len(re.Allow) > 0 {
		w.Header().Set("Allow", strings.Join(re.Allow, ", "))
	}
	bp := getBuf()
	defer putBuf(bp)
	o := openObj(*bp)
	o.str("error_code", code)
	o.str("message", msg)
	*bp = o.close()
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	h["Content-Length"] = []string{strconv.Itoa(len(*bp))}
	w.WriteHeader(status)
	_, _ = w.Write(*bp)
}

// writeBatchError is the error writer of runs/log-batch: an over-limit body
// gets MLflow's own message and status.
func (s *Server) writeBatchError(w http.ResponseWriter, r *http.Request, err error) {
	if limit, ok := middleware.BodyTooLarge(err); ok {
		size := r.ContentLength
		if size <= limit {
			size = limit + 1 // chunked body: we only know it is larger
		}
		err = errdefs.InvalidArgument("Batched logging API requests must be at most %d bytes, got a request of size %d.",
			tracking.MaxBatchRequestBytes, size)
	}
	s.writeError(w, r, err)
}
