package npmtgz

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type entry struct {
	name, body string
	typ        byte // tar.TypeReg if zero
}

func makeTgz(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typ}
		if e.typ == tar.TypeSymlink {
			h.Size, h.Linkname = 0, e.body
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func integrity(b []byte) string {
	sum := sha512.Sum512(b)
	return "sha512-" + base64.StdEncoding.EncodeToString(sum[:])
}

// files writes tgz to a temporary file and reads want from it as release
// pkg 1.0.0, pinned to pin (the tarball's own integrity if empty).
func files(t *testing.T, tgz []byte, pin string, want ...string) (map[string][]byte, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pkg.tgz")
	if err := os.WriteFile(path, tgz, 0o644); err != nil {
		t.Fatal(err)
	}
	if pin == "" {
		pin = integrity(tgz)
	}
	r := Release{Name: "pkg", Version: "1.0.0", Integrity: pin}
	return r.Files(context.Background(), path, want...)
}

const pkgJSON = `{"name": "pkg", "version": "1.0.0"}`

func TestFiles(t *testing.T) {
	tgz := makeTgz(t,
		entry{name: "package/package.json", body: pkgJSON},
		entry{name: "package/data.json", body: `{"a": 1}`},
		entry{name: "package/other.js", body: "x"},
	)
	got, err := files(t, tgz, "", "package/data.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got["package/data.json"]) != `{"a": 1}` || string(got["package/package.json"]) != pkgJSON {
		t.Errorf("Files = %q", got)
	}
	if _, ok := got["package/other.js"]; ok {
		t.Errorf("Files returned a file not asked for")
	}
}

func TestFilesRefuses(t *testing.T) {
	good := makeTgz(t, entry{name: "package/package.json", body: pkgJSON}, entry{name: "package/data.json", body: "{}"})
	big := strings.Repeat("x", maxFile+1)
	for _, c := range []struct {
		name string
		tgz  []byte
		pin  string
		want string // substring of the error
	}{
		{"other hash", good, integrity([]byte("other")), "tarball has integrity"},
		{"not sha512", good, "sha1-" + base64.StdEncoding.EncodeToString(make([]byte, 20)), "not a sha512- hash"},
		{"short hash", good, "sha512-AAAA", "not a base64 SHA-512"},
		{"not gzip", []byte("plain"), "", "tarball"},
		{"other version", makeTgz(t, entry{name: "package/package.json", body: `{"name": "pkg", "version": "1.0.1"}`}, entry{name: "package/data.json"}), "", "the tarball is pkg 1.0.1"},
		{"missing", makeTgz(t, entry{name: "package/package.json", body: pkgJSON}), "", "no package/data.json"},
		{"twice", makeTgz(t, entry{name: "package/package.json", body: pkgJSON}, entry{name: "package/data.json"}, entry{name: "package/data.json"}), "", "appears twice"},
		{"symlink", makeTgz(t, entry{name: "package/package.json", body: pkgJSON}, entry{name: "package/data.json", body: "/etc/passwd", typ: tar.TypeSymlink}), "", "not a regular file"},
		{"too big", makeTgz(t, entry{name: "package/package.json", body: pkgJSON}, entry{name: "package/data.json", body: big}), "", "more than the"},
	} {
		_, err := files(t, c.tgz, c.pin, "package/data.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestURL(t *testing.T) {
	r := Release{Name: "ibantools", Version: "4.5.4"}
	if got, want := r.URL(), "https://registry.npmjs.org/ibantools/-/ibantools-4.5.4.tgz"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
}

// TestExtractTruncated cuts a tarball at every length: extract refuses
// each cut with an error (it never returns a file cut short).
func TestExtractTruncated(t *testing.T) {
	tgz := makeTgz(t, entry{name: "package/package.json", body: `{"name":"x","version":"1.0.0"}`},
		entry{name: "package/data.json", body: strings.Repeat("0123456789", 100)})
	for n := range len(tgz) {
		if _, err := extract(tgz[:n], "package/data.json"); err == nil {
			t.Fatalf("cut at %d of %d: accepted", n, len(tgz))
		}
	}
}

// FuzzExtract feeds extract arbitrary bytes (the integrity check comes
// first in Files, so these bytes are pinned in practice; the reader must
// still neither panic nor exceed its limits on any input).
func FuzzExtract(f *testing.F) {
	f.Add(makeTgz(f, entry{name: "package/package.json", body: `{"name":"x","version":"1.0.0"}`}))
	f.Add(makeTgz(f, entry{name: "package/package.json", body: "ln", typ: tar.TypeSymlink}))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := extract(b, "package/package.json")
		if err != nil {
			return
		}
		if len(files["package/package.json"]) > maxFile {
			t.Fatalf("file of %d bytes returned", len(files["package/package.json"]))
		}
	})
}
