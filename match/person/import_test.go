package person

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/fedmatch/fedmatch/match"
)

// recordString shows every field of a record, for comparisons.
func recordString(r Record) string {
	var docs []string
	for _, d := range r.Documents {
		docs = append(docs, d.Country+":"+d.Number)
	}
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", r.Name, r.Given, r.Surname, r.Patronymic,
		r.Birth, r.Sex, r.Nationality, strings.Join(docs, ","), r.Ref, r.Label)
}

// importBytes reads data and returns its records and rejects as text;
// a fatal error fails the test.
func importBytes(t *testing.T, data []byte, opts *Options) (records, rejects []string, r *Reader) {
	t.Helper()
	records, rejects, r = importAll(data, opts)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return records, rejects, r
}

func importAll(data []byte, opts *Options) (records, rejects []string, r *Reader) {
	r = NewReader(bytes.NewReader(data), opts)
	for rec := range r.Records() {
		records = append(records, recordString(rec))
	}
	for _, rj := range r.Rejects() {
		rejects = append(rejects, rj.String())
	}
	return records, rejects, r
}

func importFile(t *testing.T, name string, opts *Options) (records, rejects []string, r *Reader) {
	t.Helper()
	data, err := os.ReadFile("testdata/import/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return importBytes(t, data, opts)
}

func checkLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got:\n\t%s\nwant:\n\t%s", what, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func checkCounts(t *testing.T, r *Reader, format Format, records, rejected, partial, skipped int) {
	t.Helper()
	s := r.Summary()
	if s.Format != format || s.Records != records || s.Rejected != rejected || s.Partial != partial || s.Skipped != skipped {
		t.Errorf("summary %+v, want format %v, %d records, %d rejected, %d partial, %d skipped",
			s, format, records, rejected, partial, skipped)
	}
}

func TestCSV(t *testing.T) {
	records, rejects, r := importFile(t, "people.csv", nil)
	checkLines(t, "records", records, []string{
		"|Мухаммед|Абдуллаев|Ильич|1965-03-07|M|RU|RU:7512 345678|W-1|Case 17",
		"|Hans-Peter|Müller||1971|M|DE|D:C01X00T47|W-2|Case 18",
		"|محمد|العلي||1980-03-07|M|SAU||W-3|",
		`|Siobhán|O'Brien||1965/1969|F|IE||line 7|Case 19; "urgent"`,
	})
	checkLines(t, "rejects", rejects, []string{
		`line 2: partly imported: unknown columns, their values are not imported: "Notes"`,
	})
	checkCounts(t, r, CSV, 4, 0, 1, 2)
	if got := r.Summary().UnknownColumns; !slices.Equal(got, []string{"Notes"}) {
		t.Errorf("unknown columns %q", got)
	}
}

// TestCSVHeaders reads the same rows under headers in other orders,
// cases, spellings and delimiters.
func TestCSVHeaders(t *testing.T) {
	rows := [][]string{
		{"Абдуллаев", "Мухаммед", "1965-03", "RU", "A-1"},
		{"Müller", "Hans", "07.03.1971", "de", "A-2"},
	}
	want := []string{
		"|Мухаммед|Абдуллаев||1965-03||RU||A-1|",
		"|Hans|Müller||1971-03-07||DE||A-2|",
	}
	headers := [][]string{
		{"surname", "given", "dob", "nationality", "ref"},
		{"SURNAME", "Given", "DOB", "Nationality", "Ref"},
		{"last_name", "first_name", "date_of_birth", "nationality", "id"},
		{"Family Name", "given-name", "Birth Date", "NATIONALITY", "reference"},
	}
	orders := [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}}
	for _, comma := range []string{",", ";", "\t"} {
		for hi, h := range headers {
			for _, order := range orders {
				var b strings.Builder
				line := func(fields []string) {
					var out []string
					for _, i := range order {
						out = append(out, fields[i])
					}
					b.WriteString(strings.Join(out, comma) + "\r\n")
				}
				b.WriteString("\ufeff")
				line(h)
				for _, row := range rows {
					line(row)
				}
				records, rejects, _ := importBytes(t, []byte(b.String()), nil)
				what := fmt.Sprintf("delimiter %q, header %d, order %v", comma, hi, order)
				checkLines(t, what+" records", records, want)
				checkLines(t, what+" rejects", rejects, nil)
			}
		}
	}
}

func TestCSVName(t *testing.T) {
	records, _, _ := importBytes(t, []byte("Full_Name,dob\n\"Müller, Hans-Peter\",1965\n"), nil)
	checkLines(t, "records", records, []string{"Müller, Hans-Peter||||1965||||line 2|"})
}

func TestCSVHeaderErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"# only a comment\n\n",
		"dob,sex,nationality\n1965,m,DE\n",
		"name,surname,last_name\nA,B,C\n",
		"name,\"dob\n",
	} {
		_, _, r := importAll([]byte(in), &Options{Format: CSV})
		if r.Err() == nil {
			t.Errorf("%q: no error", in)
		}
	}
}

// TestCSVRejects checks every reason a CSV row is rejected for: where
// it is, what it says, and that it does not quote the value.
func TestCSVRejects(t *testing.T) {
	const header = "name,given,surname,dob,sex,nationality,document,document_country,ref,label\n"
	for _, c := range []struct {
		row, reason string
		secret      []string // what the reason must not hold
	}{
		{"Ivan Petrov,,,1965-13-01,,,,,,", "dob: month is not a number from 1 to 12", []string{"Ivan", "Petrov", "1965-13-01", "13"}},
		{"Ivan Petrov,,,1965-02-30,,,,,,", "dob: no such month or day", []string{"Ivan", "1965-02-30"}},
		{"Ivan Petrov,,,March 1965,,,,,,", "dob: want ", []string{"Ivan", "March"}},
		{"Anna Schmidt,,,1970,Q,,,,,", "sex: not a known spelling of male or female", []string{"Anna", "Schmidt", "Q"}},
		{"Kim Lee,,,1980,,KOREA,,,,", "nationality: not a 2- or 3-letter country code", []string{"Kim", "KOREA"}},
		{"Olga Ivanova,,,1975,,,AB123456,,,", "document: no issuing country", []string{"Olga", "AB123456"}},
		{"Olga Ivanova,,,1975,,,AB123456,QQ,,", "document: country is not an ISO 3166-1 code", []string{"Olga", "AB123456", "QQ"}},
		{"Olga Ivanova,,,1975,,,AB_12!,DE,,", "document: ", []string{"Olga", "AB_12!"}},
		{"Jan Novak,,,1960,,,,,,\"Bad\nlabel\"", "label: a control character or line separator at byte 3", []string{"Jan", "Novak", "Bad"}},
		{"Jan Novak,,,1960,,,,,\"r\u2028f\",", "ref: a control character or line separator at byte 1", []string{"Jan", "r\u2028f"}},
		{"Jan Novak,,,1960,,,,,,\xff", "label: not valid UTF-8", []string{"Jan", "\xff"}},
		{",,,1960,m,DE,,,,", "no name", nil},
		{"-,?,,1960,,,,,,", "no name", nil},
		{"\"Jan\tNovak\",,,1960,,,,,,", "name: a control character or line separator at byte 3", []string{"Jan", "Novak"}},
		{",\"Ja\u0085n\",,1960,,,,,,", "given: a control character or line separator at byte 2", []string{"Ja"}},
		{"Jan Novak,,,1960", "4 fields, the header has 10", []string{"Jan"}},
		{"Jan Novak,,,1960,,,,,,,extra", "11 fields, the header has 10", []string{"Jan", "extra"}},
		{"Jan \"Novak\",,,1960,,,,,,", "malformed CSV row: bare \" in non-quoted-field", []string{"Jan", "Novak"}},
		{"Ivan Petrov,,,1965-13-01,Q,,,,,", "dob: month is not a number from 1 to 12; sex: not a known spelling of male or female", []string{"Ivan", "Q"}},
	} {
		var got []Reject
		records, _, r := importBytes(t, []byte(header+c.row+"\nGood Person,,,1970,,,,,,\n"), &Options{OnReject: func(rj Reject) { got = append(got, rj) }})
		if len(records) != 1 || len(got) != 1 {
			t.Errorf("%q: %d records, rejects %v", c.row, len(records), got)
			continue
		}
		if got[0].Where != "line 2" || got[0].Partial || !strings.HasPrefix(got[0].Reason, c.reason) {
			t.Errorf("%q: reject %+v, want line 2: %s", c.row, got[0], c.reason)
		}
		for _, s := range c.secret {
			if strings.Contains(got[0].Reason, s) || strings.Contains(got[0].Where, s) {
				t.Errorf("%q: reject %q quotes %q", c.row, got[0], s)
			}
		}
		checkCounts(t, r, CSV, 1, 1, 0, 0)
		if r.Rejects() != nil {
			t.Errorf("Rejects kept with OnReject set")
		}
	}
}

// TestCSVRecordTooLarge: a row above MaxRecordBytes ends the input before
// it is buffered, on one line or in a quoted field over many.
func TestCSVRecordTooLarge(t *testing.T) {
	big := strings.Repeat("a", MaxRecordBytes+1)
	many := strings.Repeat("a\n", MaxRecordBytes/2+1)
	for _, in := range []string{
		"name,dob\nGood Person,1970\n" + big + ",1970\nOther Person,1971\n",
		"name,dob\nGood Person,1970\n\"" + many + "\",1970\n",
		"name,dob\nGood Person,1970\n\"" + many, // never closed
	} {
		records, _, r := importAll([]byte(in), nil)
		if !errors.Is(r.Err(), ErrRecordTooLarge) {
			t.Errorf("error %v, want ErrRecordTooLarge", r.Err())
		}
		checkLines(t, "records", records, []string{"Good Person||||1970||||line 2|"})
	}
	// Just below the limit is a record.
	name := strings.Repeat("a", match.MaxLabelLen)
	pad := strings.Repeat(" ", MaxRecordBytes-len(name)-len(",1970"))
	records, _, _ := importBytes(t, []byte("name,dob\n"+name+pad+",1970\n"), nil)
	if len(records) != 1 {
		t.Errorf("%d records of a row at the limit", len(records))
	}
}

// TestRejectsBounded: without OnReject, the first rejects are kept and
// all are counted.
func TestRejectsBounded(t *testing.T) {
	in := "name,dob\n" + strings.Repeat("x,1965-13\n", maxKeptRejects+5)
	_, rejects, r := importBytes(t, []byte(in), nil)
	if len(rejects) != maxKeptRejects || r.Summary().Rejected != maxKeptRejects+5 {
		t.Errorf("%d kept, %d counted", len(rejects), r.Summary().Rejected)
	}
}

func TestMISP(t *testing.T) {
	const (
		o1 = "5f1e0000-0000-4000-8000-000000000001"
		o4 = "5f1e0000-0000-4000-8000-000000000004"
		o5 = "5f1e0000-0000-4000-8000-000000000005"
	)
	wantRecords := []string{
		"|Мухаммед|Абдуллаев||1965-03|M|RU|RU:751234567|" + o1 + "|",
		"Muhammad Abdullaev||||1965-03|M|RU|RU:751234567|" + o1 + "|",
		"|محمد بن علي|العلي||1980||SA|SA:1012345678|" + o4 + "|",
	}
	wantRejects := []string{
		"object " + o4 + ": partly imported: nationality: not a 2- or 3-letter country code",
		"object " + o5 + ": rejected: no valid date of birth; date-of-birth: no such month or day",
	}
	data, err := os.ReadFile("testdata/import/event.json")
	if err != nil {
		t.Fatal(err)
	}
	event := bytes.TrimSpace(data)
	event = event[len(`{"Event":`) : len(event)-1] // the bare event
	for name, in := range map[string][]byte{
		"wrapper":  data,
		"bare":     event,
		"list":     []byte("[" + string(data) + "]"),
		"response": []byte(`{"response": [` + string(data) + `]}`),
		"BOM":      append([]byte("\ufeff"), data...),
	} {
		for _, f := range []Format{Auto, MISP} {
			records, rejects, r := importBytes(t, in, &Options{Format: f})
			checkLines(t, name+" records", records, wantRecords)
			checkLines(t, name+" rejects", rejects, wantRejects)
			// 1 attribute outside objects, 1 deleted and 1 file object.
			checkCounts(t, r, MISP, 3, 1, 1, 3)
		}
	}
}

func TestMISPRules(t *testing.T) {
	obj := func(attrs string) []byte {
		return []byte(`{"Event":{"Object":[{"name":"person","uuid":"u-1","Attribute":[` + attrs + `]}]}}`)
	}
	a := func(rel, v string) string { return fmt.Sprintf(`{"object_relation":%q,"value":%q},`, rel, v) }
	last := `{"object_relation":"text","value":"x"}`
	for _, c := range []struct {
		attrs            string
		records, rejects []string
	}{
		{ // several first names cannot be paired; aliases still are records
			a("first-name", "Ivan") + a("first-name", "Иван") + a("last-name", "Testov") + a("alias", "Ivan Testov") + last,
			[]string{"Ivan Testov||||||||u-1|"},
			[]string{"object u-1: partly imported: first-name: several values; the name parts cannot be paired, so only full names are imported"},
		},
		{ // a part that cannot be used drops the parts' record, not just the part
			a("first-name", "Iv\u2028an") + a("last-name", "Testov") + a("alias", "Ivan Testov") + last,
			[]string{"Ivan Testov||||||||u-1|"},
			[]string{"object u-1: partly imported: first-name: a control character or line separator at byte 2"},
		},
		{ // a passport without its country, issued by the only nationality
			a("last-name", "Testov") + a("nationality", "de") + a("passport-number", "C01X00T47") + last,
			[]string{"||Testov||||DE|DE:C01X00T47|u-1|"}, nil,
		},
		{ // two nationalities: the issuer is unknown
			a("last-name", "Testov") + a("nationality", "DE") + a("nationality", "FR") + a("passport-number", "C01X00T47") + last,
			[]string{"||Testov||||DE||u-1|"},
			[]string{"object u-1: partly imported: passport-number: no issuing country"},
		},
		{ // two passport countries
			a("last-name", "Testov") + a("passport-country", "DE") + a("passport-country", "FR") + a("passport-number", "C01X00T47") + last,
			[]string{"||Testov||||||u-1|"},
			[]string{"object u-1: partly imported: passport-country: several values, so the issuer of each passport number is not known"},
		},
		{ // every date of birth, with every name
			a("last-name", "Testov") + a("alias", "I T") + a("date-of-birth", "1965") + a("date-of-birth", "1966") + last,
			[]string{"||Testov||1965||||u-1|", "||Testov||1966||||u-1|", "I T||||1965||||u-1|", "I T||||1966||||u-1|"}, nil,
		},
		{ // an unknown gender is left out
			a("last-name", "Testov") + a("gender", "Robot") + last,
			[]string{"||Testov||||||u-1|"},
			[]string{"object u-1: partly imported: gender: not a known spelling of male or female"},
		},
		{ // no name
			a("title", "Dr") + a("date-of-birth", "1965") + last, nil,
			[]string{"object u-1: rejected: no name"},
		},
	} {
		records, rejects, _ := importBytes(t, obj(c.attrs), nil)
		checkLines(t, c.attrs+" records", records, c.records)
		checkLines(t, c.attrs+" rejects", rejects, c.rejects)
	}
}

func TestMISPStructure(t *testing.T) {
	for _, c := range []struct {
		in      string
		fatal   bool
		rejects []string
	}{
		{`{"Event":{"info":"x"}}`, false, nil},    // an event without objects
		{`{"info":"x"}`, true, nil},               // not a MISP event
		{`{"Event":{"Object":{}}}`, true, nil},    // Object not an array
		{`{"Event":{"Object":[]}} {}`, true, nil}, // data after
		{`{"Event":[1]}`, true, nil},
		{`{"Event":{"Object":[]}}`, false, nil},
		{`{"Event":{"Object":[1]}}`, false, []string{"object 0: rejected: not a MISP object, or a member of the wrong JSON type"}},
		{`{"Event":{"Object":[{"name":"person","uuid":7}]}}`, false, []string{"object 0: rejected: member uuid has the wrong JSON type"}},
		{`{"Event":{"Object":[{"name":"person","uuid":"u","Attribute":[{"object_relation":"alias","value":5}]}]}}`, false,
			[]string{"object u: rejected: member Attribute.value has the wrong JSON type"}},
		{`{"Event":{"Object":[{"name":"person","uuid":"u","deleted":"maybe"}]}}`, false,
			[]string{"object u: rejected: not a MISP object, or a member of the wrong JSON type"}},
		{`{"Event":{"Object":[{"uuid":"u"}]}}`, false, []string{"object u: rejected: object without a template name"}},
		{`{"Event":{"Object":[{"name":"person","uuid":"u\n"}]}}`, false, []string{"object 0: rejected: ref: a control character or line separator at byte 1; no name"}},
	} {
		_, rejects, r := importAll([]byte(c.in), &Options{Format: MISP})
		if (r.Err() != nil) != c.fatal {
			t.Errorf("%s: error %v", c.in, r.Err())
		}
		checkLines(t, c.in, rejects, c.rejects)
	}
}

// TestMISPStreams reads an event of more objects than MaxRecordBytes
// holds, and refuses one object above it.
func TestMISPStreams(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"Event":{"Object":[`)
	person := `{"name":"person","uuid":"u-%d","Attribute":[{"object_relation":"alias","value":"Person %d"},{"object_relation":"text","value":"%s"}]}`
	pad := strings.Repeat("x", 4000)
	n := 2*MaxRecordBytes/len(pad) + 1
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, person, i, i, pad)
	}
	b.WriteString(`]}}`)
	records, _, _ := importBytes(t, b.Bytes(), nil)
	if len(records) != n {
		t.Errorf("%d records, want %d", len(records), n)
	}

	b.Reset()
	fmt.Fprintf(&b, `{"Event":{"Object":[`+person+`,`+person+`]}}`, 1, 1, "x", 2, 2, strings.Repeat("x", MaxRecordBytes+256<<10))
	records, _, r := importAll(b.Bytes(), nil)
	if !errors.Is(r.Err(), ErrRecordTooLarge) || len(records) != 1 {
		t.Errorf("%d records, error %v", len(records), r.Err())
	}
	// A long attribute array outside objects is skipped element by
	// element; one value above the limit is refused.
	b.Reset()
	fmt.Fprintf(&b, `{"Event":{"Attribute":["%s","%s"]}}`, strings.Repeat("x", MaxRecordBytes/2), strings.Repeat("x", MaxRecordBytes/2))
	if _, _, r := importAll(b.Bytes(), nil); r.Err() != nil || r.Summary().Skipped != 2 {
		t.Errorf("error %v, summary %+v", r.Err(), r.Summary())
	}
	b.Reset()
	fmt.Fprintf(&b, `{"Event":{"Attribute":["%s"]}}`, strings.Repeat("x", MaxRecordBytes+200<<10))
	if _, _, r := importAll(b.Bytes(), nil); !errors.Is(r.Err(), ErrRecordTooLarge) {
		t.Errorf("error %v", r.Err())
	}
	// Deep nesting is an error, not a crash.
	deep := `{"Event":{"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}}`
	if _, _, r := importAll([]byte(deep), nil); r.Err() == nil {
		t.Error("deep nesting accepted")
	}
}

func TestFtM(t *testing.T) {
	records, rejects, r := importFile(t, "entities.ftm.json", nil)
	checkLines(t, "records", records, []string{
		"Ivan Ivanovich Testov||||1965|M|RU|RU:100000001|fic-1|",
		"Ivan Ivanovich Testov||||1966-04|M|RU|RU:100000001|fic-1|",
		"Иван Иванович Тестов||||1965|M|RU|RU:100000001|fic-1|",
		"Иван Иванович Тестов||||1966-04|M|RU|RU:100000001|fic-1|",
		"I. Testov||||1965|M|RU|RU:100000001|fic-1|",
		"I. Testov||||1966-04|M|RU|RU:100000001|fic-1|",
		"محمد العلي||||1980-05-17|F|SA|SA:X1234567|fic-2|",
		"|محمد|العلي||1980-05-17|F|SA|SA:X1234567|fic-2|",
		"Jean Dupont-Testov||||||DE||fic-4|",
	})
	checkLines(t, "rejects", rejects, []string{
		"entity fic-1: partly imported: firstName: several values; the name parts cannot be paired, so only full names are imported",
		"entity fic-1: partly imported: lastName: several values; the name parts cannot be paired, so only full names are imported",
		"entity fic-2: partly imported: nationality: not a 2- or 3-letter country code",
		"entity fic-3: rejected: no valid date of birth; birthDate: month is not a number from 1 to 12",
		"entity fic-4: partly imported: passportNumber: no issuing country",
		"entity fic-4: partly imported: idNumber: no issuing country",
	})
	checkCounts(t, r, FtM, 9, 1, 5, 2)
}

func TestFtMLines(t *testing.T) {
	for _, c := range []struct {
		in      string
		records int
		rejects []string
	}{
		{`{"id":"a","schema":"Person","properties":{"name":["A B"]}}`, 1, nil},
		{`{"id":"a","schema":"Person","properties":{"name":["A B"]}`, 0, []string{"line 1: rejected: invalid JSON at byte 57"}},
		{`["schema"]`, 0, []string{"line 1: rejected: not a JSON object"}},
		{`{"id":1,"schema":"Person"}`, 0, []string{"line 1: rejected: member id has the wrong JSON type"}},
		{`{"id":"a","properties":{}}`, 0, []string{"line 1: rejected: not an entity: no schema"}},
		{`{"id":"a","schema":"Person","properties":{"name":"A B"}}`, 0, []string{"entity a: rejected: properties.name: not an array of strings; no name"}},
		{`{"id":"a","schema":"Person","properties":{"name":["A B"],"birthDate":[1965]}}`, 0, []string{"entity a: rejected: properties.birthDate: not an array of strings"}},
		{`{"schema":"Person","properties":{"name":["A B"]}}`, 1, nil},
		{`{"id":"a\u0000","schema":"Person","properties":{"name":["A B"]}}`, 0, []string{"line 1: rejected: ref: a control character or line separator at byte 1"}},
		{`{"id":"a","schema":"Person","properties":{"name":["A\u2029B"],"alias":["C D"]}}`, 1, []string{"entity a: partly imported: name: a control character or line separator at byte 1"}},
		{`{"id":"a","schema":"Person","properties":{"name":["A B"],"gender":["robot"]}}`, 1, []string{"entity a: partly imported: gender: not a known spelling of male or female"}},
	} {
		records, rejects, _ := importBytes(t, []byte(c.in+"\n"), &Options{Format: FtM})
		if len(records) != c.records {
			t.Errorf("%s: records %q", c.in, records)
		}
		checkLines(t, c.in, rejects, c.rejects)
	}
}

// TestFtMBounds: values per property and records per entity are bounded,
// and what is left out is reported.
func TestFtMBounds(t *testing.T) {
	var names, dates []string
	for i := range 20 {
		names = append(names, fmt.Sprintf("%q", fmt.Sprintf("Name %c", 'A'+i)))
		dates = append(dates, fmt.Sprintf(`"%d"`, 1950+i))
	}
	in := `{"id":"a","schema":"Person","properties":{"name":[` + strings.Join(names, ",") + `],"birthDate":[` + strings.Join(dates, ",") + `]}}`
	records, rejects, _ := importBytes(t, []byte(in), nil)
	if len(records) != maxRecordsPerPerson {
		t.Errorf("%d records", len(records))
	}
	checkLines(t, "rejects", rejects, []string{
		"entity a: partly imported: name: 20 values, only the first 16 are imported",
		"entity a: partly imported: birthDate: 20 values, only the first 16 are imported",
		"entity a: partly imported: 16 names and 16 dates of birth make 256 records, only the first 64 are imported",
	})
}

// TestFtMLineTooLarge: a line above MaxRecordBytes is rejected alone,
// without being kept, and the lines around it are read.
func TestFtMLineTooLarge(t *testing.T) {
	line := `{"id":"%s","schema":"Person","properties":{"name":["%s"]}}` + "\n"
	in := fmt.Sprintf(line, "a", "A B") + fmt.Sprintf(line, "b", strings.Repeat("x", MaxRecordBytes)) + fmt.Sprintf(line, "c", "C D")
	records, rejects, _ := importBytes(t, []byte(in), &Options{Format: FtM})
	checkLines(t, "records", records, []string{"A B||||||||a|", "C D||||||||c|"})
	checkLines(t, "rejects", rejects, []string{fmt.Sprintf("line 2: rejected: longer than %d bytes", MaxRecordBytes)})
}

func TestDetect(t *testing.T) {
	for in, want := range map[string]Format{
		"name,dob\nA,1965\n": CSV,
		"\ufeff  {\"id\":\"a\",\"schema\":\"Person\",\"properties\":{\"name\":[\"A B\"]}}\n": FtM,
		"[{\"Event\": {\"Object\": []}}]": MISP,
		"{\n \"Object\": []\n}":           MISP,
	} {
		_, _, r := importAll([]byte(in), nil)
		if r.Err() != nil || r.Summary().Format != want {
			t.Errorf("%q: %v, error %v, want %v", in, r.Summary().Format, r.Err(), want)
		}
	}
	if _, _, r := importAll([]byte(`{"type":"bundle"}`), nil); r.Err() == nil {
		t.Error("STIX accepted")
	}
	for _, s := range []string{"csv", "MISP", "ftm", "auto", ""} {
		if f, err := ParseFormat(s); err != nil || (s != "" && !strings.EqualFold(f.String(), s)) {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("stix"); err == nil {
		t.Error("ParseFormat(stix) succeeded")
	}
}

func TestRecordsOnce(t *testing.T) {
	r := NewReader(strings.NewReader("name\nA B\nC D\n"), nil)
	for range r.Records() {
		break // a consumer that stops early
	}
	if r.Err() != nil || r.Summary().Records != 1 {
		t.Errorf("error %v, summary %+v", r.Err(), r.Summary())
	}
	for range r.Records() {
		t.Error("second range yields")
	}
	if r.Err() == nil {
		t.Error("second range without error")
	}
}

// TestMISPTruncated cuts the event at every byte: every prefix is an
// error, never a success with fewer records, and the records before the
// error are those of the whole event, in order.
func TestMISPTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/import/event.json")
	if err != nil {
		t.Fatal(err)
	}
	full, _, _ := importBytes(t, data, nil)
	data = bytes.TrimSpace(data)
	for n := range len(data) {
		records, _, r := importAll(data[:n], &Options{Format: MISP})
		if r.Err() == nil {
			t.Errorf("prefix of %d bytes: no error", n)
		}
		if !slices.Equal(records, full[:len(records)]) {
			t.Errorf("prefix of %d bytes: records %q", n, records)
		}
	}
}

// TestFtMTruncated cuts the entities at every byte: the complete lines
// are read as they are, and a cut line is rejected where it is, so no
// entity is lost without a report. (A cut at a line end reads as a
// shorter file: JSON lines cannot tell.)
func TestFtMTruncated(t *testing.T) {
	data, err := os.ReadFile("testdata/import/entities.ftm.json")
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		prefix := data[:n]
		whole := prefix[:bytes.LastIndexByte(prefix, '\n')+1]
		want, _, _ := importBytes(t, whole, &Options{Format: FtM})
		records, _, r := importAll(prefix, &Options{Format: FtM})
		if r.Err() != nil {
			t.Fatalf("prefix of %d bytes: %v", n, r.Err())
		}
		cut := bytes.TrimSpace(prefix[len(whole):])
		line := bytes.Count(whole, []byte("\n")) + 1
		fullLine, _, _ := bytes.Cut(data[len(whole):], []byte("\n"))
		switch {
		case len(cut) == 0 || bytes.Equal(cut, bytes.TrimSpace(fullLine)):
			// Nothing, or a whole line, was cut off.
			if !slices.Equal(records[:min(len(want), len(records))], want) {
				t.Errorf("prefix of %d bytes: records %q, want %q", n, records, want)
			}
		default:
			if !slices.Equal(records, want) {
				t.Errorf("prefix of %d bytes: records %q, want %q", n, records, want)
			}
			rj := r.Rejects()
			if len(rj) == 0 {
				t.Fatalf("prefix of %d bytes: no reject", n)
			}
			if last := rj[len(rj)-1]; last.Where != fmt.Sprintf("line %d", line) || last.Partial {
				t.Errorf("prefix of %d bytes: last reject %v, want one of line %d", n, last, line)
			}
		}
	}
}

// checkRecord checks what every record must be: named, with a valid
// date of birth, sex, reference and label.
func checkRecord(rec Record) error {
	if !hasLetter(nameForm{rec.Name, rec.Given, rec.Surname, rec.Patronymic}) {
		return errors.New("no name part")
	}
	for _, s := range []string{rec.Name, rec.Given, rec.Surname, rec.Patronymic, rec.Ref, rec.Label} {
		if err := match.CheckLabel(s); err != nil {
			return fmt.Errorf("a field: %v", err)
		}
	}
	if err := rec.Birth.check(); err != nil {
		return err
	}
	if b, err := ParseBirth(rec.Birth.String()); err != nil || b != rec.Birth {
		return fmt.Errorf("birth %v does not round-trip", rec.Birth)
	}
	if rec.Sex != "" && rec.Sex != "M" && rec.Sex != "F" {
		return errors.New("bad sex")
	}
	if rec.Nationality != "" && !isLetters(rec.Nationality, 2, 3) {
		return errors.New("bad nationality")
	}
	for _, d := range rec.Documents {
		if d.Country == "" || d.Number == "" {
			return errors.New("document without country or number")
		}
	}
	return nil
}

func FuzzReader(f *testing.F) {
	for _, name := range []string{"people.csv", "event.json", "entities.ftm.json"} {
		data, err := os.ReadFile("testdata/import/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(Auto))
	}
	f.Add([]byte("name;dob;sex\n\"A\"\"B\";1965-02-29;w\n"), uint8(CSV))
	f.Add([]byte(`{"response":[{"Event":{"Object":[{"name":"person","Attribute":[{"object_relation":"alias","value":"A"}]}]}}]}`), uint8(MISP))
	f.Add([]byte(`{"schema":"Person","properties":{"name":["A"],"birthDate":["1965/1969"]}}`), uint8(FtM))
	f.Fuzz(func(t *testing.T, data []byte, format uint8) {
		var rejects []Reject
		r := NewReader(bytes.NewReader(data), &Options{Format: Format(format % 4), OnReject: func(rj Reject) { rejects = append(rejects, rj) }})
		n := 0
		for rec := range r.Records() {
			n++
			if err := checkRecord(rec); err != nil {
				t.Fatalf("record %+v: %v", rec, err)
			}
		}
		s := r.Summary()
		if s.Records != n || s.Rejected+s.Partial != len(rejects) {
			t.Fatalf("summary %+v, %d records, %d rejects", s, n, len(rejects))
		}
		for _, rj := range rejects {
			if strings.ContainsFunc(rj.Where+rj.Reason, unicode.IsControl) || rj.Where == "" || rj.Reason == "" {
				t.Fatalf("reject %q", rj)
			}
		}
	})
}

func ExampleReader() {
	in := "surname,given,dob,nationality,ref\n" +
		"Абдуллаев,Мухаммед,1965-03,RU,W-1\n" +
		"Müller,Hans,1965-13,DE,W-2\n"
	r := NewReader(strings.NewReader(in), nil)
	for rec := range r.Records() {
		fmt.Println(rec.Ref, rec.Surname, rec.Birth)
	}
	if err := r.Err(); err != nil {
		fmt.Println(err)
	}
	for _, rj := range r.Rejects() {
		fmt.Println(rj)
	}
	fmt.Printf("%d imported, %d rejected\n", r.Summary().Records, r.Summary().Rejected)
	// Output:
	// W-1 Абдуллаев 1965-03
	// line 3: rejected: dob: month is not a number from 1 to 12
	// 1 imported, 1 rejected
}
