package person

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// translitWords writes each space-separated word of s in scheme k, as
// normalizeName reads it (NFKC, one Cyrillic mode for all of s).
func translitWords(s string, k int) string {
	var words [][]rune
	for _, w := range strings.Fields(norm.NFKC.String(s)) {
		words = append(words, []rune(strings.ReplaceAll(w, "ʼ", "")))
	}
	mode := cyrillicMode(words)
	var out []string
	for _, w := range words {
		out = append(out, transliterate(w, mode)[k])
	}
	return strings.Join(out, " ")
}

// The tables of ICAO Doc 9303 Part 3 (8th edition, 2021), Section 6,
// Part B, Transliteration of Cyrillic characters, letter by letter.
func TestICAOCyrillicTable(t *testing.T) {
	russian := "А A Б B В V Г G Д D Е E Ё E Ж ZH З Z И I Й I К K Л L М M Н N О O П P Р R С S Т T У U Ф F Х KH Ц TS Ч CH Ш SH Щ SHCH Ъ IE Ы Y Э E Ю IU Я IA"
	ukrainian := "Г H Ґ G Є IE І I Ї I И Y" // with the letters Russian shares
	belarusian := "Г H Ё IO Ў U І I"
	for _, tc := range []struct {
		lang  string
		table string
		ctx   string // letters that put the word in the language's mode
	}{
		{"Russian", russian, ""},
		{"Ukrainian", ukrainian, "ї"},
		{"Belarusian", belarusian, "ў"},
	} {
		f := strings.Fields(tc.table)
		for i := 0; i < len(f); i += 2 {
			// The letter between two others, so that no word-initial or
			// word-final rule applies; ь is silent in every table.
			word := "ь" + strings.ToLower(f[i]) + "ь " + tc.ctx
			got := strings.Fields(translitWords(word, schemeICAO))[0]
			if want := strings.ToLower(f[i+1]); got != want && !(f[i] == "Ъ" && got == "ie") {
				t.Errorf("%s %s: got %q, want %q", tc.lang, f[i], got, want)
			}
		}
	}
	// The Russian letter ь is written as nothing (Part B, note).
	if got := translitWords("ь", schemeICAO); got != "" {
		t.Errorf("ь: got %q", got)
	}
}

func TestTransliterateExamples(t *testing.T) {
	for _, tc := range []struct {
		in     string
		scheme int
		want   string
	}{
		// A pangram holding every Russian letter, in ICAO (as the
		// Russian passport of 2013, which follows Doc 9303).
		{"Эй жлоб Где туз Прячь юных съёмщиц в шкаф", schemeICAO, "ei zhlob gde tuz priach iunykh sieemshchits v shkaf"},
		{"Москва Тверская улица", schemeICAO, "moskva tverskaia ulitsa"},
		{"Горбачёв Михаил Сергеевич", schemeICAO, "gorbachev mikhail sergeevich"},
		{"Горбачёв Михаил Сергеевич", schemeBGN, "gorbachov mikhail sergeyevich"}, // ё after ж ч ш щ: o
		{"Горбачёв Михаил Сергеевич", schemeEnglish, "gorbachov mikhail sergeyevich"},
		{"Горбачёв Михаил Сергеевич", schemeEnglishH, "gorbachov mihail sergeyevich"},
		{"Горбачёв Михаил Сергеевич", schemeGerman, "gorbatschow michail sergejewitsch"},
		{"Горбачёв Михаил Сергеевич", schemeFrench, "gorbatchov mikhail sergeevitch"},
		{"Хрущёв", schemeBGN, "khrushchov"},
		{"Елена Ёлкина", schemeBGN, "yelena yolkina"},
		{"Дмитрий Достоевский", schemeICAO, "dmitrii dostoevskii"},
		{"Дмитрий Достоевский", schemeBGN, "dmitriy dostoyevskiy"},
		{"Дмитрий Достоевский", schemeEnglish, "dmitry dostoyevsky"},
		{"Дмитрий Достоевский", schemeGerman, "dmitri dostojewski"},
		{"Джохар Дудаев", schemeEnglish, "jokhar dudayev"},
		{"Джохар Дудаев", schemeEnglishH, "johar dudayev"},
		{"Ленин Сталин", schemeFrench, "lenine staline"},
		{"Юрий Ющенко", schemeFrench, "iouri iouchtchenko"},
		// Ukrainian (mode from є, ї, і, ґ anywhere in the name).
		{"Віктор Ющенко", schemeICAO, "viktor iushchenko"},
		{"Віктор Ющенко", schemeBGN, "viktor yushchenko"},
		{"Андрій Григорович", schemeICAO, "andrii hryhorovych"},
		{"Андрій Григорович", schemeBGN, "andriy hryhorovych"},
		{"Марʼяна Їжакевич", schemeICAO, "mariana izhakevych"}, // the apostrophe is dropped by splitWords
		{"Марʼяна Їжакевич", schemeBGN, "maryana yizhakevych"},
		{"Пётр Фёдоров", schemeEnglish, "pyotr fyodorov"},
		// Belarusian.
		{"Аляксандр Лукашэнка", schemeICAO, "aliaksandr lukashenka"},
		{"Алёна Ўладзімір", schemeICAO, "aliona uladzimir"},
		// Greek, ELOT 743.
		{"Αθήνα", schemeICAO, "athina"},
		{"Ευάγγελος Ευστάθιος Παύλος", schemeICAO, "evangelos efstathios pavlos"},
		{"Μπάμπης Λάμπρος", schemeICAO, "bambis lambros"},
		{"Μπάμπης", schemeBGN, "mpampis"},
		{"προϋπόθεση Μαΐου", schemeICAO, "proypothesi maiou"},
		{"Γιώργος Χατζής", schemeICAO, "giorgos chatzis"},
		{"Γιώργος Χατζής", schemeEnglishH, "yiorgos hatzis"},
		{"Άγγελος Σπύρος Ψαράς Ξενοφών", schemeICAO, "angelos spyros psaras xenofon"},
		{"ΑΥΓΟΥΣΤΟΣ", schemeICAO, "avgoustos"},
		{"ευ", schemeICAO, "ef"},
		// Arabic: dictionary, article, letters (Doc 9303 Part 3,
		// Section 6, Part C, without the escape X).
		{"محمد أحمد علي", schemeICAO, "muhammad ahmad ali"},
		{"مُحَمَّد", schemeICAO, "muhammad"},
		{"الحسن", schemeICAO, "hasan"},
		{"عبدالله", schemeICAO, "abdullah"},
		{"ﻣﺤﻤﻮد", schemeICAO, "mahmud"}, // presentation forms, NFKC
		{"حسین", schemeICAO, "husayn"},  // Persian yeh
		{"بطرس", schemeICAO, "btrs"},    // not in the dictionary: letters
		{"الخطيب", schemeICAO, "khtyb"}, // article dropped
		{"شذى", schemeICAO, "shdha"},
		// Hebrew.
		{"דוד משה כהן לוי", schemeICAO, "david moshe cohen levi"},
		{"דָּוִד", schemeICAO, "david"},
		{"אברמוביץ", schemeICAO, "abramovich"},
		{"ברקוביץ", schemeICAO, "vrkvvyts"},   // not in the dictionary
		{"בּרקוֹביץ", schemeICAO, "brkovyts"}, // dagesh, holam
		{"שׂשׁ", schemeICAO, "ssh"},           // sin and shin dots
		// Latin.
		{"Müller Øre Œuvre Þór Łódź Đorđe İzmir Yıldız ß", schemeICAO, "muller ore oeuvre thor lodz dorde izmir yildiz ss"},
		{"Müller Øre Œuvre Þór Łódź Đorđe İzmir Yıldız ß", schemeBGN, "mueller oere oeuvre thor lodz dorde izmir yildiz ss"},
		{"Ångström Ñandú Çelik Ərdoğan", schemeICAO, "angstrom nandu celik erdogan"},
		{"ﬁnn ĳsbrand", schemeICAO, "finn ijsbrand"},
	} {
		if got := translitWords(tc.in, tc.scheme); got != tc.want {
			t.Errorf("%q in scheme %d: got %q, want %q", tc.in, tc.scheme, got, tc.want)
		}
	}
}

// A word with a letter of a script not transliterated is dropped whole.
func TestTransliterateOtherScripts(t *testing.T) {
	for _, w := range []string{"王", "Wang王", "김", "ราม", "राम", "Արամ", "გიორგი", "Иван王", "Ꙗ"} {
		if got := transliterate([]rune(norm.NFKC.String(w)), cyrRussian); got != (spellings{}) {
			t.Errorf("transliterate(%q) = %q, want nothing", w, got)
		}
	}
}

func TestCyrillicMode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cyrMode
	}{
		{"Иван Петров", cyrRussian},
		{"Олександр Шевченко", cyrRussian}, // nothing Ukrainian to see
		{"Євген", cyrUkrainian},
		{"Віктор", cyrUkrainian},
		{"Ґалаґан", cyrUkrainian},
		{"Їжак", cyrUkrainian},
		{"Ўладзімір", cyrBelarusian},
		{"Міхаіл Сымон", cyrBelarusian}, // і with ы
		{"Іван Петров", cyrUkrainian},
	} {
		var words [][]rune
		for _, w := range strings.Fields(tc.in) {
			words = append(words, []rune(w))
		}
		if got := cyrillicMode(words); got != tc.want {
			t.Errorf("cyrillicMode(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// Every dictionary entry is in the script it claims and writes a-z.
func TestNameDictionaries(t *testing.T) {
	for _, d := range []struct {
		list []string
		s    script
		m    map[string]string
	}{
		{arabicNameList, scriptArabic, arabicNames},
		{hebrewNameList, scriptHebrew, hebrewNames},
	} {
		if len(d.list)%2 != 0 {
			t.Fatal("odd list")
		}
		for i := 0; i < len(d.list); i += 2 {
			if wordScript([]rune(d.list[i])) != d.s || !isAZ(d.list[i+1]) {
				t.Errorf("entry %q → %q", d.list[i], d.list[i+1])
			}
		}
		if len(d.m) < len(d.list)/2-5 {
			t.Errorf("%d entries collide in %d keys", len(d.list)/2, len(d.m))
		}
	}
}
