package r255

import (
	"bytes"
	"crypto"
	"crypto/sha512"
	"encoding/hex"
	"testing"

	"github.com/cloudflare/circl/expander"
)

func TestUniformBytesVectors(t *testing.T) {
	for _, v := range uniformVectors {
		h := sha512.Sum512([]byte(v.label))
		e, err := new(Element).SetUniformBytes(h[:])
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(e.Bytes()); got != v.out {
			t.Errorf("%q: %s, want %s", v.label, got, v.out)
		}
	}
	if _, err := new(Element).SetUniformBytes(make([]byte, 63)); err == nil {
		t.Error("63 bytes accepted")
	}
}

// rfc9497DST is RFC 9497's HashToGroup DST for ristretto255-SHA512 in each
// mode (Section 3.1: "HashToGroup-" || "OPRFV1-" || mode || "-" || id).
func rfc9497DSTs() [][]byte {
	var out [][]byte
	for mode := byte(0); mode < 3; mode++ {
		out = append(out, append([]byte("HashToGroup-OPRFV1-"), append([]byte{mode}, "-ristretto255-SHA512"...)...))
	}
	return out
}

func TestExpandMessageXMDDifferential(t *testing.T) {
	r := newRand(t)
	dsts := append(rfc9497DSTs(), []byte{}, bytes.Repeat([]byte{'D'}, 255), bytes.Repeat([]byte{'D'}, 256), bytes.Repeat([]byte{'L'}, 1000))
	for i := range 2000 {
		msg := make([]byte, r.Uint64()%600)
		r.Read(msg)
		dst := dsts[i%len(dsts)]
		var got [64]byte
		expandMessageXMD64(&got, msg, dst)
		want := expander.NewExpanderMD(crypto.SHA512, dst).Expand(msg, 64)
		if !bytes.Equal(got[:], want) {
			t.Fatalf("expand(%x, dst %q) = %x, circl %x", msg, dst, got, want)
		}
	}
}

func TestHashToElementDifferential(t *testing.T) {
	r := newRand(t)
	dsts := append(rfc9497DSTs(), bytes.Repeat([]byte{'L'}, 300))
	msgs := [][]byte{nil, {}, {0}, bytes.Repeat([]byte{0xff}, 1000)}
	for range 3000 {
		msg := make([]byte, r.Uint64()%100)
		r.Read(msg)
		msgs = append(msgs, msg)
	}
	for i, msg := range msgs {
		dst := dsts[i%len(dsts)]
		got := new(Element).HashToElement(msg, dst).Bytes()
		want := circlBytes(t, g.HashToElement(msg, dst))
		if !bytes.Equal(got, want) {
			t.Fatalf("HashToElement(%x, %q) = %x, circl %x", msg, dst, got, want)
		}
	}
}

func TestHashToElementAllocs(t *testing.T) {
	msg := []byte("indicator")
	dst := rfc9497DSTs()[1]
	var e Element
	var out [32]byte
	if n := testing.AllocsPerRun(100, func() {
		e.HashToElement(msg, dst)
		e.bytes(&out)
	}); n != 0 {
		t.Errorf("HashToElement + encode: %v allocations, want 0", n)
	}
}
