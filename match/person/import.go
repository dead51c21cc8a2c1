package person

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// A Format is an input format of person records. Do not reorder.
type Format int

const (
	// Auto detects the format from the content: JSON whose first line has
	// a "schema" member is FollowTheMoney, other JSON with an Event,
	// Object, Attribute or response member is MISP, anything else CSV.
	Auto Format = iota
	// CSV has a header row naming its columns, in any order, matched
	// without regard to case, with ' ' and '-' read as '_':
	//
	//	name              the full name as written (or full_name)
	//	given             given names (or given_name, first_name)
	//	surname           (or last_name, family_name)
	//	patronymic        (or father_name)
	//	dob               date of birth, as ParseBirth reads it (or date_of_birth, birth_date)
	//	sex               (or gender)
	//	nationality       an ISO 3166-1 alpha-2 or alpha-3 code
	//	document          a document number (or document_number, passport, passport_number)
	//	document_country  its issuing country (or document_issuer, passport_country, issuing_country)
	//	ref               the record's reference (or reference, id); default "line N"
	//	label             the label released on a hit
	//
	// The header must name name, given or surname; a column named twice
	// is an error. Other columns are reported once (Summary.UnknownColumns,
	// and one partial Reject at the header): their values are not
	// imported. The delimiter is ',', ';' or tab, whichever the header uses
	// most, as in package feed. Lines starting with '#' and blank lines are
	// skipped and counted. Every value is one value: a row with any value
	// that cannot be used (a bad date, an unknown sex, a nationality that is
	// not a code, a document without its country, a label or reference
	// that match.CheckLabel refuses, a row with more or fewer fields than
	// the header) is rejected whole, with every reason found.
	CSV
	// MISP is a MISP event ({"Event": {...}}, the bare event, a list of
	// them, or an API response {"response": [...]}) whose "person"
	// objects (MISP object template "person", version 8) are imported:
	//
	//	first-name, middle-name  given names, in that order
	//	last-name                surname
	//	alias                    each one a record of its own, as a full name
	//	date-of-birth            (several: each one, as for FtM)
	//	gender                   Male, Female, Other, Prefer not to say
	//	nationality              the first that is a 2- or 3-letter code
	//	passport-number          issued by passport-country, if given once
	//	identity-card-number     issued by the person's nationality (below)
	//
	// The template's other attributes (title, mothers-name, place of birth,
	// contact data ...) are not part of a person record. Deleted
	// attributes are ignored; deleted objects, objects of other templates
	// and attributes outside objects are skipped and counted. A record's
	// reference is its object's UUID and it has no label: a MISP object's
	// comment and tags are not written for partners, so the publisher
	// sets Record.Label itself if it wants one.
	MISP
	// FtM is FollowTheMoney entities, one JSON object per line, as
	// OpenSanctions and Aleph export them. Entities of schema Person are
	// imported, others skipped and counted. Of their properties, each
	// value of name and alias is a full name of its own record, and
	// firstName, secondName, middleName (given names, in that order),
	// lastName and fatherName (patronymic) make one more record when
	// each has at most one value (several, as transliterations are,
	// cannot be paired and are reported). weakAlias is not imported:
	// OpenSanctions marks those names as too weak to match on. Every
	// name is paired with every birthDate; gender, nationality (then
	// citizenship), passportNumber and idNumber are as for MISP. A
	// record's reference is the entity id, and it has no label. Where a
	// file is cut at a line boundary it reads as a shorter file: compare
	// the count of entities with the source's.
	FtM
)

var formatNames = [...]string{Auto: "auto", CSV: "csv", MISP: "misp", FtM: "ftm"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat returns the format named s: "csv", "misp", "ftm", or
// "auto" (or "").
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return Auto, nil
	}
	for f, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("person: unknown format %q (want csv, misp, ftm or auto)", s)
}

// Options configure a [Reader]. The zero value detects the format and
// keeps rejects for [Reader.Rejects].
type Options struct {
	// Format is the input format; Auto detects it.
	Format Format
	// OnReject, if not nil, is called for every record, or part of one,
	// that is not imported. Without it the Reader keeps the first
	// 1000 of them for [Reader.Rejects] and counts the rest.
	OnReject func(Reject)
}

// A Reject is a record, or part of one, that was not imported, and why.
type Reject struct {
	// Where locates the record: "line 12" (CSV), "object <uuid>" (MISP),
	// "entity <id>" (FtM), or "line 12" for a line of FtM that is not an
	// entity.
	Where string
	// Reason names the field and what was wrong with it ("dob: month is
	// not a number from 1 to 12"), never the value: names and numbers
	// are personal data.
	Reason string
	// Partial is true when the record was imported without the part
	// Reason names (one of several names, dates or documents, or the
	// values of a CSV file's unknown columns), false when no record was
	// imported from it.
	Partial bool
}

func (r Reject) String() string {
	if r.Partial {
		return r.Where + ": partly imported: " + r.Reason
	}
	return r.Where + ": rejected: " + r.Reason
}

// Summary counts what a Reader did.
type Summary struct {
	Format   Format // the format read (detected, for Auto)
	Records  int    // records produced
	Rejected int    // rejects of whole records (Reject.Partial false)
	Partial  int    // rejects of parts (Reject.Partial true)
	Skipped  int    // blank and comment lines; deleted and other MISP objects, attributes outside objects; other FtM schemas
	// UnknownColumns are the CSV header's columns that are not imported,
	// as written there.
	UnknownColumns []string
}

// Limits.
const (
	// MaxRecordBytes bounds one record: a CSV row (over all its lines), a
	// MISP object, a value outside one, or a line of FtM, as in package
	// feed. A larger one is ErrRecordTooLarge, a fatal error, except that
	// a line of FtM is rejected alone. It is found before more is
	// buffered, give or take the 128 KiB read ahead.
	MaxRecordBytes = 4 << 20
	// maxFieldValues bounds the values of one field of a MISP object or
	// FtM entity that are considered; more are reported.
	maxFieldValues = 16
	// maxRecordsPerPerson bounds the records of one MISP object or FtM
	// entity (names times dates of birth); more are reported.
	maxRecordsPerPerson = 64
	// maxKeptRejects bounds what Rejects keeps without Options.OnReject.
	maxKeptRejects = 1000
	// importSniffBytes is how much the format detection looks at.
	importSniffBytes = 8 << 10
	// maxMISPNesting bounds events inside events and responses.
	maxMISPNesting = 8
	// maxSkipDepth bounds the nesting of JSON skipped in MISP events, as
	// encoding/json bounds what it decodes.
	maxSkipDepth = 10000
)

// ErrRecordTooLarge reports a record above MaxRecordBytes.
var ErrRecordTooLarge = errors.New("person: record larger than MaxRecordBytes")

// errImportStopped is returned internally when the consumer stops ranging.
var errImportStopped = errors.New("person: stopped")

// A Reader reads person records from one input in CSV, MISP or
// FollowTheMoney (see [Format] for each format's rules). It streams:
// records are read as the consumer takes them and memory does not grow
// with the input. Every record that is not imported, and every part of a
// record left out, is reported with its location and a reason that never
// quotes a value.
//
// A MISP object or FtM entity has several values of a field; a value
// that cannot be used is reported as a partial reject and the record is
// imported from the others. It is rejected whole when no name is left, or
// when it gave dates of birth and none of them is valid: it is never
// imported as if its date of birth were unknown. A document number whose
// issuing country the source does not give (FtM passportNumber and
// idNumber, MISP identity-card-number, passport-number without
// passport-country) is taken as issued by the person's nationality when
// the record has exactly one nationality code, and is otherwise left out
// and reported. A record's Nationality is its first value that is a 2- or
// 3-letter code, upper-cased; a later step canonicalizes it.
//
// Sex is "M" for m, male, man and männlich, "F" for f, female, woman, w
// and weiblich, and "" for u, x, unknown, other and "prefer not to say"
// (any case); contradicting values give "". Other spellings are rejected
// (CSV) or reported and left out.
type Reader struct {
	in      *importBudget
	br      *bufio.Reader
	opts    Options
	sum     Summary
	rejects []Reject
	err     error
	used    bool
	line    []byte // the line being read, reused
	lineNo  int    // lines read
}

// NewReader returns a Reader of the input r.
func NewReader(r io.Reader, opts *Options) *Reader {
	rd := &Reader{in: &importBudget{r: r, left: math.MaxInt}}
	if opts != nil {
		rd.opts = *opts
	}
	rd.br = bufio.NewReaderSize(rd.in, 64<<10)
	return rd
}

// Records returns the records of the input, read as they are consumed.
// It can be ranged over once. Records that are not imported go to
// [Options.OnReject] or [Reader.Rejects]; a fatal error (unreadable input,
// broken JSON structure of a MISP event, a CSV header without a name
// column, a record above MaxRecordBytes) ends the sequence and is
// returned by [Reader.Err].
func (r *Reader) Records() iter.Seq[Record] {
	return func(yield func(Record) bool) {
		if r.used {
			r.fail(errors.New("person: Records ranged over twice"))
			return
		}
		r.used = true
		f := r.opts.Format
		if f == Auto {
			var err error
			if f, err = r.detect(); err != nil {
				r.fail(err)
				return
			}
		}
		r.sum.Format = f
		var err error
		switch f {
		case CSV:
			err = r.readCSV(yield)
		case MISP:
			err = r.readMISP(yield)
		case FtM:
			err = r.readFtM(yield)
		default:
			err = fmt.Errorf("person: invalid format %v", f)
		}
		if err != nil && !errors.Is(err, errImportStopped) {
			r.fail(err)
		}
	}
}

// Err returns the fatal error that ended reading, if any.
func (r *Reader) Err() error { return r.err }

// Summary returns the counts so far.
func (r *Reader) Summary() Summary {
	s := r.sum
	s.UnknownColumns = slices.Clone(s.UnknownColumns)
	return s
}

// Rejects returns the first 1000 rejects, when Options.OnReject is nil;
// Summary counts them all.
func (r *Reader) Rejects() []Reject { return r.rejects }

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *Reader) reject(where, reason string, partial bool) {
	rj := Reject{Where: where, Reason: reason, Partial: partial}
	if partial {
		r.sum.Partial++
	} else {
		r.sum.Rejected++
	}
	if r.opts.OnReject != nil {
		r.opts.OnReject(rj)
		return
	}
	if len(r.rejects) < maxKeptRejects {
		r.rejects = append(r.rejects, rj)
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

// detect looks at the start of the input.
func (r *Reader) detect() (Format, error) {
	head, err := r.br.Peek(importSniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return 0, fmt.Errorf("person: reading: %w", err)
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, utf8BOM), " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return CSV, nil
	}
	first, _, _ := bytes.Cut(t, []byte("\n"))
	if hasJSONKey(first, "schema") {
		return FtM, nil
	}
	for _, k := range []string{"Event", "Object", "Attribute", "response"} {
		if hasJSONKey(t, k) {
			return MISP, nil
		}
	}
	return 0, errors.New("person: JSON input that is neither a MISP event nor FollowTheMoney entities; set Options.Format")
}

// hasJSONKey reports whether b holds "key" followed by ':'.
func hasJSONKey(b []byte, key string) bool {
	q := []byte(`"` + key + `"`)
	for {
		i := bytes.Index(b, q)
		if i < 0 {
			return false
		}
		b = b[i+len(q):]
		if rest := bytes.TrimLeft(b, " \t\r\n"); len(rest) > 0 && rest[0] == ':' {
			return true
		}
	}
}

// importBudget fails a read once more than it allows have been read since
// the last reset. The MISP reader resets it at every record; the line
// formats bound lines themselves and leave it unlimited.
type importBudget struct {
	r    io.Reader
	left int
}

func (b *importBudget) reset() { b.left = MaxRecordBytes + 128<<10 } // + the buffers' read-ahead

func (b *importBudget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, ErrRecordTooLarge
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// readLine returns the next line without its end ("\n" or "\r\n"), or
// ok=false at the end of input. A line longer than MaxRecordBytes is read
// to its end without being kept and returned as long=true. The line is
// valid until the next call.
func (r *Reader) readLine() (line []byte, long, ok bool, err error) {
	r.line = r.line[:0]
	read := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		read = read || len(chunk) > 0
		if !long {
			if len(r.line)+len(chunk) > MaxRecordBytes+2 { // + "\r\n"
				long, r.line = true, r.line[:0]
			} else {
				r.line = append(r.line, chunk...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && !read:
			return nil, false, false, nil
		case err != nil && err != io.EOF:
			return nil, false, false, fmt.Errorf("person: reading: %w", err)
		}
		r.lineNo++
		l := bytes.TrimSuffix(bytes.TrimSuffix(r.line, []byte("\n")), []byte("\r"))
		if r.lineNo == 1 {
			l = bytes.TrimPrefix(l, utf8BOM)
		}
		return l, long, true, nil
	}
}

// A personSource is what one CSV row, MISP object or FtM entity says of a
// person, before it becomes records.
type personSource struct {
	where, ref, label string
	// strict: every value is the only one of its field (CSV), so that a
	// value that cannot be used rejects the record.
	strict bool
	// inferIssuer: a document without a country is taken as issued by
	// the person's only nationality.
	inferIssuer   bool
	names         []nameForm
	births        []fieldValue
	sexes         []fieldValue
	nationalities []fieldValue
	docs          []docValue
	problems      []string // parts that cannot be used, with their field
	broken        []string // what makes the whole record unusable
}

// A nameForm is one way a source writes the person's name: the fields of
// one record.
type nameForm struct{ name, given, surname, patronymic string }

type fieldValue struct{ field, value string }

type docValue struct{ field, number, country string }

func (s *personSource) problem(p string) { s.problems = append(s.problems, p) }

// text trims a name and checks it as match.CheckLabel checks labels: a
// name is printed where labels are.
func (s *personSource) text(field, v string) (string, bool) {
	v = strings.TrimSpace(v)
	if err := match.CheckLabel(v); err != nil {
		s.problem(field + ": " + err.Error())
		return "", false
	}
	return v, true
}

// values appends the non-empty values of a field to dst, at most
// maxFieldValues of them, reporting the rest.
func (s *personSource) values(dst []fieldValue, field string, vs []string) []fieldValue {
	n := 0
	for _, v := range vs {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if n++; n <= maxFieldValues {
			dst = append(dst, fieldValue{field, v})
		}
	}
	if n > maxFieldValues {
		s.problem(fmt.Sprintf("%s: %d values, only the first %d are imported", field, n, maxFieldValues))
	}
	return dst
}

// fullNames adds each value of a field as a full name.
func (s *personSource) fullNames(field string, vs []string) {
	for _, v := range s.values(nil, field, vs) {
		if n, ok := s.text(field, v.value); ok {
			s.names = append(s.names, nameForm{name: n})
		}
	}
}

// nameParts adds the name made of parts, given names first. A part that
// cannot be used drops the whole form, reported: a record of the other
// parts alone would be a broader name than the source gives.
func (s *personSource) nameParts(given []fieldValue, surname, patronymic fieldValue) {
	var f nameForm
	var g, fields []string
	ok := true
	for _, p := range given {
		v, good := s.text(p.field, p.value)
		ok = ok && good
		if v != "" {
			g, fields = append(g, v), append(fields, p.field)
		}
	}
	f.given = strings.Join(g, " ")
	if len(f.given) > match.MaxLabelLen {
		s.problem(fmt.Sprintf("%s: together longer than %d bytes", strings.Join(fields, ", "), match.MaxLabelLen))
		ok = false
	}
	var good bool
	f.surname, good = s.text(surname.field, surname.value)
	ok = ok && good
	f.patronymic, good = s.text(patronymic.field, patronymic.value)
	ok = ok && good
	if ok && f != (nameForm{}) {
		s.names = append(s.names, f)
	}
}

// single returns the only value of a field, or reports that the field has
// several and returns ok=false.
func (s *personSource) single(field string, vs []string) (fieldValue, bool) {
	var out fieldValue
	n := 0
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			n++
			out = fieldValue{field, v}
		}
	}
	if n > 1 {
		s.problem(field + ": several values; the name parts cannot be paired, so only full names are imported")
		return fieldValue{}, false
	}
	return out, true
}

var sexNames = map[string]string{
	"m": "M", "male": "M", "man": "M", "männlich": "M",
	"f": "F", "female": "F", "woman": "F", "w": "F", "weiblich": "F",
	"u": "", "x": "", "unknown": "", "other": "", "prefer not to say": "",
}

// isLetters reports whether s is min to max ASCII letters.
func isLetters(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := range len(s) {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func hasLetter(f nameForm) bool {
	for _, s := range []string{f.name, f.given, f.surname, f.patronymic} {
		if strings.ContainsFunc(s, unicode.IsLetter) {
			return true
		}
	}
	return false
}

// person turns a source into records and yields them, or rejects it. It
// returns false when the consumer stops.
func (r *Reader) person(s *personSource, yield func(Record) bool) bool {
	fatal := s.broken
	if err := match.CheckLabel(s.ref); err != nil {
		fatal = append(fatal, "ref: "+err.Error())
	}
	if err := match.CheckLabel(s.label); err != nil {
		fatal = append(fatal, "label: "+err.Error())
	}

	var births []Birth
	for _, v := range s.births {
		b, err := ParseBirth(v.value)
		if err != nil {
			s.problem(v.field + ": " + strings.TrimPrefix(err.Error(), "person: date of birth: "))
			continue
		}
		if !slices.Contains(births, b) {
			births = append(births, b)
		}
	}
	if len(s.births) > 0 && len(births) == 0 && !s.strict {
		fatal = append(fatal, "no valid date of birth")
	}

	sex, sexSeen := "", false
	for _, v := range s.sexes {
		x, ok := sexNames[strings.ToLower(v.value)]
		switch {
		case !ok:
			s.problem(v.field + ": not a known spelling of male or female")
		case !sexSeen:
			sex, sexSeen = x, true
		case x != sex:
			sex = ""
		}
	}

	var nationality string
	var codes []string
	for _, v := range s.nationalities {
		c := strings.ToUpper(v.value)
		if !isLetters(c, 2, 3) {
			s.problem(v.field + ": not a 2- or 3-letter country code")
			continue
		}
		if nationality == "" {
			nationality = c
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}

	var docs []Document
	for _, d := range s.docs {
		country := strings.ToUpper(strings.TrimSpace(d.country))
		if country == "" {
			if !s.inferIssuer || len(codes) != 1 {
				s.problem(d.field + ": no issuing country")
				continue
			}
			country = codes[0]
		}
		if _, err := indicator.New(indicator.Document, country+":"+d.number); err != nil {
			reason := "not a valid number and issuing country"
			if ie := (*indicator.Error)(nil); errors.As(err, &ie) {
				reason = ie.Reason
			}
			s.problem(d.field + ": " + reason)
			continue
		}
		doc := Document{Number: d.number, Country: country}
		if !slices.Contains(docs, doc) {
			docs = append(docs, doc)
		}
	}

	if s.strict {
		fatal = append(fatal, s.problems...)
		s.problems = nil
	}
	var names []nameForm
	for _, f := range s.names {
		if hasLetter(f) && !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	if len(names) == 0 {
		fatal = append(fatal, "no name")
	}
	if len(fatal) > 0 {
		r.reject(s.where, strings.Join(append(fatal, s.problems...), "; "), false)
		return true
	}

	if len(births) == 0 {
		births = []Birth{{}}
	}
	if n := len(names) * len(births); n > maxRecordsPerPerson {
		s.problem(fmt.Sprintf("%d names and %d dates of birth make %d records, only the first %d are imported",
			len(names), len(births), n, maxRecordsPerPerson))
	}
	for _, p := range s.problems {
		r.reject(s.where, p, true)
	}
	n := 0
	for _, f := range names {
		for _, b := range births {
			if n++; n > maxRecordsPerPerson {
				return true
			}
			r.sum.Records++
			rec := Record{
				Name: f.name, Given: f.given, Surname: f.surname, Patronymic: f.patronymic,
				Birth: b, Sex: sex, Nationality: nationality, Documents: slices.Clone(docs),
				Ref: s.ref, Label: s.label,
			}
			if !yield(rec) {
				return false
			}
		}
	}
	return true
}

// CSV

// The columns of a CSV file, do not reorder: csvColumnNames follows.
const (
	colName = iota
	colGiven
	colSurname
	colPatronymic
	colDOB
	colSex
	colNationality
	colDocument
	colDocumentCountry
	colRef
	colLabel
	numColumns
)

// csvColumnNames are the header names of each column, the first being
// the one named in reasons.
var csvColumnNames = [numColumns][]string{
	colName:            {"name", "full_name"},
	colGiven:           {"given", "given_name", "first_name"},
	colSurname:         {"surname", "last_name", "family_name"},
	colPatronymic:      {"patronymic", "father_name"},
	colDOB:             {"dob", "date_of_birth", "birth_date"},
	colSex:             {"sex", "gender"},
	colNationality:     {"nationality"},
	colDocument:        {"document", "document_number", "passport", "passport_number"},
	colDocumentCountry: {"document_country", "document_issuer", "passport_country", "issuing_country"},
	colRef:             {"ref", "reference", "id"},
	colLabel:           {"label"},
}

// csvHeader is where each column is in a row, -1 if absent.
type csvHeader struct {
	cols   [numColumns]int
	fields int
	comma  rune
}

func (r *Reader) readCSV(yield func(Record) bool) error {
	var (
		h     *csvHeader
		rec   []byte // the row being read, over one or more lines
		start int    // its first line
		open  bool   // inside a quoted field
	)
	for {
		line, long, ok, err := r.readLine()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if !open {
			if t := bytes.TrimSpace(line); !long && (len(t) == 0 || t[0] == '#') {
				r.sum.Skipped++
				continue
			}
			rec, start = rec[:0], r.lineNo
		} else {
			rec = append(rec, '\n')
		}
		if long || len(rec)+len(line) > MaxRecordBytes {
			return fmt.Errorf("%w (CSV row at line %d)", ErrRecordTooLarge, start)
		}
		rec = append(rec, line...)
		// A row ends at a line end outside quotes; quotes come in pairs
		// ("" inside a quoted field is two).
		if bytes.Count(line, []byte{'"'})%2 == 1 {
			open = !open
		}
		if open {
			continue
		}
		if h == nil {
			if h, err = r.csvHeader(rec, start); err != nil {
				return err
			}
			continue
		}
		if !r.csvRow(h, rec, start, yield) {
			return errImportStopped
		}
	}
	if open { // an unterminated quoted field: the row is malformed
		if h == nil {
			return errors.New("person: CSV header has an unterminated quoted field")
		}
		if !r.csvRow(h, rec, start, yield) {
			return errImportStopped
		}
	}
	if h == nil {
		return errors.New("person: CSV input without a header row")
	}
	return nil
}

// csvDelimiter picks the delimiter of a header: the most frequent of ',',
// ';' and tab.
func csvDelimiter(header []byte) rune {
	best, n := ',', bytes.Count(header, []byte{','})
	for _, c := range []rune{';', '\t'} {
		if m := bytes.Count(header, []byte{byte(c)}); m > n {
			best, n = c, m
		}
	}
	return best
}

// splitCSV parses one row.
func splitCSV(rec []byte, comma rune) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(rec))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if _, err := cr.Read(); err != io.EOF {
		return nil, errors.New("more than one row")
	}
	return fields, nil
}

// csvHeader reads the header row. A header that cannot be read ends the
// input: without it no row can be.
func (r *Reader) csvHeader(rec []byte, line int) (*csvHeader, error) {
	h := &csvHeader{comma: csvDelimiter(rec)}
	fields, err := splitCSV(rec, h.comma)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("person: CSV header: %w", err)
	}
	h.fields = len(fields)
	for i := range h.cols {
		h.cols[i] = -1
	}
	var unknown []string
	for i, f := range fields {
		f = strings.TrimSpace(f)
		norm := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(f))
		c := slices.IndexFunc(csvColumnNames[:], func(names []string) bool { return slices.Contains(names, norm) })
		if c < 0 {
			if len(f) > 64 {
				f = f[:64]
			}
			unknown = append(unknown, f)
			continue
		}
		if h.cols[c] >= 0 {
			return nil, fmt.Errorf("person: CSV header: columns %d and %d both give the %s", h.cols[c]+1, i+1, csvColumnNames[c][0])
		}
		h.cols[c] = i
	}
	if h.cols[colName] < 0 && h.cols[colGiven] < 0 && h.cols[colSurname] < 0 {
		return nil, errors.New("person: CSV header has no name column (name, or given and surname)")
	}
	if len(unknown) > 0 {
		r.sum.UnknownColumns = unknown
		q := make([]string, len(unknown))
		for i, u := range unknown {
			q[i] = fmt.Sprintf("%q", u)
		}
		r.reject(fmt.Sprintf("line %d", line), "unknown columns, their values are not imported: "+strings.Join(q, ", "), true)
	}
	return h, nil
}

// csvRow turns one data row into a record. It returns false when the
// consumer stops.
func (r *Reader) csvRow(h *csvHeader, rec []byte, line int, yield func(Record) bool) bool {
	where := fmt.Sprintf("line %d", line)
	fields, err := splitCSV(rec, h.comma)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		r.reject(where, "malformed CSV row: "+err.Error(), false)
		return true
	}
	if len(fields) != h.fields {
		r.reject(where, fmt.Sprintf("%d fields, the header has %d", len(fields), h.fields), false)
		return true
	}
	field := func(c int) string {
		if i := h.cols[c]; i >= 0 {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	s := &personSource{where: where, ref: field(colRef), label: field(colLabel), strict: true}
	if s.ref == "" {
		s.ref = where
	}
	f := nameForm{}
	f.name, _ = s.text("name", field(colName))
	f.given, _ = s.text("given", field(colGiven))
	f.surname, _ = s.text("surname", field(colSurname))
	f.patronymic, _ = s.text("patronymic", field(colPatronymic))
	s.names = []nameForm{f}
	s.births = s.values(nil, "dob", []string{field(colDOB)})
	s.sexes = s.values(nil, "sex", []string{field(colSex)})
	s.nationalities = s.values(nil, "nationality", []string{field(colNationality)})
	if n := field(colDocument); n != "" {
		s.docs = []docValue{{"document", n, field(colDocumentCountry)}}
	}
	return r.person(s, yield)
}

// MISP

type mispObject struct {
	Name      string          `json:"name"`
	UUID      string          `json:"uuid"`
	Deleted   mispBool        `json:"deleted"`
	Attribute []mispAttribute `json:"Attribute"`
}

type mispAttribute struct {
	Relation string   `json:"object_relation"`
	Value    string   `json:"value"`
	Deleted  mispBool `json:"deleted"`
}

// mispBool is a boolean as MISP writes them: true, false, or (in older
// exports) "1", "0", "true", "false".
type mispBool bool

var errMISPBool = errors.New("not a boolean")

func (b *mispBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"1"`, `"true"`:
		*b = true
	case "false", "null", `"0"`, `"false"`, `""`:
		*b = false
	default:
		return errMISPBool
	}
	return nil
}

// mispReader walks a MISP document with encoding/json, token by token
// down to the objects, each decoded whole within MaxRecordBytes.
type mispReader struct {
	r     *Reader
	dec   *json.Decoder
	seen  bool // an Event, Object or Attribute member was read
	yield func(Record) bool
}

func (r *Reader) readMISP(yield func(Record) bool) error {
	if head, _ := r.br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		r.br.Discard(len(utf8BOM))
	}
	m := &mispReader{r: r, dec: json.NewDecoder(r.br), yield: yield}
	t, err := m.token()
	if err != nil {
		return err
	}
	switch t {
	case json.Delim('{'):
		err = m.event(0)
	case json.Delim('['): // a list of events or wrappers
		for err == nil && m.dec.More() {
			if err = m.open('{', "event"); err == nil {
				err = m.event(0)
			}
		}
		if err == nil {
			err = m.close(']')
		}
	default:
		return errors.New("person: MISP input is not a JSON object")
	}
	if err != nil {
		return err
	}
	if !m.seen {
		return errors.New("person: no MISP event (no Event, Object or Attribute member)")
	}
	r.in.reset()
	if _, err := m.dec.Token(); err != io.EOF {
		return errors.New("person: MISP: data after the JSON document")
	}
	return nil
}

// fatal turns a decoder error into the Reader's error, without the
// input's text (a syntax error quotes a character of it).
func (m *mispReader) fatal(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.Is(err, ErrRecordTooLarge):
		return ErrRecordTooLarge
	case err == io.EOF, errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("person: MISP: unexpected end of input")
	case errors.As(err, &se):
		return fmt.Errorf("person: MISP: invalid JSON at byte %d", se.Offset)
	}
	return fmt.Errorf("person: MISP: %w", err)
}

func (m *mispReader) token() (json.Token, error) {
	m.r.in.reset()
	t, err := m.dec.Token()
	if err != nil {
		return nil, m.fatal(err)
	}
	return t, nil
}

// open reads the opening delimiter of a member's value.
func (m *mispReader) open(d json.Delim, what string) error {
	t, err := m.token()
	if err != nil {
		return err
	}
	if t != d {
		if d == '[' {
			return fmt.Errorf("person: MISP: %s is not an array", what)
		}
		return fmt.Errorf("person: MISP: %s is not an object", what)
	}
	return nil
}

func (m *mispReader) close(d json.Delim) error {
	t, err := m.token()
	if err == nil && t != d {
		err = errors.New("person: MISP: invalid JSON structure")
	}
	return err
}

// skip reads and discards one value.
func (m *mispReader) skip() error {
	depth := 0
	for {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxSkipDepth {
				return errors.New("person: MISP: JSON nested too deep")
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// event reads the members of an event or a wrapper, after its '{'.
func (m *mispReader) event(depth int) error {
	if depth > maxMISPNesting {
		return errors.New("person: MISP: events nested too deep")
	}
	for m.dec.More() {
		t, err := m.token()
		if err != nil {
			return err
		}
		switch key, _ := t.(string); key {
		case "Event":
			m.seen = true
			if err = m.open('{', "Event"); err == nil {
				err = m.event(depth + 1)
			}
		case "response":
			if err = m.open('[', "response"); err != nil {
				return err
			}
			for err == nil && m.dec.More() {
				if err = m.open('{', "an element of response"); err == nil {
					err = m.event(depth + 1)
				}
			}
			if err == nil {
				err = m.close(']')
			}
		case "Object":
			m.seen = true
			if err = m.open('[', "Object"); err != nil {
				return err
			}
			for i := 0; err == nil && m.dec.More(); i++ {
				err = m.object(i)
			}
			if err == nil {
				err = m.close(']')
			}
		case "Attribute":
			m.seen = true
			if err = m.open('[', "Attribute"); err != nil {
				return err
			}
			for err == nil && m.dec.More() {
				if err = m.skip(); err == nil {
					m.r.sum.Skipped++
				}
			}
			if err == nil {
				err = m.close(']')
			}
		default:
			err = m.skip()
		}
		if err != nil {
			return err
		}
	}
	return m.close('}')
}

// object reads element i of an event's Object array.
func (m *mispReader) object(i int) error {
	m.r.in.reset()
	var o mispObject
	err := m.dec.Decode(&o)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) && !errors.Is(err, errMISPBool) {
		return m.fatal(err)
	}
	if o.Deleted || (o.Name != "person" && o.Name != "") {
		m.r.sum.Skipped++
		return nil
	}
	where := fmt.Sprintf("object %d", i)
	if o.UUID != "" && match.CheckLabel(o.UUID) == nil && len(o.UUID) <= 64 {
		where = "object " + o.UUID
	}
	switch {
	case te != nil && te.Field != "":
		m.r.reject(where, "member "+te.Field+" has the wrong JSON type", false)
		return nil
	case err != nil:
		m.r.reject(where, "not a MISP object, or a member of the wrong JSON type", false)
		return nil
	case o.Name == "":
		m.r.reject(where, "object without a template name", false)
		return nil
	}
	if !m.r.person(mispPerson(&o, where), m.yield) {
		return errImportStopped
	}
	return nil
}

// mispPerson reads a person object.
func mispPerson(o *mispObject, where string) *personSource {
	s := &personSource{where: where, ref: o.UUID, inferIssuer: true}
	if s.ref == "" {
		s.ref = where
	}
	vals := map[string][]string{}
	for _, a := range o.Attribute {
		if !a.Deleted {
			vals[a.Relation] = append(vals[a.Relation], a.Value)
		}
	}
	first, ok1 := s.single("first-name", vals["first-name"])
	middle, ok2 := s.single("middle-name", vals["middle-name"])
	last, ok3 := s.single("last-name", vals["last-name"])
	if ok1 && ok2 && ok3 {
		s.nameParts([]fieldValue{first, middle}, last, fieldValue{})
	}
	s.fullNames("alias", vals["alias"])
	s.births = s.values(nil, "date-of-birth", vals["date-of-birth"])
	s.sexes = s.values(nil, "gender", vals["gender"])
	s.nationalities = s.values(nil, "nationality", vals["nationality"])
	var countries []fieldValue
	countries = s.values(countries, "passport-country", vals["passport-country"])
	passports := s.values(nil, "passport-number", vals["passport-number"])
	switch {
	case len(countries) > 1 && len(passports) > 0:
		s.problem("passport-country: several values, so the issuer of each passport number is not known")
	default:
		country := ""
		if len(countries) == 1 {
			country = countries[0].value
		}
		for _, p := range passports {
			s.docs = append(s.docs, docValue{p.field, p.value, country})
		}
	}
	for _, v := range s.values(nil, "identity-card-number", vals["identity-card-number"]) {
		s.docs = append(s.docs, docValue{v.field, v.value, ""})
	}
	return s
}

// FollowTheMoney

type ftmEntity struct {
	ID         string                     `json:"id"`
	Schema     string                     `json:"schema"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func (r *Reader) readFtM(yield func(Record) bool) error {
	for {
		line, long, ok, err := r.readLine()
		if err != nil || !ok {
			return err
		}
		where := fmt.Sprintf("line %d", r.lineNo)
		if long {
			r.reject(where, fmt.Sprintf("longer than %d bytes", MaxRecordBytes), false)
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			r.sum.Skipped++
			continue
		}
		if !r.ftmLine(line, where, yield) {
			return errImportStopped
		}
	}
}

// ftmLine reads one entity. It returns false when the consumer stops.
func (r *Reader) ftmLine(line []byte, where string, yield func(Record) bool) bool {
	var e ftmEntity
	if err := json.Unmarshal(line, &e); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			r.reject(where, fmt.Sprintf("invalid JSON at byte %d", se.Offset), false)
		case errors.As(err, &te) && te.Field != "":
			r.reject(where, "member "+te.Field+" has the wrong JSON type", false)
		default:
			r.reject(where, "not a JSON object", false)
		}
		return true
	}
	switch e.Schema {
	case "Person":
	case "":
		r.reject(where, "not an entity: no schema", false)
		return true
	default:
		r.sum.Skipped++
		return true
	}
	s := &personSource{where: where, ref: e.ID, inferIssuer: true}
	if e.ID == "" {
		s.ref = where
	} else if match.CheckLabel(e.ID) == nil && len(e.ID) <= 128 {
		s.where = "entity " + e.ID
	}
	prop := func(name string) []string {
		raw, ok := e.Properties[name]
		if !ok {
			return nil
		}
		var vs []string
		if err := json.Unmarshal(raw, &vs); err != nil {
			// A property of the wrong shape is a broken entity, not a
			// part to leave out: without its birthDate it would read as
			// a person of unknown date of birth.
			s.broken = append(s.broken, "properties."+name+": not an array of strings")
			return nil
		}
		return vs
	}
	s.fullNames("name", prop("name"))
	s.fullNames("alias", prop("alias"))
	var given []fieldValue
	ok := true
	for _, p := range []string{"firstName", "secondName", "middleName"} {
		v, good := s.single(p, prop(p))
		ok = ok && good
		given = append(given, v)
	}
	last, ok1 := s.single("lastName", prop("lastName"))
	father, ok2 := s.single("fatherName", prop("fatherName"))
	if ok && ok1 && ok2 {
		s.nameParts(given, last, father)
	}
	s.births = s.values(nil, "birthDate", prop("birthDate"))
	s.sexes = s.values(nil, "gender", prop("gender"))
	s.nationalities = s.values(nil, "nationality", prop("nationality"))
	s.nationalities = s.values(s.nationalities, "citizenship", prop("citizenship"))
	for _, p := range []string{"passportNumber", "idNumber"} {
		for _, v := range s.values(nil, p, prop(p)) {
			s.docs = append(s.docs, docValue{v.field, v.value, ""})
		}
	}
	return r.person(s, yield)
}
