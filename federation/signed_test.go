package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

func sampleSignedFilter(t testing.TB) ([]byte, *Partner, time.Time) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := match.GenerateKey(match.SuiteRistretto255)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var es []match.Entry
	for i := range 20 {
		es = append(es, match.Entry{Indicator: indicator.MustNew(indicator.IPv4, "192.0.2."+string(rune('0'+i%10)))})
	}
	pub, err := match.Publish(mk, func(yield func(match.Entry) bool) {
		for _, e := range es {
			if !yield(e) {
				return
			}
		}
	}, &match.PublishOptions{Epoch: 3, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signFilter("pub", key, pub.Filter())
	if err != nil {
		t.Fatal(err)
	}
	return signed, &Partner{ID: "pub", Identity: key.Public().(ed25519.PublicKey)}, now
}

func TestSignedFilterTruncated(t *testing.T) {
	signed, p, now := sampleSignedFilter(t)
	for n := range len(signed) {
		if _, err := verifyFilter(signed[:n], p, now); err == nil {
			t.Fatalf("cut at %d of %d: accepted", n, len(signed))
		}
	}
	if _, err := verifyFilter(append(bytes.Clone(signed), 0), p, now); err == nil {
		t.Fatal("trailing byte accepted")
	}
	if _, err := verifyFilter(make([]byte, maxFilterBytes+1), p, now); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("oversized: %v", err)
	}
}

func FuzzSignedFilter(f *testing.F) {
	signed, p, now := sampleSignedFilter(f)
	f.Add(signed)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := verifyFilter(data, p, now)
		if err != nil {
			return
		}
		// Only the genuine bytes verify.
		if !bytes.Equal(data, signed) || fl.Epoch() != 3 {
			t.Fatalf("accepted a filter other than the one signed")
		}
	})
}

// TestFilterVerification: a querier refuses a tampered, unsigned,
// wrongly signed, foreign, expired, inconsistent or rolled-back filter.
func TestFilterVerification(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub := tn.nodes[0]
	p := partnerOf(tn.nodes[1].Node, "agency-0")
	now := tn.clock.Now()
	good, _ := signFilter("agency-0", pub.cfg.Identity, pub.Filter())
	if _, err := verifyFilter(good, p, now); err != nil {
		t.Fatalf("genuine filter: %v", err)
	}
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	wrongSigner, _ := signFilter("agency-0", otherKey, pub.Filter())
	wrongID, _ := signFilter("agency-9", pub.cfg.Identity, pub.Filter())
	tampered := bytes.Clone(good)
	tampered[len(tampered)-100] ^= 1 // a filter bit
	unsigned := bytes.Clone(good)
	copy(unsigned[len(unsigned)-64:], make([]byte, 64))
	// An envelope naming another key id than its filter, signed properly.
	inconsistent := resign(t, good, pub.cfg.Identity, func(b []byte) { b[6+1+len("agency-0")+8] ^= 1 })
	for name, c := range map[string]struct {
		data []byte
		at   time.Time
		want error
	}{
		"tampered":     {tampered, now, ErrFilterSignature},
		"unsigned":     {unsigned, now, ErrFilterSignature},
		"wrong signer": {wrongSigner, now, ErrFilterSignature},
		"wrong node":   {wrongID, now, ErrFilterSigner},
		"inconsistent": {inconsistent, now, ErrFilterKey},
		"expired":      {good, now.Add(25*time.Hour + time.Minute), ErrFilterExpired},
		"not yet":      {good, now.Add(-time.Minute), ErrFilterExpired},
		"truncated":    {good[:len(good)-70], now, ErrFilterMalformed},
		"empty":        {nil, now, ErrFilterMalformed},
	} {
		if _, err := verifyFilter(c.data, p, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Over HTTP: after the clock passes the filter's end, the querier
	// refuses it rather than query with it.
	q := tn.nodes[1].Node
	if r := q.Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("before expiry: %+v", r)
	}
	tn.clock.Advance(26 * time.Hour)
	if r := q.Match(context.Background(), emails(t, "x", 0, 2))[0]; !errors.Is(r.Err, ErrFilterExpired) {
		t.Errorf("expired filter: %v", r.Err)
	}
	// Rollback: after seeing epoch 2, an epoch-1 filter is refused.
	tn.clock.Advance(-26 * time.Hour)
	c := q.client(p)
	if _, err := c.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.epoch, c.etag = 2, ""
	c.mu.Unlock()
	if _, err := c.refresh(context.Background()); !errors.Is(err, ErrFilterRollback) {
		t.Errorf("rollback: %v", err)
	}
}

// resign edits a signed filter's body and signs it again.
func resign(t *testing.T, signed []byte, key ed25519.PrivateKey, edit func([]byte)) []byte {
	body := bytes.Clone(signed[:len(signed)-64])
	edit(body)
	return append(body, ed25519.Sign(key, append([]byte(labelSignedFilter), body...))...)
}
