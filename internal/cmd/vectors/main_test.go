package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/internal/vectors"
)

const ref = "../../../match/indicator/testdata/vectors.json"

// -self agrees with the file; -check of a file with one value changed
// names that case and exits 1; usage errors exit 2.
func TestRun(t *testing.T) {
	var out, errw bytes.Buffer
	if code := run([]string{"-ref", ref, "-self"}, &out, &errw); code != 0 || !strings.Contains(out.String(), "agree") {
		t.Fatalf("-self: exit %d\n%s%s", code, out.String(), errw.String())
	}
	f, err := os.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	v, err := vectors.Read(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	v.Kinds[0].Valid[0].Canonical += "x"
	b, err := vectors.Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	theirs := filepath.Join(t.TempDir(), "theirs.json")
	if err := os.WriteFile(theirs, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"-ref", ref, "-check", theirs}, &out, &errw); code != 1 || !strings.Contains(out.String(), "1 of ") ||
		!strings.Contains(out.String(), v.Kinds[0].Kind+" ") {
		t.Fatalf("-check of a changed file: exit %d\n%s", code, out.String())
	}
	for _, args := range [][]string{{}, {"-self", "-check", theirs}, {"-check", filepath.Join(t.TempDir(), "missing.json"), "-ref", ref}} {
		if code := run(args, &out, &errw); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}
