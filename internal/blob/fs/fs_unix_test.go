//go:build unix

package fs

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// TestSpecialFilesInvisible checks that a FIFO planted in the root is not an
// artifact: it is not listed, and Get neither blocks on it nor opens it.
func TestSpecialFilesInvisible(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := t.Context()
	if _, err := s.Put(ctx, "d/ok.txt", strings.NewReader("ok")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "d", "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		rc, _, err := s.Get(ctx, "d/fifo")
		if rc != nil {
			rc.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Get of a FIFO: %v, want ErrNotFound", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Get of a FIFO blocked")
	}
	if _, err := s.Stat(ctx, "d/fifo"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Stat of a FIFO: %v, want ErrNotFound", err)
	}
	l, err := s.List(ctx, "d")
	if err != nil || len(l) != 1 || l[0].Path != "d/ok.txt" {
		t.Errorf("List(d) = %v, %v; want only d/ok.txt", l, err)
	}
}
