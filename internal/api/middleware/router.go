package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/audit"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// DefaultMaxBodyBytes is the request body limit of a route that does not
// set its own: generous for JSON APIs, small enough to bound memory.
const DefaultMaxBodyBytes = 1 << 20

// RouterConfig configures a Router. Zero fields take the documented defaults.
type RouterConfig struct {
	// Logger receives errors of the pipeline itself (panics, failing
	// authenticators or auditors). Default: slog.Default().
	Logger *slog.Logger
	// Authenticator identifies callers. Default: AnonymousAdmin.
	Authenticator Authenticator
	// Authorizer checks route permissions. Default: LevelAuthorizer.
	Authorizer Authorizer
	// Auditor records every request to a Write or Admin route.
	// Default: NopAuditor.
	Auditor Auditor
	// MaxBodyBytes is the body limit of routes without BodyLimit.
	// 0 means DefaultMaxBodyBytes; negative means unlimited.
	MaxBodyBytes int64
	// ErrorWriter renders errors of routes and namespaces without their
	// own. Default: WriteJSONError.
	ErrorWriter ErrorWriter
}

// Router dispatches requests to routes registered with the permission they
// require, and applies authentication, authorization, body limits and
// auditing to each. It is an http.Handler built on http.ServeMux, so
// patterns and r.PathValue work as documented there.
//
// Register every route before serving: registration is not synchronised
// with ServeHTTP. The Router owns the pattern "/" (its not-found handler);
// register "GET /" for a catch-all page.
type Router struct {
	mux        *http.ServeMux
	logger     *slog.Logger
	authn      Authenticator
	authz      Authorizer
	auditor    Auditor
	limit      int64
	ew         ErrorWriter
	routes     map[string]*route
	namespaces []namespace // longest prefix first
}

type namespace struct {
	prefix string
	ew     ErrorWriter
}

// NewRouter returns an empty Router.
func NewRouter(cfg RouterConfig) *Router {
	r := &Router{
		mux:     http.NewServeMux(),
		logger:  cfg.Logger,
		authn:   cfg.Authenticator,
		authz:   cfg.Authorizer,
		auditor: cfg.Auditor,
		limit:   cfg.MaxBodyBytes,
		ew:      cfg.ErrorWriter,
		routes:  make(map[string]*route),
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.authn == nil {
		r.authn = AnonymousAdmin{}
	}
	if r.authz == nil {
		r.authz = LevelAuthorizer{}
	}
	if r.auditor == nil {
		r.auditor = NopAuditor{}
	}
	if r.limit == 0 {
		r.limit = DefaultMaxBodyBytes
	}
	if r.ew == nil {
		r.ew = WriteJSONError
	}
	r.mux.Handle("/", http.HandlerFunc(r.unmatched))
	return r
}

// RouteOption adjusts one route (or every route of a Group).
type RouteOption func(*routeConfig)

type routeConfig struct {
	limit    int64
	limitSet bool
	ew       ErrorWriter
	quiet    bool
}

// BodyLimit sets the route's request body limit in bytes; a negative limit
// means unlimited (streamed uploads). A body over the limit is answered by
// the route's ErrorWriter with an error for which BodyTooLarge is true.
func BodyLimit(n int64) RouteOption {
	return func(c *routeConfig) { c.limit, c.limitSet = n, true }
}

// Quiet logs the route's successful requests at debug level instead of
// info: for the data plane (predictions), whose volume the access log
// should not multiply and which metrics count instead.
func Quiet() RouteOption {
	return func(c *routeConfig) { c.quiet = true }
}

// Errors sets the ErrorWriter used for the route's pipeline errors.
func Errors(ew ErrorWriter) RouteOption {
	return func(c *routeConfig) { c.ew = ew }
}

// Handle registers h for pattern (an http.ServeMux pattern such as
// "POST /api/2.0/mlflow/runs/create"), requiring permission perm.
func (r *Router) Handle(pattern string, perm Permission, h http.Handler, opts ...RouteOption) {
	cfg := routeConfig{limit: r.limit, ew: r.ew}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.limit == 0 {
		cfg.limit = DefaultMaxBodyBytes
	}
	if cfg.ew == nil {
		cfg.ew = r.ew
	}
	rt := &route{
		router:  r,
		pattern: pattern,
		lit:     literalPrefix(pattern),
		subtree: isSubtree(pattern),
		perm:    perm,
		h:       h,
		limit:   cfg.limit,
		ew:      cfg.ew,
		quiet:   cfg.quiet,
	}
	r.mux.Handle(pattern, rt)
	r.routes[pattern] = rt
}

// HandleFunc registers a handler function; see Handle.
func (r *Router) HandleFunc(pattern string, perm Permission, h http.HandlerFunc, opts ...RouteOption) {
	r.Handle(pattern, perm, h, opts...)
}

// Group returns a registrar whose routes all get opts (before their own).
func (r *Router) Group(opts ...RouteOption) *Group { return &Group{r: r, opts: opts} }

// Group registers routes on a Router with shared options.
type Group struct {
	r    *Router
	opts []RouteOption
}

// Handle registers a route; see Router.Handle.
func (g *Group) Handle(pattern string, perm Permission, h http.Handler, opts ...RouteOption) {
	all := make([]RouteOption, 0, len(g.opts)+len(opts))
	g.r.Handle(pattern, perm, h, append(append(all, g.opts...), opts...)...)
}

// HandleFunc registers a handler function; see Router.Handle.
func (g *Group) HandleFunc(pattern string, perm Permission, h http.HandlerFunc, opts ...RouteOption) {
	g.Handle(pattern, perm, h, opts...)
}

// Namespace claims the URL subtree below prefix (e.g. "/api/2.0/") for a
// surface: a request under it that matches no route of the subtree is
// answered by ew with a *RouteError (404, or 405 with the allowed methods),
// even when a catch-all route such as "GET /" would otherwise take it.
// Declaring the same prefix again replaces its ErrorWriter.
func (r *Router) Namespace(prefix string, ew ErrorWriter) {
	if ew == nil {
		ew = r.ew
	}
	for i := range r.namespaces {
		if r.namespaces[i].prefix == prefix {
			r.namespaces[i].ew = ew
			return
		}
	}
	r.namespaces = append(r.namespaces, namespace{prefix: prefix, ew: ew})
	sort.SliceStable(r.namespaces, func(i, j int) bool {
		return len(r.namespaces[i].prefix) > len(r.namespaces[j].prefix)
	})
}

// ServeHTTP implements http.Handler. A path inside a namespace that is not
// in canonical form ("a//b", "a/./b", "a/../b", also when percent-encoded)
// is refused with ErrInvalidArgument instead of ServeMux's redirect: API
// clients never send such paths, and a redirect would only obscure
// traversal attempts.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if len(r.namespaces) > 0 && !isCanonical(req.URL.Path) {
		if ns, ok := r.namespaceOf(req.URL.Path); ok {
			ns.ew(w, req, errdefs.InvalidArgument("Invalid path '%s': it must not contain empty, '.' or '..' segments.", req.URL.Path))
			return
		}
	}
	r.mux.ServeHTTP(w, req)
}

// isCanonical reports whether p is what ServeMux would not redirect: clean,
// with a trailing slash kept.
func isCanonical(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// namespaceOf returns the longest namespace containing path.
func (r *Router) namespaceOf(path string) (namespace, bool) {
	for _, ns := range r.namespaces {
		if strings.HasPrefix(path, ns.prefix) {
			return ns, true
		}
	}
	return namespace{}, false
}

// shadowed reports whether a route with literal prefix lit must not serve
// path because path lies in a namespace deeper than the route's prefix
// (a catch-all route must not swallow a surface's unknown endpoints).
func (r *Router) shadowed(lit, path string) bool {
	ns, ok := r.namespaceOf(path)
	return ok && len(lit) < len(ns.prefix)
}

var probeMethods = [...]string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// unmatched answers a request no route serves: 405 with Allow when the
// path exists for other methods, 404 otherwise.
func (r *Router) unmatched(w http.ResponseWriter, req *http.Request) {
	ew := r.ew
	if ns, ok := r.namespaceOf(req.URL.Path); ok {
		ew = ns.ew
	}
	var allow []string
	for _, m := range probeMethods {
		if m == req.Method {
			continue
		}
		probe := req.WithContext(req.Context())
		probe.Method = m
		_, pattern := r.mux.Handler(probe)
		rt, ok := r.routes[pattern]
		if !ok || (rt.subtree && r.shadowed(rt.lit, req.URL.Path)) {
			continue
		}
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	err := &RouteError{Status: http.StatusNotFound, Method: req.Method, Path: req.URL.Path}
	if len(allow) > 0 {
		err.Status, err.Allow = http.StatusMethodNotAllowed, allow
	}
	ew(w, req, err)
}

// literalPrefix returns the path of a ServeMux pattern up to its first
// wildcard: "GET /a/{id}/b" → "/a/".
func literalPrefix(pattern string) string {
	p := pattern
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		p = p[i:]
	}
	if i := strings.IndexByte(p, '{'); i >= 0 {
		p = p[:i]
	}
	return p
}

// isSubtree reports whether a ServeMux pattern matches a whole subtree.
func isSubtree(pattern string) bool {
	return strings.HasSuffix(pattern, "/") || strings.HasSuffix(pattern, "...}")
}

// route is one registered handler with its pipeline settings.
type route struct {
	router  *Router
	pattern string
	lit     string
	subtree bool // the pattern matches a whole subtree ("/x/", "/x/{rest...}")
	perm    Permission
	h       http.Handler
	limit   int64 // < 0: unlimited
	ew      ErrorWriter
	quiet   bool
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rt.subtree && rt.router.shadowed(rt.lit, r.URL.Path) {
		rt.router.unmatched(w, r)
		return
	}
	info, r := ensureInfo(r)
	rec := ensureRecorder(w)
	info.Route, info.Permission, info.errorWriter, info.quiet = rt.pattern, rt.perm, rt.ew, rt.quiet

	audited := rt.perm >= Write
	var body *hashingBody
	var notes *audit.Notes
	if r.Body != nil && r.Body != http.NoBody {
		if rt.limit >= 0 {
			r.Body = http.MaxBytesReader(rec, r.Body, rt.limit)
		}
		if audited {
			body = &hashingBody{rc: r.Body, h: sha256.New()}
			r.Body = body
		}
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			answerPanic(rec, r, rt.router.logger, rt.ew, p)
		}
		if audited {
			rt.audit(r, info, rec, body, notes)
		}
	}()

	if rt.limit >= 0 && r.ContentLength > rt.limit {
		rt.fail(rec, r, &http.MaxBytesError{Limit: rt.limit})
		return
	}
	if rt.perm != Public {
		p, err := rt.router.authn.Authenticate(r.Context(), r)
		if err != nil {
			rt.fail(rec, r, err)
			return
		}
		info.Principal, info.Authenticated = p, true
		if err := rt.router.authz.Authorize(r.Context(), p, rt.perm, r); err != nil {
			rt.fail(rec, r, err)
			return
		}
	}
	if audited {
		// Domain services note what they change (audit.Note) on this
		// request's context; the audit event carries the notes.
		var ctx context.Context
		ctx, notes = audit.WithNotes(r.Context(), info.Principal.Name)
		r = r.WithContext(ctx)
	}
	rt.h.ServeHTTP(rec, r)
}

// fail answers a pipeline error; unexpected ones (5xx) are logged first.
func (rt *route) fail(w http.ResponseWriter, r *http.Request, err error) {
	if StatusOf(err) >= 500 {
		rt.router.logger.LogAttrs(r.Context(), slog.LevelError, "request pipeline failed",
			slog.String("route", rt.pattern),
			slog.String("request_id", RequestID(r.Context())),
			slog.String("error", err.Error()),
		)
	}
	rt.ew(w, r, err)
}

// audit finishes the body hash (draining what is left of a size-limited
// body) and hands the event to the Auditor.
func (rt *route) audit(r *http.Request, info *Info, rec *recorder, body *hashingBody, notes *audit.Notes) {
	ev := AuditEvent{
		Time:      info.Start,
		RequestID: info.ID,
		Method:    r.Method,
		Route:     rt.pattern,
		Path:      r.URL.Path,
		Remote:    r.RemoteAddr,
		Status:    rec.status,
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	if ev.Status == 0 {
		ev.Status = http.StatusOK
	}
	if info.Authenticated {
		ev.Principal = info.Principal.Name
	}
	if notes != nil {
		ev.Changes = notes.Changes()
	}
	switch {
	case body == nil:
		ev.BodySHA256 = emptySHA256
	default:
		if !body.eof && rt.limit >= 0 && body.err == nil && r.ContentLength <= rt.limit {
			_, _ = io.Copy(io.Discard, body)
		}
		if body.eof {
			ev.BodySHA256 = hex.EncodeToString(body.h.Sum(nil))
		}
		ev.BodyBytes = body.n
	}
	if err := rt.router.auditor.Audit(detach(r.Context()), ev); err != nil {
		rt.router.logger.LogAttrs(r.Context(), slog.LevelError, "audit failed",
			slog.String("route", rt.pattern),
			slog.String("request_id", info.ID),
			slog.String("error", err.Error()),
		)
	}
}

// emptySHA256 is the hash of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// hashingBody hashes a request body as the handler reads it.
type hashingBody struct {
	rc  io.ReadCloser
	h   hash.Hash
	n   int64
	eof bool
	err error
}

func (b *hashingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.h.Write(p[:n])
		b.n += int64(n)
	}
	switch {
	case err == io.EOF:
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

func (b *hashingBody) Close() error { return b.rc.Close() }
