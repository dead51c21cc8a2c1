// Package npmtgz reads files out of a pinned release of an npm package, for
// the programs that generate fedmatch's data tables from it (run by go
// generate, never by the library). A release is pinned by its npm
// integrity hash, which is checked before anything in the tarball is read,
// so a table depends on the pinned bytes alone, whether they come from the
// npm registry or from a file downloaded earlier.
package npmtgz

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
)

// Size limits, far above the packages read (libphonenumber-js 1.13.16 is
// 1.9 MB, 10 MB unpacked) but low enough that a wrong download cannot
// exhaust memory.
const (
	maxTarball  = 64 << 20
	maxUnpacked = 512 << 20
	maxFile     = 8 << 20
)

// Release is a pinned release of an npm package.
type Release struct {
	Name    string // package name, such as "ibantools"
	Version string // such as "4.5.4"
	// Integrity is the release's dist.integrity ("sha512-" and the base64
	// SHA-512 of the tarball), as printed by npm view NAME@VERSION
	// dist.integrity.
	Integrity string
}

func (r Release) String() string { return r.Name + " " + r.Version }

// URL is where the npm registry serves the release's tarball.
func (r Release) URL() string {
	return "https://registry.npmjs.org/" + r.Name + "/-/" + r.Name + "-" + r.Version + ".tgz"
}

// Files returns the named files of the release (paths in the tarball, such
// as "package/package.json"), each at most 8 MiB. It reads the tarball from
// tgzPath, or downloads it from [Release.URL] when tgzPath is empty, and
// checks it against r.Integrity and its package.json against r.Name and
// r.Version before returning anything.
func (r Release) Files(ctx context.Context, tgzPath string, names ...string) (map[string][]byte, error) {
	tgz, err := r.load(ctx, tgzPath)
	if err != nil {
		return nil, err
	}
	if err := checkIntegrity(tgz, r.Integrity); err != nil {
		return nil, fmt.Errorf("%v: %w", r, err)
	}
	const pkgFile = "package/package.json"
	files, err := extract(tgz, append(slices.Clone(names), pkgFile)...)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", r, err)
	}
	// The hash alone would not catch an integrity string copied from
	// another release along with the wrong version number.
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(files[pkgFile], &pkg); err != nil {
		return nil, fmt.Errorf("%v: %s: %w", r, pkgFile, err)
	}
	if pkg.Name != r.Name || pkg.Version != r.Version {
		return nil, fmt.Errorf("%v: the tarball is %s %s", r, pkg.Name, pkg.Version)
	}
	return files, nil
}

func (r Release) load(ctx context.Context, path string) ([]byte, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f, maxTarball, path)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %v (offline? pass a tarball with -tgz): %w", r, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading %s: %s", r.URL(), resp.Status)
	}
	return readLimited(resp.Body, maxTarball, r.URL())
}

func readLimited(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	return b, nil
}

// checkIntegrity verifies data against an npm integrity string. Only
// sha512 is accepted: it is what the registry has given every release since
// 2017, and a weaker hash would not pin anything.
func checkIntegrity(data []byte, integrity string) error {
	b64, ok := strings.CutPrefix(integrity, "sha512-")
	if !ok {
		return fmt.Errorf("integrity %q is not a sha512- hash", integrity)
	}
	want, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(want) != sha512.Size {
		return fmt.Errorf("integrity %q is not a base64 SHA-512 hash", integrity)
	}
	if got := sha512.Sum512(data); !bytes.Equal(got[:], want) {
		return fmt.Errorf("tarball has integrity sha512-%s, want %s", base64.StdEncoding.EncodeToString(got[:]), integrity)
	}
	return nil
}

// extract returns the named regular files of a .tgz. It fails if any is
// missing, appears twice or is over maxFile bytes.
func extract(tgz []byte, names ...string) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("tarball: %w", err)
	}
	unpacked := &io.LimitedReader{R: zr, N: maxUnpacked + 1}
	tr := tar.NewReader(unpacked)
	files := make(map[string][]byte)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tarball: %w", err)
		}
		if !slices.Contains(names, h.Name) {
			continue
		}
		if h.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("tarball: %s is not a regular file", h.Name)
		}
		if _, dup := files[h.Name]; dup {
			return nil, fmt.Errorf("tarball: %s appears twice", h.Name)
		}
		if h.Size > maxFile {
			return nil, fmt.Errorf("tarball: %s is %d bytes, more than the %d allowed", h.Name, h.Size, maxFile)
		}
		if files[h.Name], err = readLimited(tr, maxFile, h.Name); err != nil {
			return nil, fmt.Errorf("tarball: %w", err)
		}
	}
	// tar stops at its end-of-archive blocks, before the end of the gzip
	// stream: read on to the end, so that gzip checks its CRC and length
	// and a cut or corrupted tarball is refused.
	if _, err := io.Copy(io.Discard, unpacked); err != nil {
		return nil, fmt.Errorf("tarball: %w", err)
	}
	if unpacked.N == 0 {
		return nil, fmt.Errorf("tarball: more than %d bytes unpacked", maxUnpacked)
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			return nil, fmt.Errorf("tarball: no %s", n)
		}
	}
	return files, nil
}
