package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// ipv4Block returns the addresses of an IPv4 prefix as watchlist entries
// without labels.
func ipv4Block(prefix string) []match.Entry {
	pfx := netip.MustParsePrefix(prefix)
	var out []match.Entry
	for a := pfx.Addr(); pfx.Contains(a); a = a.Next() {
		out = append(out, match.Entry{Indicator: indicator.MustNew(indicator.IPv4, a.String())})
	}
	return out
}

// confirmHeaderLen is the length of a confirm response before its
// answers: header, suite, mode, key id, count.
const confirmHeaderLen = 6 + 2 + match.KeyIDSize + 4

// lyingNode wraps node's handler: it counts the requests it receives and,
// while rewrite is set, passes every confirm answer through it.
type lyingNode struct {
	requests atomic.Int64
	rewrite  atomic.Pointer[func([]byte) []byte]
}

func lie(t *testing.T, node *testNode) *lyingNode {
	l := &lyingNode{}
	inner := *node.handler.Load()
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.requests.Add(1)
		rw := l.rewrite.Load()
		if rw == nil || !strings.HasSuffix(r.URL.Path, "/confirm") {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if rec.Code == http.StatusOK {
			body = (*rw)(body)
		}
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
	node.handler.Store(&h)
	return l
}

// allNo answers "not an entry" to every tag of a confirm response.
func allNo(b []byte) []byte {
	n := binary.BigEndian.Uint32(b[confirmHeaderLen-4:])
	return append(b[:confirmHeaderLen:confirmHeaderLen], make([]byte, n)...)
}

// TestMisbehaviourBlocksPartner is finding 2 of issue 8 between nodes: a
// partner lists all of a /22 of IPv4, learns at confirm which of its
// addresses the querier holds, and answers "not an entry" to each.
// Regression test: the querier saw no hit and no error. Now the partner
// is reported, audited and not contacted again until its epoch is over;
// a filter of its next epoch lifts that.
func TestMisbehaviourBlocksPartner(t *testing.T) {
	block := ipv4Block("198.51.100.0/22")
	tn := newTestNet(t, [][]match.Entry{block, nil}, nil)
	tn.publishAll()
	pub, querier := tn.nodes[0], tn.nodes[1]
	liar := lie(t, pub)
	rw := allNo
	liar.rewrite.Store(&rw)
	var mine []indicator.Indicator
	for i := range 40 {
		mine = append(mine, block[25*i].Indicator)
	}
	for i := range 60 {
		mine = append(mine, indicator.MustNew(indicator.IPv4, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()))
	}
	epoch := pub.Epoch()

	r := querier.Match(context.Background(), mine)[0]
	var me *match.MisbehaviourError
	if !errors.As(r.Err, &me) || !strings.Contains(r.Err.Error(), "partner agency-0") {
		t.Fatalf("a partner that hid 40 hits: hits %d, err %v", len(r.Hits), r.Err)
	}
	if me.Queried != 100 || me.Candidates != 40 || me.Hits != 0 || len(r.Hits) != 0 || r.Candidates != 40 {
		t.Errorf("misbehaviour %+v, result %+v", *me, r)
	}
	t.Log(r.Err)
	recs, err := ReadAudit(querier.cfg.StateDir, querier.cfg.ID, querier.cfg.Identity.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	if last.Type != AuditMisbehaviour || last.Partner != "agency-0" || last.Epoch != epoch || last.Count != 100 || last.Hits != 0 ||
		!strings.Contains(last.Detail, "40 not entries") || strings.Contains(last.Detail, "198.51") {
		t.Errorf("audit record %v", &last)
	}

	// Not contacted again in the epoch, the error saying why.
	sent := liar.requests.Load()
	r = querier.Match(context.Background(), mine)[0]
	if !errors.Is(r.Err, ErrPartnerBlocked) || !errors.Is(r.Err, match.ErrMisbehaviour) || liar.requests.Load() != sent {
		t.Fatalf("blocked partner: %d requests, err %v", liar.requests.Load()-sent, r.Err)
	}
	t.Log(r.Err)

	// After the end of its filter's window the partner has rotated; its
	// new epoch is queried again.
	tn.clock.Advance(25*time.Hour + time.Minute)
	if err := pub.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	liar.rewrite.Store(nil)
	r = querier.Match(context.Background(), mine)[0]
	if r.Err != nil || len(r.Hits) != 40 || r.Epoch == epoch || liar.requests.Load() == sent {
		t.Fatalf("after the partner's rotation: epoch %d, %d hits, err %v", r.Epoch, len(r.Hits), r.Err)
	}
}

// TestMisbehaviourAcrossBatches: a partner that hides one hit per batch
// stays within the bound of each query, not within the bound of their
// sum.
func TestMisbehaviourAcrossBatches(t *testing.T) {
	block := ipv4Block("198.51.100.0/24")
	tn := newTestNet(t, [][]match.Entry{block, nil}, func(i int, cfg *Config) {
		if i == 1 {
			cfg.MaxBatch = 16
		}
	})
	tn.publishAll()
	liar := lie(t, tn.nodes[0])
	// Every candidate is a hit (0x01, no label): the first becomes "no".
	rw := func(b []byte) []byte {
		if len(b) < confirmHeaderLen+3 {
			return b
		}
		return append(append(b[:confirmHeaderLen:confirmHeaderLen], 0), b[confirmHeaderLen+3:]...)
	}
	liar.rewrite.Store(&rw)
	var mine []indicator.Indicator
	for _, e := range block[:160] {
		mine = append(mine, e.Indicator)
	}
	r := tn.nodes[1].Match(context.Background(), mine)[0]
	var me *match.MisbehaviourError
	if !errors.As(r.Err, &me) || me.Queried != 160 || me.Candidates != 160 || me.Hits != 150 {
		t.Fatalf("one hit hidden in each of 10 batches: %d hits, err %v", len(r.Hits), r.Err)
	}
	if len(r.Hits) != 150 {
		t.Errorf("%d hits reported, the partner confirmed 150", len(r.Hits))
	}
	t.Log(r.Err)
	if r := tn.nodes[1].Match(context.Background(), mine)[0]; !errors.Is(r.Err, ErrPartnerBlocked) {
		t.Errorf("not blocked: %v", r.Err)
	}
}

// A Matcher without a state directory reports misbehaviour; it has no
// audit log.
func TestMisbehaviourMatcher(t *testing.T) {
	block := ipv4Block("198.51.100.0/24")
	tn := newTestNet(t, [][]match.Entry{block, nil}, nil)
	tn.publishAll()
	liar := lie(t, tn.nodes[0])
	rw := allNo
	liar.rewrite.Store(&rw)
	cfg := *tn.nodes[1].cfg
	cfg.StateDir = ""
	m, err := NewMatcher(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := m.Match(context.Background(), []indicator.Indicator{block[1].Indicator, block[2].Indicator})[0]
	if !errors.Is(r.Err, match.ErrMisbehaviour) {
		t.Fatalf("err %v", r.Err)
	}
	if r := m.Match(context.Background(), []indicator.Indicator{block[1].Indicator})[0]; !errors.Is(r.Err, ErrPartnerBlocked) {
		t.Errorf("not blocked: %v", r.Err)
	}
}

// allWithdrawn answers "withdrawn" to every tag of a confirm response.
func allWithdrawn(b []byte) []byte {
	n := binary.BigEndian.Uint32(b[confirmHeaderLen-4:])
	return append(b[:confirmHeaderLen:confirmHeaderLen], bytes.Repeat([]byte{0x03}, int(n))...)
}

// A partner that answers "withdrawn" (PROTOCOL.md 2.8) instead of "not an
// entry" is not accused, since the answer is legitimate for a removed
// entry, but every such indicator is reported in the result: the
// partner cannot learn this node's indicators unseen. Regression
// (review): the client dropped Query.Withdrawn, so the answer hid
// harvesting completely.
func TestWithdrawnReported(t *testing.T) {
	block := ipv4Block("198.51.100.0/22")
	tn := newTestNet(t, [][]match.Entry{block, nil}, nil)
	tn.publishAll()
	pub, querier := tn.nodes[0], tn.nodes[1]
	liar := lie(t, pub)
	rw := allWithdrawn
	liar.rewrite.Store(&rw)
	var mine []indicator.Indicator
	for i := range 40 {
		mine = append(mine, block[25*i].Indicator)
	}
	r := querier.Match(context.Background(), mine)[0]
	if r.Err != nil || len(r.Hits) != 0 || len(r.Withdrawn) != 40 || r.Withdrawn[0] != mine[0] {
		t.Fatalf("hits %d, withdrawn %d, err %v", len(r.Hits), len(r.Withdrawn), r.Err)
	}
}
