package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps statements prepared on the writer pool, by their text:
// the hot write paths (metric inserts, audit appends) would otherwise
// spend as long parsing their SQL as running it.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// prepared returns statements for queries (written with "?"), preparing
// those not yet cached; a failure is not remembered, so a later call tries
// again. It must run outside a write transaction: on SQLite the writer
// pool has a single connection, which the transaction would hold.
func (s *Store) prepared(ctx context.Context, queries ...string) ([]*sql.Stmt, error) {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]*sql.Stmt)
	}
	out := make([]*sql.Stmt, len(queries))
	for i, q := range queries {
		st, ok := c.m[q]
		if !ok {
			var err error
			if st, err = s.w.PrepareContext(ctx, s.rebind(q)); err != nil {
				return nil, err
			}
			c.m[q] = st
		}
		out[i] = st
	}
	return out, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}
