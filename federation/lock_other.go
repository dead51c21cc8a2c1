//go:build !unix

package federation

import "os"

// lockDir does nothing where flock is not available: run one node per
// state directory.
func lockDir(string) (*os.File, error) { return nil, nil }
