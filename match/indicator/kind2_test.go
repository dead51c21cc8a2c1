package indicator

import (
	"strings"
	"testing"
)

func TestKindURL(t *testing.T) {
	testKind(t, URL, []canonCase{
		{"http://www.example.com/", "http://www.example.com/", ""},
		{"HTTP://WWW.Example.COM/Path", "http://www.example.com/Path", ""},
		{"www.example.com", "http://www.example.com/", ""},
		{"example.com:8080/a", "http://example.com:8080/a", ""},
		{"https://example.com:443/", "https://example.com/", ""},
		{"http://example.com:80/", "http://example.com/", ""},
		{"http://example.com:/", "http://example.com/", ""},
		{"http://example.com/%7euser", "http://example.com/~user", ""},
		{"http://example.com/%7Euser", "http://example.com/~user", ""},
		{"http://example.com/~user", "http://example.com/~user", ""},
		{"http://example.com/%25%32%35", "http://example.com/%25", ""}, // %25 -> %, %32%35 -> 25: decoded until stable
		{"http://example.com/a/../b", "http://example.com/b", ""},
		{"http://example.com/a/./b/", "http://example.com/a/b/", ""},
		{"http://example.com//a///b", "http://example.com/a/b", ""},
		{"http://example.com/../../x", "http://example.com/x", ""},
		{"http://example.com/a#frag", "http://example.com/a", ""},
		{"http://example.com/a b", "http://example.com/a%20b", ""},
		{"http://example.com/q?x=1&y=%2F", "http://example.com/q?x=1&y=/", ""},
		{"http://example.com/q?", "http://example.com/q?", ""},
		{"http://..www.example.com../", "http://www.example.com/", ""},
		{"http://3221225985/", "http://192.0.2.1/", ""},
		{"http://0xc0.0.2.1/", "http://192.0.2.1/", ""},
		{"http://0300.0.2.1/", "http://192.0.2.1/", ""},
		{"http://192.2.1/", "http://192.2.0.1/", ""}, // the last part fills two bytes
		{"http://[2001:DB8::1]:8080/", "http://[2001:db8::1]:8080/", ""},
		{"http://[::ffff:192.0.2.1]/", "http://192.0.2.1/", ""},
		{"http://bücher.example/über", "http://xn--bcher-kva.example/%C3%BCber", ""},
		{"http://user:pw@example.com/", "http://user:pw@example.com/", ""},
		{"http://ex\tam\nple.com/", "http://example.com/", ""},
		{"ftp://files.example.org:21/pub", "ftp://files.example.org/pub", ""},
		{"mailto:alice@example.org", "", "no authority"},
		{"http://", "", "no host"},
		{"http://exa mple.com/", "", "host"},
		{"http://example.com:99999/", "", "port"},
		{"http://example.com:0/", "", "port"},
		{"http://[2001:db8::1/", "", "unclosed"},
		{"http://[192.0.2.1]/", "", "IPv6"},
		{"", "", "no host"},
	})
}

func TestKindPhone(t *testing.T) {
	testKind(t, Phone, []canonCase{
		{"+44 20 7946 0018", "+442079460018", ""},
		{"+44 (0)20 7946 0018", "+442079460018", ""},
		{"0044 20 7946 0018", "+442079460018", ""},
		{"+1 (201) 555-0123", "+12015550123", ""},
		{"tel:+1-201-555-0123", "+12015550123", ""},
		{"+49 30 1234567", "+49301234567", ""},
		{"+49.30.123.4567", "+49301234567", ""},
		{"+39 06 1234 5678", "+390612345678", ""}, // Italy keeps the 0
		{"+33 1 23 45 67 89", "+33123456789", ""},
		{"+7 495 123-45-67", "+74951234567", ""},
		{"020 7946 0018", "", "default country"},
		{"+999 1234 5678", "", "calling code"},
		{"+44 20", "", "possible length"},
		{"+1-800-FLOWERS", "", "letters"},
		{"+1 201 555 0123 x12", "", "extensions"},
		{"+49 30 1234567890123456", "", ""},
		{"", "", "no digits"},
	})
	for _, c := range []struct{ in, region, want string }{
		{"020 7946 0018", "GB", "+442079460018"},
		{"(201) 555-0123", "US", "+12015550123"},
		{"1 201 555 0123", "us", "+12015550123"},
		{"011 44 20 7946 0018", "US", "+442079460018"},
		{"030 1234567", "DE", "+49301234567"},
		{"06 1234 5678", "IT", "+390612345678"},
		{"8 495 123-45-67", "RU", "+74951234567"},
		{"+33 1 23 45 67 89", "DE", "+33123456789"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"030 1", "DE", ""},
		{"555-0123", "US", ""},
	} {
		got, err := ParsePhone(c.in, c.region)
		if c.want == "" {
			if err == nil {
				t.Errorf("ParsePhone(%q, %s) = %v, want an error", c.in, c.region, got)
			}
			continue
		}
		if err != nil || got.Value() != c.want || got.Kind() != Phone {
			t.Errorf("ParsePhone(%q, %s) = %v, %v; want %s", c.in, c.region, got, err, c.want)
		}
	}
	if _, err := ParsePhone("+12015550123", "XX"); err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("unknown region: %v", err)
	}
}

func TestKindCIDR(t *testing.T) {
	testKind(t, IPv4CIDR, []canonCase{
		{"192.0.2.0/24", "192.0.2.0/24", ""},
		{"192.0.2.77/24", "192.0.2.0/24", ""},
		{" 10.1.2.3/8 ", "10.0.0.0/8", ""},
		{"192.0.2.1/32", "192.0.2.1/32", ""},
		{"0.0.0.0/0", "0.0.0.0/0", ""},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", ""},
		{"223.166.0.0/15", "223.166.0.0/15", ""},
		{"192.0.2.0", "", "no prefix length"},
		{"192.0.2.0/33", "", "prefix length"},
		{"192.0.2.0/024", "", "prefix length"},
		{"192.0.2.0/", "", "prefix length"},
		{"192.000.2.0/24", "", "leading zero"},
		{"2001:db8::/32", "", "ipv6-cidr"},
	})
	testKind(t, IPv6CIDR, []canonCase{
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"2001:DB8::1/32", "2001:db8::/32", ""},
		{"2001:0db8:0000::/48", "2001:db8::/48", ""},
		{"::/0", "::/0", ""},
		{"2001:db8::1/128", "2001:db8::1/128", ""},
		{"fe80::/10", "fe80::/10", ""},
		{"::ffff:192.0.2.0/120", "", "ipv4-cidr"},
		{"192.0.2.0/24", "", "ipv4-cidr"},
		{"2001:db8::/129", "", "prefix length"},
		{"2001:db8::", "", "no prefix length"},
		{"fe80::%eth0/64", "", "zone"},
	})
	for in, want := range map[string]string{
		"192.0.2.1": "ipv4:192.0.2.1", "::ffff:192.0.2.1": "ipv4:192.0.2.1", "2001:db8::1": "ipv6:2001:db8::1",
		"192.0.2.9/24": "ipv4-cidr:192.0.2.0/24", "2001:db8::/32": "ipv6-cidr:2001:db8::/32",
	} {
		if got, err := ParseIP(in); err != nil || got.String() != want {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseIP("example.com"); err == nil {
		t.Error("ParseIP accepted a domain")
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
		{"T2" + hexs, "", "70 or 134"},
		{"", "", "70 or 134"},
		{"TNULL", "", "70 or 134"},
	})
}

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

func TestKindIBAN(t *testing.T) {
	testKind(t, IBAN, []canonCase{
		{"DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""},
		{"DE89370400440532013000", "DE89370400440532013000", ""},
		{"de89-3704.0044 0532 0130 00", "DE89370400440532013000", ""},
		{"IBAN DE89 3704 0044 0532 0130 00", "DE89370400440532013000", ""},
		{"GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432", ""},
		{"FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606", ""},
		{"NL91ABNA0417164300", "NL91ABNA0417164300", ""},
		{"CH9300762011623852957", "CH9300762011623852957", ""},
		{"BE68539007547034", "BE68539007547034", ""},
		{"NO9386011117947", "NO9386011117947", ""},
		{"DE89370400440532013001", "", "mod 97"},
		{"DE88370400440532013000", "", "mod 97"},
		{"DE8937040044053201300", "", "DE IBANs have 22"},
		{"XX89370400440532013000", "", "does not issue"},
		{"US89370400440532013000", "", "does not issue"},
		{"DE89 3704 0044 0532 0130 0!", "", "letters and digits"},
		{"DEAB370400440532013000", "", "check digits"},
	})
}

func TestKindDocumentAndPlate(t *testing.T) {
	testKind(t, Document, []canonCase{
		{"DEU:C01X00T47", "DEU:C01X00T47", ""},
		{"D C01X00T47", "DEU:C01X00T47", ""},
		{"de:c01x-00t47", "DEU:C01X00T47", ""},
		{"GBR 123 456 789", "GBR:123456789", ""},
		{"UK:123456789", "GBR:123456789", ""},
		{"XK:P0123456", "RKS:P0123456", ""},
		{"RKS:P0123456", "RKS:P0123456", ""},
		{"UNO:12345", "UNO:12345", ""},
		{"FRA:12AB34567<<", "FRA:12AB34567", ""},
		{"usa:123.456/789", "USA:123456789", ""},
		{"ZZ:123", "", "ISO 3166"},
		{"DEUTSCHLAND:123", "", "alpha-2 or alpha-3"},
		{"DEU:", "", "1 to 32"},
		{"DEU:C01#", "", "A-Z, 0-9"},
		{"DEUC01X00T47", "", "COUNTRY:NUMBER"},
		{"DEU:" + strings.Repeat("A", 33), "", "1 to 32"},
	})
	testKind(t, Plate, []canonCase{
		{"DE:B-AB 1234", "DEU:BAB1234", ""},
		{"DEU:bab1234", "DEU:BAB1234", ""},
		{"D M AB 12", "DEU:MAB12", ""},
		{"FRA:AB-123-CD", "FRA:AB123CD", ""},
		{"fr ab 123 cd", "FRA:AB123CD", ""},
		{"RUS:а123вс 77", "RUS:А123ВС77", ""},
		{"NLD:12-ABC-3", "NLD:12ABC3", ""},
		{"AUT:W·12345", "AUT:W12345", ""},
		{"GBR:AB12 CDE", "GBR:AB12CDE", ""},
		{"CHE:ZH_123456", "CHE:ZH123456", ""},
		{"DEU:B-AB*1234", "", "letters, digits"},
		{"DEU:", "", "1 to 16"},
		{"QQ:ABC", "", "ISO 3166"},
		{"DEU:" + strings.Repeat("A", 17), "", "1 to 16"},
	})
}

func TestURLNesting(t *testing.T) {
	// "%" "25"×n "41" decodes to "A" in n+1 rounds.
	if got := MustNew(URL, "http://example.com/%"+strings.Repeat("25", 15)+"41").Value(); got != "http://example.com/A" {
		t.Errorf("16 rounds: %s", got)
	}
	nested := "http://example.com/%" + strings.Repeat("25", 16) + "41"
	if _, err := New(URL, nested); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("17 levels of escapes: %v", err)
	}
	if _, err := New(URL, "http://example.com/"+strings.Repeat("a", 4*MaxValueLen)); err == nil {
		t.Error("oversized raw URL accepted")
	}
}
