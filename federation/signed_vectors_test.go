package federation

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
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

	// Added after the first vectors, which they leave unchanged: what the
	// Ed25519 signatures sign, the streamed envelope's filter hash, and
	// the identity key's SPKI and pin (section 5.1).
	SignedFilterSignatureInput   string `json:"signedFilterSignatureInput"`   // "fedmatch-v1 signed filter" || 0x09 envelope before its signature
	StreamedFilterSignatureInput string `json:"streamedFilterSignatureInput"` // "fedmatch-v1 streamed filter" || 0x0A envelope before its signature
	FilterHash                   string `json:"filterHash"`                   // SHA-256(filter)
	IdentitySPKI                 string `json:"identitySPKI"`                 // DER SubjectPublicKeyInfo of identityPublic
	IdentityPin                  string `json:"identityPin"`                  // SHA-256(identitySPKI): the partner's Partner.SPKI
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
	v.SignedFilterSignatureInput = hex.EncodeToString(slices.Concat([]byte(labelSignedFilter), sf.legacy[:len(sf.legacy)-ed25519.SignatureSize]))
	v.StreamedFilterSignatureInput = hex.EncodeToString(slices.Concat([]byte(labelStreamedFilter), sf.stream[:len(sf.stream)-ed25519.SignatureSize]))
	sum := sha256.Sum256(sf.filter)
	v.FilterHash = hex.EncodeToString(sum[:])
	spki, err := x509.MarshalPKIXPublicKey(id.Public())
	if err != nil {
		t.Fatal(err)
	}
	v.IdentitySPKI = hex.EncodeToString(spki)
	pin := IdentitySPKI(id.Public().(ed25519.PublicKey))
	v.IdentityPin = hex.EncodeToString(pin[:])
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
	checkEnvelopeVectorAsSpecified(t, &want)
}

// checkEnvelopeVectorAsSpecified checks the frozen vector against
// PROTOCOL.md 5.1 and 5.2 with no code of the node's: the signature
// inputs are the label and the envelope before the signature, each
// signature verifies over its input, the streamed envelope holds the
// filter's length and hash, and the pin is SHA-256 of the fixed DER
// prefix of an Ed25519 SubjectPublicKeyInfo and the public key.
func checkEnvelopeVectorAsSpecified(t *testing.T, v *filterEnvelopeVector) {
	t.Helper()
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pub, filter := ed25519.PublicKey(unhex(v.IdentityPublic)), unhex(v.Filter)
	if !bytes.Equal(ed25519.NewKeyFromSeed(unhex(v.IdentitySeed)).Public().(ed25519.PublicKey), pub) {
		t.Error("identityPublic is not the seed's key")
	}
	header := func(typ byte) []byte {
		b := append([]byte("FDMT\x01"), typ, byte(len(v.NodeID)))
		b = append(b, v.NodeID...)
		b = binary.BigEndian.AppendUint64(b, v.Epoch)
		return append(b, filter[8:8+match.KeyIDSize]...) // the filter's key id
	}
	signed, streamed := unhex(v.SignedFilter), unhex(v.StreamedFilter)
	sum := sha256.Sum256(filter)
	for _, c := range []struct {
		name, label string
		env, input  []byte // the envelope up to its signature, and what is signed
		sig         []byte
	}{
		{"0x09", "fedmatch-v1 signed filter",
			slices.Concat(header(0x09), binary.BigEndian.AppendUint32(nil, uint32(len(filter))), filter),
			unhex(v.SignedFilterSignatureInput), signed[len(signed)-64:]},
		{"0x0A", "fedmatch-v1 streamed filter",
			slices.Concat(header(0x0a), binary.BigEndian.AppendUint64(nil, uint64(len(filter))), sum[:]),
			unhex(v.StreamedFilterSignatureInput), streamed[len(streamed)-len(filter)-64 : len(streamed)-len(filter)]},
	} {
		if want := slices.Concat([]byte(c.label), c.env); !bytes.Equal(c.input, want) {
			t.Errorf("%s: signature input\n got %x\nwant %x", c.name, c.input, want)
		}
		if !ed25519.Verify(pub, c.input, c.sig) {
			t.Errorf("%s: the signature does not verify over the signature input", c.name)
		}
	}
	if !bytes.Equal(signed, slices.Concat(unhex(v.SignedFilterSignatureInput)[len("fedmatch-v1 signed filter"):], signed[len(signed)-64:])) {
		t.Error("0x09: the envelope is not its signature input without the label, and the signature")
	}
	if hex.EncodeToString(sum[:]) != v.FilterHash || !bytes.HasSuffix(streamed, filter) {
		t.Error("0x0A: filterHash or the filter after the envelope")
	}
	spki := slices.Concat(unhex("302a300506032b6570032100"), pub)
	pin := sha256.Sum256(spki)
	if hex.EncodeToString(spki) != v.IdentitySPKI || hex.EncodeToString(pin[:]) != v.IdentityPin {
		t.Errorf("SPKI %s pin %s, want %x and %x", v.IdentitySPKI, v.IdentityPin, spki, pin)
	}
	// The node's certificate of the identity key has that pin.
	cert, err := SelfSignedCertificate(v.NodeID, ed25519.NewKeyFromSeed(unhex(v.IdentitySeed)), time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if SPKIHash(cert.Leaf) != pin {
		t.Error("the self-signed certificate's SPKI hash is not the identity pin")
	}
}
