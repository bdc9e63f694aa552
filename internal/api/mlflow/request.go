package mlflow

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/ferry-ml/ferry/internal/api/middleware"
	"github.com/ferry-ml/ferry/internal/errdefs"
	"github.com/ferry-ml/ferry/internal/tracking"
)

// request is a decoded MLflow request message: the JSON body, or the
// query parameters of a GET turned into the same node form (each parameter
// a string, a repeated one an array of strings), as MLflow's
// _get_request_message does. Getters convert fields on demand and produce
// MLflow's messages for missing or mistyped ones.
type request struct {
	p     parser
	query bool // decoded from a query string
}

var requestPool = sync.Pool{New: func() any { return new(request) }}

// bufPool holds body read buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps unusually large buffers out of the pools.
const maxPooledBuffer = 1 << 20

func (q *request) release() {
	if cap(q.p.nodes) > 1<<16 || cap(q.p.sb) > maxPooledBuffer {
		return // let an outsized request's memory go
	}
	clear(q.p.nodes)
	q.p.nodes = q.p.nodes[:0]
	q.p.src = ""
	requestPool.Put(q)
}

// root is the request object.
const root int32 = 0

// decodeRequest reads the request message of r. A GET with a query string
// reads the query; anything else reads a JSON body (a missing or empty body
// is an empty message) and, for POST, PUT and PATCH, requires
// Content-Type: application/json.
func decodeRequest(r *http.Request) (*request, error) {
	q := requestPool.Get().(*request)
	var err error
	if r.Method == http.MethodGet && r.URL.RawQuery != "" {
		err = q.fromQuery(r.URL.Query())
	} else {
		err = q.fromBody(r)
	}
	if err != nil {
		q.release()
		return nil, err
	}
	return q, nil
}

func (q *request) fromQuery(vals url.Values) error {
	q.query = true
	p := &q.p
	p.nodes = p.nodes[:0]
	obj := p.add(kObj)
	prev := int32(-1)
	link := func(parent int32, prev *int32, child int32) {
		if *prev < 0 {
			p.nodes[parent].first = child
		} else {
			p.nodes[*prev].next = child
		}
		*prev = child
	}
	for k, vs := range vals {
		if !utf8Valid(k) {
			return invalidJSON(errors.New("invalid UTF-8 in query parameter name"))
		}
		var n int32
		if len(vs) == 1 {
			if !utf8Valid(vs[0]) {
				return invalidJSON(errors.New("invalid UTF-8 in query parameter " + strconv.Quote(k)))
			}
			n = p.add(kStr)
			p.nodes[n].s = vs[0]
		} else {
			n = p.add(kArr)
			ep := int32(-1)
			for _, v := range vs {
				if !utf8Valid(v) {
					return invalidJSON(errors.New("invalid UTF-8 in query parameter " + strconv.Quote(k)))
				}
				e := p.add(kStr)
				p.nodes[e].s = v
				link(n, &ep, e)
			}
		}
		p.nodes[n].key = k
		link(obj, &prev, n)
	}
	return nil
}

func (q *request) fromBody(r *http.Request) error {
	q.query = false
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			return err
		}
	}
	src, err := readBody(r)
	if err != nil {
		return err
	}
	if strings.TrimLeft(src, " \t\r\n") == "" {
		src = "{}"
	}
	if err := q.p.parse(src); err != nil {
		return invalidJSON(err)
	}
	// Older clients double-encode the body as a JSON string.
	if q.p.nodes[root].kind == kStr {
		inner := q.p.nodes[root].s
		if err := q.p.parse(inner); err != nil {
			return invalidJSON(err)
		}
	}
	if q.p.nodes[root].kind != kObj {
		return invalidJSON(errNotObject)
	}
	return nil
}

// readBody reads the whole body into a string; the route's size limit is
// enforced by the middleware's reader.
func readBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return "", nil
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			bufPool.Put(buf)
		}
	}()
	if n := r.ContentLength; n > 0 && n < 64<<20 {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		if _, ok := middleware.BodyTooLarge(err); ok {
			return "", err
		}
		return "", errdefs.InvalidArgument("Could not read the request body: %v", err)
	}
	return buf.String(), nil
}

// checkContentType enforces MLflow's rule for JSON request bodies.
func checkContentType(ct string) error {
	if ct == "" {
		return errdefs.InvalidArgument("Bad Request. Content-Type header is missing.")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errdefs.InvalidArgument("Bad Request. Content-Type must be one of ['application/json'].")
	}
	return nil
}

func invalidJSON(err error) error {
	return errdefs.InvalidArgument("Malformed request: the body is not valid JSON (%v).", err)
}

func utf8Valid(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return strings.ToValidUTF8(s, "\uFFFD") == s
		}
	}
	return true
}

// ---- field access

// field returns the last member called name of object obj (JSON readers
// keep the last of duplicate keys), or -1. null counts as absent.
func (q *request) field(obj int32, name string) int32 {
	nodes := q.p.nodes
	found := int32(-1)
	for c := nodes[obj].first; c >= 0; c = nodes[c].next {
		if nodes[c].key == name {
			found = c
		}
	}
	if found >= 0 && nodes[found].kind == kNull {
		return -1
	}
	return found
}

// scalar returns the node to read a scalar from: in a query string a
// repeated parameter counts with its first value.
func (q *request) scalar(n int32) int32 {
	if q.query && q.p.nodes[n].kind == kArr {
		return q.p.nodes[n].first
	}
	return n
}

func joinPath(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// str reads a string field. Numbers are accepted for experiment ids, which
// old clients sent as integers.
func (q *request) str(obj int32, name, prefix string) (string, bool, error) {
	n := q.field(obj, name)
	if n < 0 {
		return "", false, nil
	}
	n = q.scalar(n)
	nd := &q.p.nodes[n]
	switch {
	case nd.kind == kStr:
		return nd.s, true, nil
	case nd.kind == kNum && isExperimentIDField(name) && isIntegerLiteral(nd.s):
		return nd.s, true, nil
	}
	return "", false, q.typeError(joinPath(prefix, name), n)
}

// requiredStr reads a string field that must be present and non-empty.
func (q *request) requiredStr(obj int32, name, prefix string) (string, error) {
	s, _, err := q.str(obj, name, prefix)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", tracking.MissingValue(joinPath(prefix, name))
	}
	return s, nil
}

// requiredStrs reads top-level required string fields in order (the
// first missing one is the error, as MLflow's validators report it).
func (q *request) requiredStrs(names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v, err := q.requiredStr(root, n, "")
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// runID reads run_id, falling back to the legacy run_uuid.
func (q *request) runID() (string, error) {
	id, _, err := q.str(root, "run_id", "")
	if err != nil || id != "" {
		return id, err
	}
	id, _, err = q.str(root, "run_uuid", "")
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", tracking.MissingValue("run_id")
	}
	return id, nil
}

// int64 reads an integer field given as a JSON number or a numeric string.
func (q *request) int64(obj int32, name, prefix string) (int64, bool, error) {
	n := q.field(obj, name)
	if n < 0 {
		return 0, false, nil
	}
	n = q.scalar(n)
	nd := &q.p.nodes[n]
	switch nd.kind {
	case kNum:
		if v, ok := parseIntLiteral(nd.s); ok {
			return v, true, nil
		}
	case kStr:
		if v, err := strconv.ParseInt(nd.s, 10, 64); err == nil {
			return v, true, nil
		}
	}
	return 0, false, q.typeError(joinPath(prefix, name), n)
}

// int32 reads an integer field that the proto declares as int32.
func (q *request) int32(obj int32, name, prefix string) (int, bool, error) {
	v, ok, err := q.int64(obj, name, prefix)
	if err != nil {
		return 0, false, err
	}
	if v < math.MinInt32 || v > math.MaxInt32 {
		n := q.scalar(q.field(obj, name))
		return 0, false, q.typeError(joinPath(prefix, name), n)
	}
	return int(v), ok, nil
}

// float reads a double field: a JSON number, NaN/Infinity/-Infinity, or a
// string Python's float() accepts ("NaN", "inf", "1.5", ...).
func (q *request) float(obj int32, name, prefix string) (float64, bool, error) {
	n := q.field(obj, name)
	if n < 0 {
		return 0, false, nil
	}
	n = q.scalar(n)
	nd := &q.p.nodes[n]
	switch nd.kind {
	case kNum, kStr:
		if nd.kind == kStr && nd.s == "" {
			return 0, false, nil // MLflow treats "" as absent
		}
		if v, ok := parseFloat(nd.s); ok {
			return v, true, nil
		}
	}
	return 0, false, q.typeError(joinPath(prefix, name), n)
}

// enum reads an enum field given by name or by number.
func (q *request) enum(obj int32, name string, names []string) (int, bool, error) {
	n := q.field(obj, name)
	if n < 0 {
		return 0, false, nil
	}
	n = q.scalar(n)
	nd := &q.p.nodes[n]
	switch nd.kind {
	case kStr:
		for i, v := range names {
			if v != "" && v == nd.s {
				return i, true, nil
			}
		}
		if v, err := strconv.Atoi(nd.s); err == nil && v > 0 && v < len(names) && names[v] != "" {
			return v, true, nil
		}
	case kNum:
		if v, ok := parseIntLiteral(nd.s); ok && v > 0 && v < int64(len(names)) && names[v] != "" {
			return int(v), true, nil
		}
	}
	return 0, false, q.typeError(name, n)
}

// strList reads a repeated string field.
func (q *request) strList(obj int32, name string) ([]string, error) {
	n := q.field(obj, name)
	if n < 0 {
		return nil, nil
	}
	nodes := q.p.nodes
	if nodes[n].kind == kStr && q.query {
		return []string{nodes[n].s}, nil
	}
	if nodes[n].kind != kArr {
		return nil, q.typeError(name, n)
	}
	var out []string
	for c := nodes[n].first; c >= 0; c = nodes[c].next {
		switch {
		case nodes[c].kind == kStr:
			out = append(out, nodes[c].s)
		case nodes[c].kind == kNum && isExperimentIDField(name) && isIntegerLiteral(nodes[c].s):
			out = append(out, nodes[c].s)
		default:
			return nil, q.typeError(name, n)
		}
	}
	return out, nil
}

// objects calls fn for each object of a repeated message field.
func (q *request) objects(obj int32, name, prefix string, fn func(i int, elem int32, path string) error) error {
	n := q.field(obj, name)
	if n < 0 {
		return nil
	}
	path := joinPath(prefix, name)
	nodes := q.p.nodes
	if nodes[n].kind != kArr || q.query {
		return q.typeError(path, n)
	}
	i := 0
	for c := nodes[n].first; c >= 0; c = nodes[c].next {
		ep := path + "[" + strconv.Itoa(i) + "]"
		if nodes[c].kind != kObj {
			return q.typeError(ep, c)
		}
		if err := fn(i, c, ep); err != nil {
			return err
		}
		i++
	}
	return nil
}

// count returns the number of elements of an array field (0 if absent or
// not an array).
func (q *request) count(obj int32, name string) int {
	n := q.field(obj, name)
	if n < 0 || q.p.nodes[n].kind != kArr {
		return 0
	}
	k := 0
	for c := q.p.nodes[n].first; c >= 0; c = q.p.nodes[c].next {
		k++
	}
	return k
}

// object returns a nested message field, or -1 when absent.
func (q *request) object(obj int32, name, prefix string) (int32, error) {
	n := q.field(obj, name)
	if n < 0 {
		return -1, nil
	}
	if q.p.nodes[n].kind != kObj {
		return -1, q.typeError(joinPath(prefix, name), n)
	}
	return n, nil
}

// tags reads a repeated {key, value} field (run, experiment or input tags).
func (q *request) tags(obj int32, name, prefix string, requireKey bool) ([]tracking.Tag, error) {
	var out []tracking.Tag
	err := q.objects(obj, name, prefix, func(_ int, e int32, path string) error {
		var t tracking.Tag
		var err error
		if requireKey {
			t.Key, err = q.requiredStr(e, "key", path)
		} else {
			t.Key, _, err = q.str(e, "key", path)
		}
		if err != nil {
			return err
		}
		if t.Value, _, err = q.str(e, "value", path); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// typeError is MLflow's message for a value of the wrong type.
func (q *request) typeError(path string, n int32) error {
	return tracking.InvalidValue(path, q.errValue(n),
		fmt.Sprintf(" Hint: Value was of type '%s'. See the API docs for more information about request parameters.", q.pyType(n)))
}

// errValue is the value to quote in an error message: a Go string for JSON
// strings (quoted by tracking.InvalidValue as Python would), else the JSON
// text, cut short when long.
func (q *request) errValue(n int32) any {
	if q.p.nodes[n].kind == kStr {
		return q.p.nodes[n].s
	}
	var b []byte
	b = q.appendNode(b, n, 0)
	if len(b) > 1000 {
		b = append(b[:1000], "..."...)
	}
	return rawJSON(b)
}

// rawJSON prints as itself in error messages.
type rawJSON string

func (r rawJSON) String() string { return string(r) }

func (q *request) appendNode(b []byte, n int32, depth int) []byte {
	if len(b) > 1000 || depth > maxDepth {
		return b
	}
	nd := &q.p.nodes[n]
	switch nd.kind {
	case kNull:
		return append(b, "null"...)
	case kBool:
		return strconv.AppendBool(b, nd.b)
	case kNum:
		return append(b, nd.s...)
	case kStr:
		return appendString(b, nd.s)
	case kArr:
		b = append(b, '[')
		for c := nd.first; c >= 0; c = q.p.nodes[c].next {
			if c != nd.first {
				b = append(b, ',')
			}
			b = q.appendNode(b, c, depth+1)
		}
		return append(b, ']')
	default:
		b = append(b, '{')
		for c := nd.first; c >= 0; c = q.p.nodes[c].next {
			if c != nd.first {
				b = append(b, ',')
			}
			b = appendString(b, q.p.nodes[c].key)
			b = append(b, ':')
			b = q.appendNode(b, c, depth+1)
		}
		return append(b, '}')
	}
}

// pyType names a value's type as Python would after json.loads.
func (q *request) pyType(n int32) string {
	nd := &q.p.nodes[n]
	switch nd.kind {
	case kNull:
		return "NoneType"
	case kBool:
		return "bool"
	case kNum:
		if isIntegerLiteral(nd.s) {
			return "int"
		}
		return "float"
	case kStr:
		return "str"
	case kArr:
		return "list"
	}
	return "dict"
}

func isExperimentIDField(name string) bool {
	return name == "experiment_id" || name == "experiment_ids"
}

// isIntegerLiteral reports a JSON number literal without fraction or exponent.
func isIntegerLiteral(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9') && !(i == 0 && c == '-') {
			return false
		}
	}
	return s != "-"
}

// parseIntLiteral converts a JSON number to an int64 the way protobuf's
// JSON parser does: integral values only (5.0 and 1e3 are fine, 5.5 is not).
func parseIntLiteral(s string) (int64, bool) {
	if isIntegerLiteral(s) {
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 {
		return 0, false
	}
	return int64(f), true
}

// parseFloat accepts what Python's float() and protobuf's JSON parser
// accept for a double: numbers, and NaN/Infinity in their various
// spellings. Overflowing literals become ±Inf, as in Python.
func parseFloat(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	if s == "" || strings.ContainsAny(s, "_xXpP") {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	return v, true
}
