// Command vectors checks an implementation's canonicalization against
// fedmatch's vectors (match/indicator/testdata/vectors.json, PROTOCOL.md section 4).
//
// Another implementation reads the vectors file, runs every input (valid
// and invalid) through its own canonicalization, and writes its results
// in the same JSON shape: each input under "valid" with its canonical
// value, or under "invalid" with the reason code of its refusal. Then
//
//	go run ./internal/cmd/vectors -check theirs.json
//
// lists every case on which the two disagree and exits with status 1 if
// there is one. With -self it checks this implementation against the
// file instead, as the tests do.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fedmatch/fedmatch/internal/vectors"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vectors", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ref := fs.String("ref", "match/indicator/testdata/vectors.json", "the reference vectors `file`")
	check := fs.String("check", "", "compare the results in `file` with the reference")
	self := fs.Bool("self", false, "compare this implementation's results with the reference")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if (*check == "") == !*self || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: vectors [-ref FILE] (-check FILE | -self)")
		return 2
	}
	want, err := readFile(*ref)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	var got *vectors.File
	name := *check
	if *self {
		name = "this implementation"
		got, err = vectors.Compute(want)
	} else {
		got, err = readFile(*check)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	diffs := vectors.Compare(want, got)
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	cases := 0
	for _, k := range want.Kinds {
		cases += len(k.Valid) + len(k.Invalid)
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "%s: %d of %d cases differ from %s\n", name, len(diffs), cases, *ref)
		return 1
	}
	fmt.Fprintf(stdout, "%s: all %d cases of %s agree\n", name, cases, *ref)
	return 0
}

func readFile(path string) (*vectors.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := vectors.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}
