package vectors

import (
	"bytes"
	"strings"
	"testing"
)

const small = `{"description": "d", "unicode": "15.0.0", "kinds": [
 {"kind": "email", "valid": [{"input": " A@example.org", "canonical": "a@example.org"}],
  "invalid": [{"input": "no-at", "code": "email.at"}]},
 {"kind": "phone", "valid": [{"input": "030 1234567", "region": "DE", "canonical": "+49301234567"}], "invalid": []}]}`

func TestRead(t *testing.T) {
	f, err := Read(strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Kinds) != 2 || f.Kinds[1].Valid[0].Region != "DE" || f.Kinds[0].Invalid[0].Code != "email.at" {
		t.Fatalf("read %+v", f)
	}
	// Every cut is an error, never a panic.
	for i := range len(small) {
		if _, err := Read(strings.NewReader(small[:i])); err == nil {
			t.Errorf("cut at %d of %d: no error", i, len(small))
		}
	}
	for name, in := range map[string]string{
		"unknown field":  `{"kinds": [], "extra": 1}`,
		"trailing data":  small + `{}`,
		"too large":      `{"description": "` + strings.Repeat("x", MaxFileSize) + `"}`,
		"wrong type":     `{"kinds": {}}`,
		"not an object":  `[]`,
		"case as string": `{"kinds": [{"kind": "email", "valid": ["x"]}]}`,
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCompare(t *testing.T) {
	ref, err := Read(strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(ref, ref); len(d) != 0 {
		t.Fatalf("a file against itself: %v", d)
	}
	other, _ := Read(strings.NewReader(small))
	// A value changed, a refusal turned into a value, a case missing.
	other.Kinds[0].Valid[0].Canonical = "A@example.org"
	other.Kinds[0].Valid = append(other.Kinds[0].Valid, Valid{Input: "no-at", Canonical: "no-at"})
	other.Kinds[0].Invalid = nil
	other.Kinds[1].Valid = nil
	d := Compare(ref, other)
	want := []string{
		`email " A@example.org": want a@example.org, got A@example.org`,
		`email "no-at": want refused: email.at, got no-at`,
		`phone "030 1234567" (region DE): want +49301234567, got missing`,
	}
	if len(d) != len(want) {
		t.Fatalf("differences %v, want %q", d, want)
	}
	for i := range want {
		if d[i].String() != want[i] {
			t.Errorf("difference %d: %s, want %s", i, d[i], want[i])
		}
	}
}

func TestEncodeRead(t *testing.T) {
	ref, err := Read(strings.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Encode(ref)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if d := Compare(ref, again); len(d) != 0 || len(again.Kinds) != len(ref.Kinds) {
		t.Fatalf("round trip: %v", d)
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(small))
	f.Add([]byte(`{"kinds":[{"kind":"x","valid":[{"input":"\u0000","canonical":""}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		b, err := Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("encoded file does not read: %v", err)
		}
		if d := Compare(v, again); len(d) != 0 {
			t.Fatalf("round trip differs: %v", d)
		}
	})
}

// A case listed twice, under one kind or under a kind named twice, made
// Compare of a file with itself report a difference (found by FuzzRead).
func TestReadRefusesDuplicateCases(t *testing.T) {
	for _, in := range []string{
		`{"kinds":[{"kind":"k","valid":[{"input":"a","canonical":"a"}],"invalid":[{"input":"a","code":"c"}]}]}`,
		`{"kinds":[{"kind":"k","invalid":[{"input":"a","code":"c"}]},{"kind":"k","valid":[{"input":"a","canonical":""}]}]}`,
		`{"kinds":[{"kind":"phone","valid":[{"input":"1","region":"DE","canonical":"x"},{"input":"1","region":"DE","canonical":"y"}]}]}`,
	} {
		_, err := Read(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), "twice") {
			t.Errorf("Read(%s) = %v, want a duplicate-case error", in, err)
		}
	}
	// The same input under another region or kind is another case.
	ok := `{"kinds":[{"kind":"phone","valid":[{"input":"1","region":"DE","canonical":"x"},{"input":"1","region":"FR","canonical":"y"}]},{"kind":"k","valid":[{"input":"1","canonical":"1"}]}]}`
	if _, err := Read(strings.NewReader(ok)); err != nil {
		t.Errorf("Read(%s): %v", ok, err)
	}
}
