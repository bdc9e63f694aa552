// Package fs is the local-filesystem implementation of blob.Store.
//
// A Store keeps every artifact as a regular file below one root directory;
// the key "a/b/c.txt" is the file <root>/a/b/c.txt and directories are
// created on demand when a file is written below them and removed again
// once their last file has been deleted, so that, as in an object store,
// directories exist exactly as long as some key implies them.
//
// Every file-system access goes through an [os.Root], so no key, and no
// symbolic link planted inside the root, can make the store read, write,
// list or delete anything outside the root directory. Symbolic links that
// stay inside the root are followed; Delete removes a link, never its target.
//
// Put streams the body into a hidden temporary file (".ferry-put-*") in the
// destination directory, fsyncs it, renames it over the target and fsyncs the
// directory: readers see either the previous file or the complete new one,
// and a failed or cancelled Put leaves nothing visible behind. Keys with a
// segment that starts with that reserved prefix are rejected. Memory use is
// one copy buffer per concurrent Put, whatever the size of the file.
//
// Get returns an *os.File, which implements io.ReadSeeker (and io.ReaderAt),
// so callers can serve HTTP range requests with http.ServeContent.
package fs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// TempPrefix starts the name of every temporary file that Put writes. List
// never shows such names and keys that use them are invalid.
const TempPrefix = ".ferry-put-"

const (
	dirPerm  = 0o755
	filePerm = 0o644
	// bufSize is the copy chunk of Put; ctx is checked between chunks.
	bufSize = 256 << 10
	// mkdirRetries bounds how often Put recreates a parent directory that a
	// concurrent Delete pruned between creating it and using it.
	mkdirRetries = 8
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// Store is a blob.Store on the local file system. It is safe for concurrent
// use by multiple goroutines.
type Store struct {
	root *os.Root
	dir  string
}

var _ blob.Store = (*Store)(nil)

// New opens a Store rooted at the directory root, creating it (and its
// parents) if needed. Call Close when done with the store.
func New(root string) (*Store, error) {
	if root == "" {
		return nil, errdefs.InvalidArgument("blob/fs: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: %w", err)
	}
	if err := os.MkdirAll(abs, dirPerm); err != nil {
		return nil, fmt.Errorf("blob/fs: create root: %w", err)
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: open root: %w", err)
	}
	return &Store{root: r, dir: abs}, nil
}

// Dir returns the absolute path of the root directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the root directory handle. Files returned by Get stay
// readable; other methods fail after Close.
func (s *Store) Close() error { return s.root.Close() }

// cleanKey validates key with blob.CleanKey and additionally rejects keys
// that the file system cannot represent safely: reserved temp names and
// names that are not local paths on this OS (e.g. "NUL" or "C:x" on Windows).
func cleanKey(key string, allowRoot bool) (string, error) {
	k, err := blob.CleanKey(key, allowRoot)
	if err != nil || k == "" {
		return k, err
	}
	for seg := range strings.SplitSeq(k, "/") {
		if strings.HasPrefix(seg, TempPrefix) {
			return "", errdefs.InvalidArgument("Invalid path: '%s' uses the reserved prefix %q", key, TempPrefix)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(k)) {
		return "", errdefs.InvalidArgument("Invalid path: '%s'", key)
	}
	return k, nil
}

// Put implements blob.Store. It creates the missing parent directories of
// key and streams r into a temporary file next to the target, checking ctx
// between chunks; only a complete body is renamed over the target. If r
// fails, the error returned wraps r's error; if ctx is cancelled, it wraps
// ctx.Err(). Put cannot interrupt a Read that blocks: the caller's reader
// (an HTTP request body, say) must itself give up when ctx ends.
//
// Writing below a file, or over a directory, is errdefs.ErrConflict. In the
// rare case that fsyncing the directory fails after the rename, Put returns
// the error although the new file is already in place.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	k, err := cleanKey(key, false)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dir := path.Dir(k)

	var (
		tmp     *os.File
		tmpName string
		created []string // directories this Put created, outermost first
	)
	for attempt := 0; ; attempt++ {
		c, err := s.mkdirs(dir)
		created = append(created, c...)
		if err == nil {
			tmp, tmpName, err = s.createTemp(dir)
			if err == nil {
				break
			}
		}
		// A concurrent Delete (or failed Put) may have pruned an empty
		// directory that we just created or found: create it again.
		if attempt < mkdirRetries && errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		s.pruneCreated(created)
		return 0, s.putErr(key, err)
	}

	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = s.root.Remove(tmpName)
			s.pruneCreated(created)
		}
	}()

	n, err := copyCtx(ctx, tmp, r)
	if err != nil {
		return 0, fmt.Errorf("blob/fs: put '%s': %w", k, err)
	}
	if err := tmp.Sync(); err != nil {
		return 0, fmt.Errorf("blob/fs: put '%s': %w", k, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("blob/fs: put '%s': %w", k, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := s.root.Rename(tmpName, k); err != nil {
		switch {
		case errors.Is(err, iofs.ErrNotExist):
			return 0, errdefs.Conflict("Artifact '%s' was deleted while it was being written", k)
		case isDirErr(err):
			return 0, errdefs.Conflict("Cannot write artifact '%s': it is a directory", k)
		}
		return 0, s.putErr(key, err)
	}
	committed = true

	// Make the rename, and any directories we created, durable.
	toSync := []string{dir}
	for _, c := range created {
		toSync = append(toSync, path.Dir(c))
	}
	slices.Sort(toSync)
	for _, d := range slices.Compact(toSync) {
		if err := s.syncDir(d); err != nil {
			return n, fmt.Errorf("blob/fs: put '%s': sync directory: %w", k, err)
		}
	}
	return n, nil
}

// copyCtx copies r to w in bufSize chunks, checking ctx before every read.
func copyCtx(ctx context.Context, w io.Writer, r io.Reader) (int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		nr, rerr := r.Read(buf)
		if nr > 0 {
			nw, werr := w.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, werr
			}
			if nw != nr {
				return n, io.ErrShortWrite
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, fmt.Errorf("read body: %w", rerr)
		}
	}
}

// mkdirs creates dir and its missing parents one at a time, so that it can
// report which ones it created (to fsync their parents, or to remove them
// again if the Put fails).
func (s *Store) mkdirs(dir string) (created []string, err error) {
	if dir == "." {
		return nil, nil
	}
	segs := strings.Split(dir, "/")
	for i := range segs {
		p := strings.Join(segs[:i+1], "/")
		err := s.root.Mkdir(p, dirPerm)
		if err == nil {
			created = append(created, p)
			continue
		}
		if !errors.Is(err, iofs.ErrExist) {
			return created, err
		}
		fi, err := s.root.Stat(p)
		if err != nil {
			return created, err
		}
		if !fi.IsDir() {
			return created, errdefs.Conflict("Cannot write below '%s': it is a file", p)
		}
	}
	return created, nil
}

// pruneCreated removes, innermost first, the directories of created that
// are still empty.
func (s *Store) pruneCreated(created []string) {
	for i := len(created) - 1; i >= 0; i-- {
		s.removeEmptyDir(created[i])
	}
}

// pruneParents removes the empty directories from dir up to (not including)
// the root, stopping at the first one that is not empty.
func (s *Store) pruneParents(dir string) {
	for d := dir; d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if !s.removeEmptyDir(d) {
			return
		}
	}
}

// removeEmptyDir removes d if it is a real (not symlinked) empty directory.
func (s *Store) removeEmptyDir(d string) bool {
	fi, err := s.root.Lstat(d)
	if err != nil || !fi.IsDir() {
		return false
	}
	// Remove of a non-empty directory fails (rmdir), which is what we want.
	return s.root.Remove(d) == nil
}

// createTemp creates a new hidden file in dir, like os.CreateTemp.
func (s *Store) createTemp(dir string) (*os.File, string, error) {
	var rnd [12]byte
	for range 100 {
		_, _ = rand.Read(rnd[:])
		name := path.Join(dir, TempPrefix+hex.EncodeToString(rnd[:]))
		f, err := s.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
		if errors.Is(err, iofs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", errors.New("cannot create a unique temporary file")
}

// syncDir fsyncs a directory so that renames and creations in it survive a
// crash. File systems that cannot fsync directories are tolerated.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// Get implements blob.Store. The returned reader is an *os.File.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Entry, error) {
	k, err := cleanKey(key, false)
	if err != nil {
		return nil, blob.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, blob.Entry{}, err
	}
	// Stat first so that we never open a FIFO or device (which could block).
	fi, err := s.root.Stat(k)
	if err != nil {
		return nil, blob.Entry{}, s.lookupErr(k, err)
	}
	if err := checkFile(k, fi); err != nil {
		return nil, blob.Entry{}, err
	}
	f, err := s.root.Open(k)
	if err != nil {
		return nil, blob.Entry{}, s.lookupErr(k, err)
	}
	fi, err = f.Stat()
	if err == nil {
		err = checkFile(k, fi)
	}
	if err != nil {
		_ = f.Close()
		return nil, blob.Entry{}, err
	}
	return f, entry(k, fi), nil
}

// checkFile accepts regular files only: a directory is an invalid argument
// for Get, anything else (FIFO, socket, device) does not count as an artifact.
func checkFile(k string, fi os.FileInfo) error {
	switch {
	case fi.Mode().IsRegular():
		return nil
	case fi.IsDir():
		return errdefs.InvalidArgument("Artifact '%s' is a directory", k)
	default:
		return notFound(k)
	}
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Entry, error) {
	k, err := cleanKey(key, false)
	if err != nil {
		return blob.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Entry{}, err
	}
	fi, err := s.root.Stat(k)
	if err != nil {
		return blob.Entry{}, s.lookupErr(k, err)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return blob.Entry{}, notFound(k)
	}
	return entry(k, fi), nil
}

// List implements blob.Store. Temporary files, special files and symbolic
// links that dangle or leave the root are not listed.
func (s *Store) List(ctx context.Context, dir string) ([]blob.Entry, error) {
	k, err := cleanKey(dir, true)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := k
	if name == "" {
		name = "."
	}
	f, err := s.root.Open(name)
	if err != nil {
		if isMissing(err) {
			return []blob.Entry{}, nil
		}
		return nil, s.lookupErr(k, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("blob/fs: list '%s': %w", k, err)
	}
	if !fi.IsDir() {
		return nil, errdefs.InvalidArgument("Cannot list '%s': it is a file", k)
	}
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, fmt.Errorf("blob/fs: list '%s': %w", k, err)
	}
	out := make([]blob.Entry, 0, len(des))
	for _, de := range des {
		if strings.HasPrefix(de.Name(), TempPrefix) {
			continue
		}
		child := path.Join(k, de.Name())
		var info os.FileInfo
		if de.Type()&os.ModeSymlink != 0 {
			info, err = s.root.Stat(child) // follows, but only inside the root
		} else {
			info, err = de.Info()
		}
		if err != nil {
			continue // vanished meanwhile, dangling or escaping link
		}
		if !info.IsDir() && !info.Mode().IsRegular() {
			continue
		}
		out = append(out, entry(child, info))
	}
	slices.SortFunc(out, func(a, b blob.Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// Delete implements blob.Store. Empty parent directories are removed too.
func (s *Store) Delete(ctx context.Context, key string) error {
	k, err := cleanKey(key, false)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := s.root.Lstat(k)
	if err != nil {
		return s.lookupErr(k, err)
	}
	if fi.IsDir() {
		err = s.root.RemoveAll(k)
	} else {
		err = s.root.Remove(k)
	}
	if err != nil {
		if isMissing(err) {
			return notFound(k)
		}
		return fmt.Errorf("blob/fs: delete '%s': %w", k, err)
	}
	s.pruneParents(path.Dir(k))
	return nil
}

func entry(k string, fi os.FileInfo) blob.Entry {
	e := blob.Entry{Path: k, IsDir: fi.IsDir(), ModTime: fi.ModTime()}
	if !e.IsDir {
		e.Size = fi.Size()
	}
	return e
}

func notFound(k string) error {
	return errdefs.NotFound("Artifact '%s' does not exist", k)
}

// isMissing reports errors that mean "nothing at this path", including a
// path that runs through a file.
func isMissing(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func isDirErr(err error) bool {
	return errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) ||
		errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, iofs.ErrExist)
}

func isNameTooLong(err error) bool { return errors.Is(err, syscall.ENAMETOOLONG) }

// lookupErr maps the error of a lookup of k to an errdefs kind.
func (s *Store) lookupErr(k string, err error) error {
	switch {
	case isMissing(err):
		return notFound(k)
	case isNameTooLong(err):
		return errdefs.InvalidArgument("Invalid path: '%s' is too long", k)
	}
	return fmt.Errorf("blob/fs: '%s': %w", k, err)
}

// putErr maps an error of Put that is not already an errdefs kind.
func (s *Store) putErr(key string, err error) error {
	switch {
	case errors.Is(err, errdefs.ErrConflict), errors.Is(err, errdefs.ErrInvalidArgument):
		return err
	case errors.Is(err, syscall.ENOTDIR):
		return errdefs.Conflict("Cannot write artifact '%s': a parent is a file", key)
	case isNameTooLong(err):
		return errdefs.InvalidArgument("Invalid path: '%s' is too long", key)
	}
	return fmt.Errorf("blob/fs: put '%s': %w", key, err)
}
