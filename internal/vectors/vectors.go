// Package vectors reads, computes and compares canonicalization vectors:
// match/indicator/testdata/vectors.json lists, for every built-in kind,
// inputs with their canonical values and inputs refused with their reason
// codes (PROTOCOL.md section 4). Another implementation runs the inputs through
// its own canonicalization and writes its results in the same shape;
// internal/cmd/vectors compares the two.
package vectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// File is a canonicalization vectors file.
type File struct {
	Description string `json:"description"`
	Unicode     string `json:"unicode"` // the Unicode version of the tables behind the values
	Kinds       []Kind `json:"kinds"`   // in order of kind name
}

// Kind holds the vectors of one kind.
type Kind struct {
	Kind    string    `json:"kind"`
	Valid   []Valid   `json:"valid"`
	Invalid []Invalid `json:"invalid"`
}

// A Valid case is an input and its canonical value. With Region, the
// input is a phone number read with that default region (a national
// writing), as indicator.ParsePhone reads it.
type Valid struct {
	Input     string `json:"input"`
	Region    string `json:"region,omitempty"`
	Canonical string `json:"canonical"`
}

// An Invalid case is an input that is refused, and the reason code of
// the refusal.
type Invalid struct {
	Input  string `json:"input"`
	Region string `json:"region,omitempty"`
	Code   string `json:"code"`
}

// MaxFileSize bounds a vectors file read by Read.
const MaxFileSize = 16 << 20

// Read reads a vectors file of at most MaxFileSize bytes, refusing
// unknown fields and a case listed twice (the same kind, input and
// region, whether valid or invalid), which would make the file say two
// things about one input.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("vectors: larger than %d bytes", MaxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("vectors: %w", err)
	}
	if dec.More() {
		return nil, errors.New("vectors: data after the JSON object")
	}
	type key struct{ kind, input, region string }
	seen := map[key]bool{}
	dup := func(k key) error {
		if seen[k] {
			in := fmt.Sprintf("%q", k.input)
			if k.region != "" {
				in += " (region " + k.region + ")"
			}
			return fmt.Errorf("vectors: kind %q lists input %s twice", k.kind, in)
		}
		seen[k] = true
		return nil
	}
	for _, kv := range f.Kinds {
		for _, v := range kv.Valid {
			if err := dup(key{kv.Kind, v.Input, v.Region}); err != nil {
				return nil, err
			}
		}
		for _, v := range kv.Invalid {
			if err := dup(key{kv.Kind, v.Input, v.Region}); err != nil {
				return nil, err
			}
		}
	}
	return &f, nil
}

// Encode returns f as the file holds it: indented JSON, HTML characters
// not escaped, a final newline.
func Encode(f *File) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Canonicalize returns what this implementation makes of input as a
// value of kind (with region, a phone number read as ParsePhone reads
// it): its canonical value, or the reason code of its refusal.
func Canonicalize(kind, input, region string) (canonical, code string, err error) {
	k, err := indicator.Lookup(kind)
	if err != nil {
		return "", "", err
	}
	var ind indicator.Indicator
	if region != "" {
		if k != indicator.Phone {
			return "", "", fmt.Errorf("vectors: a region with kind %s", kind)
		}
		ind, err = indicator.ParsePhone(input, region)
	} else {
		ind, err = indicator.New(k, input)
	}
	if ie := (*indicator.Error)(nil); errors.As(err, &ie) {
		return "", ie.Code, nil
	}
	if err != nil {
		return "", "", err
	}
	return ind.Value(), "", nil
}

// Compute returns the vectors of this implementation for the inputs of
// f: the same cases, with this implementation's canonical values and
// codes. A valid case that this implementation refuses is moved to the
// invalid ones and the reverse, so that the result says what it does.
func Compute(f *File) (*File, error) {
	out := &File{Description: f.Description, Unicode: f.Unicode}
	for _, kv := range f.Kinds {
		ok := Kind{Kind: kv.Kind, Valid: []Valid{}, Invalid: []Invalid{}}
		add := func(input, region string) error {
			c, code, err := Canonicalize(kv.Kind, input, region)
			if err != nil {
				return err
			}
			if code != "" {
				ok.Invalid = append(ok.Invalid, Invalid{Input: input, Region: region, Code: code})
			} else {
				ok.Valid = append(ok.Valid, Valid{Input: input, Region: region, Canonical: c})
			}
			return nil
		}
		for _, v := range kv.Valid {
			if err := add(v.Input, v.Region); err != nil {
				return nil, err
			}
		}
		for _, v := range kv.Invalid {
			if err := add(v.Input, v.Region); err != nil {
				return nil, err
			}
		}
		out.Kinds = append(out.Kinds, ok)
	}
	return out, nil
}

// A Difference is a case on which two vectors files disagree.
type Difference struct {
	Kind   string
	Input  string
	Region string
	Want   string // the reference's canonical value, or "refused: CODE"
	Got    string // the other's, or "missing"
}

func (d Difference) String() string {
	in := fmt.Sprintf("%q", d.Input)
	if d.Region != "" {
		in += " (region " + d.Region + ")"
	}
	return fmt.Sprintf("%s %s: want %s, got %s", d.Kind, in, d.Want, d.Got)
}

// Compare compares other with the reference ref, case by case, by kind,
// input and region: every case of ref must be in other with the same
// canonical value, or refused with the same code. Cases of other that
// ref does not hold are ignored.
func Compare(ref, other *File) []Difference {
	type key struct{ kind, input, region string }
	results := map[key]string{}
	for _, kv := range other.Kinds {
		for _, v := range kv.Valid {
			results[key{kv.Kind, v.Input, v.Region}] = v.Canonical
		}
		for _, v := range kv.Invalid {
			results[key{kv.Kind, v.Input, v.Region}] = "refused: " + v.Code
		}
	}
	var diffs []Difference
	check := func(k key, want string) {
		got, ok := results[k]
		if !ok {
			got = "missing"
		}
		if got != want {
			diffs = append(diffs, Difference{Kind: k.kind, Input: k.input, Region: k.region, Want: want, Got: got})
		}
	}
	for _, kv := range ref.Kinds {
		for _, v := range kv.Valid {
			check(key{kv.Kind, v.Input, v.Region}, v.Canonical)
		}
		for _, v := range kv.Invalid {
			check(key{kv.Kind, v.Input, v.Region}, "refused: "+v.Code)
		}
	}
	slices.SortStableFunc(diffs, func(a, b Difference) int { return strings.Compare(a.Kind, b.Kind) })
	return diffs
}
