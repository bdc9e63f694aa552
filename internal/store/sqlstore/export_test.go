package sqlstore

import "context"

// WriterSynchronous reads PRAGMA synchronous on the writer connection
// (0 off, 1 normal, 2 full).
func WriterSynchronous(ctx context.Context, s *Store) (int, error) {
	var n int
	err := s.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&n)
	return n, err
}
