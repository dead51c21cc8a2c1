package person

import (
	"strings"
	"testing"
)

func TestCanonAbd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abdulrahman", "abdulrahman"},
		{"abdelrahman", "abdulrahman"},
		{"abdalrahman", "abdulrahman"},
		{"abdurrahman", "abdulrahman"},
		{"abdirahman", "abdulrahman"},
		{"abdrahman", "abdulrahman"},
		{"abdoulrahman", "abdulrahman"},
		{"abdullah", "abdullah"},
		{"abdallah", "abdullah"},
		{"abdulla", "abdullah"},
		{"abdalla", "abdullah"},
		{"abdullahi", "abdullah"},
		{"abdollah", "abdullah"},
		{"abdulloh", "abdullah"},
		{"abdulah", "abdullah"},
		{"abdoulaye", "abdulaye"}, // then the family: abdullah
		{"abdullatif", "abdulatif"},
		{"abdelatif", "abdulatif"},
		{"abdussalam", "abdulsalam"},
		{"abdelaziz", "abdulaziz"},
		{"abdiaziz", "abdulaziz"},
		{"abdullaev", "abdulaev"},
		{"abdulayev", "abdulayev"},
		{"abd", "abd"},
		{"abdi", "abdi"},
		{"abdou", "abdou"},
		{"abdel", "abdel"},
		{"abdul", "abdul"},
		{"abdull", "abdull"},
		{"ahmad", "ahmad"},
		{"sabdullah", "sabdullah"},
	} {
		got := canonAbd(tc.in)
		if got != tc.want {
			t.Errorf("canonAbd(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := canonAbd(got); again != got {
			t.Errorf("canonAbd(%q) = %q, not idempotent", got, again)
		}
	}
}

func TestFinishForm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abd al rahman", "abdulrahman"},
		{"abdul rahman ibn khalid", "abdulrahman khalid"},
		{"abu bakr al baghdadi", "abubakr baghdadi"},
		{"abu al hassan", "abuhassan"},
		{"abou bakr", "abubakr"},
		{"abd al", "abdal"},    // an article with nothing after it is joined
		{"ali abu", "ali abu"}, // nothing to join to
		{"dr mohammed al sayyid", "muhammad"},
		{"mr", "mr"},
		{"van der", "van der"},
		{"maria de la cruz", "maria cruz"},
		{"mohd abdulla", "muhammad abdullah"},
		{"abdoulaye wade", "abdullah wade"},
		{"o brien", "o brien"},
		{"mcdonald mac", "mcdonald mac"},
		{"sergey yevgeniy aleksandr", "sergei evgeny alexander"},
	} {
		got, cut := finishForm(strings.Fields(tc.in))
		if strings.Join(got, " ") != tc.want || cut {
			t.Errorf("finishForm(%q) = %q, %v; want %q", tc.in, got, cut, tc.want)
		}
	}
}

// The families are a function: each spelling is in one family, every
// representative is its own fold and is left alone by every other rule,
// so that normalization is idempotent.
func TestFamilies(t *testing.T) {
	seen := map[string]string{}
	for _, f := range families {
		for _, w := range f {
			if prev, ok := seen[w]; ok && prev != f[0] {
				t.Errorf("%q is in the families of %q and %q", w, prev, f[0])
			}
			seen[w] = f[0]
			if !isAZ(w) {
				t.Errorf("family spelling %q is not a-z", w)
			}
			if particles[w] || honorifics[w] || glueNext[w] || articles[w] {
				t.Errorf("family spelling %q is a particle, honorific or joined word", w)
			}
		}
		rep := f[0]
		if familyOf[rep] != rep || canonAbd(rep) != rep {
			t.Errorf("representative %q is not a fixed point", rep)
		}
		if forms, _ := normalizeName(rep); len(forms) != 1 || strings.Join(forms[0], " ") != rep {
			t.Errorf("normalizeName(%q) = %v", rep, forms)
		}
	}
	if len(families) < 60 {
		t.Errorf("%d families", len(families))
	}
	// A family member that canonAbd would rewrite would never be seen.
	for w := range familyOf {
		if canonAbd(w) != w {
			t.Errorf("family spelling %q is rewritten by canonAbd to %q first", w, canonAbd(w))
		}
	}
}

func TestWordLists(t *testing.T) {
	for name, m := range map[string]map[string]bool{"particles": particles, "honorifics": honorifics, "glueNext": glueNext, "articles": articles} {
		for w := range m {
			if !isAZ(w) {
				t.Errorf("%s: %q is not a-z", name, w)
			}
		}
	}
	for w := range glueNext {
		if particles[w] || honorifics[w] {
			t.Errorf("%q is both joined and dropped", w)
		}
	}
}
