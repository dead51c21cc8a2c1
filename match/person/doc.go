// Package person matches people. It turns a person record into several
// exact match keys, each an indicator of a kind of its own, so that two
// agencies that write the same person differently still meet on at least
// one key, while the OPRF of package match stays exact. A record is a name
// as written in any of several scripts, a date of birth as precise as the
// source gives it, a nationality and documents.
//
// This is privacy-preserving record linkage in the spirit of FIU.net
// Ma³tch and Prüm's hit/no-hit model. No fuzzy comparison of plaintext
// crosses a border. Every tolerance is built into the keys, which both
// sides make the same deterministic way.
//
//	pubEntries, _ := person.Entries(records)         // agency A publishes them with match.Publish
//	q, _ := person.NewQuery(myRecords)                // agency B queries q.Indicators()
//	hits := q.Hits(matchHits)                         // B's records that matched, with labels and rules
//
// # Names
//
// A name is normalized into up to 8 forms, each a list of words of a-z.
// The steps, in order:
//   - Unicode NFKD, then removal of combining marks, then case folding.
//   - German expansions (ü → ue) as a second form beside ü → u.
//   - Transliteration of Cyrillic, Greek, Arabic and Hebrew by the ICAO
//     Doc 9303 tables, with the alternative romanizations other countries'
//     records use (kh/h, ye/e, yu/iu, ya/ia, j/dzh) as further forms, and
//     dictionaries of common Arabic and Hebrew names.
//   - Name families folded to one word: Muhammad, Mohammed and Mukhammed
//     are one name, as are Yusuf, Yousef and Youssef.
//   - Particles and honorifics dropped: van, von, de, al, bin, ibn, abu, Mr,
//     Dr and the rest.
//   - Punctuation and hyphens read as spaces.
//
// "SURNAME, Given" and "Given SURNAME" give the same keys, because name
// keys sort their words. normalize.go states every rule.
//
// # Keys, version 1
//
// Each rule is a kind. A change of rules is a new version (new kinds) that
// can be published beside the old one, so two agencies match only when
// they make keys the same way. In the table, "words" means a form's words
// sorted and without repeats, "pairs" means every pair of its first five
// words, and "phonetic" means the same words coded by NYSIIS.
//
//	kind                 value                              strength  tolerates
//	person-v1-doc        ISS:NUMBER (ICAO issuer, number)   strong    everything but the document
//	person-v1-name-dob   words | YYYYMMDD                   strong    order, case, diacritics, script, particles
//	person-v1-pair-dob   a pair of words | YYYYMMDD         strong    also missing or extra names
//	person-v1-phon-dob   a pair of phonetic codes | date    medium    also spellings that sound alike
//	person-v1-name-year  words | YYYY | side                weak      a year where the other has a full date
//	person-v1-phon-year  phonetic words | YYYY | side       weak      as name-year, and spellings
//	person-v1-name       words | side                       weak      one record without a date of birth
//
// The weak keys make a publisher's keys differ from a querier's (Role).
// Each weak key carries a side mark, so that two records meet on it only
// when one of them lacks the precision the other has:
//   - A record with a full date of birth publishes its year keys marked
//     "f" and queries year keys marked "y".
//   - A record with only a year (or a year and month, or a range of up to
//     10 years) publishes "y" and queries both.
//   - The name key is published as "d" (dated) or "n" (no date). A dated
//     record queries "n" only; an undated one queries both.
//
// Two records with different full dates of birth therefore never meet,
// not even on a weak key. A record with a full date meets one that has
// only the year on the year keys. A record without a date meets every
// record of its name, and such a hit says so (weak).
//
// # Bounds
//
// A record makes at most MaxKeys keys, strongest first; past the bound
// the weakest are left out, and Keys reports how many. A record with
// ordinary names makes 5 to 30 keys. Names keep 8 forms of 8 words.
// A record has at most MaxDocuments documents, and a range of birth years
// spans at most MaxBirthRange years. Entries keeps at most
// match.MaxRepeats records per key, the first ones, and counts the rest.
//
// # Counting
//
// A count (cardinality-only matching, match.Querier.BlindCount) is the
// number of distinct indicators of one kind in a batch that are on the
// publisher's list, and a record is many indicators: up to MaxKeys keys of
// up to seven kinds, and of one kind several (a name-dob key for each name
// form: "Müller" makes one with muller and one with mueller). Counting
// every key would count one shared person once for each key it matches
// on, and count the partial keys (a pair of names, a name and a year)
// that different people share. The rule is to count one designated key
// kind per batch (a count request is of one kind anyway), and one key of
// it per record: for person-v1-name-dob, a record's first name-dob key
// from Keys (its first name form with its full date of birth). The
// publisher publishes every key of its records as usual. The count is then
// the number of the querier's records whose designated key is one of the
// publisher's keys, records that share that key (a person entered twice,
// namesakes born the same day) counted once; records without a full date
// of birth have no name-dob key and are not counted, and a record that
// would meet only on another form or on a weaker rule is not counted.
// examples/twoparty -count-only -kind person counts this way.
//
// # Privacy
//
// Every key of a record is an evaluation against the partner's budget, so
// a record costs its number of keys. Name and date keys hold the entropy
// of a name and a date. A weak key holds less, and a name key alone holds
// only what a name does: a partner can guess common names online (budget
// and audit bound this). A policy can refuse the weak kinds (Partner.Kinds
// in package federation). The querier learns which of its records matched,
// by which rules, and the labels released. It does not learn which
// publisher record matched, beyond those labels.
package person
