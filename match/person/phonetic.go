package person

// nysiis returns the NYSIIS code of one name word. The word is already
// normalized: lower-case a-z only (another byte is copied through as a
// consonant, so nysiis never panics, but its code is then not a-z). The
// code is lower-case a-z, so it fits the key syntax of
// match/indicator/person.go (a-z, 0-9); nysiis("") is "", and any other
// word has a code of at least one letter.
//
// NYSIIS is the phonetic code of the New York State Identification and
// Intelligence System (R. L. Taft, "Name Search Techniques", New York
// State Identification and Intelligence System, Special Report No. 1,
// 1970). nysiis implements the original algorithm, as Taft's steps are
// commonly reproduced (Wikipedia's "New York State Identification and
// Intelligence System"; Apache Commons Codec's Nysiis; Rosetta Code's
// NYSIIS task), not the "modified NYSIIS" of later systems (which adds
// rules for WR, GHT, DG and others and puts an initial vowel back), nor
// the "improved" variants of commercial matchers. The steps, with
// letters written upper-case as in the sources:
//
//  1. If the name begins with MAC, change it to MCC; else KN to NN; else
//     K to C; else PH or PF to FF; else SCH to SSS (at most one of
//     these, tried in this order).
//  2. If the name (as changed by step 1) ends with EE or IE, change the
//     two letters to Y; else if it ends with DT, RT, RD, NT or ND, change
//     them to D. The name is one letter shorter.
//  3. The first letter of the code is the first letter of the name as
//     changed by steps 1 and 2 (KNIGHT starts with N, KORY with C).
//  4. Scan the name from its second letter to its end. At each position
//     the first rule that applies rewrites the name in place (later
//     positions see the rewritten letters, and "the preceding letter" is
//     the preceding position as rewritten):
//     a. EV becomes AF (both letters); any other vowel (A, E, I, O, U;
//     Y is not a vowel) becomes A.
//     b. Q becomes G, Z becomes S, M becomes N.
//     c. K becomes N if the next letter is N, else C.
//     d. SCH becomes SSS; PH becomes FF.
//     e. H becomes the preceding letter if the preceding or the next
//     letter is not a vowel (after the last letter there is none, which
//     is not a vowel).
//     f. W becomes the preceding letter if that is a vowel.
//     Otherwise the letter is kept.
//  5. The current letter (as rewritten) is appended to the code unless it
//     equals the code's last letter, so no letter repeats in the code.
//  6. Then, in this order and each once: if the code ends with S, drop
//     it; if it ends with AY, change that to Y; if it ends with A, drop
//     it. The three changes are not exclusive (WILLIS: WALAS, WALA,
//     WAL).
//
// Published implementations disagree on a few points; nysiis takes these
// positions:
//
//   - Q becomes G (Taft, Wikipedia, Commons Codec), not C; step 2
//     includes NT and ND; the name is not first cut to 9 letters; no
//     final S or Z is dropped before the scan. (The summary in Newcombe,
//     "Handbook of Record Linkage", 1988, pp. 181-183, has Q to C, no NT
//     or ND, a 9-letter cut and a final S or Z dropped.)
//   - EV becomes AF in both positions (Wikipedia: "change to 'AF'"); some
//     implementations change only the E and keep the V.
//   - The multi-letter rewrites of step 4 (EV, KN, SCH, PH) write the
//     later letters into the name and let the scan reach them, so that
//     step 5 collapses them: SCH adds one S to the code, not SS or SSS
//     (as Commons Codec does; jellyfish's test data has BAS for BOSCH,
//     where these steps give B).
//   - Step 6 never removes or replaces the code's first letter: the code
//     of S is S and of AS is A, not empty. Taft's steps do not say; an
//     empty code would merge every such name with every other.
//   - The code is not truncated. Taft's code kept 6 letters, to fit the
//     fixed-width records of 1970; every letter cut off merges more names
//     that differ (WESTERLUND and WESTERMAN share WASTAR, not WASTARLAD
//     and WASTARNAN). A key here has no width limit, and the loose match
//     is the job of the other keys, not of lost letters. Codes can be
//     compared with a truncated source on their first 6 letters.
//
// nysiis allocates only the returned string for words up to 32 letters:
// the name is rewritten in one buffer on the stack, and the code is
// written over the part of it already scanned (the code never outgrows
// the scan, and its last letter is always the preceding letter of the
// rewritten name).
func nysiis(word string) string {
	if word == "" {
		return ""
	}
	var stack [32]byte
	name := append(stack[:0], word...)

	// Step 1: the first letters.
	switch {
	case nysiisPrefix(name, "mac"):
		name[1] = 'c'
	case nysiisPrefix(name, "kn"):
		name[0] = 'n'
	case name[0] == 'k':
		name[0] = 'c'
	case nysiisPrefix(name, "ph"), nysiisPrefix(name, "pf"):
		name[0], name[1] = 'f', 'f'
	case nysiisPrefix(name, "sch"):
		name[1], name[2] = 's', 's'
	}

	// Step 2: the last letters.
	if n := len(name); n >= 2 {
		a, b := name[n-2], name[n-1]
		switch {
		case b == 'e' && (a == 'e' || a == 'i'):
			name[n-2], name = 'y', name[:n-1]
		case (b == 't' && (a == 'd' || a == 'r' || a == 'n')) ||
			(b == 'd' && (a == 'r' || a == 'n')):
			name[n-2], name = 'd', name[:n-1]
		}
	}

	// Steps 3 to 5. The code is name[:k]; k <= i, so the code only
	// overwrites positions already scanned. name[k-1] is the preceding
	// letter of step 4: it equals the rewritten name[i-1], whether that
	// was appended or skipped as a repeat.
	k := 1
	for i := 1; i < len(name); i++ {
		c, prev := name[i], name[k-1]
		var next, after byte // 0 past the end: not a vowel
		if i+1 < len(name) {
			next = name[i+1]
		}
		if i+2 < len(name) {
			after = name[i+2]
		}
		switch {
		case c == 'e' && next == 'v':
			c, name[i+1] = 'a', 'f'
		case nysiisVowel(c):
			c = 'a'
		case c == 'q':
			c = 'g'
		case c == 'z':
			c = 's'
		case c == 'm':
			c = 'n'
		case c == 'k':
			if next == 'n' {
				c = 'n'
			} else {
				c = 'c'
			}
		case c == 's' && next == 'c' && after == 'h':
			name[i+1], name[i+2] = 's', 's'
		case c == 'p' && next == 'h':
			c, name[i+1] = 'f', 'f'
		case c == 'h' && (!nysiisVowel(prev) || !nysiisVowel(next)):
			c = prev
		case c == 'w' && nysiisVowel(prev):
			c = prev
		}
		if c != prev {
			name[k] = c
			k++
		}
	}

	// Step 6, sparing the first letter.
	if k > 1 && name[k-1] == 's' {
		k--
	}
	if k > 2 && name[k-2] == 'a' && name[k-1] == 'y' {
		name[k-2] = 'y'
		k--
	}
	if k > 1 && name[k-1] == 'a' {
		k--
	}
	return string(name[:k])
}

// nysiisVowel reports whether c is a vowel for NYSIIS: a, e, i, o or u.
func nysiisVowel(c byte) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'
}

// nysiisPrefix reports whether name begins with p.
func nysiisPrefix(name []byte, p string) bool {
	return len(name) >= len(p) && string(name[:len(p)]) == p
}

// romanFold writes a word of a-z as the romanizations of one name meet:
// the spellings that different countries' systems give one sound become
// one, before NYSIIS codes it (which keeps the first letter and most
// consonants as written). In order:
//
//	x → ks; tsch, tch, ch → c; sch, sh → s; dzh, dj, zh → j;
//	kh, gh → h; ph → f; th → t; ck, q → k;
//	ts, tz → s; nd → nt; ng → g (Greek ντ and γγ);
//	c → s before e, i, y and k otherwise (after the steps above, c is only ч);
//	w, v → f; z → s; j, y → i; ou, oo → u; ei, ie → i; ae → e; oe → o; ue → u;
//	then each run of one letter is one letter.
//
// "Schewtschenko" and "Shevchenko", "Wolkowa" and "Volkova", "Tatjana"
// and "Tatyana", "Yassine" and "Yacine" fold alike.
func romanFold(w string) string {
	out := make([]byte, 0, len(w)+2)
	for i := 0; i < len(w); i++ {
		rest := w[i:]
		switch {
		case rest[0] == 'x':
			out = append(out, 'k', 's')
		case hasAny(rest, "tsch"):
			out, i = append(out, 'C'), i+3
		case hasAny(rest, "tch", "sch", "dzh"):
			out, i = append(out, map[byte]byte{'t': 'C', 's': 's', 'd': 'j'}[rest[0]]), i+2
		case hasAny(rest, "ch"):
			out, i = append(out, 'C'), i+1
		case hasAny(rest, "sh", "dj", "zh", "kh", "gh", "ph", "th", "ck"):
			out, i = append(out, map[byte]byte{'s': 's', 'd': 'j', 'z': 'j', 'k': 'h', 'g': 'h', 'p': 'f', 't': 't', 'c': 'k'}[rest[0]]), i+1
		case hasAny(rest, "ts", "tz"):
			out, i = append(out, 's'), i+1
		case hasAny(rest, "nd"):
			out, i = append(out, 'n', 't'), i+1
		case hasAny(rest, "ng"):
			out, i = append(out, 'g'), i+1
		case hasAny(rest, "ou", "oo", "ue"):
			out, i = append(out, 'u'), i+1
		case hasAny(rest, "ei", "ie"):
			out, i = append(out, 'i'), i+1
		case hasAny(rest, "ae"):
			out, i = append(out, 'e'), i+1
		case hasAny(rest, "oe"):
			out, i = append(out, 'o'), i+1
		case rest[0] == 'c':
			if len(rest) > 1 && (rest[1] == 'e' || rest[1] == 'i' || rest[1] == 'y') {
				out = append(out, 's')
			} else {
				out = append(out, 'k')
			}
		case rest[0] == 'q':
			out = append(out, 'k')
		case rest[0] == 'w' || rest[0] == 'v':
			out = append(out, 'f')
		case rest[0] == 'z':
			out = append(out, 's')
		case rest[0] == 'j' || rest[0] == 'y':
			out = append(out, 'i')
		default:
			out = append(out, rest[0])
		}
	}
	// ч became 'C' above, so that the c rule does not read it; it is
	// "ch" to NYSIIS.
	folded := make([]byte, 0, len(out)+2)
	for i, c := range out {
		if i > 0 && c == out[i-1] {
			continue
		}
		if c == 'C' {
			folded = append(folded, 'c', 'h')
			continue
		}
		folded = append(folded, c)
	}
	return string(folded)
}

// hasAny reports whether s starts with one of the prefixes.
func hasAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}
