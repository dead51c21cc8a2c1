//go:build unix

package federation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStateDirMode: a state directory others can write is refused (they
// may have planted links or files in it), one they can only read is made
// private, as the node always did. Regression: the node made any
// directory private and started in it, whoever could write it before.
func TestStateDirMode(t *testing.T) {
	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o700, true}, {0o755, true}, {0o500, true}, {0o770, false}, {0o777, false}, {0o702, false}} {
		dir := filepath.Join(t.TempDir(), "state")
		os.Mkdir(dir, 0o700)
		if err := os.Chmod(dir, c.mode); err != nil {
			t.Fatal(err)
		}
		n, err := New(crashConfig(dir, 5))
		switch {
		case c.ok && err != nil:
			t.Errorf("mode %#o: %v", c.mode, err)
		case !c.ok && (!errors.Is(err, ErrUnsafeState) || !strings.Contains(err.Error(), "chmod 700")):
			t.Errorf("mode %#o: %v, want ErrUnsafeState saying what to do", c.mode, err)
		}
		if n != nil {
			n.Close()
		}
		fi, _ := os.Stat(dir)
		if want := map[bool]os.FileMode{true: 0o700, false: c.mode}[c.ok]; fi.Mode().Perm() != want {
			t.Errorf("mode %#o: left at %#o, want %#o", c.mode, fi.Mode().Perm(), want)
		}
	}
}

// TestStateDirOwner: a state directory of another user is refused.
func TestStateDirOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to give a directory to another user")
	}
	dir := filepath.Join(t.TempDir(), "state")
	os.Mkdir(dir, 0o700)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Skip(err)
	}
	if _, err := New(crashConfig(dir, 5)); !errors.Is(err, ErrUnsafeState) || !strings.Contains(err.Error(), "belongs to user 65534") {
		t.Errorf("another user's state directory: %v", err)
	}
}

// TestNonRegularStateFile: a named pipe or a directory where a
// state file belongs is refused, at once. Regression: a named pipe as
// node.state made New wait for ever on its open, and a directory was read
// as a file.
func TestNonRegularStateFile(t *testing.T) {
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
	for _, c := range []struct {
		name string
		make func(path string) error
	}{
		{nodeStateFile, func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{"epoch-7.pub", func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{auditFile, func(p string) error { return syscall.Mkfifo(p, 0o600) }},
		{budgetsFile, func(p string) error { return os.Mkdir(p, 0o700) }},
		{keyFile(1), func(p string) error { return os.Mkdir(p, 0o700) }},
	} {
		path := filepath.Join(dir, c.name)
		saved := path + ".saved"
		os.Rename(path, saved)
		if err := c.make(path); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			n, err := New(cfg)
			if err == nil {
				n.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, ErrUnsafeState) || !strings.Contains(err.Error(), c.name) {
				t.Errorf("%s not a regular file: %v", c.name, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s a named pipe: New still waits after 10 s", c.name)
		}
		os.Remove(path)
		os.Rename(saved, path)
	}
	n, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
}
