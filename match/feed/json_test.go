package feed

import (
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// validJSON reports whether jsonReader accepts data as one JSON value.
func validJSON(data []byte) bool {
	j := newJSONReader(strings.NewReader(string(data)))
	if err := j.skip(); err != nil {
		return false
	}
	end, err := j.atEOF()
	return err == nil && end
}

func TestJSONReaderValidity(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `-12.0E+7`, `true`, `false`, `null`,
		`{"a": [1, "x", {"b": null}], "c": "\u00e9\ud83d\ude00\n"}`, ` [ 1 , 2 ] `, `"\/"`, "\"\xff\"",
		`01`, `1.`, `.5`, `+1`, `1e`, `-`, `tru`, `nul`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{a:1}`,
		`"\x"`, `"\u12"`, "\"a\nb\"", `"unterminated`, `{"a":1}}`, `[1] 2`, ``, `  `, `"\ud800"`, `"\ud800\u0041"`,
	} {
		if got, want := validJSON([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("%q: jsonReader says %v, encoding/json %v", s, got, want)
		}
	}
	deep := strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1)
	if validJSON([]byte(deep)) {
		t.Error("nesting beyond the limit accepted")
	}
}

func TestJSONReaderStrings(t *testing.T) {
	for _, s := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\ud83d\ude00"`, `"\ud800x"`, `"\ud800\u0041"`, `"é"`} {
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		j := newJSONReader(strings.NewReader(s))
		got, err := j.str()
		if err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", s, got, err, want)
		}
	}
	// A string longer than the reader's first buffer, and one split by
	// reads of one byte, decode whole.
	long := `"` + strings.Repeat("abc\\n", 40000) + `"`
	var want string
	json.Unmarshal([]byte(long), &want)
	for _, r := range []*jsonReader{newJSONReader(strings.NewReader(long)), newJSONReader(&oneByteReader{s: long})} {
		r.markRecord()
		if got, err := r.str(); err != nil || got != want {
			t.Errorf("long string: %d bytes, %v", len(got), err)
		}
	}
}

type oneByteReader struct{ s string }

func (o *oneByteReader) Read(p []byte) (int, error) {
	if o.s == "" {
		return 0, io.EOF
	}
	p[0] = o.s[0]
	o.s = o.s[1:]
	return 1, nil
}

// FuzzJSONReader checks the reader against encoding/json: the same
// verdict on every input, and the same decoded value for strings.
func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{`{"a": [1, "x", {"b": null}]}`, `"\u00e9\ud83d\ude00"`, `-1.5e+3`, `[true, false, null]`, `{"a":"b"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := validJSON(data), json.Valid(data)
		if got != want {
			t.Fatalf("%q: jsonReader %v, encoding/json %v", data, got, want)
		}
		if !want || data[firstNonSpace(data)] != '"' || !utf8.Valid(data) {
			return
		}
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		j := newJSONReader(strings.NewReader(string(data)))
		j.peek()
		if d, err := j.str(); err != nil || d != s {
			t.Fatalf("%q decodes to %q, %v; encoding/json %q", data, d, err, s)
		}
	})
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return i
		}
	}
	return 0
}
