package person

import (
	"fmt"
	"slices"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// KeyStats counts what turning records into keys did.
type KeyStats struct {
	Records  int        // records given
	Keys     int        // distinct keys made
	MaxKeys  int        // the most keys of one record
	Rejected []KeyError // records that made no key, with why
	// DroppedKeys counts keys left out past MaxKeys (the weakest of their
	// records); DroppedRepeats, entries left out because more than
	// match.MaxRepeats records share their key (a common name without a
	// date of birth): the first MaxRepeats are kept.
	DroppedKeys, DroppedRepeats int
}

// A KeyError is a record that made no key.
type KeyError struct {
	Index int    // in the records given
	Ref   string // the record's Ref
	Err   error  // names the field, never its value
}

func (e KeyError) Error() string { return fmt.Sprintf("person: record %d: %v", e.Index+1, e.Err) }

func (e KeyError) Unwrap() error { return e.Err }

// Entries returns the watchlist entries that publish recs: one per key of
// each record (Publisher role), each with the record's Label and Ref, for
// match.Publish. A key that several records share (namesakes) is an entry
// for each of them, up to match.MaxRepeats, so that a hit releases every
// label.
func Entries(recs []Record) ([]match.Entry, KeyStats) {
	sum := KeyStats{Records: len(recs)}
	var out []match.Entry
	count := map[indicator.Indicator]int{}
	for i, rec := range recs {
		keys, info, err := Keys(rec, Publisher)
		if err != nil {
			sum.Rejected = append(sum.Rejected, KeyError{i, rec.Ref, err})
			continue
		}
		sum.DroppedKeys += info.Dropped
		sum.MaxKeys = max(sum.MaxKeys, len(keys))
		for _, k := range keys {
			if count[k.Indicator] == match.MaxRepeats {
				sum.DroppedRepeats++
				continue
			}
			count[k.Indicator]++
			out = append(out, match.Entry{Indicator: k.Indicator, Label: rec.Label, Ref: rec.Ref})
		}
	}
	sum.Keys = len(count)
	return out, sum
}

// A Query is a querier's records and their keys (Querier role).
type Query struct {
	records []Record
	inds    []indicator.Indicator
	uses    map[indicator.Indicator][]use
}

// use is a record that made a key, and by which rule.
type use struct {
	record int
	rule   Rule
}

// NewQuery makes the keys of recs. The indicators to query are
// q.Indicators(); the hits they get are turned into hits on records by
// q.Hits.
func NewQuery(recs []Record) (*Query, KeyStats) {
	sum := KeyStats{Records: len(recs)}
	q := &Query{records: recs, uses: map[indicator.Indicator][]use{}}
	for i, rec := range recs {
		keys, info, err := Keys(rec, Querier)
		if err != nil {
			sum.Rejected = append(sum.Rejected, KeyError{i, rec.Ref, err})
			continue
		}
		sum.DroppedKeys += info.Dropped
		sum.MaxKeys = max(sum.MaxKeys, len(keys))
		for _, k := range keys {
			if _, ok := q.uses[k.Indicator]; !ok {
				q.inds = append(q.inds, k.Indicator)
			}
			q.uses[k.Indicator] = append(q.uses[k.Indicator], use{i, k.Rule})
		}
	}
	sum.Keys = len(q.inds)
	return q, sum
}

// Indicators returns the keys to query, without repeats: every one is an
// evaluation against the partner's budget.
func (q *Query) Indicators() []indicator.Indicator { return q.inds }

// A Hit is a querier's record that matched a publisher's: by which rules,
// how strongly, and the labels the publisher released (of every record
// of its that shares a matched key: namesakes give several).
type Hit struct {
	Index    int    // the record's index in the records given to NewQuery
	Ref      string // the record's Ref
	Rules    []Rule // the rules whose keys matched, strongest first
	Strength Strength
	Labels   []string
}

// Hits turns the hits on q's keys into hits on records, in the order of
// the records. Hits on indicators that are not q's keys are ignored.
func (q *Query) Hits(hits []match.Hit) []Hit {
	byRecord := map[int]*Hit{}
	for _, h := range hits {
		for _, u := range q.uses[h.Indicator] {
			rh := byRecord[u.record]
			if rh == nil {
				rh = &Hit{Index: u.record, Ref: q.records[u.record].Ref}
				byRecord[u.record] = rh
			}
			if !slices.Contains(rh.Rules, u.rule) {
				rh.Rules = append(rh.Rules, u.rule)
			}
			rh.Strength = max(rh.Strength, u.rule.Strength)
			for _, l := range h.Labels {
				if !slices.Contains(rh.Labels, l) {
					rh.Labels = append(rh.Labels, l)
				}
			}
		}
	}
	out := make([]Hit, 0, len(byRecord))
	for _, h := range byRecord {
		slices.SortStableFunc(h.Rules, func(a, b Rule) int { return ruleIndex(a) - ruleIndex(b) })
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b Hit) int { return a.Index - b.Index })
	return out
}
