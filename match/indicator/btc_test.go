package indicator

import (
	"strings"
	"testing"
)

func TestKindBTC(t *testing.T) {
	testKind(t, BTC, []canonCase{
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", ""},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", ""},
		{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", ""},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ""},
		{"BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", ""},
		{"tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", ""},
		{"bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", ""},
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "", "checksum"},
		{"1a1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "", ""}, // Base58 is case-sensitive
		{"1A1zP1eP5QGefi2DMPTfTL5SLmv7Divf0a", "", "Base58 alphabet"},
		{"bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "", "mixed case"},
		{"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh", "", "checksum"}, // v0 with a bech32m checksum (BIP 350)
		{"bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "", "checksum"},
		{"bc1zw508d6qejxtdg4y5r3zarqfsj7w4", "", ""},
		{"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", "", "Base58"},
	})
}

// TestBTCBIP173And350 runs the test vectors of BIP 173 and BIP 350: a
// valid segwit address is accepted in lower case; an invalid one, a
// witness v1+ address with a bech32 (not bech32m) checksum, and a bech32
// string that is not an address (no segwit prefix) are refused.
func TestBTCBIP173And350(t *testing.T) {
	c := newConformance(t, "bip173_350.txt")
	for _, r := range c.records(4) {
		in := c.unquote(r[1])
		got, err := BTC.Canonicalize(in)
		switch r[0] {
		case "valid-address":
			c.check(err == nil && got == strings.ToLower(in), "%q = %q, %v; want %q", in, got, err, strings.ToLower(in))
		case "invalid-address", "superseded", "valid-string", "invalid-string":
			c.check(err != nil, "%s %q (%s) accepted as %q", r[0], in, r[2], got)
		default:
			t.Fatalf("unknown expectation %q", r[0])
		}
	}
	c.done(nil)
}

// TestBTCBitcoinCore runs Bitcoin Core's key_io test data: every address
// of every chain is accepted, as written (Base58Check) or in lower case
// (segwit, also when written in upper case); WIF private keys and the
// invalid strings are refused.
func TestBTCBitcoinCore(t *testing.T) {
	c := newConformance(t, "bitcoin_core_key_io.txt")
	for _, r := range c.records(3) {
		in := r[1]
		got, err := BTC.Canonicalize(in)
		switch r[0] {
		case "valid-address":
			want := in
			if r[3] == "segwit" {
				want = strings.ToLower(in)
				up, err := BTC.Canonicalize(strings.ToUpper(in))
				c.check(err == nil && up == want, "%q (upper case) = %q, %v; want %q", strings.ToUpper(in), up, err, want)
			}
			c.check(err == nil && got == want, "%q (%s %s) = %q, %v; want %q", in, r[2], r[3], got, err, want)
		case "invalid-address", "invalid":
			c.check(err != nil, "%s %q accepted as %q", r[0], in, got)
		default:
			t.Fatalf("unknown expectation %q", r[0])
		}
	}
	c.done(nil)
}
