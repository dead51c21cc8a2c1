//go:build unix

package federation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on the state directory, so that two
// nodes never share one (their audit logs and budgets would interleave).
// The lock is released when the process ends, however it ends.
func lockDir(dir string) (*os.File, error) {
	f, err := openRegular(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrStateInUse, dir)
		}
		return nil, err
	}
	return f, nil
}

// openNoFollow opens path as os.OpenFile does, but fails on a symbolic
// link (O_NOFOLLOW) and does not wait on a named pipe or a device
// (O_NONBLOCK, cleared once the file is open, for the caller to refuse
// what is not a regular file).
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, perm)
	if err != nil {
		return nil, err
	}
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkStateDir refuses a state directory that is not the node's alone: a
// symbolic link (the link's directory could be changed under the node),
// not a directory, owned by another user, or that another user can write
// (they could have planted links or files in it: check its contents
// before making it private). A directory of the node's user that others
// can only read or search is made private (mode 0700), as the node always
// did: its files are private anyway (0600), and nobody else could change
// anything in it. The directories above dir are the operator's to protect.
func checkStateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link: give the directory's own path as the state directory", ErrUnsafeState, dir)
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is not a directory", ErrUnsafeState, dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to user %d, not to the node's user %d: chown it, or run the node as its owner", ErrUnsafeState, dir, st.Uid, os.Geteuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%w: %s has mode %#o: other users can write it, and may have planted files in it; check its contents, then chmod 700 it", ErrUnsafeState, dir, perm)
	} else if perm != 0o700 {
		return os.Chmod(dir, 0o700)
	}
	return nil
}
