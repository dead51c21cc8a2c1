package indicator

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// A Kind is a type of indicator (email, domain, IPv4, ...) with the
// canonical form its values are matched in. Two agencies match an
// indicator only if they write it the same way, so each kind documents its
// canonicalization rules; matching is exact on the canonical form.
//
// The built-in kinds are package variables such as [Email]; look them
// up by name with [Lookup]. [NewKind] makes a custom kind.
type Kind struct {
	name    string
	canon   func(string) (string, error)
	builtin bool // registered by this package: its refusals have reason codes
}

// MaxKindNameLen is the longest kind name.
const MaxKindNameLen = 32

// MaxValueLen is the longest canonical indicator value, in bytes.
const MaxValueLen = 8192

// maxRawValueLen bounds the input of a canonicalizer, so that no kind's
// work on hostile input is unbounded.
const maxRawValueLen = 4 * MaxValueLen

// builtin holds the built-in kinds by name. Each kind's file registers it
// while the package initialises; it is never written afterwards.
var builtin = map[string]*Kind{}

func register(name string, canon func(string) (string, error)) *Kind {
	if err := CheckKindName(name); err != nil || strings.HasPrefix(name, "x-") || builtin[name] != nil {
		panic("indicator: bad built-in kind " + name)
	}
	k := &Kind{name: name, canon: canon, builtin: true}
	builtin[name] = k
	return k
}

// CheckKindName returns an error unless name is a valid kind name: 1 to
// 32 bytes of a-z, 0-9 and '-', starting with a letter or digit. Kind
// names appear in the OPRF input, in POPRF info and on the wire, where a
// decoder checks them with this function; most users never need it.
func CheckKindName(name string) error {
	if name == "" || len(name) > MaxKindNameLen {
		return fmt.Errorf("kind name must be 1 to %d bytes", MaxKindNameLen)
	}
	for i := range len(name) {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && i > 0:
		default:
			return fmt.Errorf("kind name may only hold a-z, 0-9 and '-' (not first)")
		}
	}
	return nil
}

// NewKind returns a custom kind. Its name must start with "x-" (so that it
// never collides with a built-in kind) and otherwise follow the rules of
// built-in names: at most 32 bytes of a-z, 0-9 and '-'. canon turns a raw
// value into its canonical form or returns an error saying why the value
// is invalid; it must be deterministic and idempotent
// (canon(canon(v)) == canon(v)), and every party that matches this kind
// must use the same function. canon's error becomes the [Error]'s Reason
// and must not quote the value or any part of it (lengths and counts are
// fine); a reason that holds a value of four bytes or more whole is
// replaced by a generic one.
func NewKind(name string, canon func(string) (string, error)) (*Kind, error) {
	if err := CheckKindName(name); err != nil {
		return nil, fmt.Errorf("indicator: custom kind: %v", err)
	}
	if !strings.HasPrefix(name, "x-") || len(name) < 3 {
		return nil, fmt.Errorf("indicator: custom kind name %q must start with \"x-\"", name)
	}
	if canon == nil {
		return nil, fmt.Errorf("indicator: custom kind %q: nil canonicalizer", name)
	}
	return &Kind{name: name, canon: canon}, nil
}

// Lookup returns the built-in kind with the given name, or with one
// of the other names in use for it in MISP attribute types, STIX object
// types and CSV headers ("hostname", "domain-name", "email-addr",
// "sha-256", "phone-number", "bitcoin", ...). Case does not matter. A name
// that can mean either IP family ("ip", "ip-dst") is not a kind: use
// [ParseIP].
func Lookup(name string) (*Kind, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := kindAliases[n]; ok {
		n = a
	}
	if k := builtin[n]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownKind, name)
}

// kindAliases maps the other names of built-in kinds to their names.
var kindAliases = map[string]string{
	"hostname": "domain", "domain-name": "domain", "fqdn": "domain",
	"email-addr": "email", "email-address": "email", "e-mail": "email",
	"ipv4-addr": "ipv4", "ipv6-addr": "ipv6",
	"ipv4-net": "ipv4-cidr", "ipv6-net": "ipv6-cidr",
	"sha-1": "sha1", "sha-256": "sha256", "sha-512": "sha512",
	"phone-number": "phone", "telephone": "phone",
	"bitcoin": "btc", "ethereum": "eth",
	"passport": "document", "passport-number": "document", "identity-document": "document",
	"license-plate": "plate", "vehicle-plate": "plate", "registration-plate": "plate",
}

// Kinds returns the built-in kinds, sorted by name.
func Kinds() []*Kind {
	ks := make([]*Kind, 0, len(builtin))
	for _, k := range builtin {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b *Kind) int { return strings.Compare(a.name, b.name) })
	return ks
}

// Name returns the kind's name, such as "email".
func (k *Kind) Name() string { return k.name }

func (k *Kind) String() string { return k.name }

// Canonicalize returns the canonical form of v, or an [*Error]
// saying why v is not a valid value of this kind.
func (k *Kind) Canonicalize(v string) (string, error) {
	if len(v) > maxRawValueLen {
		return "", &Error{Kind: k.name, Code: "value.too-long", Reason: fmt.Sprintf("longer than %d bytes before canonicalization", maxRawValueLen)}
	}
	if !utf8.ValidString(v) {
		return "", &Error{Kind: k.name, Code: "value.utf8", Reason: "not valid UTF-8"}
	}
	c, err := k.canon(v)
	if err != nil {
		def := k.name + ".invalid"
		if !k.builtin {
			def = "custom"
		}
		return "", &Error{Kind: k.name, Code: codeOf(err, def), Reason: reason(err, v)}
	}
	switch {
	case c == "":
		return "", &Error{Kind: k.name, Code: "value.empty", Reason: "empty"}
	case len(c) > MaxValueLen:
		return "", &Error{Kind: k.name, Code: "value.too-long", Reason: fmt.Sprintf("longer than %d bytes", MaxValueLen)}
	case !utf8.ValidString(c):
		return "", &Error{Kind: k.name, Code: "value.utf8", Reason: "canonical form is not valid UTF-8"}
	}
	return c, nil
}

// reason returns the text of a canonicalizer's error as an [Error]'s
// Reason. The built-in kinds' reasons give lengths and counts, never a
// character of the value (TestReasonsNeverQuoteTheValue); a custom kind's
// reason that holds the whole value, in any case, is replaced (values of
// four bytes or more: shorter ones are too often words of the reason).
func reason(err error, v string) string {
	r := err.Error()
	if t := strings.TrimSpace(v); len(t) >= 4 && (strings.Contains(r, t) ||
		strings.Contains(strings.ToLower(r), strings.ToLower(t))) {
		return "refused by the kind's canonicalizer (its reason quoted the value)"
	}
	return r
}
