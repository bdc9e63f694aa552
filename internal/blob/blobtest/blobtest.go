// Package blobtest is the conformance suite for blob.Store implementations,
// in the spirit of testing/fstest.TestFS: every implementation (the local
// file system, an object store, ...) runs Run from its own tests and must
// pass all of it.
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store {
//			s, err := fs.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// newStore is called once per subtest and must return an empty store that
// no other subtest uses. Subtests do not run in parallel with each other,
// but several of them use one store from many goroutines.
//
// Beyond the contract written in the blob.Store documentation, the suite
// pins down behaviour that callers (the HTTP artifact handlers) rely on:
//
//   - Get of a directory is errdefs.ErrInvalidArgument (as List of a file is).
//   - Directories are implied by keys: once the last file below a directory
//     is deleted, or a Put that would have created it fails, the directory
//     no longer exists (Stat is ErrNotFound, List of its parent omits it).
//   - Entry.Path is the clean key; files have a ModTime near the present.
//   - A Put whose reader fails returns an error that wraps the reader's
//     error; a Put whose context is cancelled returns an error that wraps
//     context.Canceled. Either way Put returns promptly.
//   - If the reader returned by Get implements io.Seeker, seeking works.
package blobtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-ml/ferry/internal/blob"
	"github.com/ferry-ml/ferry/internal/errdefs"
)

// InvalidKeys are keys that every method must reject with
// errdefs.ErrInvalidArgument. List accepts "" and "/" (the root) and
// rejects the others.
var InvalidKeys = []string{
	"", "/", ".", "..", "../x", "./a", "a/..", "a/../../b", "a/../b",
	"/abs", "/abs/x", `a\b`, `\x`, `..\x`, "a/./b", "a//b", "a\x00b", "\x00",
}

// Run runs the conformance suite against the stores that newStore returns.
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"PutGetRoundTrip", testRoundTrip},
		{"LargeNonSeekableReader", testLarge},
		{"KeysWithSpacesAndUnicode", testUnicodeKeys},
		{"Overwrite", testOverwrite},
		{"StatFilesAndDirs", testStat},
		{"List", testList},
		{"ListMissingOrFile", testListMissingOrFile},
		{"Missing", testMissing},
		{"GetDirectory", testGetDirectory},
		{"DeleteFile", testDeleteFile},
		{"DeleteTree", testDeleteTree},
		{"InvalidKeys", testInvalidKeys},
		{"PutReaderFails", testPutReaderFails},
		{"PutContextCancelled", testPutCancelled},
		{"ConcurrentPutsSameKey", testConcurrentPuts},
		{"ConcurrentPutAndGet", testConcurrentPutGet},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			tc.fn(t, s)
		})
	}
}

// ---------------------------------------------------------------------------
// Test cases.

func testRoundTrip(t *testing.T, s blob.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		key  string
		data []byte
	}{
		{"file.txt", []byte("hello, world\n")},
		{"empty", nil},
		{"dir/empty.txt", []byte{}},
		{"dir/sub/deep.bin", all},
		{"x", []byte{0}},
		{"no-ext-file_", bytes.Repeat([]byte("ab\r\n"), 1000)},
	}
	for _, c := range cases {
		putBytes(t, s, c.key, c.data)
	}
	for _, c := range cases {
		got, e := getBytes(t, s, c.key)
		if !bytes.Equal(got, c.data) {
			t.Errorf("Get(%q) = %d bytes %q, want %d bytes", c.key, len(got), trunc(got), len(c.data))
		}
		checkEntry(t, "Get("+c.key+")", e, fileEntry(c.key, len(c.data)))
		st, err := s.Stat(t.Context(), c.key)
		if err != nil {
			t.Errorf("Stat(%q): %v", c.key, err)
			continue
		}
		checkEntry(t, "Stat("+c.key+")", st, fileEntry(c.key, len(c.data)))
		checkSeek(t, s, c.key, c.data)
	}
	// Empty files are listed as files of size 0.
	list := mustList(t, s, "dir")
	checkList(t, "dir", list, []blob.Entry{fileEntry("dir/empty.txt", 0), dirEntry("dir/sub")})
}

func testLarge(t *testing.T, s blob.Store) {
	// Multi-MB, an odd size, delivered by a reader that is neither an
	// io.Seeker nor an io.WriterTo and returns odd-sized chunks.
	p := pattern{seed: 42, size: 8<<20 + 12345}
	n, err := s.Put(t.Context(), "big/file.bin", &patternReader{p: p, chunk: 65521})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if n != p.size {
		t.Errorf("Put returned %d, want %d", n, p.size)
	}
	st, err := s.Stat(t.Context(), "big/file.bin")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkEntry(t, "Stat", st, fileEntry("big/file.bin", int(p.size)))

	rc, e, err := s.Get(t.Context(), "big/file.bin")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	checkEntry(t, "Get", e, fileEntry("big/file.bin", int(p.size)))
	if err := matchPattern(rc, p); err != nil {
		t.Errorf("Get content: %v", err)
	}
	if sk, ok := rc.(io.Seeker); ok {
		for _, off := range []int64{p.size - 1000, 3 << 20, 1, 0} {
			if _, err := sk.Seek(off, io.SeekStart); err != nil {
				t.Fatalf("Seek(%d): %v", off, err)
			}
			got := make([]byte, 1000)
			if _, err := io.ReadFull(rc, got); err != nil {
				t.Fatalf("read after Seek(%d): %v", off, err)
			}
			want := make([]byte, 1000)
			p.fill(want, off)
			if !bytes.Equal(got, want) {
				t.Errorf("content after Seek(%d) differs", off)
			}
		}
	}
}

func testUnicodeKeys(t *testing.T, s blob.Store) {
	keys := []string{
		"my dir/my file.txt",
		"ünïcødé/çà va.txt",
		"日本語/ファイル 名.bin",
		"emoji 🚀/🐳.json",
		"url chars/a+b=c&d%20e?f#g;h'i\"j.txt",
		" leading and trailing spaces /x ",
		"dir/Ωmega",
	}
	for i, k := range keys {
		putBytes(t, s, k, fmt.Appendf(nil, "content %d", i))
	}
	for i, k := range keys {
		got, e := getBytes(t, s, k)
		if want := fmt.Sprintf("content %d", i); string(got) != want {
			t.Errorf("Get(%q) = %q, want %q", k, got, want)
		}
		checkEntry(t, "Get("+k+")", e, fileEntry(k, len(got)))
		dir := k[:strings.LastIndex(k, "/")]
		list := mustList(t, s, dir)
		if !slices.ContainsFunc(list, func(e blob.Entry) bool { return e.Path == k && !e.IsDir }) {
			t.Errorf("List(%q) = %v, want it to contain file %q", dir, paths(list), k)
		}
		if st, err := s.Stat(t.Context(), dir); err != nil || !st.IsDir || st.Path != dir {
			t.Errorf("Stat(%q) = %+v, %v; want directory", dir, st, err)
		}
	}
	for _, k := range keys {
		if err := s.Delete(t.Context(), k); err != nil {
			t.Errorf("Delete(%q): %v", k, err)
		}
		if _, err := s.Stat(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Stat(%q) after Delete: %v, want ErrNotFound", k, err)
		}
	}
}

func testOverwrite(t *testing.T, s blob.Store) {
	ctx := t.Context()
	const key = "dir/file.bin"
	v1 := pattern{seed: 1, size: 1 << 20}
	v2 := pattern{seed: 2, size: 1000}
	putPattern(t, s, key, v1)

	// A reader opened before the overwrite must see one complete version.
	old, _, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer old.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(old, head); err != nil {
		t.Fatalf("read: %v", err)
	}

	putPattern(t, s, key, v2)
	rc, e, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get after overwrite: %v", err)
	}
	checkEntry(t, "Get after overwrite", e, fileEntry(key, int(v2.size)))
	if err := matchPattern(rc, v2); err != nil {
		t.Errorf("content after overwrite: %v", err)
	}
	rc.Close()
	st, err := s.Stat(ctx, key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	checkEntry(t, "Stat after overwrite", st, fileEntry(key, int(v2.size)))

	rest, err := io.ReadAll(old)
	if err != nil {
		t.Fatalf("reading the earlier reader: %v", err)
	}
	whole := append(head, rest...)
	if matchPattern(bytes.NewReader(whole), v1) != nil && matchPattern(bytes.NewReader(whole), v2) != nil {
		t.Errorf("a reader opened before the overwrite saw %d bytes that are neither version", len(whole))
	}

	// Overwrite with an empty file, then with a larger one.
	putBytes(t, s, key, nil)
	if got, _ := getBytes(t, s, key); len(got) != 0 {
		t.Errorf("after overwrite with empty file: %d bytes", len(got))
	}
	putPattern(t, s, key, v1)
	if rc, _, err := s.Get(ctx, key); err != nil {
		t.Errorf("Get: %v", err)
	} else {
		if err := matchPattern(rc, v1); err != nil {
			t.Errorf("content after third overwrite: %v", err)
		}
		rc.Close()
	}
	checkList(t, "dir", mustList(t, s, "dir"), []blob.Entry{fileEntry(key, int(v1.size))})
}

func testStat(t *testing.T, s blob.Store) {
	putBytes(t, s, "a/b/c.txt", []byte("abc"))
	putBytes(t, s, "a/d.txt", []byte("d"))
	putBytes(t, s, "top", []byte("top!"))

	want := map[string]blob.Entry{
		"a":         dirEntry("a"),
		"a/b":       dirEntry("a/b"),
		"a/b/c.txt": fileEntry("a/b/c.txt", 3),
		"a/d.txt":   fileEntry("a/d.txt", 1),
		"top":       fileEntry("top", 4),
	}
	for k, w := range want {
		e, err := s.Stat(t.Context(), k)
		if err != nil {
			t.Errorf("Stat(%q): %v", k, err)
			continue
		}
		checkEntry(t, "Stat("+k+")", e, w)
	}
	// Prefixes of names, and names below files, are not entries.
	for _, k := range []string{"a/b/c", "a/b/c.tx", "a/b/c.txt.x", "a/d", "to", "a/b/c.txt/x", "top/x", "b"} {
		if e, err := s.Stat(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", k, e, err)
		}
	}
}

func testList(t *testing.T, s blob.Store) {
	files := map[string]int{
		"top.txt":      3,
		"a/1.txt":      1,
		"a/2.bin":      2,
		"a/b/deep.txt": 4,
		"a/b/e/f":      6,
		"a/b-c":        5, // sorts between the directory "a/b" and "a/b.d"
		"a/b.d":        7,
		"a/c/x":        8,
		"a/empty":      0,
		"a b/ü.txt":    9,
		"z/y":          10,
	}
	for k, n := range files {
		putBytes(t, s, k, bytes.Repeat([]byte{'x'}, n))
	}
	f := func(k string) blob.Entry { return fileEntry(k, files[k]) }

	checkList(t, "", mustList(t, s, ""), []blob.Entry{
		dirEntry("a"), dirEntry("a b"), f("top.txt"), dirEntry("z"),
	})
	wantA := []blob.Entry{
		f("a/1.txt"), f("a/2.bin"), dirEntry("a/b"), f("a/b-c"), f("a/b.d"), dirEntry("a/c"), f("a/empty"),
	}
	checkList(t, "a", mustList(t, s, "a"), wantA)
	checkList(t, "a/", mustList(t, s, "a/"), wantA)
	checkList(t, "a/b", mustList(t, s, "a/b"), []blob.Entry{f("a/b/deep.txt"), dirEntry("a/b/e")})
	checkList(t, "a/b/e", mustList(t, s, "a/b/e"), []blob.Entry{f("a/b/e/f")})
	checkList(t, "a b", mustList(t, s, "a b"), []blob.Entry{f("a b/ü.txt")})
	checkList(t, "z", mustList(t, s, "z"), []blob.Entry{f("z/y")})
}

func testListMissingOrFile(t *testing.T, s blob.Store) {
	if l, err := s.List(t.Context(), ""); err != nil || len(l) != 0 {
		t.Errorf("List of an empty store = %v, %v; want no entries and no error", paths(l), err)
	}
	putBytes(t, s, "dir/file.txt", []byte("x"))
	putBytes(t, s, "file.txt", []byte("x"))
	for _, d := range []string{"nope", "dir/nope", "nope/deeper/still", "dir/file.txt/below", "fil", "di"} {
		l, err := s.List(t.Context(), d)
		if err != nil || len(l) != 0 {
			t.Errorf("List(%q) = %v, %v; want no entries and no error", d, paths(l), err)
		}
	}
	for _, d := range []string{"file.txt", "dir/file.txt"} {
		if l, err := s.List(t.Context(), d); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("List(%q) of a file = %v, %v; want ErrInvalidArgument", d, paths(l), err)
		}
	}
}

func testMissing(t *testing.T, s blob.Store) {
	check := func(keys ...string) {
		t.Helper()
		for _, k := range keys {
			if rc, _, err := s.Get(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
				if rc != nil {
					rc.Close()
				}
				t.Errorf("Get(%q): %v, want ErrNotFound", k, err)
			}
			if e, err := s.Stat(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", k, e, err)
			}
			if err := s.Delete(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("Delete(%q): %v, want ErrNotFound", k, err)
			}
		}
	}
	check("missing", "missing/deeper.txt")
	putBytes(t, s, "f.txt", []byte("f"))
	putBytes(t, s, "d/x.txt", []byte("x"))
	check("f", "f.tx", "f.txt.bak", "f.txt/x", "d/x", "d/x.txt/y", "d/y", "dd", "d/x.txt/y/z")
	// The failed calls changed nothing.
	checkList(t, "", mustList(t, s, ""), []blob.Entry{dirEntry("d"), fileEntry("f.txt", 1)})
	checkList(t, "d", mustList(t, s, "d"), []blob.Entry{fileEntry("d/x.txt", 1)})
}

func testGetDirectory(t *testing.T, s blob.Store) {
	putBytes(t, s, "d/sub/x.txt", []byte("x"))
	for _, k := range []string{"d", "d/sub"} {
		rc, _, err := s.Get(t.Context(), k)
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Get(%q) of a directory: %v, want ErrInvalidArgument", k, err)
		}
	}
}

func testDeleteFile(t *testing.T, s blob.Store) {
	ctx := t.Context()
	putBytes(t, s, "d/e/f.txt", []byte("f"))
	putBytes(t, s, "d/g.txt", []byte("gg"))
	putBytes(t, s, "d/e.txt", []byte("e"))

	if err := s.Delete(ctx, "d/e/f.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(ctx, "d/e/f.txt"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Stat of deleted file: %v, want ErrNotFound", err)
	}
	// The directory was implied by the deleted file only.
	if e, err := s.Stat(ctx, "d/e"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Stat of a directory whose last file was deleted = %+v, %v; want ErrNotFound", e, err)
	}
	checkList(t, "d", mustList(t, s, "d"), []blob.Entry{fileEntry("d/e.txt", 1), fileEntry("d/g.txt", 2)})
	if err := s.Delete(ctx, "d/e/f.txt"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}

	for _, k := range []string{"d/g.txt", "d/e.txt"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatalf("Delete(%q): %v", k, err)
		}
	}
	if e, err := s.Stat(ctx, "d"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Stat(d) after deleting all its files = %+v, %v; want ErrNotFound", e, err)
	}
	checkList(t, "", mustList(t, s, ""), nil)

	// A key can be written again after it was deleted.
	putBytes(t, s, "d/e/f.txt", []byte("again"))
	if got, _ := getBytes(t, s, "d/e/f.txt"); string(got) != "again" {
		t.Errorf("Get after re-Put = %q", got)
	}
}

func testDeleteTree(t *testing.T, s blob.Store) {
	ctx := t.Context()
	for _, k := range []string{"t/x", "t/s/y", "t/s/z/w", "t/s/z/v", "tt.txt", "t.txt", "t-1/x", "keep/t/x"} {
		putBytes(t, s, k, []byte(k))
	}
	if err := s.Delete(ctx, "t/s"); err != nil {
		t.Fatalf("Delete(t/s): %v", err)
	}
	checkList(t, "t", mustList(t, s, "t"), []blob.Entry{fileEntry("t/x", 3)})
	if err := s.Delete(ctx, "t"); err != nil {
		t.Fatalf("Delete(t): %v", err)
	}
	for _, k := range []string{"t", "t/x", "t/s", "t/s/y", "t/s/z/w"} {
		if e, err := s.Stat(ctx, k); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Stat(%q) after deleting the tree = %+v, %v; want ErrNotFound", k, e, err)
		}
	}
	if l, err := s.List(ctx, "t"); err != nil || len(l) != 0 {
		t.Errorf("List(t) after deleting it = %v, %v; want nothing", paths(l), err)
	}
	// Keys that merely share the prefix "t" survive.
	checkList(t, "", mustList(t, s, ""), []blob.Entry{
		dirEntry("keep"), dirEntry("t-1"), fileEntry("t.txt", 5), fileEntry("tt.txt", 6),
	})
	for _, k := range []string{"t.txt", "tt.txt", "t-1/x", "keep/t/x"} {
		if got, _ := getBytes(t, s, k); string(got) != k {
			t.Errorf("Get(%q) = %q, want %q", k, got, k)
		}
	}
	if err := s.Delete(ctx, "t"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Delete of a deleted tree: %v, want ErrNotFound", err)
	}
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	ctx := t.Context()
	putBytes(t, s, "a/b", []byte("b"))
	putBytes(t, s, "x", []byte("x"))
	putBytes(t, s, "abs/x", []byte("x"))
	for _, k := range InvalidKeys {
		n, err := s.Put(ctx, k, strings.NewReader("evil"))
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Put(%q) = %d, %v; want ErrInvalidArgument", k, n, err)
		}
		rc, _, err := s.Get(ctx, k)
		if rc != nil {
			rc.Close()
		}
		if !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Get(%q): %v, want ErrInvalidArgument", k, err)
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Stat(%q): %v, want ErrInvalidArgument", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("Delete(%q): %v, want ErrInvalidArgument", k, err)
		}
		if k == "" || k == "/" {
			continue // the root, for List
		}
		if l, err := s.List(ctx, k); !errors.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("List(%q) = %v, %v; want ErrInvalidArgument", k, paths(l), err)
		}
	}
	// Nothing was written or deleted.
	checkList(t, "", mustList(t, s, ""), []blob.Entry{dirEntry("a"), dirEntry("abs"), fileEntry("x", 1)})
	checkList(t, "a", mustList(t, s, "a"), []blob.Entry{fileEntry("a/b", 1)})
	checkList(t, "abs", mustList(t, s, "abs"), []blob.Entry{fileEntry("abs/x", 1)})
}

var errBoom = errors.New("blobtest: reader failed")

func testPutReaderFails(t *testing.T, s blob.Store) {
	ctx := t.Context()
	v1 := pattern{seed: 1, size: 300 << 10}
	putPattern(t, s, "k/v.bin", v1)

	for _, failAt := range []int64{0, 1, 3 << 20} {
		big := pattern{seed: 2, size: 8 << 20}
		for _, key := range []string{"k/v.bin", "k/new.bin", "fresh/dir/new.bin"} {
			r := &patternReader{p: big, chunk: 64 << 10, hook: func(off int64) error {
				if off >= failAt {
					return errBoom
				}
				return nil
			}}
			n, err := s.Put(ctx, key, r)
			if !errors.Is(err, errBoom) {
				t.Errorf("Put(%q) with a reader failing at %d = %d, %v; want an error wrapping the reader's", key, failAt, n, err)
			}
		}
		checkIntact(t, s, "k/v.bin", v1, "after failed Puts")
		for _, k := range []string{"k/new.bin", "fresh", "fresh/dir", "fresh/dir/new.bin"} {
			if e, err := s.Stat(ctx, k); !errors.Is(err, errdefs.ErrNotFound) {
				t.Errorf("Stat(%q) after failed Put = %+v, %v; want ErrNotFound", k, e, err)
			}
		}
		checkList(t, "", mustList(t, s, ""), []blob.Entry{dirEntry("k")})
		checkList(t, "k", mustList(t, s, "k"), []blob.Entry{fileEntry("k/v.bin", int(v1.size))})
	}
}

func testPutCancelled(t *testing.T, s blob.Store) {
	v1 := pattern{seed: 1, size: 300 << 10}
	putPattern(t, s, "k/v.bin", v1)

	// Cancelled before the call.
	pre, cancel := context.WithCancel(t.Context())
	cancel()
	for _, key := range []string{"k/v.bin", "k/new.bin", "fresh/new.bin"} {
		n, err := s.Put(pre, key, strings.NewReader("new"))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%q) with a cancelled context = %d, %v; want context.Canceled", key, n, err)
		}
	}

	// Cancelled midway: the reader cancels after 1 MiB but could go on for
	// much longer; Put must notice the cancellation rather than the EOF.
	for _, key := range []string{"k/v.bin", "k/new.bin", "fresh/dir/new.bin"} {
		ctx, cancel := context.WithCancel(t.Context())
		r := &patternReader{p: pattern{seed: 3, size: 64 << 20}, chunk: 32 << 10, hook: func(off int64) error {
			if off >= 1<<20 {
				cancel()
			}
			return nil
		}}
		start := time.Now()
		n, err := s.Put(ctx, key, r)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%q) cancelled midway = %d, %v; want context.Canceled", key, n, err)
		}
		if r.off >= r.p.size {
			t.Errorf("Put(%q) read the whole body (%d bytes) despite the cancellation after 1 MiB (in %v)", key, r.off, time.Since(start))
		}
	}
	checkIntact(t, s, "k/v.bin", v1, "after cancelled Puts")
	for _, k := range []string{"k/new.bin", "fresh", "fresh/dir", "fresh/dir/new.bin", "fresh/new.bin"} {
		if e, err := s.Stat(t.Context(), k); !errors.Is(err, errdefs.ErrNotFound) {
			t.Errorf("Stat(%q) after cancelled Put = %+v, %v; want ErrNotFound", k, e, err)
		}
	}
	checkList(t, "", mustList(t, s, ""), []blob.Entry{dirEntry("k")})
	checkList(t, "k", mustList(t, s, "k"), []blob.Entry{fileEntry("k/v.bin", int(v1.size))})
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	const writers = 8
	const key = "c/same.bin"
	versions := map[int64]pattern{}
	for round := range 3 {
		var ps []pattern
		for i := range writers {
			p := pattern{seed: uint64(100*round + i), size: 512<<10 + int64(round*writers+i)*4099}
			ps = append(ps, p)
			versions[p.size] = p
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Go(func() {
				<-start
				r := &patternReader{p: p, chunk: 16 << 10, yield: true}
				n, err := s.Put(t.Context(), key, r)
				if err != nil || n != p.size {
					t.Errorf("concurrent Put = %d, %v; want %d, nil", n, err, p.size)
				}
			})
		}
		close(start)
		wg.Wait()

		rc, e, err := s.Get(t.Context(), key)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		p, ok := versions[int64(len(data))]
		if !ok || !slices.Contains(ps, p) {
			t.Fatalf("round %d: after concurrent Puts the file has %d bytes, which is no version of this round", round, len(data))
		}
		if err := matchPattern(bytes.NewReader(data), p); err != nil {
			t.Errorf("round %d: after concurrent Puts the file mixes versions: %v", round, err)
		}
		checkEntry(t, "Get", e, fileEntry(key, len(data)))
		checkList(t, "c", mustList(t, s, "c"), []blob.Entry{fileEntry(key, len(data))})
	}
}

func testConcurrentPutGet(t *testing.T, s blob.Store) {
	const key = "cg/file.bin"
	const rounds = 24
	versions := map[int64]pattern{}
	var ps []pattern
	for j := range rounds + 1 {
		p := pattern{seed: uint64(1000 + j), size: 128<<10 + int64(j)*1031}
		ps = append(ps, p)
		versions[p.size] = p
	}
	putPattern(t, s, key, ps[0])

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for _, p := range ps[1:] {
			if _, err := s.Put(t.Context(), key, &patternReader{p: p, chunk: 8 << 10, yield: true}); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	var reads sync.WaitGroup
	for range 4 {
		reads.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					if i > 0 {
						return
					}
				default:
				}
				rc, e, err := s.Get(t.Context(), key)
				if err != nil {
					t.Errorf("Get during Puts: %v", err)
					return
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("read during Puts: %v", err)
					return
				}
				p, ok := versions[int64(len(data))]
				if !ok {
					t.Errorf("Get during Puts saw %d bytes, which is no complete version", len(data))
					return
				}
				if err := matchPattern(bytes.NewReader(data), p); err != nil {
					t.Errorf("Get during Puts saw a mixed or partial file: %v", err)
					return
				}
				if e.Size != int64(len(data)) {
					t.Errorf("Get during Puts: Entry.Size = %d but the reader gave %d bytes", e.Size, len(data))
					return
				}
				if st, err := s.Stat(t.Context(), key); err != nil {
					t.Errorf("Stat during Puts: %v", err)
					return
				} else if _, ok := versions[st.Size]; !ok || st.IsDir {
					t.Errorf("Stat during Puts = %+v, which is no complete version", st)
					return
				}
				if l, err := s.List(t.Context(), "cg"); err != nil || len(l) != 1 || l[0].Path != key {
					t.Errorf("List during Puts = %v, %v; want just %q", paths(l), err, key)
					return
				}
			}
		})
	}
	wg.Wait()
	reads.Wait()
	checkIntact(t, s, key, ps[rounds], "after the last Put")
}

// ---------------------------------------------------------------------------
// Helpers.

func putBytes(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	n, err := s.Put(t.Context(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if n != int64(len(data)) {
		t.Fatalf("Put(%q) returned %d, want %d", key, n, len(data))
	}
}

func putPattern(t *testing.T, s blob.Store, key string, p pattern) {
	t.Helper()
	n, err := s.Put(t.Context(), key, &patternReader{p: p, chunk: 100_000})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	if n != p.size {
		t.Fatalf("Put(%q) returned %d, want %d", key, n, p.size)
	}
}

func getBytes(t *testing.T, s blob.Store, key string) ([]byte, blob.Entry) {
	t.Helper()
	rc, e, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	return data, e
}

func mustList(t *testing.T, s blob.Store, dir string) []blob.Entry {
	t.Helper()
	l, err := s.List(t.Context(), dir)
	if err != nil {
		t.Fatalf("List(%q): %v", dir, err)
	}
	return l
}

// checkIntact asserts that key holds exactly p, by Stat, Get and List.
func checkIntact(t *testing.T, s blob.Store, key string, p pattern, when string) {
	t.Helper()
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q) %s: %v", key, when, err)
	}
	checkEntry(t, "Stat "+when, st, fileEntry(key, int(p.size)))
	rc, _, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q) %s: %v", key, when, err)
	}
	defer rc.Close()
	if err := matchPattern(rc, p); err != nil {
		t.Errorf("content of %q %s: %v", key, when, err)
	}
}

func checkSeek(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	rc, _, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	sk, ok := rc.(io.Seeker)
	if !ok {
		return
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if err != nil || end != int64(len(data)) {
		t.Errorf("Seek(0, SeekEnd) on %q = %d, %v; want %d", key, end, err, len(data))
	}
	off := int64(len(data) / 2)
	if _, err := sk.Seek(off, io.SeekStart); err != nil {
		t.Fatalf("Seek(%d) on %q: %v", off, key, err)
	}
	rest, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(rest, data[off:]) {
		t.Errorf("reading %q from offset %d = %q, %v; want %q", key, off, trunc(rest), err, trunc(data[off:]))
	}
}

func fileEntry(key string, size int) blob.Entry {
	return blob.Entry{Path: key, Size: int64(size)}
}

func dirEntry(key string) blob.Entry { return blob.Entry{Path: key, IsDir: true} }

// checkEntry compares all fields but ModTime, which for files must be
// close to the present.
func checkEntry(t *testing.T, what string, got, want blob.Entry) {
	t.Helper()
	if got.Path != want.Path || got.IsDir != want.IsDir || got.Size != want.Size {
		t.Errorf("%s = {Path:%q IsDir:%v Size:%d}, want {Path:%q IsDir:%v Size:%d}",
			what, got.Path, got.IsDir, got.Size, want.Path, want.IsDir, want.Size)
	}
	if !want.IsDir {
		if d := time.Since(got.ModTime); got.ModTime.IsZero() || d > 24*time.Hour || d < -time.Hour {
			t.Errorf("%s: ModTime %v is not near the present", what, got.ModTime)
		}
	}
}

func checkList(t *testing.T, dir string, got, want []blob.Entry) {
	t.Helper()
	if !slices.IsSortedFunc(got, func(a, b blob.Entry) int { return strings.Compare(a.Path, b.Path) }) {
		t.Errorf("List(%q) is not sorted by Path: %v", dir, paths(got))
	}
	if len(got) != len(want) {
		t.Errorf("List(%q) = %v, want %v", dir, describe(got), describe(want))
		return
	}
	for i := range got {
		checkEntry(t, fmt.Sprintf("List(%q)[%d]", dir, i), got[i], want[i])
	}
}

func paths(l []blob.Entry) []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Path
	}
	return out
}

func describe(l []blob.Entry) string {
	parts := make([]string, len(l))
	for i, e := range l {
		if e.IsDir {
			parts[i] = e.Path + "/"
		} else {
			parts[i] = fmt.Sprintf("%s(%d)", e.Path, e.Size)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func trunc(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q...", b[:40])
	}
	return fmt.Sprintf("%q", b)
}

// pattern is deterministic pseudo-random content: size bytes, each a function
// of seed and offset, so that a mix of two versions or a shifted or truncated
// copy is detected without keeping either in memory.
type pattern struct {
	seed uint64
	size int64
}

// fill sets b to the bytes of p at offsets off, off+1, ...
func (p pattern) fill(b []byte, off int64) {
	var w [8]byte
	for len(b) > 0 {
		binary.LittleEndian.PutUint64(w[:], splitmix(p.seed*0x9e3779b97f4a7c15+uint64(off)/8))
		n := copy(b, w[off%8:])
		b, off = b[n:], off+int64(n)
	}
}

func splitmix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// matchPattern reads r to the end and reports how it differs from p.
func matchPattern(r io.Reader, p pattern) error {
	buf := make([]byte, 64<<10)
	want := make([]byte, len(buf))
	var off int64
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if off+int64(n) > p.size {
				return fmt.Errorf("more than the %d bytes expected", p.size)
			}
			p.fill(want[:n], off)
			if !bytes.Equal(buf[:n], want[:n]) {
				i := 0
				for buf[i] == want[i] {
					i++
				}
				return fmt.Errorf("byte %d differs from the expected content", off+int64(i))
			}
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if off != p.size {
		return fmt.Errorf("got %d bytes, want %d", off, p.size)
	}
	return nil
}

// patternReader streams a pattern. It is deliberately only an io.Reader (no
// Seek, WriterTo or Len), returns at most chunk bytes per Read, and calls
// hook with the current offset before every Read; an error from hook is
// returned by Read.
type patternReader struct {
	p     pattern
	off   int64
	chunk int
	yield bool // runtime.Gosched after each Read, to interleave goroutines
	hook  func(off int64) error
}

func (r *patternReader) Read(b []byte) (int, error) {
	if r.hook != nil {
		if err := r.hook(r.off); err != nil {
			return 0, err
		}
	}
	if r.off >= r.p.size {
		return 0, io.EOF
	}
	n := len(b)
	if r.chunk > 0 && n > r.chunk {
		n = r.chunk
	}
	if rem := r.p.size - r.off; int64(n) > rem {
		n = int(rem)
	}
	r.p.fill(b[:n], r.off)
	r.off += int64(n)
	if r.yield {
		runtime.Gosched()
	}
	return n, nil
}
