// Package blob is Ferry's artifact storage: a flat namespace of files
// addressed by slash-separated keys, with directories implied by the keys.
// Implementations live in subpackages (fs, later s3) and all pass the
// conformance suite in blobtest.
package blob

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/ferry-ml/ferry/internal/errdefs"
)

// Entry describes a file or a directory below a listed prefix.
type Entry struct {
	// Path is the full key of the entry (no leading or trailing slash).
	Path    string
	IsDir   bool
	Size    int64 // bytes; 0 for directories
	ModTime time.Time
}

// Store keeps artifact files. Keys are validated with CleanKey; an
// invalid key is errdefs.ErrInvalidArgument, a missing one errdefs.ErrNotFound.
type Store interface {
	// Put writes the whole of r under key, replacing any previous file.
	// Readers see either the old file or the complete new one, never a
	// partial write; a failed or cancelled Put leaves no file behind.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get opens a file for reading. The reader also implements io.Seeker
	// when the implementation can seek (used for HTTP range requests).
	Get(ctx context.Context, key string) (io.ReadCloser, Entry, error)
	// Stat describes a file or directory.
	Stat(ctx context.Context, key string) (Entry, error)
	// List returns the direct children of the directory dir ("" is the
	// root), sorted by path. A dir that does not exist yields no entries
	// and no error; a dir that is a file yields ErrInvalidArgument.
	List(ctx context.Context, dir string) ([]Entry, error)
	// Delete removes a file or a whole directory tree. Deleting what does
	// not exist is ErrNotFound.
	Delete(ctx context.Context, key string) error
}

// CleanKey validates a key and returns its canonical form: relative,
// slash-separated, no empty, "." or ".." segments, no backslashes or NUL
// bytes. The empty key (the root) is allowed only when allowRoot is set.
func CleanKey(key string, allowRoot bool) (string, error) {
	k := strings.Trim(key, "/")
	if k == "" {
		if allowRoot {
			return "", nil
		}
		return "", errdefs.InvalidArgument("Invalid path: an empty artifact path is not allowed")
	}
	if strings.ContainsAny(k, "\\\x00") || strings.HasPrefix(key, "/") {
		return "", errdefs.InvalidArgument("Invalid path: '%s'", key)
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", errdefs.InvalidArgument("Invalid path: '%s'", key)
		}
	}
	return k, nil
}
