package federation

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/internal/wire"
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
	limit := p.maxFilterBytes() + filterEnvelopeMax
	if _, err := verifyFilter(make([]byte, limit+1), p, now); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("oversized: %v", err)
	}
	// A signed filter longer than the partner's maximum is refused before
	// it is read.
	oversized := io.MultiReader(bytes.NewReader(signed[:wire.HeaderLen]), errReader{})
	if _, err := readSignedFilter(oversized, limit+1, p, now); !errors.Is(err, match.ErrUnsafeFilter) {
		t.Fatalf("oversized, declared: %v", err)
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
	c.etag, c.querier = "", nil
	c.mu.Unlock()
	q.seen.mu.Lock()
	sn := q.seen.seen[p.ID]
	sn.epoch = 2
	q.seen.seen[p.ID] = sn
	q.seen.mu.Unlock()
	if _, err := c.refresh(context.Background()); !errors.Is(err, ErrFilterRollback) {
		t.Errorf("rollback: %v", err)
	}
}

// signFilter returns the signed filter (type 0x09) a node serves for f.
func signFilter(id string, key ed25519.PrivateKey, f *match.Filter) ([]byte, error) {
	sf, err := newSignedFilter(id, key, f)
	if err != nil {
		return nil, err
	}
	return sf.legacy, nil
}

// verifyFilter reads a signed filter, in either envelope, from data.
func verifyFilter(data []byte, p *Partner, now time.Time) (*match.Filter, error) {
	return readSignedFilter(bytes.NewReader(data), int64(len(data)), p, now)
}

var errBody = errors.New("the body was read")

// errReader fails every read: put after an envelope, it shows whether
// the filter was read.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBody }

// resign edits a signed filter's body and signs it again.
func resign(t *testing.T, signed []byte, key ed25519.PrivateKey, edit func([]byte)) []byte {
	body := bytes.Clone(signed[:len(signed)-64])
	edit(body)
	return append(body, ed25519.Sign(key, append([]byte(labelSignedFilter), body...))...)
}

// streamFilter returns the streamed signed filter (type 0x0A) for f.
func streamFilter(t testing.TB, id string, key ed25519.PrivateKey, f *match.Filter) []byte {
	t.Helper()
	sf, err := newSignedFilter(id, key, f)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Concat(sf.stream, sf.filter)
}

func sampleStreamedFilter(t testing.TB) ([]byte, *Partner, time.Time) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	mk, _ := match.GenerateKey(match.SuiteRistretto255)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var es []match.Entry
	for i := range 20 {
		es = append(es, match.Entry{Indicator: indicator.MustNew(indicator.IPv4, fmt.Sprintf("192.0.2.%d", i))})
	}
	pub, err := match.Publish(mk, slices.Values(es), &match.PublishOptions{Epoch: 3, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return streamFilter(t, "pub", key, pub.Filter()), &Partner{ID: "pub", Identity: key.Public().(ed25519.PublicKey)}, now
}

func TestStreamedFilterTruncated(t *testing.T) {
	signed, p, now := sampleStreamedFilter(t)
	if _, err := verifyFilter(signed, p, now); err != nil {
		t.Fatal(err)
	}
	for n := range len(signed) {
		if _, err := verifyFilter(signed[:n], p, now); !errors.Is(err, ErrFilterMalformed) {
			t.Fatalf("cut at %d of %d: %v", n, len(signed), err)
		}
	}
	if _, err := verifyFilter(append(bytes.Clone(signed), 0), p, now); !errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("trailing byte: %v", err)
	}
	// A failing connection is not a malformed filter.
	if _, err := readSignedFilter(io.MultiReader(bytes.NewReader(signed[:len(signed)-5]), errReader{}), -1, p, now); !errors.Is(err, errBody) || errors.Is(err, ErrFilterMalformed) {
		t.Fatalf("reader error: %v", err)
	}
}

func FuzzStreamedFilter(f *testing.F) {
	signed, p, now := sampleStreamedFilter(f)
	f.Add(signed)
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := verifyFilter(data, p, now)
		if err != nil {
			return
		}
		if !bytes.Equal(data, signed) || fl.Epoch() != 3 {
			t.Fatalf("accepted a filter other than the one signed")
		}
	})
}

// streamedEnvelopeLen is the length of a streamed envelope of node ID id.
func streamedEnvelopeLen(id string) int {
	return wire.HeaderLen + 1 + len(id) + 8 + match.KeyIDSize + 8 + 32 + 64
}

// TestStreamedFilterVerification: the streamed envelope is refused when
// tampered, unsigned, wrongly signed, foreign, inconsistent, of another
// length or expired, as the signed filter is.
func TestStreamedFilterVerification(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub := tn.nodes[0]
	p := partnerOf(tn.nodes[1].Node, "agency-0")
	now := tn.clock.Now()
	key := pub.cfg.Identity
	good := streamFilter(t, "agency-0", key, pub.Filter())
	if _, err := verifyFilter(good, p, now); err != nil {
		t.Fatalf("genuine filter: %v", err)
	}
	env := streamedEnvelopeLen("agency-0")
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	// restream edits the envelope (before its signature) and signs it
	// again.
	restream := func(edit func([]byte)) []byte {
		b := bytes.Clone(good)
		edit(b[:env-64])
		copy(b[env-64:env], ed25519.Sign(key, append([]byte(labelStreamedFilter), b[:env-64]...)))
		return b
	}
	lenOff := env - 64 - 32 - 8
	tampered := bytes.Clone(good)
	tampered[len(good)-8*((pub.Filter().Bits()+63)/64)] ^= 1 // a filter bit: the hash no longer matches
	envTampered := bytes.Clone(good)
	envTampered[env-70] ^= 1 // the hash, under the signature
	for name, c := range map[string]struct {
		data []byte
		at   time.Time
		want error
	}{
		"tampered filter":   {tampered, now, ErrFilterSignature},
		"tampered envelope": {envTampered, now, ErrFilterSignature},
		"unsigned":          {append(append(bytes.Clone(good[:env-64]), make([]byte, 64)...), good[env:]...), now, ErrFilterSignature},
		"wrong signer":      {streamFilter(t, "agency-0", otherKey, pub.Filter()), now, ErrFilterSignature},
		"wrong node":        {streamFilter(t, "agency-9", key, pub.Filter()), now, ErrFilterSigner},
		"inconsistent":      {restream(func(b []byte) { b[6+1+len("agency-0")+8] ^= 1 }), now, ErrFilterKey},
		"longer":            {append(restream(func(b []byte) { b[lenOff+7]++ }), 0), now, ErrFilterMalformed},
		"shorter":           {restream(func(b []byte) { b[lenOff+7]-- }), now, ErrFilterMalformed},
		"expired":           {good, now.Add(25*time.Hour + time.Minute), ErrFilterExpired},
		"legacy type":       {append(wire.AppendHeader(nil, wire.TypeFilter), good[6:]...), now, ErrFilterMalformed},
	} {
		if _, err := verifyFilter(c.data, p, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
}

// A filter above the partner's maxima is refused before its bits are
// read: its length from the streamed envelope, its entries from the
// filter's fixed fields.
func TestFilterAboveMaximumNotRead(t *testing.T) {
	signed, p, now := sampleStreamedFilter(t)
	env := streamedEnvelopeLen("pub")
	size := len(signed) - env
	var f match.Filter
	if err := f.UnmarshalBinary(signed[env:]); err != nil {
		t.Fatal(err)
	}
	fixed := env + size - 8*((f.Bits()+63)/64)
	for _, c := range []struct {
		name string
		p    Partner
		read int // bytes available before the reader fails
		want string
	}{
		{"bytes", Partner{ID: p.ID, Identity: p.Identity, MaxFilterBytes: int64(size - 1)}, env, "above the maximum"},
		{"entries", Partner{ID: p.ID, Identity: p.Identity, MaxFilterEntries: 19}, fixed, "20 entries, above the maximum 19"},
		{"within", Partner{ID: p.ID, Identity: p.Identity, MaxFilterEntries: 20, MaxFilterBytes: int64(size)}, fixed, ""},
	} {
		_, err := readSignedFilter(io.MultiReader(bytes.NewReader(signed[:c.read]), errReader{}), -1, &c.p, now)
		if c.want == "" {
			if !errors.Is(err, errBody) {
				t.Errorf("%s: %v, want the bits read", c.name, err)
			}
			continue
		}
		if !errors.Is(err, match.ErrUnsafeFilter) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrUnsafeFilter (%s)", c.name, err, c.want)
		}
	}
	// Over HTTP, a partner whose filter is above the maxima is refused.
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 100), "L"), nil}, func(i int, cfg *Config) {
		if i == 1 {
			cfg.Partners[0].MaxFilterEntries = 99
		}
	})
	tn.publishAll()
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]; !errors.Is(r.Err, match.ErrUnsafeFilter) {
		t.Errorf("a filter of 100 entries, maximum 99: %v", r.Err)
	}
}

// TestFilterNegotiation: GET filter serves the streamed envelope to a
// client that asks for it, with its own ETag, and the signed filter,
// unchanged, to any other.
func TestFilterNegotiation(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	pub := tn.nodes[0]
	legacy, _ := signFilter("agency-0", pub.cfg.Identity, pub.Filter())
	streamed := streamFilter(t, "agency-0", pub.cfg.Identity, pub.Filter())
	get := func(accept, inm string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, pub.server.URL+PathPrefix+"filter", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := rawClient(tn.nodes[1].certificate()).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := get("", "")
	legacyTag := resp.Header.Get("ETag")
	if !bytes.Equal(b, legacy) || resp.Header.Get("Content-Type") != "application/octet-stream" || resp.Header.Get("Vary") != "Accept" {
		t.Errorf("no Accept: %s, %d bytes, Vary %q", resp.Header.Get("Content-Type"), len(b), resp.Header.Get("Vary"))
	}
	for _, accept := range []string{MediaTypeStreamedFilter, acceptFilter, "text/html, Application/Vnd.Fedmatch.Streamed-Filter;q=0.1"} {
		resp, b = get(accept, "")
		if !bytes.Equal(b, streamed) || resp.Header.Get("Content-Type") != MediaTypeStreamedFilter || resp.Header.Get("ETag") == legacyTag {
			t.Errorf("Accept %q: %s, %d bytes, ETag %s", accept, resp.Header.Get("Content-Type"), len(b), resp.Header.Get("ETag"))
		}
	}
	streamTag := resp.Header.Get("ETag")
	for _, accept := range []string{MediaTypeStreamedFilter + ";q=0", "application/octet-stream", "*/*"} {
		if _, b := get(accept, ""); !bytes.Equal(b, legacy) {
			t.Errorf("Accept %q: not the signed filter", accept)
		}
	}
	// Each representation is validated by its own tag.
	for _, c := range []struct {
		accept, inm string
		status      int
	}{
		{"", legacyTag, http.StatusNotModified}, {"", streamTag, http.StatusOK},
		{MediaTypeStreamedFilter, streamTag, http.StatusNotModified}, {MediaTypeStreamedFilter, legacyTag, http.StatusOK},
	} {
		if resp, _ := get(c.accept, c.inm); resp.StatusCode != c.status {
			t.Errorf("Accept %q, If-None-Match %s: %d, want %d", c.accept, c.inm, resp.StatusCode, c.status)
		}
	}
	// The Go client asks for the streamed envelope.
	q := tn.nodes[1].Node
	if r := q.Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("match: %+v", r)
	}
	if c := q.client(partnerOf(q, "agency-0")); c.etag != streamTag {
		t.Errorf("client holds ETag %s, want the streamed envelope's %s", c.etag, streamTag)
	}
}

// A node that serves only the signed filter (type 0x09) is still
// queried: the client reads it whole, within the maximum.
func TestClientReadsSignedFilter(t *testing.T) {
	tn := newTestNet(t, [][]match.Entry{entries(emails(t, "x", 0, 5), "L"), nil}, nil)
	tn.publishAll()
	inner := *tn.nodes[0].handler.Load()
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Del("Accept") // as a node that predates the streamed envelope
		inner.ServeHTTP(w, r)
	})
	tn.nodes[0].handler.Store(&h)
	if r := tn.nodes[1].Match(context.Background(), emails(t, "x", 0, 2))[0]; r.Err != nil || len(r.Hits) != 2 {
		t.Fatalf("match: %+v", r)
	}
}
