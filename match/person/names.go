package person

import "strings"

// particles are the words dropped from a name when they stand alone
// (rule 8 of normalize.go): nobiliary and patronymic particles and the Arabic article.
// Glued forms ("Vandermeer", "Albaghdadi", "MacDonald", "McCain",
// "O'Brien" is two words, "o" is kept) are not touched.
var particles = set(
	"van", "von", "vom", "zu", "ter", "ten", "de", "der", "den", "des", "del",
	"della", "dello", "di", "da", "do", "dos", "das", "du", "la", "le", "lo",
	"al", "el", "bin", "ibn", "bint", "ben", "bat", "ould",
)

// honorifics are titles, ranks and suffixes dropped from a name when
// they stand alone (rule 8).
var honorifics = set(
	"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "lord", "lady",
	"herr", "frau", "mme", "mlle", "jr", "sr", "ii", "iii",
	"sheikh", "shaykh", "shaikh", "sheik", "cheikh", "haji", "hajji", "hadji",
	"hajj", "hadj", "alhaji", "alhaj", "elhadj", "elhadji", "sayyid", "sayyed",
	"imam", "mullah", "mulla", "mawlana", "maulana", "maulvi", "ayatollah",
	"hojatoleslam", "emir", "rabbi", "rav",
	"gen", "general", "col", "colonel", "capt", "captain", "lt", "sgt", "rev",
)

// glueNext are the words joined to the next word (rule 7): "Abd" and
// its spellings, which begin a compound name ("Abd al-Rahman",
// "Abdul Rahman", "Abdurrahman" are one name), and "Abu" ("Abu Bakr",
// "Abubakar"). An article standing between them and the next word is
// dropped.
var glueNext = set("abd", "abdul", "abdel", "abdal", "abdol", "abdoul", "abdur", "abdus", "abu", "abou")

// articles are the spellings of the Arabic article, assimilated or not,
// dropped between a glueNext word and the next.
var articles = set("al", "el", "ul", "ar", "as", "ash", "ad", "an", "at", "az", "ath", "adh")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// canonAbd writes a word beginning "abd" and a name after it in one
// way, "abdul" and the name (rule 7): after "abd" it drops one vowel
// ("ou", "oo", "u", "e", "a", "o", "i"), then every "l", then a
// doubled consonant (the article's assimilation: "abdurrahman"); what
// remains is the name, and if it is a spelling of Allah ("ah", "a",
// "ahi", "o", "oh") the word is "abdullah". A word with nothing after
// the vowel and the l's ("abdi", "abdou", "abdel") is kept as it is.
// So abdulrahman, abdelrahman, abd al rahman, abdurrahman and
// abdirahman are all "abdulrahman"; abdullah, abdallah, abdulla,
// abdoulaye (Abdoulaye, see families), abdullahi, abdollah are all
// "abdullah". canonAbd is idempotent.
func canonAbd(w string) string {
	s, ok := strings.CutPrefix(w, "abd")
	if !ok {
		return w
	}
	for _, v := range []string{"ou", "oo", "u", "e", "a", "o", "i"} {
		if t, ok := strings.CutPrefix(s, v); ok {
			s = t
			break
		}
	}
	s = strings.TrimLeft(s, "l")
	for len(s) >= 2 && s[0] == s[1] && !strings.ContainsRune("aeiou", rune(s[0])) {
		s = s[1:]
	}
	switch s {
	case "":
		return w
	case "ah", "a", "ahi", "o", "oh":
		return "abdullah"
	}
	return "abdul" + s
}

// familyOf maps a word to the representative of its name family (rule
// 9), if it is in one. Built from families.
var familyOf = func() map[string]string {
	m := make(map[string]string)
	for _, f := range families {
		for _, w := range f {
			m[w] = f[0]
		}
	}
	return m
}()

// families are variant spellings of very frequent names, each folded
// to its first (rule 9). A family folds only whole words, after
// canonAbd; it makes two different spellings one only within a family
// (so it may join two names people hold apart, like Ukrainian Oleksandr
// and Russian Aleksandr, or Hebrew Cohen and German Kohn: they are
// treated as the same name, as watchlists do). Cross-language
// equivalents (Alejandro, Giuseppe, Mehmet) are not included: they are
// different names.
var families = [][]string{
	// Arabic and Islamic names, as romanized from Arabic, Persian,
	// Turkish, Russian and French.
	{"muhammad", "mohammed", "mohammad", "mohamed", "muhammed", "mukhammed", "mukhammad",
		"muhamad", "mohamad", "muhamed", "mohamud", "mohammod", "mahammad", "magomed",
		"mokhammed", "mukhamed", "mouhamed", "mouhammad", "mohd", "muhammet", "mukhamad", "muchammed", "moukhammed", "mouhammed"},
	{"ahmad", "ahmed", "akhmed", "akhmad", "achmed", "ahmet", "ahmat", "akhmat"},
	{"husayn", "hussein", "husein", "hussain", "husain", "hussayn", "khusein", "khusain",
		"huseyn", "huseyin", "hossein", "hosein", "hussien", "khuseyn", "houssein"},
	{"hasan", "hassan", "khasan", "hassane", "hasen"},
	{"yusuf", "yousef", "youssef", "yusup", "iusuf", "yousuf", "yussuf", "yusef", "iusup",
		"jusuf", "youssouf", "yousof", "yusif"},
	{"abdullah", "abdulaye"},
	{"abdulrahman", "abdulrakhman", "abdulrehman", "abdulrahmane", "abdulrakhmon"},
	{"ibrahim", "ibragim", "ebrahim", "ibraheem", "ibrohim", "brahim", "ibrahima", "ibrakhim"},
	{"ismail", "ismael", "esmail", "ismoil", "ismayil", "ismoyil"},
	{"umar", "omar", "omer", "oumar", "umer", "oemer"},
	{"uthman", "othman", "osman", "usman", "usmon", "otman", "osmane", "usmane"},
	{"abubakr", "abubakar", "abubaker", "aboubakr", "aboubacar", "abubakir", "abubakari", "aboubakar"},
	{"khalid", "khaled", "halid", "khaleed", "chaled", "haled"},
	{"mustafa", "mustapha", "moustafa", "mostafa", "mustefa", "moustapha", "mustofa"},
	{"mahmud", "mahmoud", "mahmood", "makhmud", "mehmood", "mahmut"},
	{"hamid", "hameed", "hamed", "khamid"},
	{"rashid", "rasheed", "rachid", "rashed", "rachide"},
	{"said", "saeed", "saed", "saeid", "saiid"},
	{"jamal", "gamal", "djamal", "dzhamal", "jamaal", "djamel", "jamel"},
	{"jafar", "jaafar", "djafar", "dzhafar", "jafer", "jaffar"},
	{"qasim", "kasim", "qassim", "kassem", "qasem", "kasem", "gasim", "kassim"},
	{"salih", "saleh", "salikh"},
	{"faisal", "faysal", "feisal", "faycal", "faisel", "feysal"},
	{"nasir", "nasser", "naser", "nassir", "nacer"},
	{"tariq", "tarik", "tareq", "tarek"},
	{"zakariya", "zakaria", "zakariyya", "zakariah", "zakarya", "zakariyo"},
	{"yahya", "yahia", "yehia", "yahyo", "yakhya"},
	{"isa", "issa", "eisa"},
	{"musa", "moussa", "mousa", "mussa"},
	{"sulayman", "suleiman", "sulaiman", "suleyman", "soliman", "sulejman", "souleymane", "sulaymon", "suleymane"},
	{"usama", "osama", "ousama", "oussama", "ussama"},
	{"hamza", "hamzah", "hamzeh", "khamza"},
	{"mansur", "mansour", "mansoor"},
	{"yaqub", "yakub", "yacoub", "yaqoob", "yakoub", "yaqoub"},
	{"dawud", "daoud", "dawood", "davud", "daud", "dawoud"},
	{"fatima", "fatma", "fatimah", "fatemeh", "fatime"},
	{"aisha", "aysha", "aicha", "ayesha", "aishah"},
	{"khadija", "khadijah", "hadija", "khadidja"},
	{"rida", "reza", "ridha", "redha"},
	// Russian, Ukrainian and Belarusian names, in the schemes of
	// translit.go and their usual English and German spellings.
	{"alexander", "aleksandr", "aleksander", "oleksandr", "alexandr", "aleksandar",
		"olexandr", "aliaksandr", "alyaksandr", "alexandre"},
	{"sergei", "sergey", "serhii", "serhiy", "sergej", "serguei", "sergii", "sergiy", "siarhei", "syarhey"},
	{"dmitry", "dmitri", "dmitrii", "dmytro", "dmitriy", "dimitri", "dmitrij"},
	{"evgeny", "yevgeny", "evgenii", "yevhen", "evgeniy", "yevgeniy", "jewgeni", "evgueni",
		"ievgen", "yevgen", "ievhen", "yauhen", "iauhen", "evgenij", "evgeni", "yevgeni"},
	{"mikhail", "mihail", "michail", "mykhailo", "mikhailo", "mikhal", "mikhaylo"},
	{"aleksei", "alexei", "alexey", "aleksey", "oleksii", "oleksiy", "aliaksei", "alexej", "alekseii", "aleksej"},
	{"andrei", "andrey", "andrii", "andriy", "andrej", "andrij"},
	{"yuri", "yury", "yurii", "iurii", "jurij", "yuriy", "youri", "juri"},
	{"nikolai", "nikolay", "mykola", "nikolaj", "mikalai"},
	{"vyacheslav", "viacheslav", "wjatscheslaw", "viatcheslav"},
	{"vasily", "vasilii", "vasiliy", "vasyl", "wassili", "vassili", "vasili", "vasilij"},
	{"anatoly", "anatolii", "anatoliy", "anatolij", "anatoli"},
	{"gennady", "gennadii", "gennadiy", "hennadii", "gennadij", "guennadi", "gennadi"},
	{"valery", "valerii", "valeriy", "valerij", "valeri"},
	{"vitaly", "vitalii", "vitaliy", "vitalij", "vitali"},
	{"grigory", "grigorii", "grigoriy", "hryhorii", "hryhoriy", "grigorij", "grigori"},
	{"petr", "pyotr", "piotr", "petro", "pjotr"},
	{"fedor", "fyodor", "fiodor", "fjodor", "fedir"},
	{"ilya", "ilia", "illia", "ilja"},
	{"maxim", "maksim", "maksym"},
	{"yakov", "iakov", "jakow", "yakiv", "yaakov", "yaacov"},
	{"elena", "yelena", "olena", "jelena"},
	{"ekaterina", "yekaterina", "kateryna", "jekaterina"},
	{"natalia", "natalya", "nataliia", "natalija", "nataliya", "natalja"},
	{"tatiana", "tatyana", "tetiana", "tatjana"},
	{"yulia", "yuliya", "iuliia", "julia", "iulia", "yuliia", "julija"},
	{"olga", "olha"},
	// Hebrew names.
	{"david", "dawid", "dovid", "davyd"},
	{"cohen", "kohen", "cohn", "kohn"},
	{"levi", "levy", "lewi"},
	{"moshe", "moishe", "mosheh"},
	{"yosef", "yossef", "iosif"},
	{"yitzhak", "itzhak", "yitzchak", "itzchak", "yitshak", "itshak"},
	{"avraham", "avrohom", "avrom"},
	{"shmuel", "shmul", "schmuel"},
	{"chaim", "haim", "khaim", "hayim", "chayim"},
	{"menachem", "menahem", "menakhem"},
	{"mordechai", "mordecai", "mordekhai"},
	{"yehuda", "yehudah"},
	{"shlomo", "schlomo"},
	{"yisrael", "israel", "izrail"},
	{"eliyahu", "eliahu"},
	{"binyamin", "biniamin", "benyamin"},
	{"katz", "kats"},
	// Greek names, in the schemes of translit.go.
	{"georgios", "yeoryios", "georgious"},
	{"giorgos", "yiorgos", "yorgos"},
	{"konstantinos", "constantinos", "kostantinos"},
	{"ioannis", "ioanis", "yoannis"},
	{"dimitrios", "demetrios", "dhimitrios"},
	{"christos", "hristos", "khristos"},
	{"nikolaos", "nicolaos"},
}
