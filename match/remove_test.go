package match

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// confirmOf runs a query of inds against p and returns the querier's hits
// by indicator, the indicators answered "withdrawn", and the entries the
// publisher confirmed.
func confirmOf(t *testing.T, p *Publisher, inds []indicator.Indicator) (map[indicator.Indicator][]string, []indicator.Indicator, []ConfirmedEntry) {
	t.Helper()
	var f Filter
	reencode(t, p.Filter(), &f)
	q, err := NewQuerier(&f, nil)
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(inds)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Evaluate(req)
	if err != nil {
		t.Fatal(err)
	}
	creq, err := qu.Finalize(resp)
	if err != nil {
		t.Fatal(err)
	}
	cresp, confirmed, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	var cresp2 ConfirmResponse
	reencode(t, cresp, &cresp2)
	hits, err := qu.Hits(&cresp2)
	if err != nil {
		t.Fatal(err)
	}
	byInd := map[indicator.Indicator][]string{}
	for _, h := range hits {
		byInd[h.Indicator] = h.Labels
	}
	return byInd, qu.Withdrawn(), confirmed
}

// RemoveEntries removes the entries holding what it is given, whatever
// their numbers: the others stay confirmed with their labels, an
// indicator with an entry left stays a hit, one with none is withdrawn.
func TestRemoveEntries(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	inds := synthetic(t, 0, 20)
	es := entriesOf(inds, func(i int) string { return fmt.Sprint("case ", i) })
	es[4].Ref = "R-4"
	es = append(es, Entry{Indicator: inds[1], Label: "other case", Ref: "R-x"}) // entry 20
	p := mustPublish(t, key, es, &PublishOptions{Capacity: 100})
	added := entriesOf(synthetic(t, 100, 3), func(i int) string { return fmt.Sprint("added ", i) })
	if _, err := p.Add(added); err != nil { // entries 21 to 23
		t.Fatal(err)
	}
	v := p.Filter().Version()

	gone := []Entry{es[20], es[4], added[1], es[7]}
	removed, err := p.RemoveEntries(gone)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{20, 4, 22, 7}; !slices.Equal(removed, want) {
		t.Errorf("removed entries %v, want %v", removed, want)
	}
	if p.Removed() != 4 || p.Filter().Version() != v {
		t.Errorf("%d removed, version %d, want 4 and %d", p.Removed(), p.Filter().Version(), v)
	}

	ask := append(slices.Clone(inds[:8]), added[0].Indicator, added[1].Indicator, added[2].Indicator)
	hits, withdrawn, confirmed := confirmOf(t, p, ask)
	if got := hits[inds[1]]; !slices.Equal(got, []string{"case 1"}) {
		t.Errorf("indicator 1 (one of its two entries removed) released %q", got)
	}
	for i, ind := range ask {
		_, hit := hits[ind]
		gone := slices.ContainsFunc(gone, func(e Entry) bool { return e.Indicator == ind && e.Label != "other case" })
		if hit == gone {
			t.Errorf("indicator %d: hit %v, removed %v", i, hit, gone)
		}
		if gone != slices.Contains(withdrawn, ind) {
			t.Errorf("indicator %d: withdrawn %v, removed %v", i, !gone, gone)
		}
	}
	if got := hits[added[2].Indicator]; !slices.Equal(got, []string{"added 2"}) {
		t.Errorf("an added entry kept released %q", got)
	}
	for _, c := range confirmed {
		if slices.Contains(removed, c.Entry) {
			t.Errorf("removed entry %d confirmed", c.Entry)
		}
	}
	if len(confirmed) != len(ask)-3 { // inds[4], inds[7] and added[1] are withdrawn
		t.Errorf("%d entries confirmed, want %d", len(confirmed), len(ask)-3)
	}

	// Removed entries are not listed any more; a withdrawn indicator
	// cannot come back in the epoch.
	if _, err := p.RemoveEntries([]Entry{es[4]}); !errors.Is(err, ErrNotListed) {
		t.Errorf("removing a removed entry again: %v", err)
	}
	if _, err := p.Add([]Entry{es[4]}); !errors.Is(err, ErrWithdrawn) {
		t.Errorf("adding a withdrawn indicator back: %v", err)
	}
}

// Entries given twice remove two listed entries, the oldest first, and
// only those with the label and reference given.
func TestRemoveEntriesMultiset(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	ind := synthetic(t, 0, 1)[0]
	same := Entry{Indicator: ind, Label: "L"}
	es := []Entry{same, {Indicator: ind, Label: "L", Ref: "other"}, same, {Indicator: ind, Label: "M"}, same}
	p := mustPublish(t, key, es, nil)

	removed, err := p.RemoveEntries([]Entry{same, same})
	if err != nil || !slices.Equal(removed, []int{0, 2}) {
		t.Fatalf("removing two of three identical entries: %v, %v", removed, err)
	}
	if _, err := p.RemoveEntries([]Entry{same, same}); !errors.Is(err, ErrNotListed) {
		t.Errorf("removing two when one is left: %v", err)
	}
	hits, _, confirmed := confirmOf(t, p, []indicator.Indicator{ind})
	if got := hits[ind]; !slices.Equal(got, []string{"L", "M"}) {
		t.Errorf("labels %q", got)
	}
	var nums []int
	for _, c := range confirmed {
		nums = append(nums, c.Entry)
	}
	if !slices.Equal(nums, []int{1, 3, 4}) {
		t.Errorf("confirmed entries %v, want [1 3 4]", nums)
	}
	removed, err = p.RemoveEntries([]Entry{{Indicator: ind, Label: "M"}, same, {Indicator: ind, Label: "L", Ref: "other"}})
	if err != nil || !slices.Equal(removed, []int{3, 4, 1}) {
		t.Fatalf("removing the rest: %v, %v", removed, err)
	}
	if _, withdrawn, _ := confirmOf(t, p, []indicator.Indicator{ind}); len(withdrawn) != 1 {
		t.Errorf("every entry removed, withdrawn %v", withdrawn)
	}
}

// A removal that cannot be done whole is refused whole, and its error
// names the entry by position, never by what it holds.
func TestRemoveEntriesAtomic(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	inds := synthetic(t, 0, 5)
	es := entriesOf(inds, func(i int) string { return fmt.Sprint("secret label ", i) })
	es[2].Ref = "secret ref"
	p := mustPublish(t, key, es, nil)
	unlisted := Entry{Indicator: indicator.MustNew(indicator.Email, "nobody@example.org"), Label: "secret label 0"}
	for _, c := range []struct {
		name   string
		remove []Entry
		pos    string
		is     error
	}{
		{"an indicator not listed", []Entry{es[0], es[1], unlisted}, "entry 2 ", ErrNotListed},
		{"another label", []Entry{es[0], {Indicator: inds[1], Label: "secret label 9"}}, "entry 1 ", ErrNotListed},
		{"another reference", []Entry{es[0], {Indicator: inds[2], Label: "secret label 2"}}, "entry 1 ", ErrNotListed},
		{"one entry given twice", []Entry{es[3], es[0], es[3]}, "entry 2 ", ErrNotListed},
		{"a zero indicator", []Entry{es[0], {}}, "entry 1:", indicator.ErrInvalid},
		{"a label that cannot be listed", []Entry{es[0], {Indicator: inds[1], Label: "a\nb"}}, "entry 1:", nil},
	} {
		_, err := p.RemoveEntries(c.remove)
		if err == nil || c.is != nil && !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.pos) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.pos)
			continue
		}
		for _, secret := range []string{"secret", "user", "example", "nobody"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error %q shows what the entry holds", c.name, err)
			}
		}
	}
	if p.Removed() != 0 {
		t.Fatalf("%d entries removed by refused removals", p.Removed())
	}
	if hits, _, _ := confirmOf(t, p, inds); len(hits) != len(inds) {
		t.Errorf("%d hits of %d after refused removals", len(hits), len(inds))
	}
}

// RemoveEntries runs alongside Confirm, Add and Remove (run with -race).
func TestRemoveEntriesConcurrent(t *testing.T) {
	key := testKey(t, SuiteRistretto255, 3)
	all := entriesOf(synthetic(t, 0, 300), func(i int) string { return fmt.Sprint("L", i) })
	p := mustPublish(t, key, all[:200], &PublishOptions{Capacity: 300})
	q, _ := NewQuerier(p.Filter(), nil)
	qu, req, _ := q.Blind(synthetic(t, 0, 200))
	resp, _ := p.Evaluate(req)
	creq, _ := qu.Finalize(resp)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i += 10 {
			if _, err := p.RemoveEntries(all[i : i+10]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 200; i < 300; i += 25 {
			if _, err := p.Add(all[i : i+25]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 30 {
		_, confirmed, err := p.Confirm(creq)
		if err != nil {
			t.Fatal(err)
		}
		if len(confirmed) < 100 || len(confirmed) > 200 {
			t.Fatalf("%d entries confirmed", len(confirmed))
		}
	}
	wg.Wait()
	if _, confirmed, _ := p.Confirm(creq); len(confirmed) != 100 || confirmed[0].Entry != 100 {
		t.Errorf("after the removals %d entries confirmed", len(confirmed))
	}
	if p.Removed() != 100 || p.Entries() != 300 {
		t.Errorf("%d removed of %d", p.Removed(), p.Entries())
	}
}
