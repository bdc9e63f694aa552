package middleware

import (
	"context"
	"net/http"
	"time"
)

// Info is what the pipeline knows about the request being served. The
// first middleware that needs it puts it in the request context; later
// stages fill it in (the Router sets Route, Permission and Principal), so
// the access log written by an outer middleware sees what inner ones found.
type Info struct {
	ID         string
	Start      time.Time
	Route      string // registered pattern; "" when no route matched
	Permission Permission
	// Principal is valid when Authenticated is true.
	Principal     Principal
	Authenticated bool
	// errorWriter renders errors for the route being served; Recover uses
	// it so a panic is answered in the surface's own format.
	errorWriter ErrorWriter
	// quiet logs the request at debug level unless it failed.
	quiet bool
}

type infoKey struct{}

// InfoFrom returns the request's Info, or nil outside the pipeline.
func InfoFrom(ctx context.Context) *Info {
	info, _ := ctx.Value(infoKey{}).(*Info)
	return info
}

// RequestID returns the request id carried by ctx, or "".
func RequestID(ctx context.Context) string {
	if info := InfoFrom(ctx); info != nil {
		return info.ID
	}
	return ""
}

// PrincipalFrom returns the authenticated caller of the request, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	if info := InfoFrom(ctx); info != nil && info.Authenticated {
		return info.Principal, true
	}
	return Principal{}, false
}

// ensureInfo returns the request's Info, adding one to a copy of r when
// there is none yet.
func ensureInfo(r *http.Request) (*Info, *http.Request) {
	if info := InfoFrom(r.Context()); info != nil {
		return info, r
	}
	info := &Info{Start: time.Now()}
	return info, r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
}
