// Package middleware is the request pipeline shared by every HTTP surface of
// Ferry (the MLflow-compatible API today; the native /api/v1, the inference
// protocol and the UI later).
//
// It has two halves:
//
//   - Global middlewares, composed with Chain around the whole server:
//     RequestIDs (accept or generate X-Request-Id, echo it, put it in the
//     context), AccessLog (one structured slog line per request) and Recover
//     (a panic becomes an ERROR log with stack and a 500 in the error format
//     of the surface that owned the route).
//
//   - A Router, a thin layer over net/http.ServeMux through which every
//     route is registered together with the Permission it needs. The Router
//     is the one place where authentication (Authenticator), authorization
//     (Authorizer), per-route body limits and the audit hook (Auditor) apply,
//     so no handler can forget them. Surfaces choose their error format with
//     an ErrorWriter per route (usually per Group) and claim URL namespaces
//     (Namespace) whose unknown paths they answer themselves.
//
// Typical wiring:
//
//	r := middleware.NewRouter(middleware.RouterConfig{Logger: log})
//	mlflow.New(svc, artifacts, mlflow.Options{}).Register(r)
//	handler := middleware.Chain(
//		middleware.RequestIDs(),
//		middleware.AccessLog(log),
//		middleware.Recover(log, nil),
//	)(r)
//
// Everything is constructed explicitly; the package has no mutable
// package-level state.
package middleware
