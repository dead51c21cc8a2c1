package federation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

// signedDeltaVector is a frozen signed delta (type 0x0E, PROTOCOL.md
// 5.2): the filter of three entries published with room (capacity 8),
// one entry added, and the signed delta from version 3 to 4.
type signedDeltaVector struct {
	IdentitySeed string   `json:"identitySeed"`
	NodeID       string   `json:"nodeID"`
	KeySeed      string   `json:"keySeed"`
	KeyInfo      string   `json:"keyInfo"`
	Entries      []string `json:"entries"`
	Added        string   `json:"added"`
	Epoch        uint64   `json:"epoch"`
	FilterFrom   string   `json:"filterFrom"`
	SignedDelta  string   `json:"signedDelta"`
	FilterTo     string   `json:"filterTo"`
}

func makeSignedDeltaVector(t *testing.T) signedDeltaVector {
	v := signedDeltaVector{
		IdentitySeed: hex.EncodeToString(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize)),
		NodeID:       "cert-a",
		KeySeed:      hex.EncodeToString(bytes.Repeat([]byte{0xa3}, 32)),
		KeyInfo:      hex.EncodeToString([]byte("fedmatch envelope vectors")),
		Entries:      []string{"broker@example.net", "courier@example.org", "ops@example.com"},
		Added:        "agent@example.com",
		Epoch:        7,
	}
	id, key, es := vectorNode(t, v.Entries)
	pub, err := match.Publish(key, slices.Values(es), &match.PublishOptions{Epoch: v.Epoch, Capacity: 8, Workers: 1,
		NotBefore: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	fb, _ := pub.Filter().MarshalBinary()
	v.FilterFrom = hex.EncodeToString(fb)
	if _, err := pub.Add([]match.Entry{{Indicator: indicator.MustNew(indicator.Email, v.Added)}}); err != nil {
		t.Fatal(err)
	}
	d, err := pub.Delta(3)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := signDelta(v.NodeID, id, d)
	if err != nil {
		t.Fatal(err)
	}
	v.SignedDelta = hex.EncodeToString(sd)
	fb, _ = pub.Filter().MarshalBinary()
	v.FilterTo = hex.EncodeToString(fb)
	return v
}

// TestSignedDeltaVectors checks the signed delta against the frozen
// vector (go test -run TestSignedDeltaVectors -update rewrites it), and
// verifies it as a querier does: the signature, the envelope, and the
// filter it makes.
func TestSignedDeltaVectors(t *testing.T) {
	var want signedDeltaVector
	frozenVector(t, "testdata/signed_delta_vectors.json", makeSignedDeltaVector(t), &want)
	id := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))
	p := &Partner{ID: want.NodeID, Identity: id.Public().(ed25519.PublicKey)}
	sd, _ := hex.DecodeString(want.SignedDelta)
	d, err := readSignedDelta(bytes.NewReader(sd), p)
	if err != nil {
		t.Fatal(err)
	}
	var from match.Filter
	fb, _ := hex.DecodeString(want.FilterFrom)
	if err := from.UnmarshalBinary(fb); err != nil {
		t.Fatal(err)
	}
	to, err := from.Apply(d, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tb, _ := to.MarshalBinary(); hex.EncodeToString(tb) != want.FilterTo {
		t.Error("the frozen filter plus the frozen delta is not the frozen newer filter")
	}
	// Tampered, cut, or signed by another node: refused.
	for i := range len(sd) {
		c := bytes.Clone(sd)
		c[i] ^= 0x01
		if _, err := readSignedDelta(bytes.NewReader(c), p); err == nil {
			t.Fatalf("byte %d flipped: accepted", i)
		}
	}
	for n := range len(sd) {
		if _, err := readSignedDelta(bytes.NewReader(sd[:n]), p); err == nil {
			t.Fatalf("cut at %d: accepted", n)
		}
	}
	other := &Partner{ID: "cert-b", Identity: p.Identity}
	if _, err := readSignedDelta(bytes.NewReader(sd), other); err == nil {
		t.Error("a delta of cert-a accepted as cert-b's")
	}
}

func FuzzSignedDelta(f *testing.F) {
	id := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))
	p := &Partner{ID: "cert-a", Identity: id.Public().(ed25519.PublicKey)}
	if b, err := os.ReadFile("testdata/signed_delta_vectors.json"); err == nil {
		var v signedDeltaVector
		if json.Unmarshal(b, &v) == nil {
			sd, _ := hex.DecodeString(v.SignedDelta)
			f.Add(sd)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		readSignedDelta(bytes.NewReader(in), p) // must not panic
	})
}
