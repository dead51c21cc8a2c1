package indicator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKindDocumentAndPlate(t *testing.T) {
	testKind(t, Document, []canonCase{
		{"DEU:C01X00T47", "DEU:C01X00T47", ""},
		{"D C01X00T47", "DEU:C01X00T47", ""},
		{"de:c01x-00t47", "DEU:C01X00T47", ""},
		{"GBR 123 456 789", "GBR:123456789", ""},
		{"UK:123456789", "GBR:123456789", ""},
		{"XK:P0123456", "RKS:P0123456", ""},
		{"RKS:P0123456", "RKS:P0123456", ""},
		{"UNO:12345", "UNO:12345", ""},
		{"FRA:12AB34567<<", "FRA:12AB34567", ""},
		{"usa:123.456/789", "USA:123456789", ""},
		{"ZZ:123", "", "ISO 3166"},
		{"DEUTSCHLAND:123", "", "alpha-2 or alpha-3"},
		{"DEU:", "", "1 to 32"},
		{"DEU:C01#", "", "A-Z, 0-9"},
		{"DEUC01X00T47", "", "COUNTRY:NUMBER"},
		{"DEU:" + strings.Repeat("A", 33), "", "1 to 32"},
	})
	testKind(t, Plate, []canonCase{
		{"DE:B-AB 1234", "DEU:BAB1234", ""},
		{"DEU:bab1234", "DEU:BAB1234", ""},
		{"D M AB 12", "DEU:MAB12", ""},
		{"FRA:AB-123-CD", "FRA:AB123CD", ""},
		{"fr ab 123 cd", "FRA:AB123CD", ""},
		{"RUS:а123вс 77", "RUS:А123ВС77", ""},
		{"NLD:12-ABC-3", "NLD:12ABC3", ""},
		{"AUT:W·12345", "AUT:W12345", ""},
		{"GBR:AB12 CDE", "GBR:AB12CDE", ""},
		{"CHE:ZH_123456", "CHE:ZH123456", ""},
		{"DEU:B-AB*1234", "", "letters, digits"},
		{"DEU:", "", "1 to 16"},
		{"QQ:ABC", "", "ISO 3166"},
		{"DEU:" + strings.Repeat("A", 17), "", "1 to 16"},
	})
}

// TestCountryTableDocumented checks that the country table of PROTOCOL.md
// section 4.12 ("ALPHA3: CODE CODE; ...") lists exactly the two- and
// three-letter codes that countryAlpha3 accepts, each under the code it
// becomes, so that the specification is the table an implementation
// needs.
func TestCountryTableDocumented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "PROTOCOL.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, _ := strings.Cut(string(data), "### 4.12 ")
	_, sec, _ = strings.Cut(sec, "Numeric codes")
	_, sec, _ = strings.Cut(sec, "```\n")
	sec, _, _ = strings.Cut(sec, "```")
	want := map[string]string{}
	for _, e := range strings.Split(strings.ReplaceAll(sec, "\n", " "), ";") {
		to, codes, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			t.Fatalf("entry %q is not ALPHA3: CODES", e)
		}
		for _, c := range strings.Fields(codes) {
			want[c] = to
		}
	}
	if len(want) < 500 {
		t.Fatalf("%d codes in the table: it was not found whole", len(want))
	}
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for _, a := range letters {
		for _, b := range letters {
			for _, c := range append([]string{""}, strings.Split(letters, "")...) {
				code := string(a) + string(b) + c
				if _, icao := icaoCodes[code]; icao {
					continue
				}
				got, err := countryAlpha3(code)
				if err != nil {
					got = ""
				}
				if got != want[code] {
					t.Errorf("country %s: %q, PROTOCOL.md says %q", code, got, want[code])
				}
			}
		}
	}
}
