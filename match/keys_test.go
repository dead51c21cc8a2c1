package match

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/internal/wire"
)

func FuzzPrivateKey(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return
		}
		checkReencode(t, b, k)
		if k.Public() == nil {
			t.Fatal("key without public half")
		}
	})
}

func FuzzPublicKey(f *testing.F) {
	fixture(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		checkReencode(t, b, k)
	})
}

func TestKeys(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		k1, err := GenerateKey(s)
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := GenerateKey(s)
		if k1.Equal(k2) || k1.KeyID() == k2.KeyID() {
			t.Fatal("two generated keys are equal")
		}
		b, _ := k1.MarshalBinary()
		k3, err := ParsePrivateKey(b)
		if err != nil || !k3.Equal(k1) || !k3.Public().Equal(k1.Public()) || k3.Suite() != s {
			t.Fatalf("private key round trip: %v", err)
		}
		pb, _ := k1.Public().MarshalBinary()
		pk, err := ParsePublicKey(pb)
		if err != nil || !pk.Equal(k1.Public()) || pk.KeyID() != k1.KeyID() {
			t.Fatalf("public key round trip: %v", err)
		}
		pk2, err := NewPublicKey(s, k1.Public().Bytes())
		if err != nil || !pk2.Equal(pk) {
			t.Fatalf("NewPublicKey: %v", err)
		}
		if _, err := NewPublicKey(s, append(k1.Public().Bytes(), 0)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("NewPublicKey with a trailing byte: %v", err)
		}
		// A zero scalar and a non-canonical one (the group order's
		// encoding is not reduced) are refused.
		zero := bytes.Clone(b)
		clear(zero[wire0(s):])
		if _, err := ParsePrivateKey(zero); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("zero scalar: %v", err)
		}
		ff := bytes.Clone(b)
		for i := wire0(s); i < len(ff); i++ {
			ff[i] = 0xff
		}
		if _, err := ParsePrivateKey(ff); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("unreduced scalar: %v", err)
		}
		// The identity is not a public key.
		if _, err := NewPublicKey(s, make([]byte, s.params().elemLen)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("identity public key: %v", err)
		}
	}
	if _, err := GenerateKey(Suite(7)); !errors.Is(err, ErrWrongSuite) {
		t.Errorf("invalid suite: %v", err)
	}
	if _, err := DeriveKey(SuiteRistretto255, ModePOPRF, make([]byte, 31), nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("short seed: %v", err)
	}
	// DeriveKey is deterministic and depends on seed, info and mode.
	seed := bytes.Repeat([]byte{9}, 32)
	a, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("a"))
	a2, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("a"))
	b, _ := DeriveKey(SuiteRistretto255, ModePOPRF, seed, []byte("b"))
	c, _ := DeriveKey(SuiteRistretto255, ModeVOPRF, seed, []byte("a"))
	if !a.Equal(a2) || a.Equal(b) || a.Equal(c) {
		t.Error("DeriveKey is not a function of (seed, info, mode)")
	}
	if got := fmt.Sprint(SuiteRistretto255, SuiteP256, ModePOPRF, ModeVOPRF, ModeOPRF); got != "ristretto255-SHA512 P256-SHA256 POPRF VOPRF OPRF" {
		t.Errorf("names: %s", got)
	}
}

// wire0 is the offset of the scalar in a private key encoding: the header
// and the suite code.
func wire0(Suite) int { return wire.HeaderLen + 1 }

// TestSecretsNotPrinted formats keys and publishers with every verb and
// checks that no encoding of the scalar appears.
func TestSecretsNotPrinted(t *testing.T) {
	for _, s := range []Suite{SuiteRistretto255, SuiteP256} {
		key := testKey(t, s, 6)
		raw, err := key.k.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		p := mustPublish(t, key, nil, nil)
		secrets := []string{fmt.Sprintf("%x", raw), fmt.Sprintf("%X", raw), string(raw), fmt.Sprint(raw)}
		// circl's own formatting of the scalar, which is what leaks when a
		// wrapper prints its fields.
		secrets = append(secrets, fmt.Sprint(key.k), strings.TrimPrefix(fmt.Sprint(key.k), "0x"))
		for _, v := range []any{key, *key, p, *p} {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
				out := fmt.Sprintf(verb, v)
				for _, sec := range secrets {
					if strings.Contains(strings.ToLower(out), strings.ToLower(sec)) {
						t.Fatalf("%s of %T prints the secret: %s", verb, v, out)
					}
				}
				if !strings.Contains(out, key.KeyID().String()) {
					t.Errorf("%s of %T = %q, want it to name the key id", verb, v, out)
				}
			}
		}
	}
}
