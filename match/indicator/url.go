package indicator

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// URL is a URL with an authority (scheme://host...).
//
// Canonical form (PROTOCOL.md section 4.5), on the basis of Google Safe
// Browsing's URL canonicalization, with hosts as WHATWG URL parsing (and
// so browsers) reads them:
//
//   - surrounding white space, and tab, CR and LF anywhere, are removed;
//     the fragment (from '#') is dropped;
//   - percent-escapes are decoded repeatedly until none is left, so
//     "%7e", "%7E" and "~" are one URL, as are "%2541" and "A";
//   - before the query, '\' is '/', as browsers read it;
//   - a missing scheme is "http"; the scheme is lower case and must be
//     followed by "//" (mailto: and the like are not URLs of this kind);
//   - empty user information ("@", ":@") is dropped, and so is an empty
//     password; other user information is kept as it is;
//   - the host is lower case, without leading, trailing or repeated dots;
//     an IPv4 host in any form browsers accept (decimal "3221225985",
//     hex "0xc0.0.2.1", octal "0300.0.2.1", fewer parts "192.2.1") becomes
//     dotted decimal, and a host that ends in a number but is no IPv4
//     address ("1.2.3.08", "256.256.256.256") is refused, as browsers
//     refuse it; an IPv6 host is RFC 5952 in brackets, an IPv4-mapped one
//     the IPv4 address; a name becomes UTS #46 ASCII with the label rules
//     of [Domain] (one label is allowed);
//   - the port is kept unless it is the scheme's default (http 80, https
//     443, ftp 21, ws 80, wss 443); an empty port is dropped;
//   - the path starts with "/"; "." and ".." segments are resolved and
//     runs of slashes collapsed;
//   - the query is kept as it is;
//   - finally bytes up to 0x20, from 0x7f, '#' and '%' are percent-escaped
//     with upper-case hex, and nothing else is.
//
// Decoding every escape can merge URLs a server would tell apart (an
// escaped '/' or '?'); for matching, both parties do the same, which is
// what counts.
//
// Reason codes: url.nesting, url.no-authority, url.no-host, url.port,
// url.ipv6, url.ipv4, url.host-utf8; a host name refused has the code of
// [Domain]'s rule.
var URL = register("url", canonicalURL)

var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}

func canonicalURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	s, ok := unescapeAll(s)
	if !ok {
		return "", fail("url.nesting", "has percent-escapes nested more than 16 deep")
	}
	// Browsers read '\' as '/' up to the query in the URLs of the schemes
	// WHATWG calls special; fedmatch does in every scheme.
	if q := strings.IndexByte(s, '?'); q >= 0 {
		s = strings.ReplaceAll(s[:q], "\\", "/") + s[q:]
	} else {
		s = strings.ReplaceAll(s, "\\", "/")
	}

	scheme, rest := "http", s
	if i := strings.Index(s, "://"); i >= 0 && validScheme(s[:i]) {
		scheme, rest = strings.ToLower(s[:i]), s[i+3:]
	} else if i := strings.IndexByte(s, ':'); i > 0 && validScheme(s[:i]) && !strings.HasPrefix(s[i+1:], "//") && !looksLikePort(s[i+1:]) {
		return "", fail("url.no-authority", "has no authority (scheme://host)")
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, pathQuery := rest[:end], rest[end:]
	userinfo := ""
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, authority = canonicalUserinfo(authority[:i]), authority[i+1:]
	}
	host, port, err := splitHostPort(authority)
	if err != nil {
		return "", err
	}
	if host, err = canonicalURLHost(host); err != nil {
		if code := codeOf(err, "url.invalid"); strings.HasPrefix(code, "domain.") {
			// A host name refused by a rule of Domain has that rule's code.
			return "", &reasonError{code, "host " + err.Error()}
		}
		return "", err
	}
	if port == defaultPorts[scheme] {
		port = ""
	}
	path, query, hasQuery := strings.Cut(pathQuery, "?")
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(userinfo)
	b.WriteString(host)
	if port != "" {
		b.WriteString(":" + port)
	}
	b.WriteString(cleanPath(path))
	if hasQuery {
		b.WriteString("?" + query)
	}
	return escapeURL(b.String()), nil
}

// canonicalUserinfo returns the user information of an authority (what
// precedes its last '@') as the canonical URL writes it, '@' included:
// nothing if both user name and password are empty, the user name alone
// if the password is empty (as WHATWG URL serializes them).
func canonicalUserinfo(u string) string {
	user, pass, _ := strings.Cut(u, ":")
	switch {
	case user == "" && pass == "":
		return ""
	case pass == "":
		return user + "@"
	}
	return u + "@"
}

func validScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := range len(s) {
		if c := s[i]; !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// looksLikePort reports whether s starts with a port number, as in the
// scheme-less "example.com:8080/path".
func looksLikePort(s string) bool {
	n := 0
	for n < len(s) && '0' <= s[n] && s[n] <= '9' {
		n++
	}
	return n > 0 && (n == len(s) || s[n] == '/' || s[n] == '?')
}

// unescapeAll decodes %XX escapes repeatedly until none is left, at most
// 16 rounds (each round is linear; deeper nesting is refused rather than
// left half decoded, so the result is always fully decoded).
func unescapeAll(s string) (string, bool) {
	for round := 0; ; round++ {
		next, changed := unescapeOnce(s)
		if !changed {
			return s, true // stable: what '%' is left escapes nothing
		}
		if round == 16 {
			return s, false // still holds an escape after 16 rounds
		}
		s = next
	}
}

// unescapeOnce decodes every "%XX" of s once, and reports whether there
// was one.
func unescapeOnce(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		return s, false
	}
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(hexVal(s[i+1])<<4 | hexVal(s[i+2]))
			i += 2
			changed = true
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), changed
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f' }

func hexVal(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// escapeURL percent-escapes control bytes, space, bytes from 0x7f, '#' and
// '%'.
func escapeURL(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '#' || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func splitHostPort(a string) (host, port string, err error) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", fail("url.ipv6", "has an unclosed '[' in the host")
		}
		rest := a[end+1:]
		host = a[:end+1]
		if rest == "" {
			return host, "", nil
		}
		if rest[0] != ':' {
			return "", "", fail("url.ipv6", "has characters after the IPv6 host")
		}
		port = rest[1:]
	} else if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
	} else {
		host = a
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 || port[0] == '+' {
			return "", "", fail("url.port", "has a port that is not a number from 1 to 65535")
		}
		port = strconv.FormatUint(n, 10)
	}
	return host, port, nil
}

func canonicalURLHost(h string) (string, error) {
	if strings.HasPrefix(h, "[") {
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", fail("url.ipv6", "has a bracketed host that is not an IPv6 address (a zone is not allowed)")
		}
		if a.Is4In6() {
			return a.Unmap().String(), nil
		}
		return "[" + a.String() + "]", nil
	}
	if strings.Trim(h, ".") == "" {
		return "", fail("url.no-host", "has no host")
	}
	if !utf8.ValidString(h) {
		return "", fail("url.host-utf8", "has a host that is not valid UTF-8 once unescaped")
	}
	// As in WHATWG URL parsing: domain to ASCII first (which maps
	// full-width digits and dots), then the IPv4 forms.
	a, err := asciiHost(h)
	if err != nil {
		return "", err
	}
	// Leading, trailing and repeated dots (Safe Browsing), after the
	// mapping, which makes dots of U+3002 and the like.
	a = strings.Join(strings.FieldsFunc(a, func(r rune) bool { return r == '.' }), ".")
	if a == "" {
		return "", fail("url.no-host", "has no host")
	}
	if ip, ok := browserIPv4(a); ok {
		return ip, nil
	}
	if endsInNumber(a) {
		return "", fail("url.ipv4", "has a host that ends in a number but is not an IPv4 address")
	}
	if err := checkLabels(a); err != nil {
		return "", err
	}
	return a, nil
}

// browserIPv4 parses an IPv4 host as WHATWG URL parsing (and so browsers)
// does: one to four parts, each decimal, octal (leading 0) or hex (0x),
// the last filling the remaining bytes.
func browserIPv4(h string) (string, bool) {
	parts := strings.Split(h, ".")
	if len(parts) > 4 {
		return "", false
	}
	var nums []uint64
	for _, p := range parts {
		base, digits := 10, p
		switch {
		case len(p) >= 2 && (p[:2] == "0x" || p[:2] == "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil || p == "" {
			return "", false
		}
		nums = append(nums, n)
	}
	last := nums[len(nums)-1]
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return "", false
		}
	}
	if last >= 1<<(8*(5-len(nums))) {
		return "", false
	}
	var v uint64
	for _, n := range nums[:len(nums)-1] {
		v = v<<8 | n
	}
	v = v<<(8*(5-len(nums))) | last
	a := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	return a.String(), true
}

// cleanPath resolves "." and ".." segments and collapses runs of slashes;
// the result starts with "/" and keeps a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	var out []string
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}
