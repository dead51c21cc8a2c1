package person

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// A Strength says how much a matched key tells: a strong key is about as
// specific as a person gets (a document, or a name and a full date of
// birth); a medium one tolerates spelling (phonetic codes) and is rarely
// shared by two people; a weak one (a name and a year, or a name alone)
// is shared by namesakes and needs an analyst's judgement.
type Strength int

// The strengths, weakest first. Do not reorder.
const (
	Weak Strength = iota + 1
	Medium
	Strong
)

func (s Strength) String() string {
	switch s {
	case Weak:
		return "weak"
	case Medium:
		return "medium"
	case Strong:
		return "strong"
	}
	return "Strength(" + strconv.Itoa(int(s)) + ")"
}

// A Rule is one way of making a match key from a record, and the kind
// its keys have.
type Rule struct {
	Kind     *indicator.Kind
	Strength Strength
	// Tolerates says in a few words what variation between two
	// records of the same person the rule absorbs.
	Tolerates string
}

// The rules of version 1, in the order keys are made (and kept, when a
// record has more keys than MaxKeys): strongest first.
var (
	RuleDocument    = Rule{indicator.PersonDocument, Strong, "anything but the document number and its issuer"}
	RuleNameDOB     = Rule{indicator.PersonNameDOB, Strong, "word order, case, diacritics, punctuation, particles, transliteration"}
	RulePairDOB     = Rule{indicator.PersonPairDOB, Strong, "as name-dob, and missing or extra names"}
	RulePhoneticDOB = Rule{indicator.PersonPhoneticDOB, Medium, "as pair-dob, and spellings that sound alike"}
	RuleNameYear    = Rule{indicator.PersonNameYear, Weak, "as name-dob, and a year where the other record has a full date"}
	RulePhonYear    = Rule{indicator.PersonPhonYear, Weak, "as name-year, and spellings that sound alike"}
	RuleName        = Rule{indicator.PersonName, Weak, "as name-dob, where one record has no date of birth"}
)

var rules = []Rule{RuleDocument, RuleNameDOB, RulePairDOB, RulePhoneticDOB, RuleNameYear, RulePhonYear, RuleName}

// Rules returns the rules of version 1, strongest first.
func Rules() []Rule { return slices.Clone(rules) }

// RuleOf returns the rule whose kind is k.
func RuleOf(k *indicator.Kind) (Rule, bool) {
	if i := slices.IndexFunc(rules, func(r Rule) bool { return r.Kind == k }); i >= 0 {
		return rules[i], true
	}
	return Rule{}, false
}

// ruleIndex is r's place in rules.
func ruleIndex(r Rule) int {
	return slices.IndexFunc(rules, func(x Rule) bool { return x.Kind == r.Kind })
}

// MaxKeys is the largest number of keys a record makes; past it, the
// weakest keys are left out (Keys reports how many). A record of ordinary
// names makes 5 to 30.
const MaxKeys = 64

// maxPairWords is how many distinct words of a form the pair keys use.
const maxPairWords = 5

// A Key is one match key of a record: an indicator of the rule's kind.
type Key struct {
	Rule      Rule
	Indicator indicator.Indicator
}

// ErrNoName is returned for a record with no name that normalization
// keeps a word of.
var ErrNoName = errors.New("person: record has no name with a word of a transliterated script")

// Role is the side a record's keys are made for: the keys a publisher
// publishes and those a querier queries differ for records with partial
// dates of birth (see the package documentation).
type Role int

const (
	Publisher Role = iota + 1
	Querier
)

// KeyInfo says what Keys left out.
type KeyInfo struct {
	Forms, Dropped int // name forms used; keys left out past MaxKeys
	FormsTruncated bool
}

// Keys returns the match keys of rec for role, strongest first, without
// repeats, at most MaxKeys. Its errors name the field that was wrong,
// never its value.
func Keys(rec Record, role Role) ([]Key, KeyInfo, error) {
	var info KeyInfo
	if role != Publisher && role != Querier {
		return nil, info, errors.New("person: role must be Publisher or Querier")
	}
	if err := rec.Birth.check(); err != nil {
		return nil, info, err
	}
	forms, truncated := recordForms(rec)
	info.Forms, info.FormsTruncated = len(forms), truncated
	docs, err := documentKeys(rec.Documents)
	if err != nil {
		return nil, info, err
	}
	if len(forms) == 0 && len(docs) == 0 {
		return nil, info, ErrNoName
	}
	b := keyBuilder{seen: map[string]bool{}}
	for _, d := range docs {
		b.add(RuleDocument, d)
	}
	// The words of each form, sorted and without repeats: name keys do not
	// depend on the order names are written in.
	sorted := make([][]string, len(forms))
	for i, f := range forms {
		sorted[i] = slices.Compact(slices.Sorted(slices.Values(f)))
	}
	var phon [][]string // the phonetic forms, for records with a date
	if rec.Birth.Year != 0 {
		phon = phoneticForms(sorted)
	}
	birth := rec.Birth
	switch {
	case birth.Full():
		d := fmt.Sprintf("%04d%02d%02d", birth.Year, birth.Month, birth.Day)
		for _, w := range sorted {
			b.add(RuleNameDOB, join(w)+"|"+d)
		}
		for _, w := range sorted {
			for _, p := range pairs(w) {
				b.add(RulePairDOB, p+"|"+d)
			}
		}
		for _, w := range phon {
			for _, p := range pairs(w) {
				b.add(RulePhoneticDOB, p+"|"+d)
			}
		}
		// A full date meets a year on the other side: the querier asks
		// for the year keys of publishers' records that have only the
		// year ("y"); a publisher offers its year keys to queriers whose
		// records have only the year ("f"). Two full dates that differ
		// never meet on a year key.
		yearKeys(&b, sorted, phon, []int{birth.Year}, map[Role]string{Querier: "y", Publisher: "f"}[role])
		if role == Querier {
			b.nameOnly(sorted, "n")
		} else {
			b.nameOnly(sorted, "d")
		}
	case birth.Year != 0:
		years := []int{birth.Year}
		for y := birth.Year + 1; y <= birth.ToYear; y++ {
			years = append(years, y)
		}
		yearKeys(&b, sorted, phon, years, "y")
		if role == Querier {
			yearKeys(&b, sorted, phon, years, "f")
			b.nameOnly(sorted, "n")
		} else {
			b.nameOnly(sorted, "d")
		}
	default:
		// No date of birth: only the name, which meets every record of
		// that name whatever its date. The querier asks for both.
		b.nameOnly(sorted, "n")
		if role == Querier {
			b.nameOnly(sorted, "d")
		}
	}
	// Strongest first; past MaxKeys, the weakest are left out.
	slices.SortStableFunc(b.keys, func(x, y Key) int { return ruleIndex(x.Rule) - ruleIndex(y.Rule) })
	if len(b.keys) > MaxKeys {
		info.Dropped = len(b.keys) - MaxKeys
		b.keys = b.keys[:MaxKeys:MaxKeys]
	}
	return b.keys, info, nil
}

// yearKeys adds the year keys of each year, marked with side.
func yearKeys(b *keyBuilder, sorted, phon [][]string, years []int, side string) {
	for _, y := range years {
		s := fmt.Sprintf("|%04d|%s", y, side)
		for _, w := range sorted {
			for _, p := range pairs(w) {
				b.add(RuleNameYear, p+s)
			}
		}
		for _, w := range phon {
			for _, p := range pairs(w) {
				b.add(RulePhonYear, p+s)
			}
		}
	}
}

// keyBuilder collects keys without repeats.
type keyBuilder struct {
	keys []Key
	seen map[string]bool
}

func (b *keyBuilder) add(r Rule, value string) {
	id := r.Kind.Name() + ":" + value
	if b.seen[id] {
		return
	}
	b.seen[id] = true
	ind, err := indicator.New(r.Kind, value)
	if err != nil {
		// The values made here always have the key syntax.
		panic("person: key of the wrong syntax: " + err.Error())
	}
	b.keys = append(b.keys, Key{r, ind})
}

// nameOnly adds the name keys, marked with side: "d" for a record with a
// date of birth, "n" for one without.
func (b *keyBuilder) nameOnly(sorted [][]string, side string) {
	for _, w := range sorted {
		b.add(RuleName, join(w)+"|"+side)
	}
}

// pairs returns the pairs of the first maxPairWords words of sorted
// words, each "a b"; a name of one word is its own pair.
func pairs(w []string) []string {
	w = w[:min(len(w), maxPairWords)]
	if len(w) == 1 {
		return []string{w[0]}
	}
	var out []string
	for i := range w {
		for j := i + 1; j < len(w); j++ {
			out = append(out, w[i]+" "+w[j])
		}
	}
	return out
}

// phoneticForms returns the forms' words folded (romanFold) and coded by NYSIIS, sorted,
// without repeats, and without forms that code the same.
func phoneticForms(sorted [][]string) [][]string {
	var out [][]string
	for _, w := range sorted {
		codes := make([]string, 0, len(w))
		for _, x := range w {
			if c := nysiis(romanFold(x)); c != "" {
				codes = append(codes, c)
			}
		}
		codes = slices.Compact(slices.Sorted(slices.Values(codes)))
		if len(codes) > 0 && !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, codes) }) {
			out = append(out, codes)
		}
	}
	return out
}

func join(w []string) string { return strings.Join(w, " ") }

// recordForms returns the name forms of a record: of Name, or of its parts
// (the given names and patronymic, then the surname).
func recordForms(rec Record) ([][]string, bool) {
	name := rec.Name
	if name == "" {
		name = strings.Join(slices.DeleteFunc([]string{rec.Given, rec.Patronymic, rec.Surname}, func(s string) bool { return strings.TrimSpace(s) == "" }), " ")
	}
	return normalizeName(name)
}

// MaxDocuments is the most documents a record may have.
const MaxDocuments = 16

// documentKeys returns the canonical "ISS:NUMBER" of each document.
func documentKeys(docs []Document) ([]string, error) {
	if len(docs) > MaxDocuments {
		return nil, fmt.Errorf("person: %d documents, more than %d", len(docs), MaxDocuments)
	}
	var out []string
	for i, d := range docs {
		if d.Number == "" && d.Country == "" {
			continue
		}
		if d.Country == "" {
			return nil, fmt.Errorf("person: document %d has no issuing country", i+1)
		}
		ind, err := indicator.New(indicator.PersonDocument, d.Country+":"+d.Number)
		if err != nil {
			var ie *indicator.Error
			if errors.As(err, &ie) {
				return nil, fmt.Errorf("person: document %d: %s", i+1, ie.Reason)
			}
			return nil, fmt.Errorf("person: document %d is invalid", i+1)
		}
		out = append(out, ind.Value())
	}
	return out, nil
}
