package federation

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// memStore is the in-memory store of the tests. fault, if not nil, is
// asked before every change (op "write", "destroy", "append" or
// "truncate", and the file's name, "" for the log) and decides its fate:
// nil lets it happen; errCrash makes the store die there, as the process
// would (an append leaves half its record behind, a write or destroy
// nothing), after which every method fails; any other error fails the
// operation, which changes nothing, as the store's contract says.
type memStore struct {
	mu    sync.Mutex
	files map[string][]byte
	log   []byte
	fault func(op, name string) error
	dead  bool
}

// errCrash is a fault that kills the store.
var errCrash = errors.New("test: crashed")

func newMemStore() *memStore { return &memStore{files: map[string][]byte{}} }

// reopen returns what a node restarted after a crash finds: the same
// files and log, in a store without faults.
func (m *memStore) reopen() *memStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	files := make(map[string][]byte, len(m.files))
	for name, data := range m.files {
		files[name] = bytes.Clone(data) // destroy zeroes a file in place
	}
	return &memStore{files: files, log: bytes.Clone(m.log)}
}

// change asks fault about an operation; m.mu is held.
func (m *memStore) change(op, name string) error {
	if m.dead {
		return errCrash
	}
	if m.fault == nil {
		return nil
	}
	err := m.fault(op, name)
	if errors.Is(err, errCrash) {
		m.dead = true
	}
	return err
}

func (m *memStore) read(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, errCrash
	}
	data, ok := m.files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	return bytes.Clone(data), nil
}

func (m *memStore) write(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.change("write", name); err != nil {
		return err
	}
	m.files[name] = bytes.Clone(data)
	return nil
}

func (m *memStore) destroy(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.change("destroy", name); err != nil {
		return err
	}
	clear(m.files[name])
	delete(m.files, name)
	return nil
}

func (m *memStore) list() ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, errCrash
	}
	return slices.Collect(maps.Keys(m.files)), nil
}

// appendFile, at a crash, leaves half of data behind, as appendLog does.
func (m *memStore) appendFile(name string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return errCrash
	}
	if _, ok := m.files[name]; !ok {
		return fmt.Errorf("%s: %w", name, os.ErrNotExist)
	}
	if err := m.change("append", name); err != nil {
		if errors.Is(err, errCrash) {
			m.files[name] = append(m.files[name], data[:len(data)/2]...)
		}
		return err
	}
	m.files[name] = append(m.files[name], data...)
	return nil
}

func (m *memStore) readLog(off int64) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dead {
		return nil, errCrash
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(m.log[min(off, int64(len(m.log))):]))), nil
}

// readAll returns the whole audit log of s.
func readAll(s store) ([]byte, error) {
	r, err := s.readLog(0)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (m *memStore) appendLog(data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.change("append", ""); err != nil {
		if errors.Is(err, errCrash) {
			m.log = append(m.log, data[:len(data)/2]...) // a torn record
		}
		return err
	}
	m.log = append(m.log, data...)
	return nil
}

func (m *memStore) truncateLog(size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.change("truncate", ""); err != nil {
		return err
	}
	m.log = m.log[:size]
	return nil
}

func (m *memStore) close() error { return nil }

// faultStore wraps a store: fault, asked before every change as
// memStore's is, fails the operations it returns an error for, which then
// change nothing.
type faultStore struct {
	store
	fault func(op, name string) error
}

func (f *faultStore) write(name string, data []byte) error {
	if err := f.fault("write", name); err != nil {
		return err
	}
	return f.store.write(name, data)
}

func (f *faultStore) destroy(name string) error {
	if err := f.fault("destroy", name); err != nil {
		return err
	}
	return f.store.destroy(name)
}

func (f *faultStore) appendLog(data []byte) error {
	if err := f.fault("append", ""); err != nil {
		return err
	}
	return f.store.appendLog(data)
}

func (f *faultStore) appendFile(name string, data []byte) error {
	if err := f.fault("append", name); err != nil {
		return err
	}
	return f.store.appendFile(name, data)
}

func (f *faultStore) truncateLog(size int64) error {
	if err := f.fault("truncate", ""); err != nil {
		return err
	}
	return f.store.truncateLog(size)
}

// TestStoreContract runs both stores through what the node relies on.
func TestStoreContract(t *testing.T) {
	fs, err := openFS(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer fs.close()
	for name, s := range map[string]store{"fs": fs, "mem": newMemStore()} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.read("node.state"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("read of a missing file: %v", err)
			}
			if data, err := readAll(s); err != nil || len(data) != 0 {
				t.Fatalf("empty log: %q, %v", data, err)
			}
			for _, v := range []string{"one", "two"} {
				if err := s.write("node.state", []byte(v)); err != nil {
					t.Fatal(err)
				}
			}
			s.write("epoch-1.key", []byte("k"))
			if data, err := s.read("node.state"); err != nil || string(data) != "two" {
				t.Fatalf("read after writes: %q, %v", data, err)
			}
			s.appendLog([]byte("abc"))
			s.appendLog([]byte("def"))
			if err := s.truncateLog(4); err != nil {
				t.Fatal(err)
			}
			s.appendLog([]byte("g"))
			if data, _ := readAll(s); string(data) != "abcdg" {
				t.Fatalf("log %q, want abcdg", data)
			}
			for off, want := range map[int64]string{0: "abcdg", 3: "dg", 5: "", 9: ""} {
				r, err := s.readLog(off)
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(r)
				r.Close()
				if err != nil || string(data) != want {
					t.Fatalf("log from %d: %q, %v; want %q", off, data, err, want)
				}
			}
			if err := s.destroy("epoch-1.key"); err != nil {
				t.Fatal(err)
			}
			if err := s.destroy("epoch-1.key"); err != nil {
				t.Fatalf("destroying a missing file: %v", err)
			}
			if names, err := s.list(); err != nil || !slices.Equal(names, []string{"node.state"}) {
				t.Fatalf("list: %v, %v; want only node.state (no log, lock or temporary file)", names, err)
			}
		})
	}
}

// TestFSStore: the directory and its files are private, a second store
// on a directory in use is refused, temporary files of an interrupted
// write are removed at open, and a read-only store changes nothing.
func TestFSStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.write("budgets", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := openFS(dir); !errors.Is(err, ErrStateInUse) {
		t.Errorf("second store on one directory: %v", err)
	}
	os.WriteFile(filepath.Join(dir, ".budgets.tmp-123"), []byte("half"), 0o600)
	s.close()
	if s, err = openFS(dir); err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if _, err := os.Stat(filepath.Join(dir, ".budgets.tmp-123")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left at open: %v", err)
	}
	ro := readFS(dir)
	if err := ro.write("budgets", nil); err == nil {
		t.Error("a read-only store wrote")
	}
	if err := ro.appendLog([]byte("x")); err == nil {
		t.Error("a read-only store appended")
	}
	if data, err := ro.read("budgets"); err != nil || string(data) != "x" {
		t.Errorf("read-only read: %q, %v", data, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		if info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", e.Name(), info.Mode())
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("state directory mode %v", info.Mode())
	}
	// A file above the size limit is refused before it is read.
	if err := os.Truncate(filepath.Join(dir, "budgets"), maxStateFile+1); err != nil {
		t.Skip("sparse file:", err)
	}
	if _, err := s.read("budgets"); !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("oversized state file: %v", err)
	}
}

// destroy overwrites the whole file, in pieces, before it removes it: a
// hard link made beforehand sees only zeros. (It once allocated a buffer
// of the file's size, up to a publisher state's 256 GiB.)
func TestFSDestroyOverwrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	data := bytes.Repeat([]byte{0xa5}, 3<<20+5) // three pieces and a bit
	if err := s.write("epoch-1.pub", data); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Link(filepath.Join(dir, "epoch-1.pub"), link); err != nil {
		t.Skip("no hard links here:", err)
	}
	if err := s.destroy("epoch-1.pub"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.read("epoch-1.pub"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after destroy: %v", err)
	}
	got, err := os.ReadFile(link)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(data) || bytes.IndexFunc(got, func(r rune) bool { return r != 0 }) >= 0 {
		t.Fatalf("the destroyed file still holds data (%d bytes)", len(got))
	}
}

// TestPlantedSymlink: a symbolic link in the state directory is refused,
// and what it points to is left untouched, by New and by every store
// operation. Regression: a link planted as epoch-99.key, pointing outside
// the state directory, made New "destroy" (overwrite with zeros) its
// target.
func TestPlantedSymlink(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	cfg := crashConfig(dir, 5)
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Publish(t.Context()); err != nil {
		t.Fatal(err)
	}
	n.Close()
	target := filepath.Join(t.TempDir(), "precious")
	const content = "not the node's to overwrite"
	untouched := func(what string) {
		t.Helper()
		if data, err := os.ReadFile(target); err != nil || string(data) != content {
			t.Fatalf("%s: the link's target holds %q, %v", what, data, err)
		}
	}
	for _, name := range []string{"epoch-99.key", keyFile(1), nodeStateFile, budgetsFile, auditHeadFile, auditFile, lockFile} {
		os.WriteFile(target, []byte(content), 0o600)
		path := filepath.Join(dir, name)
		saved := path + ".saved"
		os.Rename(path, saved)
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		if _, err := New(cfg); !errors.Is(err, ErrUnsafeState) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s a symbolic link: New: %v", name, err)
		}
		untouched("New with " + name + " a link")
		os.Remove(path)
		os.Rename(saved, path)
	}
	// The store's operations, on a link made after it was opened.
	s, err := openFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	link := filepath.Join(dir, "epoch-99.key")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := s.destroy("epoch-99.key"); !errors.Is(err, ErrUnsafeState) {
		t.Errorf("destroy of a link: %v", err)
	}
	if _, err := s.read("epoch-99.key"); !errors.Is(err, ErrUnsafeState) {
		t.Errorf("read of a link: %v", err)
	}
	if _, err := s.list(); !errors.Is(err, ErrUnsafeState) {
		t.Errorf("list with a link: %v", err)
	}
	untouched("the store's operations")
	// write replaces the link itself, never its target.
	if err := s.write("epoch-99.key", []byte("new")); err != nil {
		t.Fatal(err)
	}
	untouched("write over a link")
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("after write: %v, %v", fi, err)
	}
	if _, err := VerifyAudit(dir, cfg.ID, cfg.Identity.Public().(ed25519.PublicKey)); err != nil {
		t.Fatal(err)
	}
}

// TestStateDirSymlink: a state directory that is a symbolic link is
// refused (whoever can change the link can change the node's state), as
// is one that is not a directory.
func TestStateDirSymlink(t *testing.T) {
	real := filepath.Join(t.TempDir(), "state")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if _, err := New(crashConfig(link, 5)); !errors.Is(err, ErrUnsafeState) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a state directory that is a link: %v", err)
	}
	if entries, _ := os.ReadDir(real); len(entries) != 0 {
		t.Errorf("the link's target was written: %v", entries)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := New(crashConfig(file, 5)); !errors.Is(err, ErrUnsafeState) {
		t.Errorf("a state directory that is a file: %v", err)
	}
}
