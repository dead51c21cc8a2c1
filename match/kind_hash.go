package match

import (
	"errors"
	"fmt"
	"strings"
)

// File-hash kinds. Canonical form: surrounding white space removed, lower
// case hexadecimal of exactly the digest length (32, 40, 64 or 128
// digits); no prefix such as "0x" or "sha256:".
var (
	KindMD5    = register("md5", hexDigest(16))
	KindSHA1   = register("sha1", hexDigest(20))
	KindSHA256 = register("sha256", hexDigest(32))
	KindSHA512 = register("sha512", hexDigest(64))
)

func hexDigest(size int) func(string) (string, error) {
	digits := 2 * size
	return func(s string) (string, error) {
		s = strings.ToLower(strings.TrimSpace(s))
		if len(s) != digits {
			return "", fmt.Errorf("want %d hex digits, got %d characters", digits, len(s))
		}
		for i := range len(s) {
			if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return "", errors.New("not hexadecimal")
			}
		}
		return s, nil
	}
}
