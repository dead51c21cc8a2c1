package person

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The romanization schemes. Every word is written in each of them; a
// name's forms are first the whole name in each scheme, in this order
// (see normalizeName). Only Cyrillic and Greek words differ between
// schemes; a Latin word has its plain spelling in schemeICAO and its
// German expansion (ä → ae) in every other scheme; Arabic and Hebrew
// words are the same in all. Do not reorder: the order is the order of
// the forms.
const (
	schemeICAO     = iota // ICAO Doc 9303 Part 3 Section 6; ELOT 743 for Greek
	schemeBGN             // BGN/PCGN-like: ye, yo, y, yu, ya
	schemeEnglish         // as BGN, plus -y for -ий/-ый, yo, x for кс, j for дж
	schemeEnglishH        // as English, plus h for х (Greek: h for χ)
	schemeGerman          // Duden-like: w, sch, tsch, z, ch, j
	schemeFrench          // ou, ch, tch, j, dj, iou, -ine
	nSchemes
)

// spellings is a word as written in each scheme; "" in every scheme
// means the word is dropped.
type spellings [nSchemes]string

// transliterate writes one word (letters and marks of any script, as
// split by normalizeName, after NFKC) in each scheme, in a-z only. It
// returns the zero spellings if the word holds a letter of a script
// it does not transliterate, or no letter at all. mode is the reading
// of Cyrillic (see cyrillicMode).
func transliterate(word []rune, mode cyrMode) spellings {
	var zero spellings
	// A word wholly in Arabic or Hebrew script is looked up whole
	// first: those scripts write few vowels.
	switch wordScript(word) {
	case scriptArabic:
		if s := arabicWord(word); s != "" {
			return same(s)
		}
		return zero
	case scriptHebrew:
		if s := hebrewWord(word); s != "" {
			return same(s)
		}
		return zero
	}
	var b [nSchemes]strings.Builder
	for start := 0; start < len(word); {
		sc := runeScript(word[start])
		end := start + 1
		for end < len(word) && (runeScript(word[end]) == sc || runeScript(word[end]) == scriptMark) {
			end++
		}
		run := word[start:end]
		ok := true
		switch sc {
		case scriptMark:
			// Marks with no letter before them: nothing to write.
		case scriptLatin:
			ok = latinRun(run, &b)
		case scriptCyrillic:
			ok = cyrillicRun(run, start == 0, end == len(word), mode, &b)
		case scriptGreek:
			ok = greekRun(run, &b)
		case scriptArabic:
			s := arabicLetters(run)
			for i := range b {
				b[i].WriteString(s)
			}
		case scriptHebrew:
			s := hebrewLetters(run)
			for i := range b {
				b[i].WriteString(s)
			}
		default:
			ok = false
		}
		if !ok {
			return zero
		}
		start = end
	}
	var out spellings
	for i := range b {
		out[i] = b[i].String()
		if out[i] == "" && i > 0 {
			out[i] = out[0] // ъ alone: ie in ICAO, nothing elsewhere
		}
		if !isAZ(out[i]) {
			return zero
		}
	}
	return out
}

func same(s string) spellings {
	var out spellings
	for i := range out {
		out[i] = s
	}
	return out
}

// isAZ reports whether s is non-empty and all a-z.
func isAZ(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

type script uint8

const (
	scriptOther script = iota
	scriptMark
	scriptLatin
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHebrew
)

func runeScript(r rune) script {
	switch {
	case r < 0x80:
		return scriptLatin // splitting leaves only ASCII letters
	case unicode.IsMark(r):
		return scriptMark
	case unicode.Is(unicode.Latin, r):
		return scriptLatin
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case unicode.Is(unicode.Greek, r):
		return scriptGreek
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case unicode.Is(unicode.Hebrew, r):
		return scriptHebrew
	}
	return scriptOther
}

// wordScript is the script of every letter of word, or scriptOther if
// they are of several scripts (marks do not count).
func wordScript(word []rune) script {
	ws := scriptMark
	for _, r := range word {
		switch s := runeScript(r); {
		case s == scriptMark:
		case ws == scriptMark:
			ws = s
		case s != ws:
			return scriptOther
		}
	}
	return ws
}

// Latin

// latinSpecial are the Latin letters written otherwise than by
// dropping their marks (rule 6 of normalize.go): the plain spelling, used in
// schemeICAO, and the expanded one, used in every other scheme.
// Letters that NFKD does not decompose are here too.
var latinSpecial = map[rune][2]string{
	'ä': {"a", "ae"}, 'ö': {"o", "oe"}, 'ü': {"u", "ue"}, 'ø': {"o", "oe"},
	'ß': {"ss", "ss"}, 'æ': {"ae", "ae"}, 'œ': {"oe", "oe"},
	'ð': {"d", "d"}, 'þ': {"th", "th"}, 'ł': {"l", "l"}, 'đ': {"d", "d"},
	'ı': {"i", "i"}, 'ħ': {"h", "h"}, 'ŧ': {"t", "t"}, 'ŋ': {"n", "n"},
	'ĸ': {"k", "k"}, 'ŀ': {"l", "l"}, 'ə': {"e", "e"}, 'ɛ': {"e", "e"},
	'ɔ': {"o", "o"}, 'ɓ': {"b", "b"}, 'ɗ': {"d", "d"}, 'ƙ': {"k", "k"},
	'ƴ': {"y", "y"}, 'ɨ': {"i", "i"}, 'ʉ': {"u", "u"}, 'ƒ': {"f", "f"},
}

// latinRun writes a run of Latin letters and marks: special letters by
// latinSpecial, any other letter by its NFKD decomposition without
// marks, lower-cased. It reports false if a letter does not come out
// as a-z.
func latinRun(run []rune, b *[nSchemes]strings.Builder) bool {
	for _, r := range run {
		r = unicode.ToLower(r)
		if 'a' <= r && r <= 'z' {
			for i := range b {
				b[i].WriteRune(r)
			}
			continue
		}
		if unicode.IsMark(r) {
			continue
		}
		if sp, ok := latinSpecial[r]; ok {
			b[0].WriteString(sp[0])
			for i := 1; i < nSchemes; i++ {
				b[i].WriteString(sp[1])
			}
			continue
		}
		for _, d := range norm.NFKD.String(string(r)) {
			if unicode.IsMark(d) {
				continue
			}
			d = unicode.ToLower(d)
			s := string(d)
			if sp, ok := latinSpecial[d]; ok {
				s = sp[0]
			} else if d < 'a' || d > 'z' {
				return false
			}
			for i := range b {
				b[i].WriteString(s)
			}
		}
	}
	return true
}

// Cyrillic

// cyrMode is the language a name's Cyrillic is read in.
type cyrMode uint8

const (
	cyrRussian    cyrMode = iota
	cyrUkrainian          // г → h, и → y, є, ї
	cyrBelarusian         // г → h, ё → io, ў
)

// cyrillicMode picks the reading of a whole name: Belarusian if it
// holds ў, or і with one of ы, э, ё (which Ukrainian lacks); else
// Ukrainian if it holds one of і, ї, є, ґ; else Russian.
func cyrillicMode(words [][]rune) cyrMode {
	var has [6]bool // ў і ї є ґ (ы э ё)
	for _, w := range words {
		for _, r := range w {
			switch unicode.ToLower(r) {
			case 'ў':
				has[0] = true
			case 'і':
				has[1] = true
			case 'ї':
				has[2] = true
			case 'є':
				has[3] = true
			case 'ґ':
				has[4] = true
			case 'ы', 'э', 'ё':
				has[5] = true
			}
		}
	}
	switch {
	case has[0] || has[1] && has[5]:
		return cyrBelarusian
	case has[1] || has[2] || has[3] || has[4]:
		return cyrUkrainian
	}
	return cyrRussian
}

// cyr is one Cyrillic letter in each scheme: ICAO, BGN, English,
// English-h, German, French.
type cyr [nSchemes]string

func all(s string) cyr { return cyr{s, s, s, s, s, s} }

// cyrTable is ICAO Doc 9303 Part 3, Section 6, Part B (Russian, with
// the Ukrainian, Belarusian, Serbian and Macedonian letters), in the
// first column, and the other schemes beside it. Letters whose
// spelling depends on context (е, ё, й, and the Ukrainian and
// Belarusian г, и) are in cyrillicRun.
var cyrTable = map[rune]cyr{
	'а': all("a"), 'б': all("b"), 'д': all("d"), 'к': all("k"),
	'л': all("l"), 'м': all("m"), 'н': all("n"), 'о': all("o"),
	'п': all("p"), 'р': all("r"), 'с': all("s"), 'т': all("t"),
	'ф': all("f"), 'ы': all("y"), 'ь': all(""), 'э': all("e"),
	'і': all("i"), 'ў': all("u"), 'ґ': all("g"),
	'в': {"v", "v", "v", "v", "w", "v"},
	'ж': {"zh", "zh", "zh", "zh", "sch", "j"},
	'з': {"z", "z", "z", "z", "s", "z"},
	'у': {"u", "u", "u", "u", "u", "ou"},
	'х': {"kh", "kh", "kh", "h", "ch", "kh"},
	'ц': {"ts", "ts", "ts", "ts", "z", "ts"},
	'ч': {"ch", "ch", "ch", "ch", "tsch", "tch"},
	'ш': {"sh", "sh", "sh", "sh", "sch", "ch"},
	'щ': {"shch", "shch", "shch", "shch", "schtsch", "chtch"},
	'ъ': {"ie", "", "", "", "", ""},
	'ю': {"iu", "yu", "yu", "yu", "ju", "iou"},
	'я': {"ia", "ya", "ya", "ya", "ja", "ia"},
	'є': {"ie", "ye", "ye", "ye", "je", "ie"},
	'ї': {"i", "yi", "yi", "yi", "ji", "i"},
	// Serbian, Macedonian (ICAO) and the commonest Turkic letters.
	'ђ': all("d"), 'ј': all("j"), 'љ': all("lj"), 'њ': all("nj"),
	'ћ': all("c"), 'џ': all("dz"), 'ѓ': all("g"), 'ќ': all("k"),
	'ѕ': all("dz"), 'ә': all("a"), 'ғ': all("g"), 'қ': all("k"),
	'ң': all("n"), 'ө': all("o"), 'ұ': all("u"), 'ү': all("u"),
	'һ': all("h"),
}

func cyrVowel(r rune) bool {
	switch r {
	case 'а', 'е', 'ё', 'и', 'о', 'у', 'ы', 'э', 'ю', 'я', 'і', 'ї', 'є', 'ъ', 'ь':
		return true // ъ and ь count: е after them is iotated too
	}
	return false
}

// cyrillicRun writes a run of Cyrillic letters (marks are dropped);
// first and last say whether it begins and ends the word.
func cyrillicRun(run []rune, first, last bool, mode cyrMode, b *[nSchemes]strings.Builder) bool {
	letters := make([]rune, 0, len(run))
	for _, r := range run {
		if !unicode.IsMark(r) {
			letters = append(letters, unicode.ToLower(r))
		}
	}
	for i := 0; i < len(letters); i++ {
		r := letters[i]
		var next rune
		if i+1 < len(letters) {
			next = letters[i+1]
		}
		start := i == 0 && first
		iotated := start || i > 0 && cyrVowel(letters[i-1])
		end2 := last && i+2 == len(letters) // r and next end the word
		var c cyr
		switch {
		case r == 'д' && next == 'ж':
			c = cyr{"dzh", "dzh", "j", "j", "dsch", "dj"}
			i++
		case r == 'к' && next == 'с':
			c = cyr{"ks", "ks", "x", "x", "ks", "ks"}
			i++
		case (r == 'и' || r == 'ы') && next == 'й' && end2 && mode == cyrRussian:
			v := "i"
			if r == 'ы' {
				v = "y"
			}
			c = cyr{v + "i", v + "y", "y", "y", v, v}
			i++
		case r == 'н' && last && i == len(letters)-1 && i > 0 && letters[i-1] == 'и':
			c = cyr{"n", "n", "n", "n", "n", "ne"} // French -ine: Poutine, Staline
		case r == 'г' && mode != cyrRussian:
			c = all("h")
		case r == 'г':
			c = all("g")
		case r == 'и' && mode == cyrUkrainian:
			c = all("y")
		case r == 'и':
			c = all("i")
		case r == 'й':
			c = cyr{"i", "y", "y", "y", "j", "i"}
		case r == 'е' && mode == cyrUkrainian:
			c = all("e")
		case r == 'е' && iotated:
			c = cyr{"e", "ye", "ye", "ye", "je", "e"}
		case r == 'е':
			c = all("e")
		case r == 'ё':
			hush := i > 0 && strings.ContainsRune("жчшщ", letters[i-1])
			icao := "e"
			if mode == cyrBelarusian {
				icao = "io"
			}
			switch {
			case hush:
				c = cyr{icao, "o", "o", "o", "o", "o"}
			case iotated:
				c = cyr{icao, "yo", "yo", "yo", "jo", "io"}
			default:
				c = cyr{icao, "e", "yo", "yo", "jo", "io"}
			}
		default:
			var ok bool
			if c, ok = cyrTable[r]; !ok {
				return false
			}
		}
		for k := range b {
			b[k].WriteString(c[k])
		}
	}
	return true
}

// Greek

// greekRun writes a run of Greek letters (accents dropped) by ELOT 743
// (the Greek standard, ISO 843 type 2, used on Greek passports; Doc
// 9303 has no Greek table) and its variants:
//
//	ICAO, German, French: ELOT 743: μπ is b at either end of the word,
//	                      mb inside; αυ, ευ, ηυ are av, ev, iv before a
//	                      vowel or a voiced consonant, af, ef, if before
//	                      a voiceless one (θ κ ξ π σ τ φ χ ψ) or at the end;
//	                      γγ ng, γξ nx, γχ nch, ου ou, χ ch, ψ ps, η i, υ y
//	BGN:                  as ELOT, but μπ is mp everywhere
//	English:              as BGN, and γ is y before ε, ι, η, υ, αι, ει, οι
//	English-h:            as English, and χ is h
//
// A dialytika on ι or υ keeps it out of a digraph (προϋπόθεση is
// proypothesi).
func greekRun(run []rune, b *[nSchemes]strings.Builder) bool {
	type letter struct {
		r      rune
		dialyt bool
	}
	var ls []letter
	for _, r := range norm.NFD.String(string(run)) {
		if r == 0x308 && len(ls) > 0 {
			ls[len(ls)-1].dialyt = true
			continue
		}
		if unicode.IsMark(r) {
			continue
		}
		r = unicode.ToLower(r)
		if r == 'ς' {
			r = 'σ'
		}
		ls = append(ls, letter{r: r})
	}
	at := func(i int) letter {
		if i < len(ls) {
			return ls[i]
		}
		return letter{}
	}
	voiceless := func(r rune) bool { return strings.ContainsRune("θκξπστφχψ", r) }
	for i := 0; i < len(ls); i++ {
		r, next := ls[i].r, at(i+1)
		var c cyr
		switch {
		case (r == 'α' || r == 'ε' || r == 'η') && next.r == 'υ' && !next.dialyt:
			v := map[rune]string{'α': "a", 'ε': "e", 'η': "i"}[r]
			after := at(i + 2).r
			if after == 0 || voiceless(after) {
				v += "f"
			} else {
				v += "v"
			}
			c = all(v)
			i++
		case r == 'ο' && next.r == 'υ' && !next.dialyt:
			c = all("ou")
			i++
		case r == 'μ' && next.r == 'π':
			elot := "mb"
			if i == 0 || i+2 == len(ls) {
				elot = "b"
			}
			c = cyr{elot, "mp", "mp", "mp", elot, elot}
			i++
		case r == 'γ' && (next.r == 'γ' || next.r == 'ξ' || next.r == 'χ'):
			g := map[rune]string{'γ': "ng", 'ξ': "nx", 'χ': "nch"}[next.r]
			c = cyr{g, g, g, g, g, g}
			if next.r == 'χ' {
				c[schemeEnglishH] = "nh"
			}
			i++
		case r == 'γ':
			c = all("g")
			n2 := at(i + 2).r
			if strings.ContainsRune("ειηυ", next.r) || strings.ContainsRune("αεο", next.r) && n2 == 'ι' {
				c[schemeEnglish], c[schemeEnglishH] = "y", "y"
			}
		case r == 'χ':
			c = cyr{"ch", "ch", "ch", "h", "ch", "ch"}
		default:
			s, ok := greekTable[r]
			if !ok {
				return false
			}
			c = all(s)
		}
		for k := range b {
			b[k].WriteString(c[k])
		}
	}
	return true
}

// greekTable is ELOT 743 type 2 for single letters.
var greekTable = map[rune]string{
	'α': "a", 'β': "v", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th",
	'ι': "i", 'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o",
	'π': "p", 'ρ': "r", 'σ': "s", 'τ': "t", 'υ': "y", 'φ': "f", 'ψ': "ps",
	'ω': "o",
}

// Arabic

// arabicLetters writes Arabic letters by ICAO Doc 9303 Part 3,
// Section 6, Part C, with the escape letter X of the MRZ dropped (the
// table escapes letters so that the MRZ can be read back into Arabic;
// a match key need not be), hamza dropped, and ة as a. Short vowels
// are not written in Arabic, so this is a consonant skeleton: it
// meets the same Arabic spelling, rarely a Latin one (hence
// arabicNames).
func arabicLetters(run []rune) string {
	var b strings.Builder
	for _, r := range run {
		b.WriteString(arabicTable[r]) // marks and unknown letters: nothing
	}
	return b.String()
}

var arabicTable = map[rune]string{
	'ا': "a", 'أ': "a", 'إ': "i", 'آ': "aa", 'ٱ': "a", 'ء': "",
	'ؤ': "u", 'ئ': "i", 'ب': "b", 'ة': "a", 'ت': "t", 'ث': "th",
	'ج': "j", 'ح': "h", 'خ': "kh", 'د': "d", 'ذ': "dh", 'ر': "r",
	'ز': "z", 'س': "s", 'ش': "sh", 'ص': "s", 'ض': "d", 'ط': "t",
	'ظ': "z", 'ع': "e", 'غ': "gh", 'ف': "f", 'ق': "q", 'ك': "k",
	'ل': "l", 'م': "m", 'ن': "n", 'ه': "h", 'و': "w", 'ى': "a",
	'ي': "y", 'پ': "p", 'چ': "ch", 'ژ': "zh", 'گ': "g", 'ک': "k",
	'ی': "y", 'ۀ': "h", 'ہ': "h", 'ھ': "h", 'ے': "y",
}

// arabicKey is word as a key of arabicNames: marks dropped, the forms
// of alef as ا, ى and the Persian ی as ي, ة as ه, the Persian ک as ك.
func arabicKey(word []rune) string {
	var b strings.Builder
	for _, r := range word {
		switch {
		case unicode.IsMark(r):
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			b.WriteRune('ا')
		case r == 'ى' || r == 'ی' || r == 'ے':
			b.WriteRune('ي')
		case r == 'ة' || r == 'ۀ' || r == 'ہ' || r == 'ھ':
			b.WriteRune('ه')
		case r == 'ک':
			b.WriteRune('ك')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// arabicWord writes a word wholly in Arabic script: its arabicNames
// entry if it has one; else, if it begins with the article ال and has
// at least two letters more, the entry of the rest, or the rest letter
// by letter; else the word letter by letter.
func arabicWord(word []rune) string {
	key := arabicKey(word)
	if s, ok := arabicNames[key]; ok {
		return s
	}
	if rest, ok := strings.CutPrefix(key, "ال"); ok && len([]rune(rest)) >= 2 {
		if s, ok := arabicNames[rest]; ok {
			return s
		}
		return arabicLetters([]rune(rest))
	}
	return arabicLetters(word)
}

// arabicNames maps common Arabic given names and name elements,
// written as arabicKey writes them, to their common Latin spelling
// (the representative of their family in names.go where there is one).
// Compounds with عبد are one word (normalizeName joins عبد to the next
// word). Built from arabicNameList.
var arabicNames = func() map[string]string {
	m := make(map[string]string, len(arabicNameList)/2)
	for i := 0; i < len(arabicNameList); i += 2 {
		m[arabicKey([]rune(arabicNameList[i]))] = arabicNameList[i+1]
	}
	return m
}()

var arabicNameList = []string{
	// The prophets and the companions.
	"محمد", "muhammad", "أحمد", "ahmad", "محمود", "mahmud", "مصطفى", "mustafa",
	"علي", "ali", "عمر", "umar", "عثمان", "uthman", "حسن", "hasan",
	"حسين", "husayn", "أبو", "abu", "بكر", "bakr", "أبوبكر", "abubakr",
	"إبراهيم", "ibrahim", "إسماعيل", "ismail", "إسحاق", "ishaq", "يعقوب", "yaqub",
	"يوسف", "yusuf", "موسى", "musa", "عيسى", "isa", "يحيى", "yahya",
	"زكريا", "zakariya", "سليمان", "sulayman", "داود", "dawud", "إدريس", "idris",
	"إلياس", "ilyas", "يونس", "yunus", "أيوب", "ayyub", "نوح", "nuh",
	"حمزة", "hamza", "عباس", "abbas", "جعفر", "jafar", "بلال", "bilal",
	"معاذ", "muadh", "أنس", "anas", "خالد", "khalid", "طلحة", "talha",
	// عبد compounds.
	"عبد", "abd", "عبدالله", "abdullah", "عبدالرحمن", "abdulrahman",
	"عبدالعزيز", "abdulaziz", "عبدالكريم", "abdulkarim", "عبدالقادر", "abdulqadir",
	"عبدالرحيم", "abdulrahim", "عبدالحميد", "abdulhamid", "عبدالملك", "abdulmalik",
	"عبدالسلام", "abdulsalam", "عبدالوهاب", "abdulwahab", "عبدالمجيد", "abdulmajid",
	"عبدالحكيم", "abdulhakim", "عبداللطيف", "abdullatif", "عبدالرزاق", "abdulrazzaq",
	"عبدالناصر", "abdulnasir", "عبدالباسط", "abdulbasit", "عبدالغني", "abdulghani",
	"عبدالفتاح", "abdulfattah", "عبدالمنعم", "abdulmunim", "عبدالجبار", "abduljabbar",
	"عبدالإله", "abdulilah", "عبدالحليم", "abdulhalim", "عبدالمطلب", "abdulmuttalib",
	// Other given names.
	"حامد", "hamid", "حميد", "hamid", "خليل", "khalil", "جمال", "jamal",
	"كمال", "kamal", "طارق", "tariq", "طاهر", "tahir", "ناصر", "nasir",
	"نصر", "nasr", "منصور", "mansur", "سعيد", "said", "سعد", "saad",
	"سعود", "saud", "فيصل", "faisal", "فهد", "fahd", "فارس", "faris",
	"فؤاد", "fuad", "رشيد", "rashid", "راشد", "rashid", "سالم", "salim",
	"سليم", "salim", "صالح", "salih", "صلاح", "salah", "نور", "nur",
	"دين", "din", "عادل", "adil", "عامر", "amir", "أمير", "amir",
	"عمار", "ammar", "عماد", "imad", "عصام", "isam", "عزيز", "aziz",
	"أسامة", "usama", "أنور", "anwar", "أيمن", "ayman", "أمين", "amin",
	"إياد", "iyad", "بشير", "bashir", "بشار", "bashar", "ثامر", "thamir",
	"جابر", "jabir", "جلال", "jalal", "حاتم", "hatim", "حافظ", "hafiz",
	"حبيب", "habib", "حسام", "husam", "حمد", "hamad", "حيدر", "haydar",
	"رامي", "rami", "رضا", "rida", "رياض", "riyad", "زياد", "ziyad",
	"زيد", "zayd", "زين", "zayn", "سامي", "sami", "سامر", "samir",
	"سمير", "samir", "سلمان", "salman", "سلطان", "sultan", "سيف", "sayf",
	"شريف", "sharif", "شاكر", "shakir", "صابر", "sabir", "صادق", "sadiq",
	"صدام", "saddam", "ضياء", "diya", "طلال", "talal", "عاطف", "atif",
	"عدنان", "adnan", "عرفات", "arafat", "علاء", "ala", "عوض", "awad",
	"غازي", "ghazi", "غسان", "ghassan", "فاضل", "fadil", "فتحي", "fathi",
	"فراس", "firas", "فريد", "farid", "قاسم", "qasim", "كريم", "karim",
	"لؤي", "luay", "ماجد", "majid", "مالك", "malik", "مازن", "mazin",
	"مجدي", "majdi", "مراد", "murad", "مروان", "marwan", "مسعود", "masud",
	"مهدي", "mahdi", "منير", "munir", "نبيل", "nabil", "نجيب", "najib",
	"نزار", "nizar", "نعيم", "naim", "نواف", "nawaf", "هاني", "hani",
	"هشام", "hisham", "هيثم", "haytham", "وائل", "wail", "وليد", "walid",
	"ياسر", "yasir", "ياسين", "yasin", "رحمن", "rahman", "الله", "allah",
	"فاطمة", "fatima", "عائشة", "aisha", "خديجة", "khadija", "مريم", "maryam",
	"زينب", "zaynab", "ليلى", "layla", "سارة", "sara", "هدى", "huda",
	"أسماء", "asma", "آمنة", "amina", "أمينة", "amina", "سلمى", "salma",
	// Particles (removed later) and common family names.
	"بن", "bin", "ابن", "ibn", "بنت", "bint", "ولد", "ould",
	"بغدادي", "baghdadi", "ظواهري", "zawahiri", "زرقاوي", "zarqawi",
	"مصري", "masri", "تميمي", "tamimi", "قحطاني", "qahtani", "شمري", "shammari",
	"لادن", "ladin", "حقاني", "haqqani", "يمني", "yamani", "هاشمي", "hashimi",
	"قرشي", "qurashi", "أسد", "asad", "قذافي", "qadhafi", "صدر", "sadr",
}

// Hebrew

// hebrewLetters writes Hebrew letters by a simplified form of the
// Hebrew Academy's 2006 rules (Doc 9303 has no Hebrew table): ב, כ, פ
// with dagesh b, k, p, else v, kh, f; ו with holam o, with shuruk u,
// else v; שׂ (sin dot) s; א and ע nothing. Niqqud is otherwise
// dropped, so this too is a consonant skeleton (hence hebrewNames).
func hebrewLetters(run []rune) string {
	var b strings.Builder
	for i, r := range run {
		var mark rune
		for j := i + 1; j < len(run) && unicode.IsMark(run[j]); j++ {
			if run[j] == 0x5BC || run[j] == 0x5B9 || run[j] == 0x5C2 {
				mark = run[j]
			}
		}
		switch {
		case unicode.IsMark(r):
		case mark == 0x5BC && strings.ContainsRune("בכךפף", r):
			b.WriteString(map[rune]string{'ב': "b", 'כ': "k", 'ך': "k", 'פ': "p", 'ף': "p"}[r])
		case r == 'ו' && mark == 0x5B9:
			b.WriteString("o")
		case r == 'ו' && mark == 0x5BC:
			b.WriteString("u")
		case r == 'ש' && mark == 0x5C2:
			b.WriteString("s")
		default:
			b.WriteString(hebrewTable[r])
		}
	}
	return b.String()
}

var hebrewTable = map[rune]string{
	'א': "", 'ב': "v", 'ג': "g", 'ד': "d", 'ה': "h", 'ו': "v", 'ז': "z",
	'ח': "kh", 'ט': "t", 'י': "y", 'כ': "kh", 'ך': "kh", 'ל': "l", 'מ': "m",
	'ם': "m", 'נ': "n", 'ן': "n", 'ס': "s", 'ע': "", 'פ': "f", 'ף': "f",
	'צ': "ts", 'ץ': "ts", 'ק': "k", 'ר': "r", 'ש': "sh", 'ת': "t",
}

// hebrewKey is word as a key of hebrewNames: marks dropped, final
// letters as the plain ones.
func hebrewKey(word []rune) string {
	var b strings.Builder
	for _, r := range word {
		if unicode.IsMark(r) {
			continue
		}
		switch r {
		case 'ך':
			r = 'כ'
		case 'ם':
			r = 'מ'
		case 'ן':
			r = 'נ'
		case 'ף':
			r = 'פ'
		case 'ץ':
			r = 'צ'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hebrewWord writes a word wholly in Hebrew script: its hebrewNames
// entry, else letter by letter.
func hebrewWord(word []rune) string {
	if s, ok := hebrewNames[hebrewKey(word)]; ok {
		return s
	}
	return hebrewLetters(word)
}

var hebrewNames = func() map[string]string {
	m := make(map[string]string, len(hebrewNameList)/2)
	for i := 0; i < len(hebrewNameList); i += 2 {
		m[hebrewKey([]rune(hebrewNameList[i]))] = hebrewNameList[i+1]
	}
	return m
}()

// hebrewNameList is common Hebrew given names and family names, and
// their common Latin spelling.
var hebrewNameList = []string{
	"דוד", "david", "משה", "moshe", "כהן", "cohen", "לוי", "levi",
	"יוסף", "yosef", "יצחק", "yitzhak", "אברהם", "avraham", "יעקב", "yakov",
	"שמואל", "shmuel", "שלמה", "shlomo", "אהרון", "aharon", "אהרן", "aharon",
	"בנימין", "binyamin", "דניאל", "daniel", "מיכאל", "michael", "גבריאל", "gavriel",
	"רפאל", "refael", "אליהו", "eliyahu", "יהודה", "yehuda", "מרדכי", "mordechai",
	"מנחם", "menachem", "חיים", "chaim", "נתן", "natan", "נחום", "nachum",
	"עמוס", "amos", "אריה", "arye", "צבי", "tzvi", "זאב", "zeev",
	"דב", "dov", "שמעון", "shimon", "ראובן", "reuven", "אשר", "asher",
	"גד", "gad", "דן", "dan", "נפתלי", "naftali", "ישראל", "yisrael",
	"עזרא", "ezra", "אליעזר", "eliezer", "אלעזר", "elazar", "יונתן", "yonatan",
	"יהונתן", "yehonatan", "אבי", "avi", "אורי", "uri", "רון", "ron",
	"גיל", "gil", "טל", "tal", "עומר", "omer", "נועם", "noam",
	"איתן", "eitan", "אסף", "asaf", "שרה", "sara", "רחל", "rachel",
	"רבקה", "rivka", "לאה", "lea", "מרים", "miriam", "אסתר", "ester",
	"חנה", "hana", "רות", "rut", "נעמי", "naomi", "דבורה", "dvora",
	"יעל", "yael", "תמר", "tamar", "מיכל", "michal", "שירה", "shira",
	"נועה", "noa", "בן", "ben", "בת", "bat",
	"כץ", "katz", "פרידמן", "fridman", "גולדברג", "goldberg", "פרץ", "peretz",
	"ביטון", "biton", "מזרחי", "mizrahi", "אזולאי", "azulay", "אברמוביץ", "abramovich",
	"שפירא", "shapira", "גרינברג", "grinberg", "רוזנברג", "rozenberg", "ויס", "weiss",
	"רבינוביץ", "rabinovich", "אשכנזי", "ashkenazi", "דהן", "dahan", "אוחיון", "ohayon",
	"חדד", "hadad", "נתניהו", "netanyahu", "שרון", "sharon", "ברק", "barak",
}
