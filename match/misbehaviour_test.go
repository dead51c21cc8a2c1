package match

import (
	"errors"
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// binomialTails returns P(X > b) for b = 0..n, X ~ Binomial(n, p), from
// the exact probabilities (computed in log space).
func binomialTails(n int, p float64) []float64 {
	lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
	tails := make([]float64, n+1)
	for j := n; j > 0; j-- {
		lt := lg(n) - lg(j) - lg(n-j) + float64(j)*math.Log(p) + float64(n-j)*math.Log1p(-p)
		tails[j-1] = tails[j] + math.Exp(lt) // tails[n] = P(X > n) = 0
	}
	return tails
}

// TestFalsePositiveBoundExact compares the Chernoff bound with the exact
// binomial tail: never below the true quantile (an honest publisher is
// accused with probability at most 2^-40), and never far above it (a
// dishonest one hides few indicators).
func TestFalsePositiveBoundExact(t *testing.T) {
	alpha := math.Exp(-misbehaviourLnSignificance)
	for _, n := range []int{1, 2, 10, 100, 1000, 5000} {
		for _, p := range []float64{1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.5} {
			b := falsePositiveBound(n, p, misbehaviourLnSignificance)
			if b < minFalsePositiveBound && b < n || b > n {
				t.Fatalf("n=%d p=%g: bound %d outside [%d, %d]", n, p, b, min(n, minFalsePositiveBound), n)
			}
			tails := binomialTails(n, p)
			if tails[b] > alpha {
				t.Errorf("n=%d p=%g: bound %d, but P(X > %d) = %g > 2^-40", n, p, b, b, tails[b])
			}
			exact := 0 // the exact quantile
			for tails[exact] > alpha {
				exact++
			}
			if slack := b - max(exact, min(n, minFalsePositiveBound)); slack < 0 || slack > 2+int(0.02*float64(exact)) {
				t.Errorf("n=%d p=%g: bound %d, exact quantile %d", n, p, b, exact)
			}
			if testing.Verbose() && b != exact {
				t.Logf("n=%d p=%g: bound %d, exact quantile %d", n, p, b, exact)
			}
		}
	}
}

// TestFalsePositiveBoundRobust: no overflow, NaN or panic for huge counts
// and tiny or extreme rates, and the bound grows with n and p.
func TestFalsePositiveBoundRobust(t *testing.T) {
	ps := []float64{0, 5e-324, 1e-300, 1e-30, 1e-9, 1e-6, 0.01, 0.5, 0.999999, 1}
	for _, n := range []int{0, 1, 1 << 20, 1 << 40, math.MaxInt} {
		prev := -1
		for _, p := range ps {
			b := falsePositiveBound(n, p, misbehaviourLnSignificance)
			if b < 0 || b > n || b < prev {
				t.Errorf("n=%d p=%g: bound %d (previous rate: %d)", n, p, b, prev)
			}
			if mean := float64(n) * p; float64(b) < math.Floor(mean) && b != n {
				t.Errorf("n=%d p=%g: bound %d below the mean %g", n, p, b, mean)
			}
			prev = b
		}
	}
	if b := falsePositiveBound(1<<20, 1e-6, misbehaviourLnSignificance); b != 15 {
		t.Errorf("Q = 2^20, p = 1e-6: bound %d, PROTOCOL.md says 15", b)
	}
	for _, c := range []struct {
		q, c, h int
		p       float64
	}{{-1, 0, 0, 0}, {1, 2, 0, 0}, {2, 1, 2, 0}, {2, 1, -1, 0}, {2, 1, 0, math.NaN()}, {2, 1, 0, -1}, {2, 1, 0, 2}} {
		if err := CheckConfirmations(c.q, c.c, c.h, c.p); err == nil || errors.Is(err, ErrMisbehaviour) {
			t.Errorf("CheckConfirmations(%d, %d, %d, %g): %v", c.q, c.c, c.h, c.p, err)
		}
	}
}

// TestFalseAccusationRate draws honest false-positive counts at
// significance 1% (the rule's is 2^-40, too small to observe) and checks
// that the rule accuses at most that often.
func TestFalseAccusationRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lnAlpha := math.Log(100)
	for _, c := range []struct {
		n int
		p float64
	}{{50, 0.02}, {1000, 1e-3}, {2000, 0.01}} {
		b := falsePositiveBound(c.n, c.p, lnAlpha)
		const runs = 10_000
		accused := 0
		for range runs {
			x := 0
			for range c.n {
				if rng.Float64() < c.p {
					x++
				}
			}
			if x > b {
				accused++
			}
		}
		if rate := float64(accused) / runs; rate > 0.01 {
			t.Errorf("n=%d p=%g: honest publisher accused in %.2f%% of runs, bound 1%%", c.n, c.p, 100*rate)
		}
	}
}

// TestHonestHighRateNeverAccused runs the rule on the real filter and
// tags: random (non-member) tags against a filter of rate 1e-2, many
// times; an honest publisher's "not an entry" answers never trip it.
func TestHonestHighRateNeverAccused(t *testing.T) {
	f, idx := randomFilter(t, 2000, 1e-2)
	fpr := f.EstimatedFalsePositiveRate()
	pos := newPositioner()
	const runs, queried, members = 200, 2000, 20
	worst := 0
	for range runs {
		fp := 0
		for range queried - members {
			if f.contains(pos, randomTag()) {
				fp++
			}
		}
		worst = max(worst, fp)
		if err := CheckConfirmations(queried, fp+members, members, fpr); err != nil {
			t.Fatalf("honest answers: %v", err)
		}
	}
	_ = idx
	t.Logf("rate %.3g: at most %d false positives among %d, bound %d", fpr, worst, queried-members,
		falsePositiveBound(queried-members, fpr, misbehaviourLnSignificance))
}

// ipv4Block returns the addresses of an IPv4 prefix, as indicators.
func ipv4Block(t testing.TB, prefix string) []indicator.Indicator {
	t.Helper()
	pfx := netip.MustParsePrefix(prefix)
	var out []indicator.Indicator
	for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
		out = append(out, indicator.MustNew(indicator.IPv4, a.String()))
	}
	return out
}

// TestHarvestDetected is the attack of finding 2 of issue 8: a publisher
// lists all of a /22 of IPv4, receives the tags of the querier's
// addresses in it at confirm, and answers "not an entry" to every one, so
// that it learns them while the querier sees no hit. Regression test: the
// querier took the answers on trust, saw no hit and no error.
func TestHarvestDetected(t *testing.T) {
	block := ipv4Block(t, "198.51.100.0/22")
	p := mustPublish(t, testKey(t, SuiteRistretto255, 9), entriesOf(block, nil), nil)
	q, err := NewQuerier(p.Filter(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// 40 of the querier's 100 addresses are in the block.
	var mine []indicator.Indicator
	for i := range 40 {
		mine = append(mine, block[25*i])
	}
	mine = append(mine, ipv4Block(t, "192.0.2.0/26")[:60]...)
	qu, req, err := q.Blind(mine)
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
	if creq.Len() != 40 {
		t.Fatalf("%d candidates, want the 40 addresses in the block", creq.Len())
	}
	// The publisher looks the tags up (it learns all 40), then answers
	// "not an entry" to each.
	if _, confirmed, err := p.Confirm(creq); err != nil || len(confirmed) != 40 {
		t.Fatalf("publisher's lookup: %d, %v", len(confirmed), err)
	}
	lie := &ConfirmResponse{hdr: p.hdr, results: make([]confirmResult, creq.Len())}
	var lie2 ConfirmResponse
	reencode(t, lie, &lie2)
	hits, err := qu.Hits(&lie2)
	var me *MisbehaviourError
	if !errors.As(err, &me) || !errors.Is(err, ErrMisbehaviour) {
		t.Fatalf("publisher answered no to 40 members: hits %v, err %v", hits, err)
	}
	if me.Queried != 100 || me.Candidates != 40 || me.Hits != 0 || me.Bound != 1 || me.Expected > 1e-6 || len(hits) != 0 {
		t.Errorf("misbehaviour error %+v, hits %d", *me, len(hits))
	}
	t.Log(err)
}

// The bounds PROTOCOL.md section 2.5 lists.
func TestFalsePositiveBoundTable(t *testing.T) {
	for _, c := range []struct {
		n    int
		p    float64
		want int
	}{
		{100, 1e-6, 2}, {1000, 1e-9, 2}, {65536, 1e-9, 2}, {65536, 1e-6, 7},
		{1 << 20, 1e-9, 3}, {1 << 20, 1e-6, 15}, {1000, 1e-2, 41}, {65536, 1e-2, 853},
	} {
		if b := falsePositiveBound(c.n, c.p, misbehaviourLnSignificance); b != c.want {
			t.Errorf("B(%d, %g) = %d, PROTOCOL.md says %d", c.n, c.p, b, c.want)
		}
	}
}

// An honest exchange at a false-positive rate of 1e-2 (the querier's
// bound raised) passes the check with its many false positives.
func TestHonestExchangeHighRate(t *testing.T) {
	p := mustPublish(t, testKey(t, SuiteRistretto255, 5), entriesOf(synthetic(t, 0, 300), nil), &PublishOptions{FalsePositiveRate: 1e-2})
	q, err := NewQuerier(p.Filter(), &QuerierOptions{MaxFalsePositiveRate: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	qu, req, err := q.Blind(synthetic(t, 280, 620)) // 20 members
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
	cresp, _, err := p.Confirm(creq)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := qu.Hits(cresp)
	if err != nil || len(hits) != 20 {
		t.Fatalf("%d candidates, %d hits: %v", qu.Candidates(), len(hits), err)
	}
	t.Logf("rate %.3g: %d false positives among 600", q.Filter().EstimatedFalsePositiveRate(), qu.Candidates()-20)
}
