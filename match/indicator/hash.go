package indicator

import (
	"math/bits"
	"strconv"
	"strings"
)

// File-hash kinds. Canonical form: surrounding white space removed, lower
// case hexadecimal of exactly the digest length (32, 40, 64 or 128
// digits); no prefix such as "0x" or "sha256:" and no separators. Case is
// mapped for ASCII letters only (PROTOCOL.md section 4.8).
//
// Reason codes: `hash.hex`, `hash.length`.
var (
	MD5    = register("md5", hexDigest(16))
	SHA1   = register("sha1", hexDigest(20))
	SHA256 = register("sha256", hexDigest(32))
	SHA512 = register("sha512", hexDigest(64))
)

func hexDigest(size int) func(string) (string, error) {
	digits := 2 * size
	return func(s string) (string, error) {
		s = strings.TrimSpace(s)
		for i := range len(s) {
			if !isHex(s[i]) {
				return "", fail("hash.hex", "not hexadecimal (a character other than 0-9, a-f and A-F)")
			}
		}
		if len(s) != digits {
			return "", failf("hash.length", "want %d hex digits, got %d", digits, len(s))
		}
		return toLowerASCII(s), nil
	}
}

// SSDEEP is an ssdeep context-triggered piecewise hash, matched
// exactly (fuzzy comparison cannot be done under the OPRF).
//
// Canonical form: "blocksize:hash:hash" as ssdeep prints it, blocksize a
// decimal 3·2^n (n from 0 to 30, no leading zero), each hash 1 to 64
// characters of the base64 alphabet (case matters, kept as written),
// white space around removed. A trailing ",\"filename\"" is refused.
//
// Reason codes: `ssdeep.format`, `ssdeep.block-size`, `ssdeep.hash-length`,
// `ssdeep.hash-chars`.
var SSDEEP = register("ssdeep", canonicalSSDEEP)

// TLSH is a TLSH locality-sensitive hash, matched exactly.
//
// Canonical form: upper-case hex (ASCII case mapping), white space around
// removed; the version prefix "T1" (or "t1") is kept, as "T1", when
// present (70 or 134 hex digits follow it) and a legacy digest without it
// (70 or 134 hex digits) stays without it, as the two encode different
// things.
//
// Reason codes: `tlsh.hex`, `tlsh.length`.
var TLSH = register("tlsh", canonicalTLSH)

func canonicalSSDEEP(s string) (string, error) {
	s = strings.TrimSpace(s)
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return "", failf("ssdeep.format", "%d parts separated by ':', want 3 (blocksize:hash:hash)", len(parts))
	}
	// ParseUint takes ASCII digits only, no sign; 32 bits bound n to 30.
	bs, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || parts[0][0] == '0' || bs%3 != 0 || bits.OnesCount64(bs/3) != 1 {
		return "", fail("ssdeep.block-size", "block size is not a decimal 3·2^n")
	}
	for _, h := range parts[1:] {
		for i := range len(h) {
			c := h[i]
			if !(isAlpha(c) || '0' <= c && c <= '9' || c == '+' || c == '/') {
				return "", fail("ssdeep.hash-chars", "hash part is not base64 (a character other than A-Z, a-z, 0-9, '+' and '/')")
			}
		}
		if h == "" || len(h) > 64 {
			return "", failf("ssdeep.hash-length", "hash part empty or too long: %d characters, want 1 to 64", len(h))
		}
	}
	return s, nil
}

func canonicalTLSH(s string) (string, error) {
	s = toUpperASCII(strings.TrimSpace(s))
	digits := strings.TrimPrefix(s, "T1")
	for i := range len(digits) {
		if !isHex(digits[i]) {
			return "", fail("tlsh.hex", "not hexadecimal after the optional version prefix")
		}
	}
	if len(digits) != 70 && len(digits) != 134 {
		return "", failf("tlsh.length", "want 70 or 134 hex digits after the optional version prefix, got %d", len(digits))
	}
	return s, nil
}

// toLowerASCII maps A-Z to a-z and leaves every other byte as it is: the
// kinds whose rules say "ASCII case mapping" use it, not the Unicode case
// mapping of strings.ToLower, which turns 'K' (U+212A KELVIN SIGN) into 'k'.
func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// toUpperASCII maps a-z to A-Z and leaves every other byte as it is (not
// strings.ToUpper, which turns 'ı' (U+0131) into 'I' and 'ſ' into 'S').
func toUpperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
