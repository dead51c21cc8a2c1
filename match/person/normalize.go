package person

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// # Name normalization, version 1
//
// A name as written becomes up to maxForms forms, each a list of up to
// maxWords words of a-z, by the following rules, applied in this
// order. Two records meet on a name when they share a form. Changing
// any rule, table or list below changes keys: it is a new version.
//
//  1. Bounds. Only the first maxNameBytes (1024) bytes are read; a
//     longer name is truncated. The input is UTF-8: an invalid byte is
//     a separator (rule 3).
//
//  2. Compatibility. The name is put in Unicode NFKC: full-width and
//     other compatibility letters become plain ones ("Ｍüller" is
//     "Müller"), Arabic presentation forms become letters, and a letter
//     followed by combining marks is composed where Unicode composes it
//     ("u" + U+0308 is "ü"), so that rules 4 and 5 see it.
//
//  3. Words. A word is a maximal run of letters (Unicode L) and marks
//     (M). Everything else separates words: spaces, punctuation,
//     hyphens, digits, symbols, invalid bytes, and the apostrophes
//     ' ’ ‘ ʼ ʻ ` ´ (even though ʼ and ʻ are letters to Unicode), except
//     that an apostrophe between two Cyrillic letters is dropped (it
//     is a letter of Ukrainian and Belarusian spelling: Мар'яна is one
//     word). Format characters (Cf, e.g. zero-width joiners), the
//     Arabic tatweel U+0640, the romanization signs ʾ ʿ (U+02BE,
//     U+02BF) and the Hebrew geresh and gershayim (U+05F3, U+05F4) are
//     dropped without separating. At most maxRawWords (64) words are
//     read; more truncate the name.
//
//  4. "SURNAME, Given". If the name holds exactly one comma (',' or the
//     Arabic '،', after NFKC), the words after it come first: "Müller,
//     Hans-Peter" is read "Hans Peter Müller". With no comma or several,
//     the written order is kept. Keys sort words, so the order only
//     makes the forms deterministic.
//
//  5. Arabic compounds. An Arabic-script word عبد is joined to the next
//     word if that is in Arabic script too (عبد الله is عبدالله).
//
//  6. Spellings. Each word is written in each of the six schemes of
//     translit.go, in a-z, lower case (unicode.ToLower per letter,
//     simple and context-free; Turkish İ is i and ı is i):
//     - Latin letters: ä ö ü ø are a o u o in the first scheme (ICAO)
//     and ae oe ue oe in the others (the German and Scandinavian
//     expansion); ß and ẞ are ss; æ ae; œ oe; ð d; þ th; ł l; đ d; ı i;
//     and a few letters NFKD leaves whole (ħ ŧ ŋ ĸ ŀ ə ɛ ɔ ɓ ɗ ƙ ƴ ɨ ʉ ƒ)
//     their base letter; any other letter is its NFKD decomposition
//     without marks (é e, å a, ñ n, ĳ ij). Latin spelling of any origin
//     has no other variant: its spelling is what it is.
//     - Cyrillic (Russian, Ukrainian, Belarusian; Serbian, Macedonian
//     and common Kazakh letters by one spelling): ICAO Doc 9303 Part 3,
//     Section 6, Part B in the first scheme, and in the others the
//     spellings other countries' records use: BGN (ye yo y yu ya),
//     English (BGN and -ий/-ый as -y, ё as yo, кс as x, дж as j),
//     English-h (English and х as h), German (w sch tsch z ch j je ju
//     ja), French (ou ch tch j dj iou, -ин as -ine). The whole name is read as
//     Belarusian if it holds ў, or і with ы, э or ё; else as Ukrainian
//     if it holds і, ї, є or ґ (г is then h and, in Ukrainian, и is y);
//     else as Russian. See cyrillicRun for each letter.
//     - Greek: ELOT 743 (ISO 843 type 2, as on Greek passports; Doc 9303
//     has no Greek table) in the first scheme, with μπ as mp (BGN), γ
//     as y before a front vowel (English) and χ as h (English-h) as
//     the variants. See greekRun.
//     - Arabic: a word wholly in Arabic script is first looked up, then
//     without the article ال, in arabicNames, a dictionary of about 190
//     common given names and name elements; else written letter by
//     letter by Doc 9303 Part 3, Section 6, Part C without the MRZ's
//     escape letter X (see arabicLetters), without the article.
//     Arabic writes few vowels: a letter-by-letter form meets another
//     record written in Arabic the same way, hardly ever a Latin one.
//     - Hebrew: likewise, hebrewNames (about 90 given names and family
//     names), else letter by letter (see hebrewLetters).
//     - A word holding a letter of any other script (Han, Kana, Hangul,
//     Devanagari, Thai, Armenian, Georgian, …) is dropped, as is a word
//     with no letter left. A name with no word left has no form.
//
//  7. Joining. In each list of words, a word of glueNext ("abd",
//     "abdul", "abdel", …, "abu", "abou") is joined to the next word,
//     skipping an article between them ("Abd al-Rahman" is
//     "abdrahman", "Abu Bakr" is "abubakr"), and again while the
//     joined word is one of glueNext ("Abd Ol Rahman" is
//     "abdolrahman", as "Abdol Rahman" is); then every word beginning
//     "abd" is written by canonAbd ("abdrahman", "abdurrahman",
//     "abdelrahman" are all "abdulrahman").
//
//  8. Particles and honorifics. The words of particles (van, von, de,
//     der, al, el, bin, ibn, ben, ould, …) and honorifics (mr, dr,
//     sheikh, haji, imam, jr, …) in names.go are dropped, unless that
//     would leave no word. Glued forms are kept ("Albaghdadi",
//     "Vandermeer", "MacDonald", "McCain"); "mac", "mc" and "o" are not
//     particles.
//
//  9. Families. Each word that is a spelling in a family of names.go
//     becomes the family's first spelling (mohammed and mukhammed are
//     muhammad). A family folds whole words only.
//
// 10. Bounds per form. A word is cut to maxWordBytes (40) letters, and a
//     form to its first maxWords (8) words; either truncates the name.
//
// 11. Forms. The forms are, in this order: the name in each scheme
//     (the first, ICAO, is the primary form), then for each word in
//     turn and each scheme, the primary form with that one word in that
//     scheme (so a record that mixes systems meets too). Each list goes
//     through rules 7 to 10; a form equal to an earlier one is dropped,
//     and a form with no word is not a form. At most maxForms (8) are
//     kept; a further distinct form truncates the name.
//
// The primary form of a name whose words are all a-z is those words,
// with rules 7 to 10 applied (normalization is idempotent on its
// forms).

const (
	maxForms     = 8    // forms of a name; more are dropped, truncated=true
	maxWords     = 8    // words kept per form; more are dropped, truncated=true
	maxNameBytes = 1024 // bytes of a name read; more are ignored, truncated=true
	maxRawWords  = 64   // words read; more are ignored, truncated=true
	maxWordBytes = 40   // letters kept per word; more are dropped, truncated=true
)

// normalizeName returns the normalized forms of a name as written, each
// a list of words of a-z and 0-9 only, in written order (but see
// "SURNAME, Given"), particles and honorifics removed, at most maxForms
// forms (the first is the primary form); truncated reports whether
// anything past a bound was dropped. It never panics, on any input. The
// rules are above.
func normalizeName(s string) (forms [][]string, truncated bool) {
	if len(s) > maxNameBytes {
		s, truncated = s[:maxNameBytes], true
	}
	// Invalid UTF-8 separates words (rule 3), and is made a space before
	// NFKC: golang.org/x/text's normalization leaves a character after an
	// invalid byte at the end of its input unnormalized ("A\xf2ϔ" keeps
	// ϔ, "A\xf2ϔ 0" makes it Ϋ), which made a name's forms depend on
	// what followed it.
	s = norm.NFKC.String(strings.ToValidUTF8(s, " "))
	raw, more := splitWords(s)
	truncated = truncated || more
	raw = joinArabicAbd(raw)
	mode := cyrillicMode(raw)

	sp := make([]spellings, 0, len(raw))
	for _, w := range raw {
		if t := transliterate(w, mode); t[0] != "" {
			sp = append(sp, t)
		}
	}
	if len(sp) == 0 {
		return nil, truncated
	}

	add := func(words []string) bool { // reports whether forms is full
		form, cut := finishForm(words)
		truncated = truncated || cut
		if len(form) == 0 || slices.ContainsFunc(forms, func(f []string) bool { return slices.Equal(f, form) }) {
			return false
		}
		if len(forms) == maxForms {
			truncated = true
			return true
		}
		forms = append(forms, form)
		return false
	}
	words := make([]string, len(sp))
	for k := range nSchemes {
		for i := range sp {
			words[i] = sp[i][k]
		}
		if add(words) {
			return forms, truncated
		}
	}
	// Particles glued to the next word: records that write "Vandermeer",
	// "Alhussaini", "OConnor" meet those that write them apart.
	if glued, ok := gluedParticles(raw, sp, mode); ok && add(glued) {
		return forms, truncated
	}
	for i := range sp {
		for k := 1; k < nSchemes; k++ {
			if sp[i][k] == sp[i][0] || slices.Contains(sp[i][1:k], sp[i][k]) {
				continue
			}
			for j := range sp {
				words[j] = sp[j][0]
			}
			words[i] = sp[i][k]
			if add(words) {
				return forms, truncated
			}
		}
	}
	return forms, truncated
}

// gluedParticles returns the primary spellings with each particle (and
// "o", "mc", "mac") joined to the word after it, and an Arabic-script
// word that starts with the article "ال" written with "al" before it; ok
// is false if there is nothing to join.
func gluedParticles(raw [][]rune, sp []spellings, mode cyrMode) (words []string, ok bool) {
	words = make([]string, 0, len(sp))
	prefix := ""
	j := 0
	for _, w := range raw {
		if t := transliterate(w, mode); t[0] == "" {
			continue // as in normalizeName: a word with no spelling
		}
		primary := sp[j][0]
		j++
		if len(w) > 2 && w[0] == 'ا' && w[1] == 'ل' && !strings.HasPrefix(primary, "al") {
			primary, ok = "al"+primary, true
		}
		if particles[primary] || primary == "o" || primary == "mc" || primary == "mac" {
			prefix += primary
			continue
		}
		if prefix != "" {
			primary, prefix, ok = prefix+primary, "", true
		}
		words = append(words, primary)
	}
	if prefix != "" {
		words = append(words, prefix)
	}
	return words, ok
}

// splitWords splits s (NFKC) into words by rule 3 and orders them by
// rule 4; more reports that words past maxRawWords were dropped.
func splitWords(s string) (words [][]rune, more bool) {
	var cur []rune
	commas, commaAt := 0, 0
	flush := func() {
		if len(cur) > 0 {
			words = append(words, cur)
			cur = nil
		}
	}
	for i := 0; i < len(s) && !more; {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			flush()
		case r == ',' || r == '،':
			flush()
			commas++
			commaAt = len(words)
		case isApostrophe(r):
			next, _ := utf8.DecodeRuneInString(s[i:])
			if len(cur) > 0 && unicode.Is(unicode.Cyrillic, cur[len(cur)-1]) && unicode.Is(unicode.Cyrillic, next) {
				continue // Ukrainian and Belarusian: Мар'яна
			}
			flush()
		case unicode.Is(unicode.Cf, r), r == 0x640, r == 0x2BE, r == 0x2BF, r == 0x5F3, r == 0x5F4:
			// Dropped without separating.
		case unicode.IsLetter(r) || unicode.IsMark(r):
			cur = append(cur, r)
		default:
			flush()
		}
		more = len(words) > maxRawWords
	}
	flush()
	if len(words) > maxRawWords {
		words, more = words[:maxRawWords], true
	}
	if commas == 1 && 0 < commaAt && commaAt < len(words) {
		words = append(words[commaAt:len(words):len(words)], words[:commaAt]...)
	}
	return words, more
}

func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', 'ʻ', '`', '´':
		return true
	}
	return false
}

// joinArabicAbd applies rule 5.
func joinArabicAbd(words [][]rune) [][]rune {
	out := words[:0:0]
	for i := 0; i < len(words); i++ {
		w := words[i]
		if i+1 < len(words) && wordScript(w) == scriptArabic && arabicKey(w) == "عبد" && wordScript(words[i+1]) == scriptArabic {
			w = append(slices.Clone(w), words[i+1]...)
			i++
		}
		out = append(out, w)
	}
	return out
}

// finishForm applies rules 7 to 10 to a list of words; cut reports that
// a bound of rule 10 dropped something.
func finishForm(in []string) (form []string, cut bool) {
	words := make([]string, 0, len(in))
	for i := 0; i < len(in); i++ {
		w := in[i]
		// A glued word can itself be one to glue ("abd" + "ol" is
		// "abdol"): glue again, so that "abd ol a" is what "abdol a"
		// is, and every form is its own primary form.
		for glueNext[w] && i+1 < len(in) {
			j := i + 1
			if articles[in[j]] && j+1 < len(in) {
				j++
			}
			w += in[j]
			i = j
		}
		words = append(words, canonAbd(w))
	}
	kept := words[:0:0]
	for _, w := range words {
		if !particles[w] && !honorifics[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) > 0 {
		words = kept
	}
	for i, w := range words {
		if f, ok := familyOf[w]; ok {
			w = f
		}
		if len(w) > maxWordBytes {
			w, cut = w[:maxWordBytes], true
		}
		words[i] = w
	}
	if len(words) > maxWords {
		words, cut = words[:maxWords], true
	}
	return words, cut
}
