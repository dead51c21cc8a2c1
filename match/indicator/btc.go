package indicator

import (
	"crypto/sha256"
	"strings"
)

// BTC is a Bitcoin address.
//
// Canonical form: a Base58Check address (P2PKH "1…", P2SH "3…", testnet
// "m…", "n…", "2…") exactly as written, since Base58 is case-sensitive, its
// version byte and double-SHA-256 checksum verified; or a segwit address
// (BIP 173 bech32 for witness version 0, BIP 350 bech32m for versions 1 to
// 16; "bc1…", testnet "tb1…", regtest "bcrt1…") in lower case, its
// checksum, witness version and program length verified. Bech32 addresses
// may be written all upper case (as in QR codes) but not in mixed case.
// Testnet, signet and regtest addresses are accepted: they are other
// strings than mainnet ones, so they never match one. White space around
// is removed (PROTOCOL.md section 4.9).
//
// Reason codes: `btc.chars`, `btc.length`, `btc.payload`, `btc.version`,
// `btc.checksum`, `btc.mixed-case`, `btc.hrp`, `btc.program`.
var BTC = register("btc", canonicalBTC)

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func canonicalBTC(s string) (string, error) {
	s = strings.TrimSpace(s)
	if l := toLowerASCII(s); strings.HasPrefix(l, "bc1") || strings.HasPrefix(l, "tb1") || strings.HasPrefix(l, "bcrt1") {
		return canonicalSegwit(s)
	}
	for i := range len(s) {
		if strings.IndexByte(base58Alphabet, s[i]) < 0 {
			return "", fail("btc.chars", "has a character outside the Base58 alphabet")
		}
	}
	if len(s) < 26 || len(s) > 35 {
		return "", failf("btc.length", "%d characters: not a Base58Check address of 26 to 35, nor bech32", len(s))
	}
	b, err := base58Decode(s)
	if err != nil {
		return "", err
	}
	if len(b) != 25 {
		return "", failf("btc.payload", "Base58Check payload of %d bytes, want 25", len(b))
	}
	switch b[0] {
	case 0x00, 0x05, 0x6f, 0xc4:
	default:
		return "", fail("btc.version", "unknown Base58Check version byte (not P2PKH or P2SH)")
	}
	h := sha256.Sum256(b[:21])
	h = sha256.Sum256(h[:])
	if string(h[:4]) != string(b[21:]) {
		return "", fail("btc.checksum", "Base58Check checksum does not match")
	}
	return s, nil
}

func base58Decode(s string) ([]byte, error) {
	var out []byte // big-endian, without the leading zeros
	for i := range len(s) {
		v := strings.IndexByte(base58Alphabet, s[i])
		if v < 0 {
			return nil, fail("btc.chars", "has a character outside the Base58 alphabet")
		}
		carry := v
		for j := len(out) - 1; j >= 0; j-- {
			carry += int(out[j]) * 58
			out[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			out = append([]byte{byte(carry)}, out...)
			carry >>= 8
		}
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	return append(make([]byte, zeros), out...), nil
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// canonicalSegwit verifies a BIP 173 / BIP 350 segwit address and returns
// it in lower case.
func canonicalSegwit(s string) (string, error) {
	for i := range len(s) {
		if c := s[i]; c < 33 || c > 126 {
			return "", fail("btc.chars", "bech32 address has a character outside ASCII 33 to 126")
		}
	}
	if len(s) > 90 {
		return "", failf("btc.length", "bech32 address of %d characters, longer than 90", len(s))
	}
	if toLowerASCII(s) != s && toUpperASCII(s) != s {
		return "", fail("btc.mixed-case", "bech32 address in mixed case")
	}
	s = toLowerASCII(s)
	sep := strings.LastIndexByte(s, '1')
	hrp, data := s[:sep], s[sep+1:]
	if hrp != "bc" && hrp != "tb" && hrp != "bcrt" {
		return "", fail("btc.hrp", "bech32 human-readable part is not bc, tb or bcrt")
	}
	if len(data) < 6+1 {
		return "", failf("btc.length", "bech32 data part of %d characters, want at least 7", len(data))
	}
	values := make([]byte, 0, 2*len(hrp)+1+len(data))
	for i := range len(hrp) {
		values = append(values, hrp[i]>>5)
	}
	values = append(values, 0)
	for i := range len(hrp) {
		values = append(values, hrp[i]&31)
	}
	for i := range len(data) {
		v := strings.IndexByte(bech32Charset, data[i])
		if v < 0 {
			return "", fail("btc.chars", "has a character outside the bech32 alphabet")
		}
		values = append(values, byte(v))
	}
	words := values[len(values)-len(data) : len(values)-6]
	version := words[0]
	want := uint32(bech32Const)
	if version > 0 {
		want = bech32mConst
	}
	if bech32Polymod(values) != want {
		return "", fail("btc.checksum", "bech32 checksum does not match (bech32 for witness v0, bech32m for v1+)")
	}
	if version > 16 {
		return "", fail("btc.version", "witness version above 16")
	}
	// Regroup the 5-bit program words into bytes; the padding must be
	// zero and shorter than 5 bits (BIP 173).
	var acc, nbits uint32
	n := 0
	for _, w := range words[1:] {
		acc = acc<<5 | uint32(w)
		nbits += 5
		for nbits >= 8 {
			nbits -= 8
			n++
		}
	}
	if nbits >= 5 || acc&(1<<nbits-1) != 0 {
		return "", fail("btc.program", "bech32 program has invalid padding")
	}
	if n < 2 || n > 40 || version == 0 && n != 20 && n != 32 {
		return "", failf("btc.program", "witness program of %d bytes, not allowed for its version", n)
	}
	return s, nil
}
