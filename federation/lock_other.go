//go:build !unix

package federation

import (
	"fmt"
	"os"
)

// lockDir does nothing where flock is not available: run one node per
// state directory.
func lockDir(string) (*os.File, error) { return nil, nil }

// openNoFollow refuses a symbolic link, checked before the file is
// opened: weaker than O_NOFOLLOW, which this platform lacks, as a link
// made between the check and the open is followed. Callers still refuse
// what is not a regular file, once it is open.
func openNoFollow(path string, flag int, perm os.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: %s is a symbolic link", ErrUnsafeState, path)
	}
	return os.OpenFile(path, flag, perm)
}

// checkStateDir refuses a state directory that is a symbolic link or not
// a directory. Its owner and permissions (ACLs here) are not checked:
// keep it private to the node's account.
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
	return nil
}
