package indicator

import (
	"errors"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Email is an e-mail address.
//
// Canonical form: surrounding white space removed; local part and domain
// split at the last '@'; the local part lower-cased (RFC 5321 lets it be
// case-sensitive, but no large provider treats it so, and matching must
// not miss "Alice@" for "alice@") and, for RFC 6531 addresses, in Unicode
// NFC, 1 to 64 bytes, without white space,
// control characters, quotes or the specials ()<>[]:;@\, and without
// leading, trailing or doubled dots; the domain canonicalized as
// [Domain]. Provider-specific rewriting (dropping "+tag" or Gmail's
// dots) is not done: it would merge addresses that are distinct elsewhere.
var Email = register("email", canonicalEmail)

func canonicalEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", errors.New("missing '@'")
	}
	local, domain := s[:at], s[at+1:]
	if local == "" {
		return "", errors.New("empty local part")
	}
	local = norm.NFC.String(strings.ToLower(local))
	if len(local) > 64 {
		return "", errors.New("local part longer than 64 bytes")
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", errors.New("local part has a leading, trailing or doubled dot")
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("\"()<>[]:;@\\,", r) {
			return "", errors.New("local part has white space, a control character or one of \"()<>[]:;@\\,")
		}
	}
	d, err := canonicalDomain(domain)
	if err != nil {
		return "", errors.New("domain part " + err.Error())
	}
	return local + "@" + d, nil
}
