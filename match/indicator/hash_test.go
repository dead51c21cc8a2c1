package indicator

import (
	"strings"
	"testing"
)

func TestKindHashes(t *testing.T) {
	digests := map[*Kind]string{
		MD5:    "d41d8cd98f00b204e9800998ecf8427e",
		SHA1:   "da39a3ee5e6b4b0d3255bfef95601890afd80709",
		SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		SHA512: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
	}
	for k, d := range digests {
		other := digests[SHA1]
		if k == SHA1 {
			other = digests[MD5]
		}
		mixed := strings.ToUpper(d[:len(d)/2]) + d[len(d)/2:]
		testKind(t, k, []canonCase{
			{d, d, ""},
			{strings.ToUpper(d), d, ""},
			{mixed, d, ""},
			{"  " + d + "\t", d, ""},
			{"\n" + strings.ToUpper(d) + "\r", d, ""},
			{d[:len(d)-1], "", "hex digits"},
			{d + "0", "", "hex digits"},
			{d[:len(d)-1] + "g", "", "not hexadecimal"},
			{"0x" + d[2:], "", "not hexadecimal"},
			{d[:10] + " " + d[11:], "", "not hexadecimal"},
			{other, "", "hex digits"},
			{"", "", "hex digits"},
		})
	}
}

func TestKindFuzzyHashes(t *testing.T) {
	testKind(t, SSDEEP, []canonCase{
		{"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C", "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C", ""},
		{" 96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO ", "96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO", ""},
		{"6144:abc:def", "6144:abc:def", ""},
		{"5:abc:def", "", "3·2^n"},
		{"03:abc:def", "", "3·2^n"},
		{"3:abc", "", "blocksize:hash:hash"},
		{"3:ab$:cd", "", "base64"},
		{"3::cd", "", "empty"},
		{`3:abc:def,"file.exe"`, "", "base64"},
		{"3:" + strings.Repeat("a", 65) + ":b", "", "64"},
	})
	hexs := strings.Repeat("0123456789ABCDEF", 5)[:70]
	testKind(t, TLSH, []canonCase{
		{"T1" + hexs, "T1" + hexs, ""},
		{"t1" + strings.ToLower(hexs), "T1" + hexs, ""},
		{hexs, hexs, ""},
		{strings.ToLower(hexs), hexs, ""},
		{"T1" + hexs + hexs[:64], "T1" + hexs + hexs[:64], ""},
		{"T1" + hexs[:69], "", "70 or 134"},
		{"T1" + hexs[:69] + "G", "", "not hexadecimal"},
		{"T2" + hexs, "", "not hexadecimal"},
		{"", "", "70 or 134"},
		{"TNULL", "", "not hexadecimal"},
	})
}
