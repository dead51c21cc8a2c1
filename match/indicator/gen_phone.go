//go:build ignore

// gen_phone.go writes phone_table.go: the numbering-plan facts that
// phone.go needs, taken from the phone metadata of Google's libphonenumber
// as libphonenumber-js ships it in a pinned npm release.
//
// Usage:
//
//	go run gen_phone.go [-tgz libphonenumber-js-VERSION.tgz] [-o phone_table.go]
//
// Without -tgz it downloads the tarball from the npm registry. Either way
// the tarball must match the pinned integrity hash before anything in it is
// read, so the table depends on the pinned release alone.
package main

import (
	"bytes"
	"cmp"
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
	"strings"
	"time"

	"github.com/fedmatch/fedmatch/internal/npmtgz"
)

// The pinned release. To move to a new one, set npmVersion and set
// npmIntegrity to that release's dist.integrity, as printed by
// `npm view libphonenumber-js@VERSION dist.integrity` or found under
// "dist" in https://registry.npmjs.org/libphonenumber-js/VERSION; then run
// go generate and review the diff of phone_table.go (and the tests).
const (
	npmPackage   = "libphonenumber-js"
	npmVersion   = "1.13.16"
	npmIntegrity = "sha512-tIOCM9yx2Go6d5/ZANe0K+G4AZek1Ymx81HxQpf19Sri4zMP95eQbKdnUGHAvFQ4nx0PeLhFqvAfisTADXj3tQ=="
)

// Files read from the tarball (npm tarballs put everything under package/).
const (
	metadataFile  = "package/metadata.min.json"
	changelogFile = "package/CHANGELOG.md"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen_phone: ")
	tgzPath := flag.String("tgz", "", "read the "+npmPackage+" "+npmVersion+" tarball from this file instead of the npm registry")
	out := flag.String("o", "phone_table.go", "output file")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rel := npmtgz.Release{Name: npmPackage, Version: npmVersion, Integrity: npmIntegrity}
	files, err := rel.Files(ctx, *tgzPath, metadataFile, changelogFile)
	if err != nil {
		log.Fatal(err)
	}
	t, err := decodeMetadata(files[metadataFile])
	if err != nil {
		log.Fatalf("%s: %v", metadataFile, err)
	}
	release, entry := metadataRelease(files[changelogFile], npmVersion)
	if release == "" {
		log.Printf("warning: %s does not say which libphonenumber release the metadata is", changelogFile)
	}
	src, err := render(t, release, entry)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// metadataRelease returns the libphonenumber metadata release that the
// CHANGELOG.md of libphonenumber-js names ("Updated metadata to version
// 9.0.43:") in the entry of version or, for a release that did not update
// the metadata, in the latest entry before it; and that entry's version.
// package.json and the metadata themselves do not record it.
func metadataRelease(changelog []byte, version string) (release, entry string) {
	heading := regexp.MustCompile(`^(\d+\.\d+\.\d+) / `)
	update := regexp.MustCompile(`^\* Updated metadata to version (\d+\.\d+\.\d+):?$`)
	found := false
	for line := range strings.Lines(string(changelog)) {
		line = strings.TrimSpace(line)
		if m := heading.FindStringSubmatch(line); m != nil {
			entry = m[1]
			found = found || entry == version
			continue
		}
		if m := update.FindStringSubmatch(line); m != nil && found {
			return m[1], entry
		}
	}
	return "", ""
}

// region is one entry of phoneRegions (phoneRegion in phone.go).
type region struct {
	code, intlPrefix, nationalPrefix string
	prefixForParsing, transformRule  string
	pattern                          string
	lengths                          uint32
}

type table struct {
	regions map[string]region
	codes   map[string]string // calling code to its main region, "" for a non-geographic code
	nonGeo  map[string]region // non-geographic calling code to its plan
}

// A numbering plan in metadata version 4 is a JSON array. These are the
// indexes that libphonenumber-js's own reader, NumberingPlan in
// es6/metadata.js, uses for callingCode, IDDPrefix, possibleLengths and
// nationalPrefix. An absent field is 0, or cut off with the array's tail.
const (
	fieldCallingCode      = 0
	fieldIDDPrefix        = 1 // a regular expression
	fieldNationalPattern  = 2 // the general description's national number pattern
	fieldPossibleLengths  = 3
	fieldNationalPrefix   = 5
	fieldPrefixForParsing = 7 // a regular expression
	fieldTransformRule    = 8 // a replacement, "$1" for group 1
)

type metadata struct {
	Version       json.RawMessage              `json:"version"`
	CallingCodes  map[string][]string          `json:"country_calling_codes"`
	Countries     map[string][]json.RawMessage `json:"countries"`
	NonGeographic map[string][]json.RawMessage `json:"nonGeographic"`
}

// decodeMetadata derives the table from metadata.min.json, refusing any
// layout other than the one it was written for.
func decodeMetadata(data []byte) (*table, error) {
	var m metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a new top-level key means a new layout
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if string(m.Version) != "4" {
		return nil, fmt.Errorf("metadata version %s, want 4 (the layout this generator reads)", m.Version)
	}
	t := &table{regions: make(map[string]region), codes: make(map[string]string), nonGeo: make(map[string]region)}
	for id, plan := range m.Countries {
		if !isRegionCode(id) {
			return nil, fmt.Errorf("region %q is not an ISO 3166-1 alpha-2 code", id)
		}
		r, err := decodeRegion(plan)
		if err != nil {
			return nil, fmt.Errorf("region %s: %w", id, err)
		}
		t.regions[id] = r
	}
	if err := checkCallingCodes(m.CallingCodes, t.regions); err != nil {
		return nil, err
	}
	// The main region of a calling code is the first that
	// country_calling_codes lists, as libphonenumber's
	// getRegionCodeForCountryCode takes it: its plan reads the national
	// significant numbers of international writings.
	for code, ids := range m.CallingCodes {
		if len(ids) == 0 {
			return nil, fmt.Errorf("country_calling_codes: %s lists no region", code)
		}
		t.codes[code] = ids[0]
	}
	// Non-geographic codes (+800, +882, ...) have numbering plans of their
	// own and no region.
	for code, plan := range m.NonGeographic {
		got, err := planString(plan, fieldCallingCode, "calling code", true)
		if err != nil {
			return nil, fmt.Errorf("non-geographic %s: %w", code, err)
		}
		if got != code || !callingCodeRE.MatchString(code) {
			return nil, fmt.Errorf("non-geographic %s: calling code %q", code, got)
		}
		if _, ok := t.codes[code]; ok {
			return nil, fmt.Errorf("non-geographic %s: also the calling code of a region", code)
		}
		r, err := decodeRegion(plan)
		if err != nil {
			return nil, fmt.Errorf("non-geographic %s: %w", code, err)
		}
		t.nonGeo[code] = r
		t.codes[code] = ""
	}
	if len(t.regions) == 0 {
		return nil, errors.New("no regions")
	}
	return t, nil
}

func decodeRegion(plan []json.RawMessage) (region, error) {
	var r region
	var err error
	if r.code, err = planString(plan, fieldCallingCode, "calling code", true); err != nil {
		return r, err
	}
	if !callingCodeRE.MatchString(r.code) {
		return r, fmt.Errorf("calling code %q is not 1 to 3 digits", r.code)
	}
	// The international prefix is a regular expression, matched at the
	// start of the digits ("001[14-689]|14(?:...)0011" for AU); the
	// non-geographic plans have none.
	if r.intlPrefix, err = planString(plan, fieldIDDPrefix, "international prefix", false); err != nil {
		return r, err
	}
	if r.pattern, err = planString(plan, fieldNationalPattern, "national number pattern", true); err != nil {
		return r, err
	}
	if r.nationalPrefix, err = planString(plan, fieldNationalPrefix, "national prefix", false); err != nil {
		return r, err
	}
	if r.nationalPrefix != "" && !digitsRE.MatchString(r.nationalPrefix) {
		return r, fmt.Errorf("national prefix %q is not digits", r.nationalPrefix)
	}
	if r.prefixForParsing, err = planString(plan, fieldPrefixForParsing, "national prefix for parsing", false); err != nil {
		return r, err
	}
	if r.transformRule, err = planString(plan, fieldTransformRule, "national prefix transform rule", false); err != nil {
		return r, err
	}
	if r.transformRule != "" && !transformRE.MatchString(r.transformRule) {
		return r, fmt.Errorf("national prefix transform rule %q is not digits and $1 to $9", r.transformRule)
	}
	// phone.go compiles the patterns with Go's regexp (RE2): each must
	// compile, as libphonenumber's Java patterns do.
	for _, p := range []string{r.intlPrefix, r.pattern, r.prefixForParsing} {
		if _, err := regexp.Compile(p); err != nil {
			return r, fmt.Errorf("pattern %q: %v", p, err)
		}
	}
	r.lengths, err = planLengths(plan)
	return r, err
}

var (
	digitsRE      = regexp.MustCompile(`^[0-9]+$`)
	transformRE   = regexp.MustCompile(`^([0-9]|\$[1-9])+$`)
	callingCodeRE = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
)

func isRegionCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// planString returns field i of a numbering plan, "" if it is absent.
func planString(plan []json.RawMessage, i int, name string, required bool) (string, error) {
	if i >= len(plan) || string(plan[i]) == "0" {
		if required {
			return "", fmt.Errorf("no %s (field %d)", name, i)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(plan[i], &s); err != nil {
		return "", fmt.Errorf("%s (field %d) is %s, not a string", name, i, plan[i])
	}
	return s, nil
}

// planLengths returns the possible national significant number lengths of
// a numbering plan as a bit set (bit n for length n).
func planLengths(plan []json.RawMessage) (uint32, error) {
	if fieldPossibleLengths >= len(plan) {
		return 0, fmt.Errorf("no possible lengths (field %d)", fieldPossibleLengths)
	}
	var lengths []int
	if err := json.Unmarshal(plan[fieldPossibleLengths], &lengths); err != nil || len(lengths) == 0 {
		return 0, fmt.Errorf("possible lengths (field %d) are %s, want a non-empty list of numbers", fieldPossibleLengths, plan[fieldPossibleLengths])
	}
	var mask uint32
	for _, n := range lengths {
		if n < 1 || n > 31 {
			return 0, fmt.Errorf("possible length %d does not fit the 32-bit set", n)
		}
		mask |= 1 << n
	}
	return mask, nil
}

// checkCallingCodes makes sure country_calling_codes, the index that
// libphonenumber-js looks calling codes up in, lists every region exactly
// once, under the calling code of its own numbering plan.
func checkCallingCodes(index map[string][]string, regions map[string]region) error {
	seen := make(map[string]bool)
	for code, ids := range index {
		for _, id := range ids {
			r, ok := regions[id]
			switch {
			case !ok:
				return fmt.Errorf("country_calling_codes: %s lists unknown region %s", code, id)
			case r.code != code:
				return fmt.Errorf("country_calling_codes: %s lists %s, whose calling code is %s", code, id, r.code)
			case seen[id]:
				return fmt.Errorf("country_calling_codes: %s listed twice", id)
			}
			seen[id] = true
		}
	}
	for id := range regions {
		if !seen[id] {
			return fmt.Errorf("country_calling_codes: %s not listed", id)
		}
	}
	return nil
}

const header = `// Code generated by gen_phone.go; DO NOT EDIT.

// Source: metadata.min.json of the npm package %s %s (MIT),
// tarball integrity
// %s,
// which carries the phone-number metadata of Google's libphonenumber
// %s.
// Copyright (C) 2009 The Libphonenumber Authors, Apache License 2.0.
// Per region: the calling code, the international prefix, the national
// prefix, the national prefix for parsing and its transform rule, the
// national number pattern and the possible national lengths.

package indicator

// phoneRegions holds, for each ISO 3166-1 alpha-2 region: its country
// calling code, its international call prefix (a regular expression), its
// national (trunk) prefix, its national prefix for parsing (a regular
// expression, empty when it is the national prefix) and that prefix's
// transform rule, the pattern of its national significant numbers, and
// their possible lengths as a bit set.
var phoneRegions = map[string]phoneRegion{
`

const codesHeader = `}

// phoneCodes holds every country calling code (geographic and
// non-geographic) with its main region, whose plan reads its numbers ("" for
// a non-geographic code, whose plan is in phoneNonGeographic).
var phoneCodes = map[string]string{
`

const nonGeoHeader = `}

// phoneNonGeographic holds the numbering plans of the non-geographic
// calling codes (+800, +882, ...), as phoneRegions those of regions.
var phoneNonGeographic = map[string]phoneRegion{
`

func writeRegion(b *bytes.Buffer, key string, r region) {
	fmt.Fprintf(b, "%q: {%q, %#q, %q, %#q, %q, %#q, %#x},\n", key, r.code, r.intlPrefix, r.nationalPrefix,
		r.prefixForParsing, r.transformRule, r.pattern, r.lengths)
}

// render writes phone_table.go, regions in alphabetical and calling codes
// in numerical order, so that a new release shows as a small diff.
func render(t *table, release, entry string) ([]byte, error) {
	rel := "(the package does not say which release)"
	if release != "" {
		rel = fmt.Sprintf("release %s (so says the CHANGELOG.md entry for %s)", release, entry)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, header, npmPackage, npmVersion, npmIntegrity, rel)
	for _, id := range slices.Sorted(maps.Keys(t.regions)) {
		r := t.regions[id]
		writeRegion(&b, id, r)
	}
	b.WriteString(codesHeader)
	codes := slices.SortedFunc(maps.Keys(t.codes), func(a, b string) int {
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	})
	for _, c := range codes {
		fmt.Fprintf(&b, "%q: %q,\n", c, t.codes[c])
	}
	b.WriteString(nonGeoHeader)
	for _, c := range slices.Sorted(maps.Keys(t.nonGeo)) {
		writeRegion(&b, c, t.nonGeo[c])
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the table: %w", err)
	}
	return src, nil
}
