package indicator

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/cloudflare/circl/oprf"
)

// fullEvaluateNs measures circl's POPRF FullEvaluate on one indicator:
// the per-indicator cost floor of publishing, against which
// canonicalization is reported.
func fullEvaluateNs(b *testing.B) float64 {
	b.Helper()
	sk, err := oprf.GenerateKey(oprf.SuiteRistretto255, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	srv := oprf.NewPartialObliviousServer(oprf.SuiteRistretto255, sk)
	const n = 200
	start := time.Now()
	for range n {
		if _, err := srv.FullEvaluate([]byte("fedmatch-v1/email\x00user@example.org"), []byte("fedmatch-v1/email")); err != nil {
			b.Fatal(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// BenchmarkCanonicalize reports, per kind, the ns per indicator of
// canonicalizing typical raw values, and its ratio to circl's
// FullEvaluate measured in the same run (x-circl; the target is below
// 0.05).
func BenchmarkCanonicalize(b *testing.B) {
	full := fullEvaluateNs(b)
	for _, c := range []struct {
		kind   *Kind
		values []string
	}{
		{Email, []string{"Alice.Smith@Example.ORG", " broker@example.net ", "jörg@bücher.example"}},
		{Domain, []string{"WWW.Example.COM.", "login-example-bank.com", "bücher-download.example"}},
		{URL, []string{"HTTP://Phish.Example.COM:80/%7elogin/../index.html?x=1#top", "https://example.com/a/b", "example.net/path"}},
		{IPv4, []string{"192.0.2.44", "::ffff:198.51.100.7", " 203.0.113.9 "}},
		{IPv6, []string{"2001:DB8:0:0:0:0:0:1F", "fe80::1", "2001:db8::1"}},
		{IPv4CIDR, []string{"192.0.2.77/24", "10.0.0.0/8"}},
		{IPv6CIDR, []string{"2001:DB8::1/32", "fe80::/10"}},
		{Phone, []string{"+44 (0)20 7946 0018", "+1 (201) 555-0123", "0049 30 1234567"}},
		{MD5, []string{"D41D8CD98F00B204E9800998ECF8427E"}},
		{SHA1, []string{"DA39A3EE5E6B4B0D3255BFEF95601890AFD80709"}},
		{SHA256, []string{"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}},
		{SHA512, []string{"CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E"}},
		{SSDEEP, []string{"96:s4Ud1Lj96tHHlZDrwciQmA+4uy1I0G4HYuL8N3TzS8QsO/wqWXLcMSx:sF1LjEtHHlZDrJzrhuyZvHYm8tKp/RWO"}},
		{TLSH, []string{"t1a2c1b3d4e5f60718293a4b5c6d7e8f90a2c1b3d4e5f60718293a4b5c6d7e8f90a2c1b3"}},
		{BTC, []string{"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"}},
		{ETH, []string{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"}},
		{IBAN, []string{"DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32"}},
		{Document, []string{"D C01X00T47", "UK:123 456 789"}},
		{Plate, []string{"DE:B-AB 1234", "RUS:а123вс 77"}},
	} {
		for _, v := range c.values {
			if _, err := c.kind.Canonicalize(v); err != nil {
				b.Fatalf("%s %q: %v", c.kind, v, err)
			}
		}
		b.Run(c.kind.Name(), func(b *testing.B) {
			i := 0
			for b.Loop() {
				c.kind.Canonicalize(c.values[i%len(c.values)])
				i++
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(ns, "ns/indicator")
			b.ReportMetric(ns/full, "x-circl")
		})
	}
}
