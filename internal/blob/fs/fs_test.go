package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/blob/blobtest"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

func newStore(t testing.TB, root string) *Store {
	t.Helper()
	s, err := New(root)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return newStore(t, t.TempDir()) })
}

func TestNewCreatesRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "does", "not", "exist")
	s := newStore(t, root)
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		t.Fatalf("root not created: %v", err)
	}
	if s.Dir() != root {
		t.Errorf("Dir() = %q, want %q", s.Dir(), root)
	}
	if _, err := New(""); !errors.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("New(\"\"): %v, want ErrInvalidArgument", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(file); err == nil {
		t.Errorf("New of a regular file succeeded")
	}
}

func TestFilesLandUnderRoot(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	if _, err := s.Put(t.Context(), "a/b/c.txt", strings.NewReader("abc")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(root, "a", "b", "c.txt"))
	if err != nil || string(got) != "abc" {
		t.Fatalf("file on disk = %q, %v", got, err)
	}
	// No temp file is left behind.
	des, _ := os.ReadDir(filepath.Join(root, "a", "b"))
	if len(des) != 1 {
		t.Errorf("a/b holds %v, want only c.txt", names(des))
	}
}

func TestGetIsSeekableFile(t *testing.T) {
	s := newStore(t, t.TempDir())
	data := []byte("0123456789abcdef")
	if _, err := s.Put(t.Context(), "r.bin", bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rc, e, err := s.Get(t.Context(), "r.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, ok := rc.(*os.File)
	if !ok {
		t.Fatalf("Get returned %T, want *os.File", rc)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/r.bin", nil)
	req.Header.Set("Range", "bytes=2-5")
	http.ServeContent(rec, req, e.Path, e.ModTime, f)
	if rec.Code != http.StatusPartialContent || rec.Body.String() != "2345" {
		t.Errorf("range request = %d %q, want 206 \"2345\"", rec.Code, rec.Body.String())
	}
}

func TestPutConflicts(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := t.Context()
	for _, k := range []string{"f.txt", "d/x.txt"} {
		if _, err := s.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"f.txt/x", "f.txt/y/z", "d"} {
		if _, err := s.Put(ctx, k, strings.NewReader("new")); !errors.Is(err, errdefs.ErrConflict) {
			t.Errorf("Put(%q): %v, want ErrConflict", k, err)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(root, "f.txt")); string(got) != "x" {
		t.Errorf("f.txt = %q after conflicting Puts", got)
	}
	if des, _ := os.ReadDir(filepath.Join(root, "d")); len(des) != 1 {
		t.Errorf("d holds %v after a conflicting Put, want only x.txt", names(des))
	}
	if des, _ := os.ReadDir(root); len(des) != 2 {
		t.Errorf("root holds %v after conflicting Puts, want d and f.txt", names(des))
	}
}

func TestReservedTempPrefix(t *testing.T) {
	s := newStore(t, t.TempDir())
	ctx := t.Context()
	for _, k := range []string{TempPrefix + "x", "a/" + TempPrefix, "a/" + TempPrefix + "1/b"} {
		if _, err := s.Put(ctx, k, strings.NewReader("x")); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Put(%q): %v, want ErrInvalidArgument", k, err)
		}
		if _, _, err := s.Get(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Get(%q): %v, want ErrInvalidArgument", k, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Stat(%q): %v, want ErrInvalidArgument", k, err)
		}
		if _, err := s.List(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("List(%q): %v, want ErrInvalidArgument", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Delete(%q): %v, want ErrInvalidArgument", k, err)
		}
	}
	// Names that merely contain the prefix, or a shorter one, are fine.
	for _, k := range []string{"x" + TempPrefix, ".ferry-pu", "a/.ferry-putx"} {
		if _, err := s.Put(ctx, k, strings.NewReader("x")); err != nil {
			t.Errorf("Put(%q): %v", k, err)
		}
	}
}

// failingReader returns data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestFailedPutLeavesNoTempFile checks the disk, not just what List shows.
func TestFailedPutLeavesNoTempFile(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	if _, err := s.Put(t.Context(), "d/keep.txt", strings.NewReader("keep")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for _, k := range []string{"d/keep.txt", "d/new.txt", "e/f/new.txt"} {
		r := &failingReader{data: bytes.Repeat([]byte("x"), 3*bufSize+5), err: boom}
		if _, err := s.Put(t.Context(), k, r); !errors.Is(err, boom) {
			t.Errorf("Put(%q): %v, want %v", k, err, boom)
		}
	}
	var onDisk []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		onDisk = append(onDisk, filepath.ToSlash(rel))
		return err
	})
	if want := []string{".", "d", "d/keep.txt"}; !slices.Equal(onDisk, want) {
		t.Errorf("on disk after failed Puts: %q, want %q", onDisk, want)
	}
}

// TestPutDeleteRace has Deletes prune the directories that concurrent Puts
// are about to write into; no Put may fail because of that.
func TestPutDeleteRace(t *testing.T) {
	s := newStore(t, t.TempDir())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				k := fmt.Sprintf("p/q/g%d/f%d", g, i%3)
				if _, err := s.Put(t.Context(), k, strings.NewReader(k)); err != nil {
					t.Errorf("Put(%q): %v", k, err)
					return
				}
				if err := s.Delete(t.Context(), k); err != nil {
					t.Errorf("Delete(%q): %v", k, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if l, err := s.List(t.Context(), ""); err != nil || len(l) != 0 {
		t.Errorf("List after all Deletes = %v, %v; want nothing", l, err)
	}
}

// blockingReader delivers first, then blocks until release is closed, then
// reports EOF.
type blockingReader struct {
	first   []byte
	started chan struct{}
	release chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	if r.started != nil {
		close(r.started)
		r.started = nil
	}
	<-r.release
	return 0, io.EOF
}

func TestTempFilesAreHidden(t *testing.T) {
	root := t.TempDir()
	s := newStore(t, root)
	ctx := t.Context()
	if _, err := s.Put(ctx, "dir/old.txt", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crashed Put.
	for _, p := range []string{TempPrefix + "crash", "dir/" + TempPrefix + "crash"} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(p)), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, TempPrefix+"dir"), 0o755); err != nil {
		t.Fatal(err)
	}

	// A Put in progress writes its temp file into the destination directory.
	r := &blockingReader{first: []byte("partial data"), started: make(chan struct{}), release: make(chan struct{})}
	started := r.started
	done := make(chan error, 1)
	go func() {
		_, err := s.Put(ctx, "dir/new.txt", r)
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Put did not read its body")
	}
	des, err := os.ReadDir(filepath.Join(root, "dir"))
	if err != nil {
		t.Fatal(err)
	}
	var temps []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), TempPrefix) {
			temps = append(temps, de.Name())
		}
	}
	if len(temps) != 2 {
		t.Errorf("dir holds %v during a Put, want the leftover and one in-progress temp file", names(des))
	}

	check := func(dir string, want ...string) {
		t.Helper()
		l, err := s.List(ctx, dir)
		if err != nil {
			t.Fatalf("List(%q): %v", dir, err)
		}
		var got []string
		for _, e := range l {
			got = append(got, e.Path)
		}
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", dir, got, want)
		}
	}
	check("", "dir")
	check("dir", "dir/old.txt")
	if _, err := s.Stat(ctx, "dir/new.txt"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Stat of a file being written: %v, want ErrNotFound", err)
	}

	close(r.release)
	if err := <-done; err != nil {
		t.Fatalf("Put: %v", err)
	}
	check("dir", "dir/new.txt", "dir/old.txt")

	// Deleting a directory also removes leftover temp files in it.
	if err := s.Delete(ctx, "dir"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dir")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dir still on disk after Delete: %v", err)
	}
}

// TestSymlinkEscape plants symbolic links inside the root that point outside
// it and checks that no method reads, writes, lists or deletes through them.
func TestSymlinkEscape(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, root)
	ctx := t.Context()
	if _, err := s.Put(ctx, "real/inside.txt", strings.NewReader("inside")); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"absdir":     outside,
		"reldir":     "../outside",
		"deepreldir": "../../" + filepath.Base(base) + "/outside",
		"absfile":    secret,
		"relfile":    "../outside/secret.txt",
		"real/up":    "../../outside",
		"inner":      "real", // stays inside: allowed
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	escaping := []string{"absdir", "reldir", "deepreldir", "real/up"}
	escapingFiles := []string{"absfile", "relfile"}

	for _, d := range escaping {
		for _, k := range []string{d + "/secret.txt", d + "/sub"} {
			if rc, _, err := s.Get(ctx, k); err == nil {
				data, _ := io.ReadAll(rc)
				rc.Close()
				t.Errorf("Get(%q) escaped the root and read %q", k, data)
			}
			if e, err := s.Stat(ctx, k); err == nil {
				t.Errorf("Stat(%q) escaped the root: %+v", k, e)
			}
		}
		if l, err := s.List(ctx, d); err == nil && len(l) > 0 {
			t.Errorf("List(%q) escaped the root: %v", d, l)
		}
		for _, k := range []string{d + "/planted.txt", d + "/sub/planted.txt", d + "/new/planted.txt"} {
			if _, err := s.Put(ctx, k, strings.NewReader("planted")); err == nil {
				t.Errorf("Put(%q) through an escaping symlink succeeded", k)
			}
		}
		if err := s.Delete(ctx, d+"/secret.txt"); err == nil {
			t.Errorf("Delete(%q) through an escaping symlink succeeded", d+"/secret.txt")
		}
		if err := s.Delete(ctx, d+"/sub"); err == nil {
			t.Errorf("Delete(%q) through an escaping symlink succeeded", d+"/sub")
		}
	}
	for _, k := range escapingFiles {
		if rc, _, err := s.Get(ctx, k); err == nil {
			data, _ := io.ReadAll(rc)
			rc.Close()
			t.Errorf("Get(%q) escaped the root and read %q", k, data)
		}
		if e, err := s.Stat(ctx, k); err == nil {
			t.Errorf("Stat(%q) escaped the root: %+v", k, e)
		}
		if _, err := s.List(ctx, k); err == nil {
			t.Errorf("List(%q) of a link to an outside file succeeded", k)
		}
	}

	// Listing the root shows neither the escaping links nor their targets.
	l, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range l {
		got = append(got, e.Path)
	}
	if want := []string{"inner", "real"}; !slices.Equal(got, want) {
		t.Errorf("List(\"\") = %q, want %q", got, want)
	}
	if l, err := s.List(ctx, "real"); err != nil || len(l) != 1 || l[0].Path != "real/inside.txt" {
		t.Errorf("List(real) = %v, %v; want only real/inside.txt", l, err)
	}
	// A link that stays inside the root works.
	if rc, _, err := s.Get(ctx, "inner/inside.txt"); err != nil {
		t.Errorf("Get through an inside link: %v", err)
	} else {
		rc.Close()
	}

	// Writing a key that is itself a link replaces the link, not its target.
	if _, err := s.Put(ctx, "absfile", strings.NewReader("replaced")); err != nil {
		t.Errorf("Put over a link: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "absfile")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("absfile after Put: %v, %v; want a regular file", fi, err)
	}
	// Deleting a link removes the link, not its target.
	for _, k := range []string{"absdir", "relfile"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
		if _, err := os.Lstat(filepath.Join(root, k)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("link %q still there after Delete: %v", k, err)
		}
	}

	// The outside tree is untouched.
	if got, err := os.ReadFile(secret); err != nil || string(got) != "secret" {
		t.Errorf("outside secret = %q, %v", got, err)
	}
	var outsideFiles []string
	filepath.WalkDir(outside, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(outside, p)
		outsideFiles = append(outsideFiles, filepath.ToSlash(rel))
		return err
	})
	if want := []string{".", "secret.txt", "sub"}; !slices.Equal(outsideFiles, want) {
		t.Errorf("outside tree = %q, want %q", outsideFiles, want)
	}
}

// TestLargeFileMemory streams a file of hundreds of MB and checks that Put
// does not buffer it in memory.
func TestLargeFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 256 MiB")
	}
	const size = 256 << 20
	root := t.TempDir()
	s := newStore(t, root)
	block := make([]byte, 1<<20+7)
	for i := range block {
		block[i] = byte(i*31 + i>>8)
	}
	r := &repeatReader{block: block, size: size}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := s.Put(t.Context(), "big/large.bin", r)
	runtime.ReadMemStats(&after)
	if err != nil || n != size {
		t.Fatalf("Put = %d, %v; want %d", n, err, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Put of %d MiB allocated %d MiB", size>>20, alloc>>20)
	}

	rc, e, err := s.Get(t.Context(), "big/large.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if e.Size != size {
		t.Errorf("Size = %d, want %d", e.Size, size)
	}
	f := rc.(*os.File)
	for _, off := range []int64{0, 1, 1<<20 + 3, 100 << 20, size - 4096} {
		got := make([]byte, 4096)
		if _, err := f.ReadAt(got, off); err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
		for i, b := range got {
			if want := block[(off+int64(i))%int64(len(block))]; b != want {
				t.Fatalf("byte %d = %d, want %d", off+int64(i), b, want)
			}
		}
	}
}

type repeatReader struct {
	block []byte
	off   int64
	size  int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if rem := r.size - r.off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := copy(p, r.block[r.off%int64(len(r.block)):])
	r.off += int64(n)
	return n, nil
}

func FuzzCleanKey(f *testing.F) {
	seeds := append(slices.Clone(blobtest.InvalidKeys),
		"a", "a/b", "a/b/", "/", "//", "a/", "ü/ ", " ", "...", ".a/..b", "a/.../b",
		"C:/x", "c:x", "NUL", "a/CON", "a:b", "\\\\server\\share", "a\tb", "\xff\xfe",
		TempPrefix+"x", "a/"+TempPrefix, strings.Repeat("x", 300), strings.Repeat("a/", 3000))
	for _, k := range seeds {
		f.Add(k, false)
		f.Add(k, true)
	}
	root := f.TempDir()
	s := newStore(f, root)
	if _, err := s.Put(f.Context(), "a/b", strings.NewReader("b")); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, key string, allowRoot bool) {
		k, err := blob.CleanKey(key, allowRoot)
		if err != nil {
			if !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Fatalf("CleanKey(%q) error %v is not ErrInvalidArgument", key, err)
			}
			if k != "" {
				t.Fatalf("CleanKey(%q) returned %q with an error", key, k)
			}
		} else {
			checkCleanKey(t, root, key, k, allowRoot)
		}

		// The store's own validation is at least as strict, and the store
		// never panics and reports only the expected kinds of error.
		fk, ferr := cleanKey(key, allowRoot)
		if err != nil && ferr == nil {
			t.Fatalf("cleanKey(%q) accepted a key that CleanKey rejects", key)
		}
		if ferr == nil && fk != "" && !filepath.IsLocal(filepath.FromSlash(fk)) {
			t.Fatalf("cleanKey(%q) = %q, which is not a local path", key, fk)
		}
		if _, err := s.Stat(t.Context(), key); err != nil &&
			!errors.Is(err, errdefs.ErrNotFound) && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("Stat(%q): unexpected error %v", key, err)
		}
		if _, err := s.List(t.Context(), key); err != nil && !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Fatalf("List(%q): unexpected error %v", key, err)
		}
	})
}

func checkCleanKey(t *testing.T, root, key, k string, allowRoot bool) {
	t.Helper()
	if k == "" {
		if !allowRoot {
			t.Fatalf("CleanKey(%q, false) accepted the root", key)
		}
		return
	}
	if strings.HasPrefix(k, "/") || strings.HasSuffix(k, "/") || strings.ContainsAny(k, "\\\x00") {
		t.Fatalf("CleanKey(%q) = %q, not canonical", key, k)
	}
	for _, seg := range strings.Split(k, "/") {
		if seg == "" || seg == "." || seg == ".." {
			t.Fatalf("CleanKey(%q) = %q, which has segment %q", key, k, seg)
		}
	}
	if k2, err := blob.CleanKey(k, allowRoot); err != nil || k2 != k {
		t.Fatalf("CleanKey(CleanKey(%q)) = %q, %v; want %q", key, k2, err, k)
	}
	joined := filepath.Join(root, filepath.FromSlash(k))
	rel, err := filepath.Rel(root, joined)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		t.Fatalf("CleanKey(%q) = %q, which joined under %q is %q, outside the root", key, k, root, joined)
	}
	if !strings.HasPrefix(joined, root+string(filepath.Separator)) {
		t.Fatalf("CleanKey(%q) = %q, which joined under %q is %q, outside the root", key, k, root, joined)
	}
	if runtime.GOOS != "windows" && !filepath.IsLocal(k) {
		t.Fatalf("CleanKey(%q) = %q, which is not a local path", key, k)
	}
}

func names(des []os.DirEntry) []string {
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	return out
}
