package indicator

import (
	"strings"

	"golang.org/x/crypto/sha3"
)

// ETH is an Ethereum (EVM) account address.
//
// Canonical form: "0x" and 40 lower-case hex digits. The "0x" prefix may be
// missing or upper case. An address in mixed case carries an EIP-55
// checksum, which is verified; all lower or all upper case carries none.
// White space around is removed (PROTOCOL.md section 4.10).
//
// Reason codes: `eth.hex`, `eth.length`, `eth.checksum`.
var ETH = register("eth", canonicalETH)

func canonicalETH(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s = s[2:]
	}
	for i := range len(s) {
		if !isHex(s[i]) {
			return "", fail("eth.hex", "not hexadecimal after an optional 0x")
		}
	}
	if len(s) != 40 {
		return "", failf("eth.length", "want 40 hex digits after an optional 0x, got %d", len(s))
	}
	lower := toLowerASCII(s)
	if s != lower && s != toUpperASCII(s) {
		// EIP-55: a letter is upper case when the corresponding nibble of
		// Keccak-256(lower-case hex) is 8 or more.
		h := sha3.NewLegacyKeccak256()
		h.Write([]byte(lower))
		sum := h.Sum(nil)
		for i := range len(s) {
			if s[i] < 'A' {
				continue // digit
			}
			nibble := sum[i/2] >> 4
			if i%2 == 1 {
				nibble = sum[i/2] & 15
			}
			if (nibble >= 8) != (s[i] <= 'F') {
				return "", fail("eth.checksum", "mixed case, but not a valid EIP-55 checksum")
			}
		}
	}
	return "0x" + lower, nil
}
