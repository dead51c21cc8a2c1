package match

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match/indicator"
)

func TestPublishDeterministicAcrossWorkers(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 1500), nil)
	var encs [][]byte
	for _, w := range []int{1, 2, 5} {
		p := mustPublish(t, key, es, &PublishOptions{Workers: w})
		b, _ := p.Filter().MarshalBinary()
		encs = append(encs, b)
	}
	if !bytes.Equal(encs[0], encs[1]) || !bytes.Equal(encs[0], encs[2]) {
		t.Fatal("filters built with 1, 2 and 5 workers differ")
	}
}

// A size hint changes how the index is allocated, never what is
// published: below, at and above the list, the filter and the state are
// those of no hint, and the index holds no more room than an eighth of
// the list.
func TestPublishSizeHint(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 8)
	es := entriesOf(synthetic(t, 0, 700), func(i int) string { return fmt.Sprintf("case %d", i) })
	ref := mustPublish(t, key, es, nil)
	refFilter, _ := ref.Filter().MarshalBinary()
	refState, err := ref.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, hint := range []int{1, 350, 699, 700, 701, 787, 788, 5000, 1 << 20} {
		p := mustPublish(t, key, es, &PublishOptions{SizeHint: hint})
		f, _ := p.Filter().MarshalBinary()
		st, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(f, refFilter) || !bytes.Equal(st, refState) {
			t.Errorf("hint %d: the filter or the state differs from no hint's", hint)
		}
		if c := cap(p.st.index); c > 700+700/8 {
			t.Errorf("hint %d: the index keeps room for %d entries, %d listed", hint, c, len(p.st.index))
		}
		if c := cap(p.st.labels.at); c > 700+700/8 || cap(p.st.labels.span) != c {
			t.Errorf("hint %d: the labels keep room for %d entries, %d labelled", hint, c, p.st.labels.len())
		}
	}
	for _, hint := range []int{-1, MaxEntries + 1} {
		_, err := Publish(key, slices.Values(es), &PublishOptions{SizeHint: hint})
		if err == nil || !strings.Contains(err.Error(), "size hint") {
			t.Errorf("hint %d: %v, want a size hint error", hint, err)
		}
	}
}

func TestPublishProgressAndCancel(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 2000), nil)
	var seen []int
	p := mustPublish(t, key, es, &PublishOptions{Progress: func(n int) error {
		seen = append(seen, n)
		return nil
	}})
	if len(seen) < 2 || !slices.IsSorted(seen) || seen[len(seen)-1] != len(es) || p.Entries() != len(es) {
		t.Fatalf("progress reports %v for %d entries", seen, len(es))
	}

	stop := errors.New("operator cancelled")
	consumed := 0
	entries := func(yield func(Entry) bool) {
		for _, e := range es {
			consumed++
			if !yield(e) {
				return
			}
		}
	}
	_, err := Publish(key, entries, &PublishOptions{Workers: 1, Progress: func(n int) error {
		if n >= 512 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("cancelled build returned %v", err)
	}
	if consumed >= len(es) {
		t.Errorf("cancelled build read all %d entries", consumed)
	}
}

func TestPublishRefusesBadEntries(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	good := entriesOf(synthetic(t, 0, 10), nil)
	for _, tc := range []struct {
		name string
		bad  Entry
		want string
	}{
		{"zero indicator", Entry{}, "entry 5: zero Indicator"},
		{"long label", Entry{Indicator: good[0].Indicator, Label: strings.Repeat("x", MaxLabelLen+1)}, "entry 5: label: longer than 1024 bytes"},
		{"long ref", Entry{Indicator: good[0].Indicator, Ref: strings.Repeat("x", MaxLabelLen+1)}, "entry 5: reference: longer than 1024 bytes"},
		{"label not UTF-8", Entry{Indicator: good[0].Indicator, Label: "\xff"}, "entry 5: label: not valid UTF-8"},
		{"ref not UTF-8", Entry{Indicator: good[0].Indicator, Ref: "\xff"}, "entry 5: reference: not valid UTF-8"},
		{"label with a newline", Entry{Indicator: good[0].Indicator, Label: "a\nb"}, "entry 5: label: a control character or line separator at byte 1"},
	} {
		es := slices.Concat(good[:5], []Entry{tc.bad}, good[5:])
		_, err := Publish(key, slices.Values(es), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	for _, opts := range []*PublishOptions{
		{FalsePositiveRate: -1}, {FalsePositiveRate: 0.7}, {FalsePositiveRate: math.NaN()},
		{Mode: Mode(9)}, {NotBefore: time.Unix(100, 0), NotAfter: time.Unix(50, 0)},
	} {
		if _, err := Publish(key, slices.Values(good), opts); err == nil {
			t.Errorf("options %+v accepted", *opts)
		}
	}
	if _, err := Publish(nil, slices.Values(good), nil); err == nil {
		t.Error("nil key accepted")
	}
}

// Entries repeating an indicator keep their labels and references: a hit
// releases every label and confirms every entry. (Once a repeated
// indicator was merged into its first entry, and two cases sharing an IP
// address lost one case.)
func TestPublishRepeatedIndicators(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	a := indicator.MustNew(indicator.IPv4, "192.0.2.1")
	b := indicator.MustNew(indicator.Email, "bob@example.org")
	es := []Entry{
		{Indicator: a, Label: "first", Ref: "case-1"},
		{Indicator: b, Ref: "case-2"},
		{Indicator: indicator.MustNew(indicator.IPv4, "::ffff:192.0.2.1"), Label: "second", Ref: "case-3"},
		{Indicator: a, Ref: "case-4"},                 // no label
		{Indicator: a, Label: "first", Ref: "case-5"}, // a label already released
	}
	p := mustPublish(t, key, es, nil)
	if p.Entries() != 5 || p.Filter().Len() != 2 {
		t.Fatalf("entries %d, distinct %d; want 5, 2", p.Entries(), p.Filter().Len())
	}
	hits, confirmed, _ := roundTrip(t, p, nil, []indicator.Indicator{a, indicator.MustNew(indicator.IPv4, "192.0.2.2")})
	if len(hits) != 1 || hits[0].Indicator != a || !slices.Equal(hits[0].Labels, []string{"first", "second"}) {
		t.Fatalf("hits %+v", hits)
	}
	want := []ConfirmedEntry{{0, "first", "case-1"}, {2, "second", "case-3"}, {3, "", "case-4"}, {4, "first", "case-5"}}
	if !slices.Equal(confirmed, want) {
		t.Fatalf("confirmed %+v, want %+v", confirmed, want)
	}
	hits, confirmed, _ = roundTrip(t, p, nil, []indicator.Indicator{b, b})
	if len(hits) != 1 || hits[0].Labels != nil || len(confirmed) != 1 || confirmed[0].Ref != "case-2" {
		t.Fatalf("hits %+v, confirmed %+v", hits, confirmed)
	}
}

// At most MaxRepeats entries may hold one indicator; past that, Publish
// names the entries without quoting the indicator.
func TestPublishTooManyRepeats(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	ind := indicator.MustNew(indicator.Email, "shared@example.org")
	es := entriesOf(synthetic(t, 0, 3), nil)
	for i := range MaxRepeats {
		es = append(es, Entry{Indicator: ind, Label: fmt.Sprint("case ", i)})
	}
	p := mustPublish(t, key, es, nil)
	hits, confirmed, _ := roundTrip(t, p, nil, []indicator.Indicator{ind})
	if len(hits) != 1 || len(hits[0].Labels) != MaxRepeats || len(confirmed) != MaxRepeats {
		t.Fatalf("%d hits, %d confirmed", len(hits), len(confirmed))
	}
	_, err := Publish(key, slices.Values(append(es, Entry{Indicator: ind})), nil)
	if err == nil || !strings.Contains(err.Error(), "entries 3, 4, ...") || strings.Contains(err.Error(), "shared@") {
		t.Fatalf("%d repeats: %v", MaxRepeats+1, err)
	}
}

func TestPublishEmpty(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 7), nil, nil)
	if p.Filter().Len() != 0 || p.Filter().SetBits() != 0 {
		t.Fatalf("empty list: n %d, %d bits set", p.Filter().Len(), p.Filter().SetBits())
	}
	hits, _, cands := roundTrip(t, p, nil, synthetic(t, 0, 5))
	if len(hits) != 0 || cands != 0 {
		t.Fatalf("empty list gave %d hits, %d candidates", len(hits), cands)
	}
}

// TestPublishZeroKey: the zero PrivateKey is refused with an error.
// Regression test: Publish dereferenced its nil scalar and panicked.
func TestPublishZeroKey(t *testing.T) {
	if _, err := Publish(&PrivateKey{}, nil, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("zero PrivateKey: %v", err)
	}
}

// TestPublishPanicsReachCaller: a panic in the caller's iterator or
// Progress callback reaches the caller, and Publish's goroutines end.
// Regression test: Progress ran on an internal goroutine, where a panic
// killed the process.
func TestPublishPanicsReachCaller(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 7)
	es := entriesOf(synthetic(t, 0, 2000), nil)
	before := runtime.NumGoroutine()
	for _, tc := range []struct {
		name    string
		entries func(func(Entry) bool)
		opts    *PublishOptions
	}{
		{"iterator", func(yield func(Entry) bool) {
			for i, e := range es {
				if i == 700 {
					panic("iterator failed")
				}
				if !yield(e) {
					return
				}
			}
		}, &PublishOptions{Workers: 2}},
		{"progress", slices.Values(es), &PublishOptions{Workers: 2, Progress: func(n int) error {
			if n > 0 {
				panic("progress failed")
			}
			return nil
		}}},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "failed") {
					t.Errorf("%s: recovered %v", tc.name, r)
				}
			}()
			Publish(key, tc.entries, tc.opts)
		}()
	}
	deadline := time.Now().Add(30 * time.Second) // workers finish their chunk: slow under -race on a busy machine
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running, %d before", n, before)
	}
}
