package indicator

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
)

// File-hash kinds. Canonical form: surrounding white space removed, lower
// case hexadecimal of exactly the digest length (32, 40, 64 or 128
// digits); no prefix such as "0x" or "sha256:".
var (
	MD5    = register("md5", hexDigest(16))
	SHA1   = register("sha1", hexDigest(20))
	SHA256 = register("sha256", hexDigest(32))
	SHA512 = register("sha512", hexDigest(64))
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

// SSDEEP is an ssdeep context-triggered piecewise hash, matched
// exactly (fuzzy comparison cannot be done under the OPRF).
//
// Canonical form: "blocksize:hash:hash" as ssdeep prints it, blocksize a
// decimal 3·2^n, each hash 1 to 64 base64 characters (case matters),
// white space around removed. A trailing ",\"filename\"" is refused.
var SSDEEP = register("ssdeep", canonicalSSDEEP)

// TLSH is a TLSH locality-sensitive hash, matched exactly.
//
// Canonical form: upper-case hex; the version prefix "T1" is kept when
// present (70 or 134 hex digits follow it) and a legacy digest without it
// (70 or 134 hex digits) stays without it, as the two encode different
// things.
var TLSH = register("tlsh", canonicalTLSH)

func canonicalSSDEEP(s string) (string, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return "", errors.New("not blocksize:hash:hash")
	}
	bs, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || parts[0][0] == '0' || bs%3 != 0 || bits.OnesCount64(bs/3) != 1 {
		return "", errors.New("block size is not 3·2^n")
	}
	for _, h := range parts[1:] {
		if h == "" || len(h) > 64 {
			return "", errors.New("hash part empty or longer than 64 characters")
		}
		for i := range len(h) {
			c := h[i]
			if !(isAlpha(c) || '0' <= c && c <= '9' || c == '+' || c == '/') {
				return "", errors.New("hash part is not base64")
			}
		}
	}
	return s, nil
}

func canonicalTLSH(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	digits := strings.TrimPrefix(s, "T1")
	if len(digits) != 70 && len(digits) != 134 {
		return "", fmt.Errorf("want 70 or 134 hex digits (after an optional T1), got %d characters", len(digits))
	}
	for i := range len(digits) {
		if c := digits[i]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return "", errors.New("not hexadecimal")
		}
	}
	return s, nil
}
