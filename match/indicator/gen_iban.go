//go:build ignore

// gen_iban.go writes iban_table.go: the IBAN length of each country that
// issues IBANs, taken from the country specifications of the ibantools
// project in a pinned npm release.
//
// Usage:
//
//	go run gen_iban.go [-tgz ibantools-VERSION.tgz] [-o iban_table.go]
//
// Without -tgz it downloads the tarball from the npm registry. Either way
// the tarball must match the pinned integrity hash before anything in it is
// read, so the table depends on the pinned release alone.
//
// ibantools keeps its data in JavaScript source, not JSON, so this reads
// the countrySpecs object literal with a small scanner for exactly the
// syntax it uses, and fails on anything else rather than skip it.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"log"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fedmatch/fedmatch/internal/npmtgz"
)

// The pinned release. To move to a new one, set npmVersion and set
// npmIntegrity to that release's dist.integrity, as printed by
// `npm view ibantools@VERSION dist.integrity` or found under "dist" in
// https://registry.npmjs.org/ibantools/VERSION; then run go generate and
// review the diff of iban_table.go (and the tests).
const (
	npmPackage   = "ibantools"
	npmVersion   = "4.5.4"
	npmIntegrity = "sha512-6jX1gh4aH6XH+o0ey+wtkMTzkcvsEta7DakIOZSng9voZYpMw3U+gK1+tZChk3aRcPcloEt0NOzksjaRZiqXbw=="
)

// Files read from the tarball (npm tarballs put everything under
// package/). The ES module build is the one package.json names as
// "module"; build/ibantools.js has the same literal.
const (
	sourceFile  = "package/jsnext/ibantools.js"
	packageFile = "package/package.json"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen_iban: ")
	tgzPath := flag.String("tgz", "", "read the "+npmPackage+" "+npmVersion+" tarball from this file instead of the npm registry")
	out := flag.String("o", "iban_table.go", "output file")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rel := npmtgz.Release{Name: npmPackage, Version: npmVersion, Integrity: npmIntegrity}
	files, err := rel.Files(ctx, *tgzPath, sourceFile, packageFile)
	if err != nil {
		log.Fatal(err)
	}
	var pkg packageJSON
	if err := json.Unmarshal(files[packageFile], &pkg); err != nil {
		log.Fatalf("%s: %v", packageFile, err)
	}
	if pkg.License == "" || pkg.Author.Name == "" {
		log.Fatalf("%s: no license or author to attribute the table to", packageFile)
	}
	specs, err := parseCountrySpecs(string(files[sourceFile]))
	if err != nil {
		log.Fatalf("%s: %v", sourceFile, err)
	}
	lengths, err := ibanLengths(specs)
	if err != nil {
		log.Fatalf("%s: %v", sourceFile, err)
	}
	src, err := render(lengths, &pkg)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// packageJSON is what the table's header needs of package.json.
type packageJSON struct {
	License string
	Author  struct{ Name string }
}

// spec is what the table needs of one country's specification.
type spec struct {
	chars      int    // IBAN length; 0 if absent
	bbanRegexp string // "" if absent
}

// ibanLengths picks the countries that issue IBANs: ibantools lists every
// ISO 3166-1 country, those without IBANs as {}. A country counts when it
// has an IBAN length; it must then have a BBAN format too, and the two
// must agree, since ibantools' isValidIBAN needs both and a disagreement
// is a mistake upstream that a person should look at.
func ibanLengths(specs map[string]spec) (map[string]int, error) {
	lengths := make(map[string]int)
	for cc, s := range specs {
		if (s.chars == 0) != (s.bbanRegexp == "") {
			return nil, fmt.Errorf("%s: has only one of chars and bban_regexp", cc)
		}
		if s.chars == 0 {
			continue
		}
		// ISO 13616-1 allows at most 34 characters; none is shorter than
		// Norway's 15, so a shorter length is more likely a typo.
		if s.chars < 15 || s.chars > 34 {
			return nil, fmt.Errorf("%s: IBAN length %d is outside 15..34", cc, s.chars)
		}
		n, err := bbanLength(s.bbanRegexp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cc, err)
		}
		if 4+n != s.chars {
			return nil, fmt.Errorf("%s: IBAN length %d, but bban_regexp %q gives 4+%d", cc, s.chars, s.bbanRegexp, n)
		}
		lengths[cc] = s.chars
	}
	if len(lengths) == 0 {
		return nil, errors.New("no country has an IBAN length")
	}
	return lengths, nil
}

var (
	bbanRE      = regexp.MustCompile(`^\^?((?:\[[0-9A-Za-z-]+\]\{[0-9]+\})+)\$?$`)
	bbanCountRE = regexp.MustCompile(`\{([0-9]+)\}`)
)

// bbanLength returns the length of the BBANs that a bban_regexp such as
// "^[0-9]{8}[A-Z0-9]{12}$" matches. Some have no anchors ("[A-Z]{4}..."
// for YE); any other shape is an error.
func bbanLength(re string) (int, error) {
	m := bbanRE.FindStringSubmatch(re)
	if m == nil {
		return 0, fmt.Errorf("bban_regexp %q is not a sequence of [class]{n}", re)
	}
	n := 0
	for _, c := range bbanCountRE.FindAllStringSubmatch(m[1], -1) {
		k, err := strconv.Atoi(c[1])
		if err != nil || k > 64 {
			return 0, fmt.Errorf("bban_regexp %q: bad count %s", re, c[1])
		}
		n += k
	}
	return n, nil
}

const header = `// Code generated by gen_iban.go; DO NOT EDIT.

// Source: countrySpecs in jsnext/ibantools.js of the npm package %s %s,
// tarball integrity
// %s.
// Copyright %s, license %s.

package indicator

// ibanLengths is the IBAN length of each country that issues IBANs: the
// SWIFT IBAN registry and the national formats in use outside it, as
// compiled by the ibantools project.
var ibanLengths = map[string]int{
`

// render writes iban_table.go, in alphabetical order, seven countries a
// line.
func render(lengths map[string]int, pkg *packageJSON) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, header, npmPackage, npmVersion, npmIntegrity, pkg.Author.Name, pkg.License)
	for i, cc := range slices.Sorted(maps.Keys(lengths)) {
		sep := " "
		if i%7 == 6 {
			sep = "\n"
		}
		fmt.Fprintf(&b, "%q: %d,%s", cc, lengths[cc], sep)
	}
	b.WriteString("\n}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the table: %w", err)
	}
	return src, nil
}

// specsStart opens the literal that parseCountrySpecs reads:
//
//	export const countrySpecs = {
//	    AD: {
//	        chars: 24,
//	        bban_regexp: '^[0-9]{8}[A-Z0-9]{12}$',
//	        IBANRegistry: true,
//	        ...
//	    },
//	    AF: {},
//	    ...
//	};
const specsStart = "export const countrySpecs = "

// specProps is every property a country specification may have, with the
// kind of value it takes. An unknown property is an error rather than
// ignored: it may change which countries issue IBANs (a "deprecated" flag,
// say), which a person must decide.
var specProps = map[string]tokenKind{
	"chars":                tokNumber,
	"bban_regexp":          tokString,
	"bban_validation_func": tokIdent, // a function defined in the same file
	"IBANRegistry":         tokBool,
	"SEPA":                 tokBool,
	"bank_identifier":      tokString,
	"branch_indentifier":   tokString, // sic
	"account_indentifier":  tokString, // sic
}

// parseCountrySpecs reads the countrySpecs literal of src.
func parseCountrySpecs(src string) (map[string]spec, error) {
	if n := strings.Count(src, specsStart); n != 1 {
		return nil, fmt.Errorf("%q appears %d times, want once", specsStart, n)
	}
	p := &parser{scanner{src: src, pos: strings.Index(src, specsStart) + len(specsStart)}}
	specs := make(map[string]spec)
	err := p.object(func(key token) error {
		cc := key.text
		if len(cc) != 2 || !isUpper(cc[0]) || !isUpper(cc[1]) {
			return p.errorf(key.pos, "country %q is not an ISO 3166-1 alpha-2 code", cc)
		}
		if _, dup := specs[cc]; dup {
			return p.errorf(key.pos, "country %s appears twice", cc)
		}
		s, err := p.spec(cc)
		specs[cc] = s
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := p.expect(";"); err != nil {
		return nil, err
	}
	return specs, nil
}

// spec reads one country's specification.
func (p *parser) spec(cc string) (spec, error) {
	var s spec
	seen := make(map[string]bool)
	err := p.object(func(key token) error {
		want, ok := specProps[key.text]
		if !ok {
			return p.errorf(key.pos, "%s: unknown property %s (decide whether it changes which countries issue IBANs, then add it to specProps)", cc, key.text)
		}
		if seen[key.text] {
			return p.errorf(key.pos, "%s: %s appears twice", cc, key.text)
		}
		seen[key.text] = true
		v, err := p.next()
		if err != nil {
			return err
		}
		if v.kind != want {
			return p.errorf(v.pos, "%s: %s is %s %q, want %s", cc, key.text, v.kind, v.text, want)
		}
		switch key.text {
		case "chars":
			if s.chars, err = strconv.Atoi(v.text); err != nil || s.chars == 0 {
				return p.errorf(v.pos, "%s: chars %s is not a length", cc, v.text)
			}
		case "bban_regexp":
			if s.bbanRegexp = v.text; v.text == "" {
				return p.errorf(v.pos, "%s: empty bban_regexp", cc)
			}
		}
		return nil
	})
	return s, err
}

// parser reads JavaScript object literals.
type parser struct{ scanner }

func (p *parser) expect(punct string) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tokPunct || t.text != punct {
		return p.errorf(t.pos, "want %q, got %s %q", punct, t.kind, t.text)
	}
	return nil
}

// object reads "{ key: value, ... }", with an optional trailing comma,
// calling value to read each value.
func (p *parser) object(value func(key token) error) error {
	if err := p.expect("{"); err != nil {
		return err
	}
	for {
		key, err := p.next()
		if err != nil {
			return err
		}
		if key.kind == tokPunct && key.text == "}" {
			return nil
		}
		if key.kind != tokIdent && key.kind != tokString {
			return p.errorf(key.pos, "want a property name or '}', got %s %q", key.kind, key.text)
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		if err := value(key); err != nil {
			return err
		}
		sep, err := p.next()
		if err != nil {
			return err
		}
		if sep.kind == tokPunct && sep.text == "}" {
			return nil
		}
		if sep.kind != tokPunct || sep.text != "," {
			return p.errorf(sep.pos, "want ',' or '}', got %s %q", sep.kind, sep.text)
		}
	}
}

type tokenKind int

const (
	tokPunct  tokenKind = iota // { } : , ;
	tokIdent                   // a name other than true and false
	tokBool                    // true or false
	tokNumber                  // decimal digits
	tokString                  // a quoted string; text is its value
)

func (k tokenKind) String() string {
	return [...]string{"punctuation", "a name", "a boolean", "a number", "a string"}[k]
}

type token struct {
	kind tokenKind
	text string
	pos  int // byte offset in the source
}

// scanner splits JavaScript source into the tokens of object literals.
// Anything else, such as an expression or a template string, is an error.
type scanner struct {
	src string
	pos int
}

func (s *scanner) errorf(pos int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", 1+strings.Count(s.src[:pos], "\n"), fmt.Sprintf(format, args...))
}

func (s *scanner) next() (token, error) {
	if err := s.skipSpace(); err != nil {
		return token{}, err
	}
	if s.pos >= len(s.src) {
		return token{}, s.errorf(s.pos, "unexpected end of file")
	}
	start, c := s.pos, s.src[s.pos]
	switch {
	case strings.IndexByte("{}:,;", c) >= 0:
		s.pos++
		return token{tokPunct, string(c), start}, nil
	case isUpper(c) || 'a' <= c && c <= 'z' || c == '_' || c == '$':
		for s.pos < len(s.src) && isIdentByte(s.src[s.pos]) {
			s.pos++
		}
		t := token{tokIdent, s.src[start:s.pos], start}
		if t.text == "true" || t.text == "false" {
			t.kind = tokBool
		}
		return t, nil
	case '0' <= c && c <= '9':
		for s.pos < len(s.src) && '0' <= s.src[s.pos] && s.src[s.pos] <= '9' {
			s.pos++
		}
		if s.pos < len(s.src) && (isIdentByte(s.src[s.pos]) || s.src[s.pos] == '.') {
			return token{}, s.errorf(start, "number %q followed by %q", s.src[start:s.pos], s.src[s.pos])
		}
		return token{tokNumber, s.src[start:s.pos], start}, nil
	case c == '\'' || c == '"':
		return s.quoted()
	}
	return token{}, s.errorf(start, "unexpected %q", c)
}

// quoted reads a string literal, with the escapes \\, \' and \" only.
func (s *scanner) quoted() (token, error) {
	start, quote := s.pos, s.src[s.pos]
	var b strings.Builder
	for s.pos++; s.pos < len(s.src); s.pos++ {
		c := s.src[s.pos]
		switch c {
		case quote:
			s.pos++
			return token{tokString, b.String(), start}, nil
		case '\n':
			return token{}, s.errorf(start, "unterminated string")
		case '\\':
			if s.pos++; s.pos >= len(s.src) || strings.IndexByte(`\'"`, s.src[s.pos]) < 0 {
				return token{}, s.errorf(s.pos, "unsupported escape in string")
			}
			c = s.src[s.pos]
		}
		b.WriteByte(c)
	}
	return token{}, s.errorf(start, "unterminated string")
}

// skipSpace skips white space and comments.
func (s *scanner) skipSpace() error {
	for s.pos < len(s.src) {
		rest := s.src[s.pos:]
		switch {
		case strings.IndexByte(" \t\r\n", rest[0]) >= 0:
			s.pos++
		case strings.HasPrefix(rest, "//"):
			if i := strings.IndexByte(rest, '\n'); i >= 0 {
				s.pos += i
			} else {
				s.pos = len(s.src)
			}
		case strings.HasPrefix(rest, "/*"):
			i := strings.Index(rest[2:], "*/")
			if i < 0 {
				return s.errorf(s.pos, "unterminated comment")
			}
			s.pos += 2 + i + 2
		default:
			return nil
		}
	}
	return nil
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func isIdentByte(c byte) bool {
	return isUpper(c) || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '$'
}
