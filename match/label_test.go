package match

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// controlLabels are labels a printed listing would show as more than one
// line or column, or not as text at all.
var controlLabels = map[string]string{
	"LF":  "secret\nforged line",
	"CR":  "secret\rforged",
	"tab": "secret\tforged column",
	"NUL": "secret\x00",
	"ESC": "secret\x1b[31m",
	"DEL": "secret\x7f",
	"NEL": "secret\u0085forged",
	"C1":  "secret\u009b31m",
	"LS":  "secret\u2028forged",
	"PS":  "secret\u2029forged",
	"VT":  "secret\vforged",
	"FF":  "secret\fforged",
}

// A label or reference with a control character or a line or paragraph
// separator is refused at publication, naming the entry and the field and
// never the text. Regression: Publish took them, and a partner printing
// hits as tab-separated lines could be made to print forged lines.
func TestPublishRefusesControlLabels(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	good := entriesOf(synthetic(t, 0, 4), nil)
	for name, l := range controlLabels {
		for field, e := range map[string]Entry{
			"label":     {Indicator: good[0].Indicator, Label: l},
			"reference": {Indicator: good[0].Indicator, Ref: l},
		} {
			es := append(append([]Entry{}, good[:3]...), e)
			_, err := Publish(key, func(yield func(Entry) bool) {
				for _, e := range es {
					if !yield(e) {
						return
					}
				}
			}, nil)
			if err == nil || !strings.Contains(err.Error(), "entry 3: "+field) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s in a %s: %v", name, field, err)
			}
		}
	}
}

// A querier refuses a confirm response with such a label: the publisher
// is not trusted to have checked it. Regression: the decoder checked only
// UTF-8.
func TestConfirmResponseRefusesControlLabels(t *testing.T) {
	hdr := msgHeader{suite: SuiteRistretto255, mode: ModePOPRF}
	for name, l := range controlLabels {
		for _, labels := range [][]string{{l}, {"fine", l}} {
			r := &ConfirmResponse{hdr: hdr, results: []confirmResult{{}, {hit: true, labels: labels}}}
			b, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			err = new(ConfirmResponse).UnmarshalBinary(b)
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalidLabel) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s in %d labels: %v", name, len(labels), err)
			}
		}
	}
	r := &ConfirmResponse{hdr: hdr, results: []confirmResult{{hit: true, labels: []string{"TLP:GREEN Zeichen ✓ \u200d\u202e"}}}}
	b, _ := r.MarshalBinary()
	if err := new(ConfirmResponse).UnmarshalBinary(b); err != nil {
		t.Errorf("a printable label refused: %v", err)
	}
}

// A restored publisher holds only labels a querier accepts.
func TestPublisherStateRefusesControlLabels(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 11)
	es := entriesOf(synthetic(t, 0, 3), nil)
	es[2].Label, es[1].Ref = "label", "ref"
	for _, field := range []string{"label", "reference"} {
		p := mustPublish(t, key, es, nil)
		ss := &p.st.labels
		if field == "reference" {
			ss = &p.st.refs
		}
		at := int(ss.at[0])
		*ss = sparseStrings{}
		ss.set(at, "secret\nforged")
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := RestorePublisher(key, b, nil); !errors.Is(err, ErrMalformed) || !errors.Is(err, ErrInvalidLabel) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s with a newline restored: %v", field, err)
		}
	}
}

// CheckLabel refuses exactly C0, DEL, C1, U+2028 and U+2029, wherever they
// are, and says where without quoting.
func TestCheckLabel(t *testing.T) {
	refused := func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 }
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := "ab" + string(r) + "c"
		err := CheckLabel(s)
		if refused(r) != (err != nil) {
			t.Fatalf("U+%04X: %v", r, err)
		}
		if err != nil && err.Error() != "a control character or line separator at byte 2" {
			t.Fatalf("U+%04X: %v", r, err)
		}
	}
	for _, s := range []string{"", "TLP:AMBER+STRICT case 4712", "Fall 17 · Büro ✓", strings.Repeat("x", MaxLabelLen)} {
		if err := CheckLabel(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for s, want := range map[string]string{
		strings.Repeat("x", MaxLabelLen+1): "longer than 1024 bytes",
		"x\xffy":                           "not valid UTF-8",
		"x\xc2":                            "not valid UTF-8", // a C1 lead byte cut short
		"x\xe2\x80":                        "not valid UTF-8",
	} {
		if err := CheckLabel(s); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}
