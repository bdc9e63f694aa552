package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// GenesisHash is the previous hash of entry 1: 64 zeros.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// eventPrefix separates the event hash domain from every other use of
// SHA-256 and names the encoding version.
const eventPrefix = "ferry-audit-event v1\n"

// Field limits. Longer values are cut (at a character boundary) when an
// event is appended, so that one odd request cannot make an append fail:
// Postgres refuses B-tree entries above about 2.7 kB, and Actor and
// Resource are indexed.
const (
	MaxIndexedBytes = 2000 // Actor, Resource
	MaxFieldBytes   = 8192 // every other text field
)

// Event is what a caller appends: one mutation, or one mutating request
// that noted no change.
type Event struct {
	// Time is when the request arrived. It is kept with nanosecond
	// precision as Unix nanoseconds (UTC); a zero Time is replaced by the
	// log's clock on Append.
	Time time.Time `json:"time"`
	// Actor is the authenticated principal ("" when authentication failed).
	Actor string `json:"actor"`
	// Action is the domain's name of the operation ("registry.set_alias"),
	// or the route pattern for a request that noted no change
	// ("POST /api/2.0/mlflow/runs/log-metric").
	Action string `json:"action"`
	// Resource is the URI of what changed ("models:/NAME/3", "runs:/ID"),
	// or the request path when unknown.
	Resource string `json:"resource"`
	// RequestDigest is the hex SHA-256 of the request body ("" when the
	// body was not read to its end).
	RequestDigest string `json:"request_digest,omitempty"`
	// Before and After are digests (Digest) of the resource's state
	// around the change; "" when unknown or absent.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Status is the HTTP status of the response.
	Status int `json:"status"`
	// RequestID is the request's id (X-Request-Id).
	RequestID string `json:"request_id,omitempty"`
}

// Record is an appended event: its place in the chain and its hash.
type Record struct {
	// Seq numbers the entries from 1 without gaps.
	Seq int64 `json:"seq"`
	Event
	// PrevHash is the Hash of entry Seq-1 (GenesisHash for entry 1).
	PrevHash string `json:"prev_hash"`
	// Hash is HashRecord of this record.
	Hash string `json:"hash"`
}

// recordJSON is Record's JSON form: its fields plus time_ns, the exact
// time the hash covers (RFC 3339 text is awkward to turn back into Unix
// nanoseconds in most languages).
type recordJSON struct {
	plainRecord
	TimeNS int64 `json:"time_ns"`
}

type plainRecord Record // Record without its methods

// MarshalJSON implements json.Marshaler: the fields, and "time_ns" with
// the time as Unix nanoseconds.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{plainRecord: plainRecord(r), TimeNS: r.Time.UnixNano()})
}

// UnmarshalJSON implements json.Unmarshaler; "time_ns", when present,
// sets the time.
func (r *Record) UnmarshalJSON(b []byte) error {
	var v struct {
		plainRecord
		TimeNS *int64 `json:"time_ns"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Record(v.plainRecord)
	if v.TimeNS != nil {
		r.Time = time.Unix(0, *v.TimeNS).UTC()
	}
	return nil
}

// Head is the end of the chain: the last entry's sequence number and hash
// (0 and GenesisHash for an empty log).
type Head struct {
	Seq  int64
	Hash string
}

// AppendCanonical appends the canonical encoding (version 1) of r to b.
// It covers every field of r except Hash:
//
//	"ferry-audit-event v1\n"
//	seq             int64, 8 bytes big-endian
//	prev_hash       text
//	time            int64 Unix nanoseconds, 8 bytes big-endian
//	actor           text
//	action          text
//	resource        text
//	request_digest  text
//	before          text
//	after           text
//	status          int64, 8 bytes big-endian
//	request_id      text
//
// where text is the byte length as a 4-byte big-endian unsigned integer
// followed by the UTF-8 bytes. The encoding is unambiguous: no two
// records share it.
func AppendCanonical(b []byte, r Record) []byte {
	b = append(b, eventPrefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Seq))
	b = appendText(b, r.PrevHash)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Time.UnixNano()))
	b = appendText(b, r.Actor)
	b = appendText(b, r.Action)
	b = appendText(b, r.Resource)
	b = appendText(b, r.RequestDigest)
	b = appendText(b, r.Before)
	b = appendText(b, r.After)
	b = binary.BigEndian.AppendUint64(b, uint64(int64(r.Status)))
	b = appendText(b, r.RequestID)
	return b
}

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// HashRecord returns the lowercase hex SHA-256 of r's canonical encoding
// (AppendCanonical); r.Hash is ignored.
func HashRecord(r Record) string {
	var buf [512]byte
	sum := sha256.Sum256(AppendCanonical(buf[:0], r))
	return hex.EncodeToString(sum[:])
}

// validHash reports whether h looks like a hash of this package: 64
// lowercase hex digits.
func validHash(h string) bool {
	return len(h) == sha256.Size*2 && validHex(h)
}

// validHex reports whether s consists of lowercase hex digits only.
func validHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// normalize prepares e for storage: a zero Time becomes now, times are
// UTC, text is made storable (invalid UTF-8 and NUL, which Postgres
// refuses, become U+FFFD) and cut to the field limits.
func normalize(e Event, now func() time.Time) (Event, error) {
	if e.Time.IsZero() {
		e.Time = now()
	}
	// Unix nanoseconds in an int64 reach from 1677 to 2262.
	if !time.Unix(0, e.Time.UnixNano()).Equal(e.Time) {
		return e, errdefs.InvalidArgument("audit event time %s is out of range", e.Time)
	}
	e.Time = e.Time.UTC()
	e.Actor = clean(e.Actor, MaxIndexedBytes)
	e.Resource = clean(e.Resource, MaxIndexedBytes)
	e.Action = clean(e.Action, MaxFieldBytes)
	e.RequestDigest = clean(e.RequestDigest, MaxFieldBytes)
	e.Before = clean(e.Before, MaxFieldBytes)
	e.After = clean(e.After, MaxFieldBytes)
	e.RequestID = clean(e.RequestID, MaxFieldBytes)
	return e, nil
}

// clean returns s as valid UTF-8 without NUL, cut to at most limit bytes
// at a character boundary.
func clean(s string, limit int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// RequestEvents returns the events of one mutating request: one per
// change the domain services noted, carrying the change's Action,
// Resource, Before and After and the request's other fields from base;
// or, when nothing was noted, base itself, whose Action should be the
// route pattern and Resource the request path. Append them in one call,
// so that they are recorded together or not at all.
func RequestEvents(base Event, changes []Change) []Event {
	if len(changes) == 0 {
		return []Event{base}
	}
	out := make([]Event, len(changes))
	for i, c := range changes {
		e := base
		e.Action, e.Resource, e.Before, e.After = c.Action, c.Resource, c.Before, c.After
		out[i] = e
	}
	return out
}
