package federation

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/indicator"
)

var updateVectors = flag.Bool("update", false, "rewrite the frozen vectors in testdata")

// filterEnvelopeVector is a filter in both envelopes, for implementers of
// PROTOCOL.md section 5.2 in other languages. Everything is derived from
// fixed seeds; Ed25519 signatures are deterministic.
type filterEnvelopeVector struct {
	IdentitySeed   string   `json:"identitySeed"` // Ed25519 seed (RFC 8032) of the node's identity key
	IdentityPublic string   `json:"identityPublic"`
	NodeID         string   `json:"nodeID"`
	KeySeed        string   `json:"keySeed"` // match.DeriveKey seed, with KeyInfo
	KeyInfo        string   `json:"keyInfo"`
	Entries        []string `json:"entries"` // email indicators
	Epoch          uint64   `json:"epoch"`
	NotBefore      int64    `json:"notBefore"`
	NotAfter       int64    `json:"notAfter"`
	Filter         string   `json:"filter"`         // section 2.1
	SignedFilter   string   `json:"signedFilter"`   // type 0x09
	StreamedFilter string   `json:"streamedFilter"` // type 0x0A: envelope, then the filter
}

func makeFilterEnvelopeVector(t *testing.T) filterEnvelopeVector {
	v := filterEnvelopeVector{
		IdentitySeed: hex.EncodeToString(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize)),
		NodeID:       "cert-a",
		KeySeed:      hex.EncodeToString(bytes.Repeat([]byte{0xa3}, 32)),
		KeyInfo:      hex.EncodeToString([]byte("fedmatch envelope vectors")),
		Entries:      []string{"broker@example.net", "courier@example.org", "ops@example.com"},
		Epoch:        7,
		NotBefore:    time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).Unix(),
		NotAfter:     time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC).Unix(),
	}
	id, key, es := vectorNode(t, v.Entries)
	v.IdentityPublic = hex.EncodeToString(id.Public().(ed25519.PublicKey))
	pub, err := match.Publish(key, slices.Values(es), &match.PublishOptions{Epoch: v.Epoch,
		NotBefore: time.Unix(v.NotBefore, 0), NotAfter: time.Unix(v.NotAfter, 0), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	sf, err := newSignedFilter(v.NodeID, id, pub.Filter())
	if err != nil {
		t.Fatal(err)
	}
	v.Filter = hex.EncodeToString(sf.filter)
	v.SignedFilter = hex.EncodeToString(sf.legacy)
	v.StreamedFilter = hex.EncodeToString(slices.Concat(sf.stream, sf.filter))
	return v
}

// frozenVector reads the frozen vector at path into want (rewriting the
// file from got first with -update) and fails unless got equals it.
func frozenVector[V any](t *testing.T, path string, got V, want *V) {
	t.Helper()
	if *updateVectors {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, *want) {
		t.Fatalf("%s differs from the regenerated vector (go test -run Vectors ./federation -args -update):\n got %+v\nwant %+v", path, got, *want)
	}
}

// vectorNode returns the vectors' node identity (seed 0x5a...), its
// DeriveKey key (seed 0xa3..., info "fedmatch envelope vectors") and
// entries of the e-mail addresses given.
func vectorNode(t *testing.T, emails []string) (ed25519.PrivateKey, *match.PrivateKey, []match.Entry) {
	id := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{0x5a}, ed25519.SeedSize))
	key, err := match.DeriveKey(match.SuiteRistretto255, match.ModePOPRF, bytes.Repeat([]byte{0xa3}, 32), []byte("fedmatch envelope vectors"))
	if err != nil {
		t.Fatal(err)
	}
	var es []match.Entry
	for _, e := range emails {
		es = append(es, match.Entry{Indicator: indicator.MustNew(indicator.Email, e)})
	}
	return id, key, es
}

// TestFilterEnvelopeVectors checks both envelopes against the frozen
// vectors (go test -run TestFilterEnvelopeVectors -update rewrites them)
// and verifies them as a querier does.
func TestFilterEnvelopeVectors(t *testing.T) {
	got := makeFilterEnvelopeVector(t)
	var want filterEnvelopeVector
	frozenVector(t, "testdata/signed_filter_vectors.json", got, &want)
	pk, _ := hex.DecodeString(want.IdentityPublic)
	p := &Partner{ID: want.NodeID, Identity: pk}
	at := time.Unix(want.NotBefore, 0).Add(time.Hour)
	for _, env := range []string{want.SignedFilter, want.StreamedFilter} {
		data, _ := hex.DecodeString(env)
		f, err := verifyFilter(data, p, at)
		if err != nil {
			t.Fatal(err)
		}
		if fb, _ := f.MarshalBinary(); hex.EncodeToString(fb) != want.Filter {
			t.Errorf("envelope %.20s...: another filter", env)
		}
	}
}
