package federation

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// A store holds everything a node keeps across restarts: the state files
// (node.state, epoch-N.key, epoch-N.pub, budgets, audit.head), each
// replaced as a whole; the journals (epoch-N.chg), state files that are
// also appended to; and the audit log, which only grows. It holds
// bytes: the state file container (statefile.go) and the audit records
// (audit.go) are encoded above it. A node uses an fsStore on
// Config.StateDir; the package's tests use an in-memory store that can
// fail or crash at any operation.
//
// A store is safe for concurrent use. Every change is durable when its
// method returns nil. The file-system store opens nothing but regular
// files of its own directory, and never follows a symbolic link
// (ErrUnsafeState).
type store interface {
	// read returns the content of state file name, or an error wrapping
	// os.ErrNotExist if there is none. A file larger than maxStateFile
	// is refused (ErrCorruptState) before it is read.
	read(name string) ([]byte, error)
	// write replaces state file name by data atomically: if it fails, or
	// the process dies during it, the file holds its old content or the
	// new one, never a mix.
	write(name string, data []byte) error
	// destroy overwrites state file name and removes it; a missing file
	// is not an error. If it fails, or the process dies during it, the
	// file may be left, overwritten or not, so name must be one that no
	// committed state refers to any more.
	destroy(name string) error
	// list returns the names of the state files, in no particular order.
	list() ([]string, error)
	// appendFile appends data to state file name, which write made. If
	// it fails, the file is as it was, or, if it could not be cut back,
	// ends in a prefix of data; if the process dies during it, the file
	// may end in a prefix of data. The caller reads such a torn tail as
	// one, and writes the file anew rather than appending after it.
	appendFile(name string, data []byte) error

	// readLog returns a reader of the audit log from byte off on, which
	// the caller closes: empty if there is no log, or if it is shorter.
	// It reads the log as it grows: a reader concurrent with an append
	// may see part of it.
	readLog(off int64) (io.ReadCloser, error)
	// appendLog appends data to the audit log. If it fails, the log is as
	// it was; if the process dies during it, the log may end in a prefix
	// of data, a torn tail that truncateLog cuts at the next start.
	appendLog(data []byte) error
	// truncateLog cuts the audit log to its first size bytes.
	truncateLog(size int64) error

	// close releases the store; no method may be called after it.
	close() error
}

// fsStore is the store of a state directory: one file per state file,
// each replaced by writing a temporary file, syncing it, renaming it over
// the old one and syncing the directory, with mode 0600 in a directory of
// mode 0700; and audit.log, appended to and synced. A store opened by
// openFS holds an exclusive lock on the directory (lock_unix.go) until
// close.
//
// The directory must be the node's alone (checkStateDir), and the store
// opens every file without following a symbolic link (openNoFollow) and
// refuses anything but a regular file: a link planted as epoch-99.key
// would otherwise have destroy overwrite its target.
type fsStore struct {
	dir      string
	readOnly bool
	lock     *os.File // nil when read-only, or where there is no flock

	mu     sync.Mutex  // serialises the log's appends and truncations
	log    *os.File    // audit.log, nil when opened read-only
	failed error       // a failed append could not be cut back: the log takes no more
	closed atomic.Bool // the lock is released: no more writes
}

// errStoreClosed reports a write to the state directory after the node
// closed it (and released its lock).
var errStoreClosed = errors.New("federation: state directory closed (the node is closed)")

// openFS opens the state directory dir for a node: it creates it if
// needed (mode 0700), checks that it is the node's alone, locks it,
// checks that it holds nothing but regular files and directories,
// removes the temporary files of writes a crash cut short, and opens (or
// creates) the audit log.
func openFS(dir string) (_ *fsStore, err error) {
	if err := prepareStateDir(dir); err != nil {
		return nil, err
	}
	s := &fsStore{dir: dir}
	if s.lock, err = lockDir(dir); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := checkEntry(dir, e); err != nil {
			return nil, err
		}
	}
	for _, e := range entries {
		if isTemp(e.Name()) && e.Type().IsRegular() {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if s.log, err = s.open(auditFile, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

// prepareStateDir creates the state directory dir if there is none, with
// mode 0700, and checks that it is the node's alone (checkStateDir).
func prepareStateDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		// The umask may have taken bits away; the directory is new and
		// the node's.
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return checkStateDir(dir)
}

// checkEntry refuses an entry of the state directory that is neither a
// regular file nor a directory (which the store ignores): a symbolic
// link, a device, a pipe or a socket, which the node did not make.
func checkEntry(dir string, e os.DirEntry) error {
	switch t := e.Type(); {
	case t.IsRegular(), t.IsDir():
		return nil
	case t&os.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link; the node makes none: remove it", ErrUnsafeState, filepath.Join(dir, e.Name()))
	default:
		return fmt.Errorf("%w: %s is not a regular file (%v); the node makes none: remove it", ErrUnsafeState, filepath.Join(dir, e.Name()), t)
	}
}

// open opens the file name of the state directory, as openRegular.
func (s *fsStore) open(name string, flag int, perm os.FileMode) (*os.File, error) {
	return openRegular(filepath.Join(s.dir, name), flag, perm)
}

// openRegular opens path without following a symbolic link, and refuses
// anything but a regular file.
func openRegular(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := openNoFollow(path, flag, perm)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("%w: %s is a symbolic link; the node makes none: remove it", ErrUnsafeState, path)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file (%v); the node makes none: remove it", ErrUnsafeState, path, fi.Mode().Type())
	}
	return f, nil
}

// readFS returns a store on dir for reading only: no lock is taken and
// nothing is changed. VerifyAudit and ReadAudit use it, beside a running
// node or on a copy of its directory.
func readFS(dir string) *fsStore { return &fsStore{dir: dir, readOnly: true} }

// lockFile is the file lockDir locks.
const lockFile = "lock"

// isTemp reports whether name is a temporary file of write.
func isTemp(name string) bool { return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") }

var errReadOnly = errors.New("federation: state directory opened for reading only")

func (s *fsStore) read(name string) ([]byte, error) {
	path := filepath.Join(s.dir, name)
	f, err := s.open(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxStateFile {
		return nil, fmt.Errorf("%w: %s: %d bytes", ErrCorruptState, name, st.Size())
	}
	data := make([]byte, st.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func (s *fsStore) write(name string, data []byte) error {
	if s.readOnly {
		return errReadOnly
	}
	if s.closed.Load() {
		return errStoreClosed
	}
	f, err := os.CreateTemp(s.dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		return err
	}
	ok = true
	return s.syncDir()
}

// destroy overwrites the file with zeros, syncs it and removes it. On
// journaling and copy-on-write file systems the old blocks may survive;
// the overwrite is a best effort, the removal is what the node relies on.
func (s *fsStore) destroy(name string) error {
	if s.readOnly {
		return errReadOnly
	}
	path := filepath.Join(s.dir, name)
	f, err := s.open(name, os.O_WRONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err == nil {
		// In pieces: a publisher's state can be far larger than what is
		// worth allocating to overwrite it.
		zeros := make([]byte, min(st.Size(), 1<<20))
		for left := st.Size(); left > 0; left -= int64(len(zeros)) {
			if _, err := f.Write(zeros[:min(left, int64(len(zeros)))]); err != nil {
				break // the overwrite is a best effort; the removal below is not
			}
		}
		f.Sync()
	}
	f.Close()
	if err := os.Remove(path); err != nil {
		return err
	}
	return s.syncDir()
}

// appendFile writes at the end of the file and syncs it; a failed write
// or sync is cut back. It opens the file as read does (no link, a regular
// file) and never creates it: write does, with the directory's fsync.
func (s *fsStore) appendFile(name string, data []byte) error {
	if s.readOnly {
		return errReadOnly
	}
	if s.closed.Load() {
		return errStoreClosed
	}
	f, err := s.open(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		if terr := f.Truncate(end); terr != nil {
			return fmt.Errorf("%w (and cutting it back failed: %v)", err, terr)
		}
		f.Sync()
	}
	return err
}

// list leaves out the audit log, the lock, temporary files and
// directories, and refuses anything else that is not a regular file.
func (s *fsStore) list() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if err := checkEntry(s.dir, e); err != nil {
			return nil, err
		}
		if name := e.Name(); !e.IsDir() && name != auditFile && name != lockFile && !isTemp(name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// writable says why the log cannot be written, if it cannot; s.mu is
// held.
func (s *fsStore) writable() error {
	switch {
	case s.readOnly:
		return errReadOnly
	case s.log == nil:
		return os.ErrClosed
	case s.failed != nil:
		return s.failed
	}
	return nil
}

func (s *fsStore) syncDir() error {
	d, err := openNoFollow(s.dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *fsStore) readLog(off int64) (io.ReadCloser, error) {
	f, err := s.open(auditFile, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// appendLog writes at the end of the log and syncs; a failed write or
// sync (a full disk) is cut back, so that no part of a record stays
// behind to break the chain of every later one. If the cut fails too, the
// log takes no more appends until the store is opened again: the next
// start cuts the torn tail as after a crash.
func (s *fsStore) appendLog(data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	end, err := s.log.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	undo := func(err error) error {
		if terr := s.log.Truncate(end); terr != nil {
			s.failed = fmt.Errorf("federation: audit log: a failed append could not be cut back (%v): %w", terr, err)
			return err
		}
		if _, serr := s.log.Seek(end, io.SeekStart); serr != nil {
			s.failed = serr
		}
		return err
	}
	if _, err := s.log.Write(data); err != nil {
		return undo(err)
	}
	if err := s.log.Sync(); err != nil {
		return undo(err)
	}
	return nil
}

func (s *fsStore) truncateLog(size int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	if err := s.log.Truncate(size); err != nil {
		return err
	}
	return s.log.Sync()
}

// close closes the log and releases the lock.
func (s *fsStore) close() error {
	s.closed.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.log != nil {
		err = s.log.Close()
		s.log = nil
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
	return err
}
