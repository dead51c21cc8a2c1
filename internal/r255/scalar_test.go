package r255

import (
	"bytes"
	"math/big"
	"testing"
)

func TestScalarDifferential(t *testing.T) {
	r := newRand(t)
	l, _ := new(big.Int).SetString("7237005577332262213973186563042994240857116359379907606001950938285454250989", 10)
	var inputs [][]byte
	for _, v := range []*big.Int{
		big.NewInt(0), big.NewInt(1), new(big.Int).Sub(l, big.NewInt(1)),
		l, new(big.Int).Add(l, big.NewInt(1)), new(big.Int).Lsh(big.NewInt(1), 252),
		new(big.Int).Lsh(big.NewInt(1), 253), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1)),
	} {
		var buf [32]byte
		inputs = append(inputs, reverse(v.FillBytes(buf[:])))
	}
	for range 5000 {
		b := make([]byte, 32)
		r.Read(b)
		// Mostly around ℓ's top byte so both outcomes occur.
		b[31] &= 0x1f
		inputs = append(inputs, b)
	}
	inputs = append(inputs, nil, make([]byte, 31), make([]byte, 33))
	accepted, refused := 0, 0
	for _, b := range inputs {
		ours, err := new(Scalar).SetCanonicalBytes(b)
		theirs := g.NewScalar()
		cerr := theirs.UnmarshalBinary(b)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("scalar %x: ours %v, circl %v", b, err, cerr)
		}
		if err != nil {
			refused++
			if ours != nil {
				t.Fatal("error with a non-nil scalar")
			}
			continue
		}
		accepted++
		want, _ := theirs.MarshalBinary()
		if !bytes.Equal(ours.Bytes(), want) || !bytes.Equal(ours.Bytes(), b) {
			t.Fatalf("scalar %x re-encodes as %x, circl %x", b, ours.Bytes(), want)
		}
	}
	if accepted < 100 || refused < 100 {
		t.Fatalf("accepted %d, refused %d: the inputs do not exercise both outcomes", accepted, refused)
	}
}

func TestScalarZeroValue(t *testing.T) {
	var s Scalar
	if !bytes.Equal(s.Bytes(), make([]byte, 32)) {
		t.Errorf("zero Scalar encodes as %x", s.Bytes())
	}
}
