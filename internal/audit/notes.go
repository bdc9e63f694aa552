// Package audit keeps Ferry's tamper-evident audit trail: every mutating
// request appends events to a hash-chained, append-only log in the store,
// signed checkpoints make truncation detectable, and Verify recomputes the
// chain. Domain services note what they change with Note; the HTTP
// pipeline collects the notes of each request.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
)

// Change is what one mutation did to one resource: the domain service
// that makes the change notes it, and the audit event of the request that
// caused it carries it.
type Change struct {
	// Action names the operation in the domain's words, e.g.
	// "registry.set_alias".
	Action string `json:"action"`
	// Resource is the URI of what changed: "models:/NAME",
	// "models:/NAME/3", "runs:/ID", "experiments:/ID".
	Resource string `json:"resource"`
	// Before and After are digests (Digest) of the resource's state
	// around the change; "" when it did not exist before or after.
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Notes collects the changes and the actor of one request.
type Notes struct {
	actor string
	mu    sync.Mutex
	list  []Change
}

type notesKey struct{}

// WithNotes returns a context whose services note their changes into the
// returned Notes, made by actor.
func WithNotes(ctx context.Context, actor string) (context.Context, *Notes) {
	n := &Notes{actor: actor}
	return context.WithValue(ctx, notesKey{}, n), n
}

// Note records c on the request of ctx; it does nothing outside one.
func Note(ctx context.Context, c Change) {
	if n, ok := ctx.Value(notesKey{}).(*Notes); ok {
		n.mu.Lock()
		n.list = append(n.list, c)
		n.mu.Unlock()
	}
}

// Actor returns the principal of the request of ctx, "" outside one.
func Actor(ctx context.Context) string {
	if n, ok := ctx.Value(notesKey{}).(*Notes); ok {
		return n.actor
	}
	return ""
}

// Changes returns the changes noted so far.
func (n *Notes) Changes() []Change {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Change(nil), n.list...)
}

// Digest returns the hex SHA-256 of v's JSON encoding (encoding/json sorts
// map keys, so equal states give equal digests); nil gives "".
func Digest(v any) string {
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Recording reports whether ctx belongs to an audited request, so callers
// can skip computing digests nobody will read.
func Recording(ctx context.Context) bool {
	_, ok := ctx.Value(notesKey{}).(*Notes)
	return ok
}
