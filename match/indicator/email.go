package indicator

import (
	"strings"
	"unicode"
)

// Email is an e-mail address.
//
// Canonical form (PROTOCOL.md section 4.3): surrounding white space
// removed; local part and domain split at the last '@'; the local part in
// Unicode NFC, lower-cased with Unicode's default full lowercase mapping
// (with the Final_Sigma context, not tailored to a language: "İ" becomes
// "i̇", a word-final "Σ" becomes "ς"; see [lowerFull]) and in NFC again,
// 1 to 64 bytes, without white space, control characters, quotes or the
// specials ()<>[]:;@\, and without leading, trailing or doubled dots; the
// domain canonicalized as [Domain]. The local part is lower-cased although
// RFC 5321 lets it be case-sensitive: no large provider treats it so, and
// matching must not miss "Alice@" for "alice@". It is lower-cased, not
// case-folded: "ß" and "ss", "ς" and "σ" stay apart, as they do in every
// mailbox. Provider-specific rewriting (dropping "+tag" or Gmail's dots)
// is not done: it would merge addresses that are distinct elsewhere.
//
// Reason codes: email.no-at, email.local-empty, email.local-too-long,
// email.local-dot, email.local-char; a domain part refused has the code
// of [Domain]'s rule.
var Email = register("email", canonicalEmail)

// emailSpecials are the ASCII characters refused in a local part besides
// white space and control characters: RFC 5322's specials that need
// quoting, and '"', which would start a quoted string.
const emailSpecials = "\"(),:;<>@[\\]"

func canonicalEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", fail("email.no-at", "missing '@'")
	}
	local, domain := s[:at], s[at+1:]
	if local == "" {
		return "", fail("email.local-empty", "empty local part")
	}
	local = nfc(lowerFull(nfc(local)))
	if len(local) > 64 {
		return "", failf("email.local-too-long", "local part of %d bytes, longer than 64 bytes", len(local))
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return "", fail("email.local-dot", "local part has a leading, trailing or doubled dot")
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(emailSpecials, r) {
			return "", fail("email.local-char", "local part has white space, a control character or one of \"(),:;<>@[\\]")
		}
	}
	d, err := canonicalDomain(domain)
	if err != nil {
		// The code is the domain rule's (section 4.3: a code names the
		// rule that refused the value).
		return "", &reasonError{codeOf(err, "domain.invalid"), "domain part " + err.Error()}
	}
	return local + "@" + d, nil
}

// lowerFull returns s lower-cased with Unicode's default (not
// language-tailored) full lowercase mapping, as JavaScript's
// String.prototype.toLowerCase, Python's str.lower, Rust's
// str::to_lowercase and ICU's u_strToLower with the root locale do
// (Java's String.toLowerCase does not: its Final_Sigma test looks at word
// boundaries): each character's simple lowercase mapping (UnicodeData.txt),
// except the two SpecialCasing.txt entries that apply without a language:
//
//   - U+0130 'İ' becomes "i\u0307" (i and COMBINING DOT ABOVE), where the
//     simple mapping, and Go's [strings.ToLower], give "i";
//   - U+03A3 'Σ' becomes U+03C2 'ς' in the Final_Sigma context, U+03C3 'σ'
//     elsewhere: final when, skipping the Case_Ignorable characters before
//     it, the first character reached is Cased, and, skipping those after
//     it, the first character reached is not Cased or there is none.
//     Characters both Cased and Case_Ignorable (U+0345, U+02B0...) are
//     skipped, as ICU, Python and Rust do.
//
// The tables are Go's unicode package's, Unicode 15.0.0 ([UnicodeVersion]).
func lowerFull(s string) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i, r := range rs {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(rs, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether rs[i] is in the Final_Sigma context of the
// Unicode Standard, section 3.13 (Table 3-17).
func finalSigma(rs []rune, i int) bool {
	j := i - 1
	for j >= 0 && isCaseIgnorable(rs[j]) {
		j--
	}
	if j < 0 || !isCased(rs[j]) {
		return false
	}
	j = i + 1
	for j < len(rs) && isCaseIgnorable(rs[j]) {
		j++
	}
	return j == len(rs) || !isCased(rs[j])
}

// isCased reports whether r has Unicode's derived property Cased:
// Lowercase, Uppercase or Lt (DerivedCoreProperties.txt).
func isCased(r rune) bool {
	return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// isCaseIgnorable reports whether r has Unicode's derived property
// Case_Ignorable: general category Mn, Me, Cf, Lm or Sk, or Word_Break
// MidLetter, MidNumLet or Single_Quote.
func isCaseIgnorable(r rune) bool {
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk, wordBreakMid)
}

// wordBreakMid holds the characters of Word_Break MidLetter, MidNumLet
// and Single_Quote in Unicode 15.0.0 (WordBreakProperty.txt), none of which
// is of a general category that is Case_Ignorable in itself.
var wordBreakMid = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x0027, 0x0027, 1}, // ' Single_Quote
		{0x002e, 0x002e, 1}, // . MidNumLet
		{0x003a, 0x003a, 1}, // : MidLetter
		{0x00b7, 0x00b7, 1}, // · MidLetter
		{0x0387, 0x0387, 1}, // · MidLetter
		{0x055f, 0x055f, 1}, // ՟ MidLetter
		{0x05f4, 0x05f4, 1}, // ״ MidLetter
		{0x2018, 0x2019, 1}, // ‘ ’ MidNumLet
		{0x2024, 0x2024, 1}, // ․ MidNumLet
		{0x2027, 0x2027, 1}, // ‧ MidLetter
		{0xfe13, 0xfe13, 1}, // ︓ MidLetter
		{0xfe52, 0xfe52, 1}, // ﹒ MidNumLet
		{0xfe55, 0xfe55, 1}, // ﹕ MidLetter
		{0xff07, 0xff07, 1}, // ＇ MidNumLet
		{0xff0e, 0xff0e, 1}, // ． MidNumLet
		{0xff1a, 0xff1a, 1}, // ： MidLetter
	},
}
