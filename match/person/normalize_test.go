package person

import (
	"slices"
	"strings"
	"testing"
)

// shareForm reports whether a and b have a form in common.
func shareForm(a, b string) bool {
	fa, _ := normalizeName(a)
	fb, _ := normalizeName(b)
	for _, x := range fa {
		for _, y := range fb {
			if slices.Equal(x, y) {
				return true
			}
		}
	}
	return false
}

// The names of each group must meet: every one shares a form with the
// first.
func TestNormalizeNameMeets(t *testing.T) {
	groups := []struct {
		what  string
		names []string
	}{
		{"surname first, German expansion", []string{"Müller, Hans-Peter", "HANS PETER MUELLER", "Hans Peter Müller", "hans-peter muller"}},
		{"Russian, families and alternatives", []string{"Мухаммед Абдуллаев", "Mukhammed Abdullaev", "Muhammad Abdullayev", "MOHAMMED ABDULLAEV"}},
		{"Arabic dictionary and abd", []string{"محمد عبد الله", "Muhammad Abdullah", "Mohammed Abdallah", "Mohamed Abdulla", "محمد عبدالله", "مُحَمَّد عَبْد ٱللَّٰه"}},
		{"Arabic presentation forms", []string{"ﻣﺤﻤﻮد ﻋﺒﺪاﻟﺮﺣﻴﻢ", "محمود عبدالرحيم", "Mahmoud Abdel Rahim", "Mahmud Abd al-Rahim"}},
		{"Arabic article", []string{"حسين البغدادي", "Hussein al-Baghdadi", "Husayn Baghdadi"}},
		{"Persian letters", []string{"حسین رضا", "Hossein Reza", "حسين رضا"}},
		{"Hebrew", []string{"דוד כהן", "David Cohen", "David Kohen", "DAVID COHN", "דָּוִד כֹּהֵן"}},
		{"Hebrew final letters", []string{"מנחם", "Menachem", "Menahem"}},
		{"Ukrainian", []string{"Олександр Шевченко", "Oleksandr Shevchenko", "Aleksandr Shevchenko", "Alexander Shevchenko", "Olexandr Schewtschenko"}},
		{"Ukrainian г, и, є", []string{"Євген Григоренко", "Yevhen Hryhorenko", "Ievhen Hryhorenko", "Evgeny Hryhorenko"}},
		{"Belarusian", []string{"Аляксандр Лукашэнка", "Aliaksandr Lukashenka", "Alexander Lukashenka"}},
		{"Russian -sky and kh", []string{"Михаил Ходорковский", "Mikhail Khodorkovsky", "Mikhail Khodorkovskiy", "Mikhail Khodorkovskii", "Michail Chodorkowski", "Mihail Hodorkovsky"}},
		{"Russian ye, yo", []string{"Пётр Семёнов", "Pyotr Semyonov", "Petr Semenov", "Piotr Semionov"}},
		{"Russian ks, dzh", []string{"Максим Джабраилов", "Maxim Jabrailov", "Maksim Dzhabrailov"}},
		{"French", []string{"Владимир Путин", "Vladimir Poutine", "Vladimir Putin", "Wladimir Putin"}},
		{"particles", []string{"Ludwig van Beethoven", "Ludwig Beethoven", "BEETHOVEN, Ludwig van"}},
		{"glued particles", []string{"Abu Bakr al-Baghdadi", "Abubakr Albaghdadi"}},
		{"glued particles", []string{"Jan van der Meer", "Jan Vandermeer"}},
		{"glued particles", []string{"William O'Connor", "William OConnor"}},
		{"particles and article", []string{"Abu Bakr al-Baghdadi", "Abu Bakr Al Baghdadi", "Abubakar al Baghdadi", "أبو بكر البغدادي"}},
		{"honorifics", []string{"Sheikh Dr. Ayman al-Zawahiri", "Ayman Zawahiri", "أيمن الظواهري"}},
		{"bin", []string{"Usama bin Ladin", "Osama Bin Ladin", "أسامة بن لادن"}},
		{"abd compounds", []string{"Abd al-Rahman", "Abdul Rahman", "Abdurrahman", "Abdelrahman", "Abdirahman", "عبد الرحمن", "ABD-EL-RAHMAN"}},
		{"abd glued twice", []string{"Abd Ol Rahman", "Abdol Rahman", "Abdulrahman"}},
		{"abd glued twice (FuzzNormalizeName)", []string{"ABd0Ol0A", "abdol a", "Abdullah"}},
		{"Greek", []string{"Κωνσταντίνος Παπαδόπουλος", "Konstantinos Papadopoulos", "KONSTANTINOS PAPADOPOULOS"}},
		{"Greek αυ, ευ, γγ", []string{"Ευάγγελος Παύλου", "Evangelos Pavlou"}},
		{"Greek μπ, χ, γ", []string{"Χρήστος Μπακογιάννης", "Hristos Mpakoyiannis", "Christos Bakogiannis"}},
		{"Turkish İ, ı", []string{"İSMAİL YILDIZ", "İsmail Yıldız", "Ismail Yildiz", "ismail yıldız"}},
		{"ß and ẞ", []string{"Strauß", "STRAUẞ", "Strauss"}},
		{"full width (NFKD)", []string{"Ｍüｌｌｅｒ", "Müller", "MUELLER"}},
		{"combining marks", []string{"Mu\u0308ller", "Müller", "MUELLER"}},
		{"combining acute", []string{"Jose\u0301 Garci\u0301a", "José García", "Jose Garcia"}},
		{"Scandinavian", []string{"Søren Kierkegaard", "Soeren Kierkegaard", "Soren Kierkegaard"}},
		{"other Latin", []string{"Łukasz Żółć", "Lukasz Zolc"}},
		{"Icelandic", []string{"Björk Guðmundsdóttir", "Bjork Gudmundsdottir", "Bjoerk Gudmundsdottir"}},
		{"apostrophe and hyphen", []string{"O'Brien", "O Brien", "O’BRIEN", "o-brien"}},
		{"Ukrainian apostrophe", []string{"Мар'яна", "Мар’яна", "Mariana", "Maryana"}},
		{"digits and punctuation", []string{"John2 Smith!!", "John Smith", "  john   smith  "}},
		{"invalid UTF-8", []string{"Jo\xffhn", "Jo hn"}},
	}
	for _, g := range groups {
		for _, n := range g.names[1:] {
			if !shareForm(g.names[0], n) {
				f0, _ := normalizeName(g.names[0])
				fn, _ := normalizeName(n)
				t.Errorf("%s: %q %v and %q %v share no form", g.what, g.names[0], f0, n, fn)
			}
		}
	}
}

// Pairs that must not meet: the folds stay within what they claim.
func TestNormalizeNameApart(t *testing.T) {
	for _, p := range [][2]string{
		{"Ludwig van Beethoven", "Ludwig Mozart"},
		{"Hasan Ali", "Husayn Ali"},
		{"Muhammad Ali", "Mehmet Ali"},           // Mehmet is not in the Muhammad family
		{"Alexander Ivanov", "Alejandro Ivanov"}, // nor other languages' equivalents
		{"Sergei Ivanov", "Sergei Ivanova"},
		{"Mueller", "Muller"}, // the expansion is of ü, not of ue
		{"Иван Петров", "Ivan Petrova"},
		{"Ahmad Shah", "Ahmad"},
		{"王小明", "Wang Xiaoming"}, // Han is not transliterated
	} {
		if shareForm(p[0], p[1]) {
			f0, _ := normalizeName(p[0])
			f1, _ := normalizeName(p[1])
			t.Errorf("%q %v and %q %v share a form", p[0], f0, p[1], f1)
		}
	}
}

func TestNormalizeNameForms(t *testing.T) {
	for _, tc := range []struct {
		in    string
		forms string // forms joined by " / ", words by " "
	}{
		{"Müller, Hans-Peter", "hans peter muller / hans peter mueller"},
		{"HANS PETER MUELLER", "hans peter mueller"},
		{"Jürgen Müller", "jurgen muller / juergen mueller / juergen muller / jurgen mueller"},
		{"Мухаммед Абдуллаев", "muhammad abdulaev / muhammad abdulayev / muhammad abdulajew"},
		{"Иван Петров", "ivan petrov / iwan petrow / iwan petrov / ivan petrow"},
		{"محمد عبد الله", "muhammad abdullah"},
		{"דוד כהן", "david cohen"},
		{"Ευστάθιος", "efstathios"},
		{"Μπάμπης", "bambis / mpampis"},
		{"Ludwig van Beethoven", "ludwig beethoven / ludwig vanbeethoven"},
		{"Van Der", "van der"}, // only particles: kept
		{"Dr.", "dr"},          // only an honorific: kept
		{"Mr. van", "mr van"},  // likewise
		{"de la Cruz, María", "maria cruz / maria delacruz"},
		{"Smith, John, Jr.", "smith john"}, // two commas: written order
		{"Smith,", "smith"},
		{", Smith", "smith"},
		{"John 王 Smith", "john smith"},
		{"Abu", "abu"},
		{"Abd al", "abdal"},
		{"Abdi Abdou Abdel", "abdi abdou abdel"},
	} {
		forms, _ := normalizeName(tc.in)
		var got []string
		for _, f := range forms {
			got = append(got, strings.Join(f, " "))
		}
		if g := strings.Join(got, " / "); g != tc.forms {
			t.Errorf("normalizeName(%q) = %q, want %q", tc.in, g, tc.forms)
		}
	}
}

func TestNormalizeNameNoForm(t *testing.T) {
	for _, in := range []string{"", " ", "-- ,, ''", "123 456", "王小明", "김철수", "\xff\xfe", "\u0301\u0308", "ـــ", "\u200d", "ע"} {
		forms, truncated := normalizeName(in)
		if forms != nil || truncated {
			t.Errorf("normalizeName(%q) = %v, %v; want no form", in, forms, truncated)
		}
	}
}

func TestNormalizeNameBounds(t *testing.T) {
	// Many words, each with many spellings.
	var b strings.Builder
	for range 12 {
		b.WriteString("Хрущёв Щукин Джугашвили ")
	}
	forms, truncated := normalizeName(b.String())
	if !truncated || len(forms) != maxForms {
		t.Errorf("pathological name: %d forms, truncated %v; want %d, true", len(forms), truncated, maxForms)
	}
	for _, f := range forms {
		if len(f) != maxWords {
			t.Errorf("pathological name: form of %d words, want %d", len(f), maxWords)
		}
	}

	// Few words, but more distinct forms than maxForms.
	forms, truncated = normalizeName("Хрущёв Щукин Джугашвили Жуков Чайковский")
	if !truncated || len(forms) != maxForms {
		t.Errorf("five Russian words: %d forms, truncated %v; want %d, true", len(forms), truncated, maxForms)
	}

	// Nine words: the ninth is dropped.
	forms, truncated = normalizeName("a b c d e f g h i")
	if !truncated || len(forms) != 1 || strings.Join(forms[0], " ") != "a b c d e f g h" {
		t.Errorf("nine words: %v, %v", forms, truncated)
	}
	// Eight words and particles: nothing dropped; the particles dropped,
	// then glued to the next word.
	forms, truncated = normalizeName("a b c d van der e f g h")
	if truncated || len(forms) != 2 || strings.Join(forms[0], " ") != "a b c d e f g h" || strings.Join(forms[1], " ") != "a b c d vandere f g h" {
		t.Errorf("eight words and particles: %v, %v", forms, truncated)
	}

	// A long word is cut.
	long := strings.Repeat("x", 100)
	forms, truncated = normalizeName(long)
	if !truncated || len(forms) != 1 || forms[0][0] != long[:maxWordBytes] {
		t.Errorf("long word: %v, %v", forms, truncated)
	}

	// Only maxNameBytes bytes are read.
	name := "Smith " + strings.Repeat("-", maxNameBytes) + "Jones"
	forms, truncated = normalizeName(name)
	if !truncated || len(forms) != 1 || strings.Join(forms[0], " ") != "smith" {
		t.Errorf("long name: %v, %v", forms, truncated)
	}
	forms, truncated = normalizeName(name[:maxNameBytes])
	if truncated || len(forms) != 1 {
		t.Errorf("name of maxNameBytes: %v, %v", forms, truncated)
	}
	// Cut inside a rune: the broken rune separates.
	name = strings.Repeat(" ", maxNameBytes-3) + "abü"
	if forms, truncated = normalizeName(name); !truncated || strings.Join(forms[0], " ") != "ab" {
		t.Errorf("name cut in a rune: %v, %v", forms, truncated)
	}

	// Only maxRawWords words are read.
	name = strings.Repeat("de ", maxRawWords) + "Smith"
	if forms, truncated = normalizeName(name); !truncated || slices.Contains(forms[0], "smith") {
		t.Errorf("too many words: %v, %v", forms, truncated)
	}
}

// checkForms checks the invariants of normalizeName's result.
func checkForms(t *testing.T, in string, forms [][]string) {
	t.Helper()
	if len(forms) > maxForms {
		t.Fatalf("normalizeName(%q): %d forms", in, len(forms))
	}
	for i, f := range forms {
		if len(f) == 0 || len(f) > maxWords {
			t.Fatalf("normalizeName(%q): form %d has %d words", in, i, len(f))
		}
		for _, w := range f {
			if w == "" || len(w) > maxWordBytes {
				t.Fatalf("normalizeName(%q): word %q", in, w)
			}
			for j := range len(w) {
				if c := w[j]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
					t.Fatalf("normalizeName(%q): word %q", in, w)
				}
			}
		}
		for _, g := range forms[:i] {
			if slices.Equal(f, g) {
				t.Fatalf("normalizeName(%q): form %v twice", in, f)
			}
		}
	}
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{
		"Müller, Hans-Peter", "Мухаммед Абдуллаев", "محمد عبد الله", "דוד כהן",
		"Κωνσταντίνος Παπαδόπουλος", "Ευάγγελος Μπάμπης", "İsmail Yıldız", "Strauß",
		"Abu Bakr al-Baghdadi", "Abd al-Rahman bin Laden", "abd abu al", "abdullllah",
		"Мар'яна Євген", "Аляксандр Лукашэнка", "ﻣﺤﻤﻮد", "Ｍüller", "a,b,c", ",",
		"\xff", strings.Repeat("Щукин ", 20), "o'", "abdu ll ah", "abd rr",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		forms, truncated := normalizeName(s)
		checkForms(t, s, forms)
		again, tr2 := normalizeName(s)
		if !slices.EqualFunc(forms, again, slices.Equal) || truncated != tr2 {
			t.Fatalf("normalizeName(%q) is not deterministic", s)
		}
		for _, f := range forms {
			in := strings.Join(f, " ")
			re, _ := normalizeName(in)
			if len(re) == 0 || !slices.Equal(re[0], f) {
				t.Fatalf("normalizeName(%q) has form %q, whose primary form is %v", s, in, re)
			}
		}
	})
}

func BenchmarkNormalizeName(b *testing.B) {
	for _, n := range []string{"Hans-Peter Müller", "Михаил Сергеевич Горбачёв", "محمد عبد الله البغدادي"} {
		b.Run(n, func(b *testing.B) {
			for b.Loop() {
				normalizeName(n)
			}
		})
	}
}

// An invalid byte separates words wherever it is: golang.org/x/text's
// NFKC left a character after an invalid byte unnormalized at the end of
// its input, so "A\xf2ϔ" had the form [a] and "A\xf2ϔ 0" [a y] (found by
// FuzzKeys: the parts of a name swapped made different keys).
func TestNormalizeInvalidUTF8(t *testing.T) {
	want, _ := normalizeName("A ϔ")
	if len(want) == 0 || !slices.Equal(want[0], []string{"a", "y"}) {
		t.Fatalf("normalizeName(\"A ϔ\") = %v", want)
	}
	for _, s := range []string{"A\xf2ϔ", "A\xf2ϔ 0", "A\xf2\xf2ϔ", "A\xffϔ,"} {
		got, _ := normalizeName(s)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("normalizeName(%q) = %v, want %v", s, got, want)
		}
	}
}
