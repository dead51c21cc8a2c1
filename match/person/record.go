package person

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A Record is one person on a watchlist, or one of a querier's persons.
// Every field but a name is optional.
type Record struct {
	// Name is the full name as written ("Müller, Hans-Peter", "HANS PETER
	// MUELLER", "Мухаммед Абдуллаев"), for sources that do not split it.
	// Either Name or Given and Surname (or one of them) is set.
	Name string
	// Given, Surname and Patronymic are the name's parts as written, for
	// sources that split it. Each may hold several words.
	Given, Surname, Patronymic string
	// Birth is the date of birth, as precise as the source gives it.
	Birth Birth
	// Sex is "M", "F" or empty. It is not part of any key (sources
	// disagree on it too often); it is kept for the caller.
	Sex string
	// Nationality is an ISO 3166-1 country code (alpha-2 or alpha-3), or
	// empty.
	Nationality string
	// Documents are the person's travel and identity documents.
	Documents []Document
	// Ref and Label are the publisher's reference and the label released
	// on a hit, as for any entry (see match.Entry).
	Ref, Label string
}

// A Document is a travel or identity document of a person.
type Document struct {
	Number  string // as written; separators and the MRZ filler '<' are dropped
	Country string // the issuing country, ISO 3166-1 alpha-2 or alpha-3, or an ICAO 9303 code
}

// A Birth is a date of birth: a full date, a year and month, a year, a
// range of years ("1965 to 1969"), or unknown (the zero Birth).
type Birth struct {
	Year, Month, Day int // Month and Day 0 when unknown
	ToYear           int // the last year of a range, 0 if not a range
}

// MaxBirthRange is the longest range of years a Birth may span: every
// year of a range is a key of its own.
const MaxBirthRange = 10

// ParseBirth reads a date of birth: "" (unknown), "1965", "1965-03",
// "1965-03-07", "07.03.1965", "1965/1969" or "1965-1969" (a range of
// years, at most MaxBirthRange of them).
func ParseBirth(s string) (Birth, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Birth{}, nil
	}
	num := func(t string, lo, hi int, what string) (int, error) {
		n, err := strconv.Atoi(t)
		if err != nil || n < lo || n > hi || len(t) > 4 {
			return 0, fmt.Errorf("person: date of birth: %s is not a number from %d to %d", what, lo, hi)
		}
		return n, nil
	}
	var b Birth
	var err error
	switch parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' }); {
	case len(parts) == 2 && len(parts[0]) == 4 && len(parts[1]) == 4:
		if b.Year, err = num(parts[0], 1000, 9999, "year"); err == nil {
			b.ToYear, err = num(parts[1], 1000, 9999, "last year of the range")
		}
	case len(parts) >= 1 && len(parts) <= 3 && len(parts[0]) == 4:
		b.Year, err = num(parts[0], 1000, 9999, "year")
		if err == nil && len(parts) > 1 {
			b.Month, err = num(parts[1], 1, 12, "month")
		}
		if err == nil && len(parts) > 2 {
			b.Day, err = num(parts[2], 1, 31, "day")
		}
	case len(parts) == 3 && len(parts[2]) == 4 && strings.Contains(s, "."):
		b.Day, err = num(parts[0], 1, 31, "day")
		if err == nil {
			b.Month, err = num(parts[1], 1, 12, "month")
		}
		if err == nil {
			b.Year, err = num(parts[2], 1000, 9999, "year")
		}
	default:
		return Birth{}, errors.New(`person: date of birth: want "YYYY", "YYYY-MM", "YYYY-MM-DD", "DD.MM.YYYY" or "YYYY/YYYY"`)
	}
	if err != nil {
		return Birth{}, err
	}
	return b, b.check()
}

// check reports whether b is a valid Birth.
func (b Birth) check() error {
	switch {
	case b == Birth{}:
		return nil
	case b.Year < 1000 || b.Year > 9999:
		return errors.New("person: date of birth: year must be from 1000 to 9999")
	case b.ToYear != 0 && (b.Month != 0 || b.Day != 0):
		return errors.New("person: date of birth: a range is of years only")
	case b.ToYear != 0 && (b.ToYear <= b.Year || b.ToYear-b.Year+1 > MaxBirthRange):
		return fmt.Errorf("person: date of birth: a range must run forward over 2 to %d years", MaxBirthRange)
	case b.Month < 0 || b.Month > 12 || b.Day < 0 || b.Day > daysIn(b.Year, b.Month):
		return errors.New("person: date of birth: no such month or day")
	case b.Day != 0 && b.Month == 0:
		return errors.New("person: date of birth: a day without a month")
	}
	return nil
}

func daysIn(year, month int) int {
	switch month {
	case 0:
		return 0
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// Full reports whether b is a full date.
func (b Birth) Full() bool { return b.Day != 0 }

// String is "1965-03-07", "1965-03", "1965", "1965/1969" or "".
func (b Birth) String() string {
	switch {
	case b == Birth{}:
		return ""
	case b.ToYear != 0:
		return fmt.Sprintf("%04d/%04d", b.Year, b.ToYear)
	case b.Day != 0:
		return fmt.Sprintf("%04d-%02d-%02d", b.Year, b.Month, b.Day)
	case b.Month != 0:
		return fmt.Sprintf("%04d-%02d", b.Year, b.Month)
	}
	return fmt.Sprintf("%04d", b.Year)
}
