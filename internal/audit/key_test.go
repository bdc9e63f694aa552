package audit

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "nested")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, KeyFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", info.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Fatal("reloaded key differs")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("data directory holds %d files, want only the key (no temporary files left)", len(entries))
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("key file is not a PKCS#8 PEM:\n%s", data)
	}
}

func TestLoadOrCreateKeyConcurrentStarters(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	keys := make([]ed25519.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateKey(dir) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !keys[i].Equal(keys[0]) {
			t.Fatal("concurrent starters got different keys")
		}
	}
	disk, err := LoadOrCreateKey(dir)
	if err != nil || !disk.Equal(keys[0]) {
		t.Fatalf("the key on disk is not the one handed out (%v)", err)
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	good := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})
	cases := []struct {
		name    string
		content []byte
		mode    os.FileMode
		want    string
	}{
		{"group readable", good, 0o640, "mode 0640"},
		{"world readable", good, 0o604, "chmod 600"},
		{"empty", nil, 0o600, "no PEM block"},
		{"garbage", []byte("not a key"), 0o600, "no PEM block"},
		{"ecdsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), 0o600, "want an Ed25519 key"},
		{"wrong block type", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: edDER}), 0o600, "want \"PRIVATE KEY\""},
		{"trailing data", append(append([]byte{}, good...), "extra"...), 0o600, "unexpected data"},
		{"two keys", append(append([]byte{}, good...), good...), 0o600, "unexpected data"},
		{"corrupt DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: edDER[:20]}), 0o600, "parse PKCS#8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tc.mode != 0o600 {
				t.Skip("no Unix permissions")
			}
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			if err := os.WriteFile(path, tc.content, tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil { // beyond the umask
				t.Fatal(err)
			}
			_, err := LoadOrCreateKey(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want one naming %s and saying %q", err, path, tc.want)
			}
			// The refused file is left alone.
			if data, _ := os.ReadFile(path); string(data) != string(tc.content) {
				t.Fatal("the refused key file was changed")
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, KeyFileName), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("error = %v", err)
		}
	})
}

func TestPublicKeyPEM(t *testing.T) {
	var all []byte
	var pubs []ed25519.PublicKey
	for range 2 {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		b, err := MarshalPublicKeyPEM(pub)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		pubs = append(pubs, pub)
	}
	got, err := ParsePublicKeysPEM(all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Equal(pubs[0]) || !got[1].Equal(pubs[1]) {
		t.Fatal("public keys do not round-trip")
	}
	for _, bad := range []string{"", "junk", string(all) + "junk"} {
		if _, err := ParsePublicKeysPEM([]byte(bad)); err == nil {
			t.Errorf("ParsePublicKeysPEM(%q) succeeded", bad)
		}
	}
}
