package mlflow_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const artifactsAPI = "/api/2.0/mlflow-artifacts/artifacts"

func TestArtifactProxy(t *testing.T) {
	e := newEnv(t)

	put := func(path, body, contentType string) resp {
		return e.do("PUT", artifactsAPI+"/"+path, body, "Content-Type", contentType)
	}
	if r := put("1/run/artifacts/model/MLmodel", "flavors: {}\n", "application/octet-stream"); r.status != 200 || string(r.body) != "{}" {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	put("1/run/artifacts/model/model.pkl", "pickle", "application/octet-stream")
	put("1/run/artifacts/metrics.json", `{"a":1}`, "application/json")
	put("1/run/artifacts/notes.txt", "hello", "text/plain") // the client sends the file's MIME type

	r := e.do("GET", artifactsAPI+"/1/run/artifacts/notes.txt", nil)
	if r.status != 200 || string(r.body) != "hello" {
		t.Fatalf("GET: %d %q", r.status, r.body)
	}
	if cd := r.header.Get("Content-Disposition"); cd != "attachment; filename=notes.txt" {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	if ct := e.do("GET", artifactsAPI+"/1/run/artifacts/model/MLmodel", nil).header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("MLmodel Content-Type %q", ct)
	}

	// Listing: base names, file_size only for files, directories flagged.
	list := string(e.do("GET", artifactsAPI+"?path=1/run/artifacts", nil).body)
	want := `{"files":[{"path":"metrics.json","is_dir":false,"file_size":7},{"path":"model","is_dir":true},{"path":"notes.txt","is_dir":false,"file_size":5}]}`
	if list != want {
		t.Errorf("list:\n got %s\nwant %s", list, want)
	}
	if got := string(e.do("GET", artifactsAPI+"?path=1/run/artifacts/model", nil).body); !strings.Contains(got, `{"path":"MLmodel","is_dir":false,"file_size":12}`) {
		t.Errorf("list model/: %s", got)
	}
	if got := string(e.do("GET", artifactsAPI, nil).body); got != `{"files":[{"path":"1","is_dir":true}]}` {
		t.Errorf("list root: %s", got)
	}
	if got := string(e.do("GET", artifactsAPI+"?path=does/not/exist", nil).body); got != "{}" {
		t.Errorf("list missing dir: %s", got)
	}
	if got := string(e.do("GET", artifactsAPI+"?path=1/run/artifacts/notes.txt", nil).body); got != "{}" {
		t.Errorf("list a file: %s", got)
	}

	// Delete a file, then a directory tree; deleting again is fine, as in MLflow.
	if r := e.do("DELETE", artifactsAPI+"/1/run/artifacts/notes.txt", nil); r.status != 200 {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	e.fail("GET", artifactsAPI+"/1/run/artifacts/notes.txt", nil, 404, "RESOURCE_DOES_NOT_EXIST")
	if r := e.do("DELETE", artifactsAPI+"/1/run/artifacts/model", nil); r.status != 200 {
		t.Errorf("DELETE dir: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", artifactsAPI+"/1/run/artifacts/model", nil); r.status != 200 {
		t.Errorf("DELETE again: %d %s", r.status, r.body)
	}
	if got := string(e.do("GET", artifactsAPI+"?path=1/run/artifacts", nil).body); got != `{"files":[{"path":"metrics.json","is_dir":false,"file_size":7}]}` {
		t.Errorf("after delete: %s", got)
	}
	e.fail("DELETE", artifactsAPI+"/", nil, 400, "INVALID_PARAMETER_VALUE")

	// Multipart upload is not offered; the message makes the client fall back.
	for _, op := range []string{"create", "complete", "abort"} {
		r := e.fail("POST", "/api/2.0/mlflow-artifacts/mpu/"+op+"/1/run/artifacts/big.bin",
			map[string]any{"path": "big.bin", "num_parts": 3}, 501, "NOT_IMPLEMENTED")
		if !strings.HasPrefix(r.message(t), "Multipart upload is not supported for the current artifact repository") {
			t.Errorf("mpu/%s message %q", op, r.message(t))
		}
	}

	// The ajax alias serves the same store.
	if r := e.do("GET", "/ajax-api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/metrics.json", nil); string(r.body) != `{"a":1}` {
		t.Errorf("ajax GET: %d %q", r.status, r.body)
	}
}

func TestRunArtifactsList(t *testing.T) {
	e := newEnv(t)
	run := e.createRun("0", nil)
	id := runID(run)
	uri := get(run, "info", "artifact_uri").(string) // mlflow-artifacts:/0/<id>/artifacts
	prefix := strings.TrimPrefix(uri, "mlflow-artifacts:/")
	for _, p := range []string{"model/MLmodel", "model/data/weights.bin", "plot.png"} {
		if r := e.do("PUT", artifactsAPI+"/"+prefix+"/"+p, "data-"+p, "Content-Type", "application/octet-stream"); r.status != 200 {
			t.Fatalf("PUT %s: %d %s", p, r.status, r.body)
		}
	}
	got := string(e.do("GET", api+"artifacts/list?run_id="+id, nil).body)
	want := `{"root_uri":"` + uri + `","files":[{"path":"model","is_dir":true},{"path":"plot.png","is_dir":false,"file_size":13}]}`
	if got != want {
		t.Errorf("list run root:\n got %s\nwant %s", got, want)
	}
	got = string(e.do("GET", api+"artifacts/list?run_id="+id+"&path=model", nil).body)
	want = `{"root_uri":"` + uri + `","files":[{"path":"model/MLmodel","is_dir":false,"file_size":18},{"path":"model/data","is_dir":true}]}`
	if got != want {
		t.Errorf("list model:\n got %s\nwant %s", got, want)
	}
	if got := e.ok("GET", api+"artifacts/list?run_uuid="+id+"&path=empty", nil); len(got) != 1 || got["root_uri"] != uri {
		t.Errorf("empty dir: %v", got)
	}
	e.fail("GET", api+"artifacts/list?run_id="+id+"&path=../../other", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"artifacts/list?run_id="+id+"&path=/etc", nil, 400, "INVALID_PARAMETER_VALUE")
	e.fail("GET", api+"artifacts/list?path=x", nil, 400, "INVALID_PARAMETER_VALUE")
}

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ n, off int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	if rem := p.n - p.off; int64(len(b)) > rem {
		b = b[:rem]
	}
	for i := range b {
		x := p.off + int64(i)
		b[i] = byte(x*7 + x>>9)
	}
	p.off += int64(len(b))
	return len(b), nil
}

func TestArtifactLargeStreamedFile(t *testing.T) {
	e := newEnv(t)
	base := e.url()
	const size = 96 << 20 // far above every JSON body limit
	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{n: size})

	// No Content-Length: a chunked, streamed upload. It must not be
	// buffered: the whole process allocates far less than the file.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequest("PUT", base+artifactsAPI+"/big/file.bin", io.NopCloser(&patternReader{n: size}))
	req.Header.Set("Content-Type", "application/octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("PUT: %d %s", res.StatusCode, body)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Errorf("uploading %d bytes allocated %d bytes: the body was buffered", size, alloc)
	}

	res, err = http.Get(base + artifactsAPI + "/big/file.bin")
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, _ := io.Copy(got, res.Body)
	res.Body.Close()
	if n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		t.Errorf("downloaded %d bytes, hash match %v", n, string(got.Sum(nil)) == string(want.Sum(nil)))
	}
	if res.Header.Get("Content-Length") != fmt.Sprint(size) {
		t.Errorf("Content-Length %q", res.Header.Get("Content-Length"))
	}

	// Range requests are served (resumable downloads).
	req, _ = http.NewRequest("GET", base+artifactsAPI+"/big/file.bin", nil)
	req.Header.Set("Range", "bytes=1000-1009")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(res.Body)
	res.Body.Close()
	expect := make([]byte, 1010)
	_, _ = io.ReadFull(&patternReader{n: size}, expect)
	if res.StatusCode != http.StatusPartialContent || string(part) != string(expect[1000:]) {
		t.Errorf("range: %d %v", res.StatusCode, part)
	}

	var list struct {
		Files []struct {
			Path     string      `json:"path"`
			FileSize json.Number `json:"file_size"`
		} `json:"files"`
	}
	res, _ = http.Get(base + artifactsAPI + "?path=big")
	_ = json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list.Files) != 1 || list.Files[0].FileSize != json.Number(fmt.Sprint(size)) {
		t.Errorf("list: %+v", list)
	}
}

func TestArtifactTraversal(t *testing.T) {
	e := newEnv(t)
	base := e.url()
	// A file outside the artifact root that must stay unreadable and intact.
	secret := filepath.Join(e.dir, "secret.txt")
	if err := os.WriteFile(secret, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}

	paths := []string{
		"../secret.txt",
		"..%2Fsecret.txt",
		"%2e%2e/secret.txt",
		"%2e%2e%2fsecret.txt",
		"a/../../secret.txt",
		"a/%2e%2e/%2e%2e/secret.txt",
		"%2Fetc%2Fpasswd",
		"..%5Csecret.txt",
		"a%00b",
		"%252e%252e/secret.txt",
		"a%23b",
		"./x",
		"a//b",
		"",
	}
	for _, p := range paths {
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			var body io.Reader
			if method == "PUT" {
				body = strings.NewReader("pwned")
			}
			req, err := http.NewRequest(method, base+artifactsAPI+"/"+p, body)
			if err != nil {
				t.Fatal(err)
			}
			// Keep the path as written: no client-side cleaning.
			req.URL.Opaque = "//" + req.URL.Host + artifactsAPI + "/" + p
			res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			t.Logf("%s %q -> %d %s", method, p, res.StatusCode, strings.TrimSpace(string(b)))
			if res.StatusCode >= 500 || (res.StatusCode == 200 && method != "DELETE") || strings.Contains(string(b), "top secret") {
				t.Errorf("%s %s: %d %s", method, p, res.StatusCode, b)
			}
		}
	}
	for _, q := range []string{"../", "..", "a/../..", "/etc", "a\\..\\..", "a%00", "%252e%252e", "a%23b"} {
		e.fail("GET", artifactsAPI+"?path="+q, nil, 400, "INVALID_PARAMETER_VALUE")
	}

	// Nothing was written or removed outside the artifact root.
	if b, err := os.ReadFile(secret); err != nil || string(b) != "top secret" {
		t.Fatalf("secret file changed: %q %v", b, err)
	}
	_ = filepath.WalkDir(e.dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(p, e.blobDir) {
			if b, _ := os.ReadFile(p); string(b) == "pwned" {
				rel, _ := filepath.Rel(e.blobDir, p)
				// Only a key inside the root may have been written (e.g. "a/b").
				if strings.HasPrefix(rel, "..") {
					t.Errorf("file written outside the root: %s", p)
				}
			}
		}
		if err == nil && !d.IsDir() && !strings.HasPrefix(p, e.blobDir) && !strings.HasPrefix(filepath.Base(p), "ferry.db") && p != secret {
			t.Errorf("unexpected file outside the artifact root: %s", p)
		}
		return nil
	})
}
