package audit

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Limits of one List call.
const (
	DefaultListLimit = 100
	MaxListLimit     = 10000
)

// Query selects entries of the log.
type Query struct {
	// Resource selects entries about a resource and what lies below it:
	// "models:/NAME" matches "models:/NAME", "models:/NAME/3" and
	// "models:/NAME@champion" but not "models:/NAMEX" (see
	// MatchResource). "" matches every entry.
	Resource string
	// ExactResource restricts Resource to that resource alone, not what
	// lies below it.
	ExactResource bool
	// Actor selects entries of one principal exactly ("" = any).
	Actor string
	// AfterSeq and BeforeSeq bound the sequence numbers (exclusive;
	// 0 = unbounded), for paging in either direction.
	AfterSeq  int64
	BeforeSeq int64
	// Limit caps the number of entries: 0 means DefaultListLimit, and it
	// is at most MaxListLimit.
	Limit int
	// NewestFirst orders by descending sequence number (default: oldest first).
	NewestFirst bool
}

// Normalized returns q with the documented defaults applied: the limit
// within bounds and trailing slashes cut from Resource ("models:/" lists
// every model's entries, as "models:" does).
func (q Query) Normalized() Query {
	if q.Limit <= 0 {
		q.Limit = DefaultListLimit
	}
	q.Limit = min(q.Limit, MaxListLimit)
	if q.AfterSeq < 0 {
		q.AfterSeq = 0
	}
	if q.BeforeSeq < 0 {
		q.BeforeSeq = 0
	}
	q.Resource = strings.TrimRight(q.Resource, "/")
	return q
}

// MatchResource reports whether resource lies at or below prefix: it is
// prefix itself, or prefix followed by "/" (a child: "models:/m/3") or
// "@" (an alias: "models:/m@champion"). An empty prefix matches all.
// Stores implement the same rule in their queries.
func MatchResource(prefix, resource string) bool {
	if prefix == "" || resource == prefix {
		return true
	}
	if !strings.HasPrefix(resource, prefix) {
		return false
	}
	c := resource[len(prefix)]
	return c == '/' || c == '@'
}

// ResourceRanges returns the byte-wise half-open ranges [lo, hi) that
// hold the strings MatchResource accepts besides prefix itself: those
// starting with prefix+"/" and prefix+"@". A store compares with binary
// (byte-wise) collation, so that an index on the resource serves the
// query.
func ResourceRanges(prefix string) [2][2]string {
	return [2][2]string{
		{prefix + "/", prefix + "0"}, // '0' follows '/'
		{prefix + "@", prefix + "A"}, // 'A' follows '@'
	}
}

// ParseQuery reads a query from URL parameters, as an HTTP endpoint or a
// command line would pass it: resource, actor, after, before (sequence
// numbers), limit, and order ("asc", the default, or "desc"). It applies
// Normalized; errors match errdefs.ErrInvalidArgument.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{Resource: v.Get("resource"), Actor: v.Get("actor")}
	for name, text := range map[string]string{"resource": q.Resource, "actor": q.Actor} {
		if !utf8.ValidString(text) || strings.IndexByte(text, 0) >= 0 {
			return q, errdefs.InvalidArgument("Invalid value for parameter '%s': it must be UTF-8 text without NUL.", name)
		}
		if len(text) > MaxIndexedBytes {
			return q, errdefs.InvalidArgument("Invalid value for parameter '%s': at most %d bytes.", name, MaxIndexedBytes)
		}
	}
	num := func(name string) (int64, error) {
		s := v.Get(name)
		if s == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, errdefs.InvalidArgument("Invalid value %q for parameter '%s': it must be a non-negative integer.", s, name)
		}
		return n, nil
	}
	var err error
	if q.AfterSeq, err = num("after"); err != nil {
		return q, err
	}
	if q.BeforeSeq, err = num("before"); err != nil {
		return q, err
	}
	limit, err := num("limit")
	if err != nil {
		return q, err
	}
	if limit > MaxListLimit {
		return q, errdefs.InvalidArgument("Invalid value %d for parameter 'limit': it must be at most %d.", limit, MaxListLimit)
	}
	q.Limit = int(limit)
	switch o := v.Get("order"); o {
	case "", "asc":
	case "desc":
		q.NewestFirst = true
	default:
		return q, errdefs.InvalidArgument("Invalid value %q for parameter 'order': it must be 'asc' or 'desc'.", o)
	}
	return q.Normalized(), nil
}
