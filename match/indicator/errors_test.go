package indicator

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// reasonVocabulary returns the fixed text of the package's reasons: the
// string literals in the calls that build errors (errors.New, fmt.Errorf,
// fmt.Sprintf, fail, failf, reasonError values), in Reason fields, and in
// lengthsString, from the
// package's own source files (not tests, generators or generated tables).
func reasonVocabulary(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	dir, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range dir {
		n := e.Name()
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") || strings.HasPrefix(n, "gen_") || strings.HasSuffix(n, "_table.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	var vocab []string
	literals := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if l, ok := n.(*ast.BasicLit); ok && l.Kind == token.STRING {
				s, err := strconv.Unquote(l.Value)
				if err != nil {
					t.Fatal(err)
				}
				vocab = append(vocab, s)
			}
			return true
		})
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "fail" || id.Name == "failf") {
					literals(n)
				}
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "errors" && sel.Sel.Name == "New" ||
						x.Name == "fmt" && (sel.Sel.Name == "Errorf" || sel.Sel.Name == "Sprintf")) {
						literals(n)
					}
				}
			case *ast.CompositeLit:
				if id, ok := n.Type.(*ast.Ident); ok && id.Name == "reasonError" {
					literals(n)
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Reason" {
					literals(n.Value)
				}
			case *ast.FuncDecl:
				if n.Name.Name == "lengthsString" {
					literals(n)
				}
			}
			return true
		})
	}
	if len(vocab) < 50 {
		t.Fatalf("vocabulary of %d literals: the parse missed the reasons", len(vocab))
	}
	return vocab
}

var digitRun = regexp.MustCompile(`[0-9]+|%d`)

// masked replaces every number (and %d verb) by '#': reasons may give
// lengths and counts, which are numbers, and nothing else of a value.
func masked(s string) string { return digitRun.ReplaceAllString(s, "#") }

// invalidValues returns invalid values of every kind, made from valid ones
// with distinctive substrings: mutations (cut, extended, a character
// replaced, a distinctive token inserted) and, for IBANs and phone
// numbers, every country's wrong lengths.
func invalidValues() map[*Kind][]string {
	valid := map[string][]string{
		"email":     {"analyst.qzw@example.org", "Zyx.Wvu@Qzwhost.example"},
		"domain":    {"qzwhost.example", "xn--bcher-kva.example"},
		"url":       {"https://qzwhost.example:8443/qzpath?qk=qv", "http://[2001:db8::1f]/x"},
		"ipv4":      {"192.0.2.44"},
		"ipv6":      {"2001:db8::1f"},
		"ipv4-cidr": {"192.0.2.0/24"},
		"ipv6-cidr": {"2001:db8::/32"},
		"phone":     {"+44 20 7946 0018", "+1 201 555 0123", "+380 44 123 4567"},
		"md5":       {"d41d8cd98f00b204e9800998ecf8427e"},
		"sha1":      {"da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		"sha256":    {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		"sha512":    {strings.Repeat("cf83e1357eefb8bd", 8)},
		"ssdeep":    {"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"},
		"tlsh":      {"T1" + strings.Repeat("0123456789ABCDEF", 5)[:70]},
		"btc":       {"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		"eth":       {"0x52908400098527886E0F7030069857D2E4169EE7"},
		"iban":      {"DE89370400440532013000", "GB82WEST12345698765432"},
		"document":  {"DEU:C01X00T47", "GBR:123456789"},
		"plate":     {"DEU:B-QZ 123"},
	}
	out := map[*Kind][]string{}
	for name, vs := range valid {
		k, err := Lookup(name)
		if err != nil {
			panic(err)
		}
		for _, v := range vs {
			for i := range len(v) + 1 {
				out[k] = append(out[k], v[:i], v[:i]+"QZ"+v[i:], v[:i]+"Ωж"+v[i:], v[:i]+"7"+v[i:])
				if i < len(v) {
					out[k] = append(out[k], v[:i]+"!"+v[i+1:], v[:i]+"q"+v[i+1:], v[:i]+v[i+1:], v+v[i:])
				}
			}
		}
	}
	// Every country's IBAN one character short and one too long, and
	// every calling code with too few and too many digits.
	for cc, n := range ibanLengths {
		body := strings.Repeat("8", n-4)
		out[IBAN] = append(out[IBAN], cc+"89"+body[1:], cc+"89"+body+"8", cc+"QZ"+body)
	}
	for code := range phoneCodes {
		out[Phone] = append(out[Phone], "+"+code+" 8", "+"+code+" "+strings.Repeat("8", 16), "00"+code+" 88")
	}
	return out
}

// No reason quotes any part of the value: every substring of two or more
// characters of the value (as given, and in upper and lower case) that a
// reason holds must be fixed text of the package's reasons, numbers
// aside (a reason gives lengths and counts). Regression: IBAN reasons
// named the country ("DE IBANs have 22") and phone reasons the calling
// code ("after country code +44").
func TestReasonsNeverQuoteTheValue(t *testing.T) {
	var vocab strings.Builder
	for _, l := range reasonVocabulary(t) {
		vocab.WriteString(masked(l))
		vocab.WriteByte(0)
	}
	fixed := vocab.String()
	checked := 0
	check := func(k, value string, err error) {
		var ie *Error
		if !errors.As(err, &ie) {
			if err != nil {
				t.Errorf("%s %q: %v is not an *Error", k, value, err)
			}
			return
		}
		checked++
		reason := masked(ie.Reason)
		r := []rune(reason)
		for _, form := range []string{value, strings.ToUpper(value), strings.ToLower(value)} {
			m := masked(form)
			// The substrings of the reason that the value holds too.
			for i := range r {
				for j := i + 2; j <= len(r) && strings.Contains(m, string(r[i:j])); j++ {
					if sub := string(r[i:j]); !strings.Contains(fixed, sub) {
						t.Errorf("%s %q: reason %q quotes %q", k, value, ie.Reason, sub)
						return
					}
				}
			}
		}
	}
	for k, values := range invalidValues() {
		for _, v := range values {
			if utf8.ValidString(v) {
				_, err := New(k, v)
				check(k.Name(), v, err)
			}
			if k == Phone {
				_, err := ParsePhone(v, "US")
				check("phone (US)", v, err)
			}
			if k == IPv4 || k == IPv6CIDR {
				_, err := ParseIP(v)
				check("ip", v, err)
			}
		}
	}
	if checked < 5000 {
		t.Errorf("only %d invalid values checked", checked)
	}
}

// A custom kind's reason that quotes the value is replaced.
func TestCustomKindReasonQuotingTheValue(t *testing.T) {
	k, err := NewKind("x-case", func(v string) (string, error) {
		if strings.HasPrefix(v, "CASE-") {
			return v, nil
		}
		return "", fmt.Errorf("%q does not start with CASE-", strings.ToLower(v))
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(k, " Secret-4711 ")
	var ie *Error
	if !errors.As(err, &ie) || strings.Contains(strings.ToLower(err.Error()), "secret") || !strings.Contains(ie.Reason, "quoted the value") {
		t.Errorf("got %v", err)
	}
	if _, err := New(k, "star"); err == nil || !strings.Contains(err.Error(), "quoted") {
		t.Errorf("four characters: %v", err) // "star" is in the reason ("start"): replaced too
	}
}
