package indicator

import (
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
