package indicator_test

import (
	"fmt"

	"github.com/fedmatch/fedmatch/match/indicator"
)

func ExampleNew() {
	for _, in := range []struct {
		kind  *indicator.Kind
		value string
	}{
		{indicator.Domain, "WWW.Bücher.Example."},
		{indicator.Email, " Alice@EXAMPLE.org"},
		{indicator.IPv4, "::ffff:192.0.2.1"},
		{indicator.IPv6, "2001:0DB8:0:0::1"},
		{indicator.SHA256, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
		{indicator.IPv4, "192.0.2.010"},
	} {
		ind, err := indicator.New(in.kind, in.value)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ind)
	}
	// Output:
	// domain:www.xn--bcher-kva.example
	// email:alice@example.org
	// ipv4:192.0.2.1
	// ipv6:2001:db8::1
	// sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
	// indicator: invalid ipv4: has a leading zero in a field (ambiguous: octal or decimal)
}

func ExampleParsePhone() {
	for _, in := range []struct{ number, region string }{
		{"020 7946 0018", "GB"},
		{"+44 (0)20 7946 0018", "DE"},
		{"0044 20 7946 0018", ""},
		{"(201) 555-0123", "US"},
	} {
		ind, err := indicator.ParsePhone(in.number, in.region)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ind)
	}
	// Output:
	// phone:+442079460018
	// phone:+442079460018
	// phone:+442079460018
	// phone:+12015550123
}

func ExampleURL() {
	for _, u := range []string{
		"HTTP://Login.Example.COM:80/%7eadmin/../index.html#top",
		"example.com/a//b/./c?q=1",
		"http://3221225985/",
	} {
		fmt.Println(indicator.MustNew(indicator.URL, u).Value())
	}
	// Output:
	// http://login.example.com/index.html
	// http://example.com/a/b/c?q=1
	// http://192.0.2.1/
}
