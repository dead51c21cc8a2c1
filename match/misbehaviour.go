package match

import (
	"fmt"
	"math"
)

// The misbehaviour rule at confirm time (PROTOCOL.md, section 2.5). A
// querier that sends the tags of C candidates, of Q distinct indicators,
// and is told H of them are hits, knows that against an honest publisher
// the C-H "not an entry" answers are the filter's false positives among
// the Q-H indicators that are not on the list: Binomial(Q-H, p) with p =
// (set bits/m)^k, exactly, because the bit positions of a tag the
// publisher cannot predict are independent and uniform (section 1.4).
// More than that is a publisher answering "no" about indicators that are
// on its list (it may have listed a whole value space) to learn them while
// the querier sees no hit.
const (
	// misbehaviourLnSignificance is ln(1/α) with α = 2^-40, the
	// probability, at most, that an honest publisher is accused by one
	// check: an agency making a million checks a year would see a false
	// accusation about once in a million years.
	misbehaviourLnSignificance = 40 * math.Ln2
	// minFalsePositiveBound is the least number of "not an entry"
	// answers always accepted: one false positive is never an accusation,
	// however small its expected count.
	minFalsePositiveBound = 1
)

// A MisbehaviourError reports a confirm response with more "not an entry"
// answers than the filter's false-positive rate explains: the publisher
// said "no" about indicators that passed its filter because they are on
// its list, which lets it learn them while the querier sees no hit. Test
// for it with errors.Is(err, ErrMisbehaviour). An honest publisher causes
// one with probability below 2^-40 per check.
type MisbehaviourError struct {
	Queried           int     // Q: distinct indicators queried
	Candidates        int     // C: indicators that passed the filter, whose tags were sent
	Hits              int     // H: candidates the publisher confirmed as hits
	FalsePositiveRate float64 // p: the filter's, (set bits/m)^k
	Expected          float64 // (Q-H)·p: the "not an entry" answers expected from an honest publisher
	Bound             int     // the most "not an entry" answers accepted; C-H exceeds it
}

func (e *MisbehaviourError) Error() string {
	return fmt.Sprintf("%v: %d of %d candidates answered \"not an entry\"; among the %d indicators it did not confirm, "+
		"the filter's false-positive rate %.3g explains %.3g such answers on average and at most %d",
		ErrMisbehaviour, e.Candidates-e.Hits, e.Candidates, e.Queried-e.Hits, e.FalsePositiveRate, e.Expected, e.Bound)
}

func (e *MisbehaviourError) Unwrap() error { return ErrMisbehaviour }

// CheckConfirmations applies the misbehaviour rule to confirm answers
// about queried distinct indicators, of which candidates passed a filter
// of false-positive rate fpr ([Filter.EstimatedFalsePositiveRate]) and
// hits were confirmed. It returns a *MisbehaviourError if the
// candidates - hits "not an entry" answers exceed what fpr explains, nil
// otherwise. [Query.Hits] applies it to each query; a caller that sends
// several queries of distinct indicators against one filter applies it to
// their sums as well, which catches a smaller excess in each.
func CheckConfirmations(queried, candidates, hits int, fpr float64) error {
	if hits < 0 || candidates < hits || queried < candidates {
		return fmt.Errorf("match: CheckConfirmations(%d, %d, %d): want 0 <= hits <= candidates <= queried", queried, candidates, hits)
	}
	if !(fpr >= 0 && fpr <= 1) {
		return fmt.Errorf("match: CheckConfirmations: false-positive rate %v not in [0, 1]", fpr)
	}
	nonMembers := queried - hits
	bound := falsePositiveBound(nonMembers, fpr, misbehaviourLnSignificance)
	if candidates-hits <= bound {
		return nil
	}
	return &MisbehaviourError{Queried: queried, Candidates: candidates, Hits: hits,
		FalsePositiveRate: fpr, Expected: float64(nonMembers) * fpr, Bound: bound}
}

// falsePositiveBound returns the largest count b, at least
// minFalsePositiveBound, such that a Binomial(n, p) variable exceeds b
// with probability at most e^-lnAlpha, by the Chernoff bound
//
//	P(X >= t) <= exp(-n·D(t/n || p))   for t > n·p,
//
// D the Kullback-Leibler divergence of Bernoulli variables. The bound is
// never below the true tail, so an honest publisher is accused with
// probability at most e^-lnAlpha; it is within a few counts of the exact
// quantile (TestFalsePositiveBoundExact).
func falsePositiveBound(n int, p, lnAlpha float64) int {
	if n <= 0 {
		return 0
	}
	if !(p > 0) { // p = 0: no false positive at all
		return min(n, minFalsePositiveBound)
	}
	if p >= 1 {
		return n
	}
	nf := float64(n)
	// The smallest t > n·p with n·D(t/n || p) >= lnAlpha, by bisection:
	// n·D is increasing in t above n·p.
	lo := int(math.Floor(nf*p)) + 1 // n·D(lo) may be below lnAlpha
	if lo > n || chernoffExponent(n, n, p) < lnAlpha {
		return n // even all n false positives are plausible
	}
	hi := n // chernoffExponent(hi) >= lnAlpha
	for lo < hi {
		mid := lo + (hi-lo)/2
		if chernoffExponent(mid, n, p) >= lnAlpha {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return max(hi-1, min(n, minFalsePositiveBound))
}

// chernoffExponent returns n·D(t/n || p) for n·p < t <= n, 0 < p < 1:
//
//	t·ln(t/(n·p)) + (n-t)·(ln(1-t/n) - ln(1-p))
//
// with log1p for precision when p or 1-t/n is tiny; the second term is 0
// at t = n.
func chernoffExponent(t, n int, p float64) float64 {
	tf, nf := float64(t), float64(n)
	e := tf * (math.Log(tf/nf) - math.Log(p))
	if t < n {
		e += (nf - tf) * (math.Log1p(-tf/nf) - math.Log1p(-p))
	}
	return e
}
