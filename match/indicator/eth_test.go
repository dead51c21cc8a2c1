package indicator

import (
	"encoding/hex"
	"strings"
	"testing"

	"golang.org/x/crypto/sha3"
)

func TestKindETH(t *testing.T) {
	testKind(t, ETH, []canonCase{
		// EIP-55's own examples.
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", ""},
		{"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb", ""},
		{"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0xd1220a0cf47c7b9be7a2e6ba89f429762e7b9adb", ""},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", ""},
		{" 0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae ", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae", ""},
		{"0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "", "EIP-55"},
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", "", "EIP-55"},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", "", "40 hex"},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg", "", "hexadecimal"},
	})
}

// TestETHEIP55 runs EIP-55's test addresses: each is accepted as "0x" and
// lower case; each with one letter's case flipped, which this test's own
// EIP-55 encoder finds mis-checksummed, is refused.
func TestETHEIP55(t *testing.T) {
	c := newConformance(t, "eip55.txt")
	for _, r := range c.records(2) {
		addr := r[1]
		hexdigits := addr[2:]
		if enc := eip55(strings.ToLower(hexdigits)); enc != hexdigits {
			t.Fatalf("the test's EIP-55 encoder gives %s for %s: the encoder is wrong", enc, addr)
		}
		want := "0x" + strings.ToLower(hexdigits)
		got, err := ETH.Canonicalize(addr)
		c.check(err == nil && got == want, "%s (%s) = %q, %v; want %s", addr, r[0], got, err, want)
		for i := range len(hexdigits) {
			if hexdigits[i] < 'A' {
				continue // a digit has no case
			}
			flipped := hexdigits[:i] + string(hexdigits[i]^0x20) + hexdigits[i+1:]
			if eip55(strings.ToLower(flipped)) == flipped {
				continue
			}
			got, err := ETH.Canonicalize("0x" + flipped)
			c.check(err != nil, "0x%s (letter %d of %s flipped) accepted as %q", flipped, i, addr, got)
		}
	}
	c.done(nil)
}

// eip55 returns the EIP-55 mixed-case spelling of 40 lower-case hex
// digits: a letter is upper case where the nibble of Keccak-256 of the
// lower-case digits at its position is 8 or more. It is written apart from
// canonicalETH, so that the test does not check the code with itself.
func eip55(lower string) string {
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	hash := hex.EncodeToString(h.Sum(nil))
	out := []byte(lower)
	for i, c := range out {
		if c >= 'a' && hash[i] >= '8' {
			out[i] = c - 'a' + 'A'
		}
	}
	return string(out)
}
