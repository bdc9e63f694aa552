package middleware

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// ErrorWriter answers a request with err in a surface's error format. It
// is called by the pipeline for errors it detects itself (no route, body too
// large, authentication, authorization, panics) and is usually the same
// function the surface's handlers use for their own errors.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// RouteError is the error the Router passes to an ErrorWriter when no route
// serves the request: Status is 404 (no such path) or 405 (path exists, not
// with this method; Allow lists the methods that exist).
type RouteError struct {
	Status int
	Method string
	Path   string
	Allow  []string
}

func (e *RouteError) Error() string {
	if e.Status == http.StatusMethodNotAllowed {
		return "Method " + e.Method + " is not allowed for " + e.Path
	}
	return "No API endpoint matches " + e.Method + " " + e.Path
}

// Is makes a RouteError match errdefs.ErrNotFound, so error writers that do
// not know it still answer 4xx.
func (e *RouteError) Is(target error) bool { return target == errdefs.ErrNotFound }

// BodyTooLarge reports whether err comes from reading a request body past
// its route's limit, and the limit.
func BodyTooLarge(err error) (limit int64, ok bool) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe.Limit, true
	}
	return 0, false
}

// StatusOf maps an error to the HTTP status Ferry uses for its kind.
func StatusOf(err error) int {
	var re *RouteError
	if errors.As(err, &re) {
		return re.Status
	}
	if _, ok := BodyTooLarge(err); ok {
		return http.StatusRequestEntityTooLarge
	}
	switch {
	case errors.Is(err, errdefs.ErrInvalidArgument), errors.Is(err, errdefs.ErrAlreadyExists):
		return http.StatusBadRequest
	case errors.Is(err, errdefs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errdefs.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, errdefs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, errdefs.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, errdefs.ErrUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, errdefs.ErrNotImplemented):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// WriteJSONError is the default ErrorWriter: the status from StatusOf and a
// body {"error_code": "...", "message": "..."} with MLflow's error codes.
// The message of an unexpected (500) error is never shown to the client.
func WriteJSONError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	msg := err.Error()
	code := ""
	switch status {
	case http.StatusBadRequest:
		code = "INVALID_PARAMETER_VALUE"
		if errors.Is(err, errdefs.ErrAlreadyExists) {
			code = "RESOURCE_ALREADY_EXISTS"
		}
	case http.StatusNotFound:
		code = "RESOURCE_DOES_NOT_EXIST"
		var re *RouteError
		if errors.As(err, &re) {
			code = "ENDPOINT_NOT_FOUND"
		}
	case http.StatusMethodNotAllowed:
		code = "BAD_REQUEST"
	case http.StatusRequestEntityTooLarge:
		code = "INVALID_PARAMETER_VALUE"
		limit, _ := BodyTooLarge(err)
		msg = "Request body exceeds the limit of " + strconv.FormatInt(limit, 10) + " bytes."
	case http.StatusConflict:
		code = "RESOURCE_CONFLICT"
	case http.StatusForbidden:
		code = "PERMISSION_DENIED"
	case http.StatusUnauthorized:
		code = "UNAUTHENTICATED"
	case http.StatusServiceUnavailable:
		code = "TEMPORARILY_UNAVAILABLE"
	case http.StatusNotImplemented:
		code = "NOT_IMPLEMENTED"
	default:
		code = "INTERNAL_ERROR"
		msg = InternalErrorMessage(r.Context())
	}
	var re *RouteError
	if errors.As(err, &re) && len(re.Allow) > 0 {
		w.Header().Set("Allow", joinComma(re.Allow))
	}
	body, _ := json.Marshal(struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}{code, msg})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// InternalErrorMessage is the message shown for an unexpected server error:
// nothing about the cause, only the request id to look it up in the log.
func InternalErrorMessage(ctx context.Context) string {
	if id := RequestID(ctx); id != "" {
		return "Internal server error (request id " + id + "); the details are in the server log."
	}
	return "Internal server error; the details are in the server log."
}

func joinComma(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
