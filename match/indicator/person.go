package indicator

// The person match keys of package match/person, version 1: each rule of
// that package is a kind of its own, so that keys of different rules
// never meet, and a change of the rules is a new version (new kinds) that
// can be published beside the old one. Their values are made by package
// person; this package only checks their syntax: one or more fields
// separated by '|', each one or more words of a-z and 0-9 separated by
// one space, nothing removed or mapped (PROTOCOL.md section 4.13).
//
// Reason codes: `person.empty`, `person.chars`, `person.empty-word`.
var (
	PersonNameDOB     = register("person-v1-name-dob", canonicalPersonKey)
	PersonPairDOB     = register("person-v1-pair-dob", canonicalPersonKey)
	PersonPhoneticDOB = register("person-v1-phon-dob", canonicalPersonKey)
	PersonNameYear    = register("person-v1-name-year", canonicalPersonKey)
	PersonPhonYear    = register("person-v1-phon-year", canonicalPersonKey)
	PersonName        = register("person-v1-name", canonicalPersonKey)

	// PersonDocument is the key of a person's travel or identity
	// document, in the canonical form of [Document].
	//
	// Reason codes: `country.format`, `country.unknown`, `document.chars`,
	// `document.length`.
	PersonDocument = register("person-v1-doc", func(s string) (string, error) {
		return countryAndNumber(s, documentNumber)
	})
)

// canonicalPersonKey checks the syntax of a person key's value: fields
// separated by '|', each one or more words of a-z and 0-9 separated by
// one space. Keys are made canonical by package person; a value that is
// not in this form was not made by it.
func canonicalPersonKey(s string) (string, error) {
	if s == "" {
		return "", fail("person.empty", "person key is empty")
	}
	field := 0 // bytes in the current word
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			field++
		case c == ' ' || c == '|':
			if field == 0 {
				return "", fail("person.empty-word", "person key has an empty word or field")
			}
			field = 0
		default:
			return "", fail("person.chars", "person key has a character other than a-z, 0-9, ' ' and '|'")
		}
	}
	if field == 0 {
		return "", fail("person.empty-word", "person key has an empty word or field")
	}
	return s, nil
}
