package r255

import (
	"bytes"
	"errors"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cloudflare/circl/group"
	"golang.org/x/crypto/cryptobyte"
)

// The tests below compare Group, method by method, with circl's
// group.Ristretto255 (g): the same inputs, encoded, must give the same
// encodings out, and the same refusals.

func ourElem(t testing.TB, c group.Element) group.Element {
	t.Helper()
	e := Group.NewElement()
	if err := e.UnmarshalBinary(circlBytes(t, c)); err != nil {
		t.Fatal(err)
	}
	return e
}

func ourScalar(t testing.TB, c group.Scalar) group.Scalar {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	s := Group.NewScalar()
	if err := s.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return s
}

func sameElem(t testing.TB, what string, ours, theirs group.Element) {
	t.Helper()
	a, err := ours.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ours.MarshalBinaryCompress()
	if err != nil {
		t.Fatal(err)
	}
	if b := circlBytes(t, theirs); !bytes.Equal(a, b) || !bytes.Equal(c, b) {
		t.Fatalf("%s: ours %x (compressed %x), circl %x", what, a, c, b)
	}
	if ours.IsIdentity() != theirs.IsIdentity() {
		t.Fatalf("%s: IsIdentity %v, circl %v", what, ours.IsIdentity(), theirs.IsIdentity())
	}
}

func sameScalar(t testing.TB, what string, ours, theirs group.Scalar) {
	t.Helper()
	a, _ := ours.MarshalBinary()
	b, _ := theirs.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatalf("%s: ours %x, circl %x", what, a, b)
	}
	if ours.IsZero() != theirs.IsZero() {
		t.Fatalf("%s: IsZero %v, circl %v", what, ours.IsZero(), theirs.IsZero())
	}
}

// testElements returns circl elements: the identity, the generator, random
// multiples of it and hashed elements.
func testElements(r *rand.ChaCha8) []group.Element {
	out := []group.Element{g.Identity(), g.Generator()}
	for range 6 {
		e, _ := randomCirclElement(r)
		out = append(out, e)
	}
	var msg [16]byte
	r.Read(msg[:])
	return append(out, g.HashToElement(msg[:], []byte("group test")))
}

func testScalars(r *rand.ChaCha8) []group.Scalar {
	out := edgeScalars()
	for range 6 {
		out = append(out, randomCirclScalar(r))
	}
	return out
}

func TestGroupConstants(t *testing.T) {
	sameElem(t, "Identity", Group.Identity(), g.Identity())
	sameElem(t, "NewElement", Group.NewElement(), g.NewElement())
	sameElem(t, "Generator", Group.Generator(), g.Generator())
	sameScalar(t, "NewScalar", Group.NewScalar(), g.NewScalar())
	if *Group.Params() != *g.Params() {
		t.Errorf("Params %+v, circl %+v", *Group.Params(), *g.Params())
	}
}

func TestGroupElementDifferential(t *testing.T) {
	r := newRand(t)
	elems, scalars := testElements(r), testScalars(r)
	for _, x := range elems {
		ox := ourElem(t, x)
		for _, y := range elems {
			oy := ourElem(t, y)
			sameElem(t, "Add", Group.NewElement().Add(ox, oy), g.NewElement().Add(x, y))
			if ox.IsEqual(oy) != x.IsEqual(y) {
				t.Fatalf("IsEqual: ours %v, circl %v", ox.IsEqual(oy), x.IsEqual(y))
			}
			for b := range 2 {
				sameElem(t, "CSelect", Group.NewElement().CSelect(b, ox, oy), g.NewElement().CSelect(b, x, y))
				sameElem(t, "CMov", ox.Copy().CMov(b, oy), x.Copy().CMov(b, y))
			}
		}
		sameElem(t, "Dbl", Group.NewElement().Dbl(ox), g.NewElement().Dbl(x))
		sameElem(t, "Neg", Group.NewElement().Neg(ox), g.NewElement().Neg(x))
		sameElem(t, "Set", Group.NewElement().Set(ox), x)
		for _, k := range scalars {
			ok := ourScalar(t, k)
			sameElem(t, "Mul", Group.NewElement().Mul(ox, ok), g.NewElement().Mul(x, k))
			if x.IsIdentity() {
				sameElem(t, "MulGen", Group.NewElement().MulGen(ok), g.NewElement().MulGen(k))
			}
		}
	}
	// Methods write the receiver and leave their arguments; Copy is deep.
	x := ourElem(t, elems[2])
	before := circlBytes(t, x)
	c := x.Copy()
	c.Add(c, Group.Generator())
	if !bytes.Equal(circlBytes(t, x), before) {
		t.Fatal("writing a Copy wrote the original")
	}
	if x.IsEqual(c) {
		t.Fatal("x + G equals x")
	}
}

func TestGroupIsEqual(t *testing.T) {
	r := newRand(t)
	elems := testElements(r)
	for i, x := range elems {
		for j, y := range elems {
			ours := ourElem(t, x).IsEqual(ourElem(t, y))
			if ours != x.IsEqual(y) || ours != (i == j) {
				t.Fatalf("IsEqual(%d, %d): ours %v, circl %v", i, j, ours, x.IsEqual(y))
			}
		}
	}
	// Equal elements with different representatives are equal: the
	// torsion representatives all encode the identity.
	for _, tr := range torsionRepresentatives(t) {
		e := &groupElement{e: *tr}
		if !e.IsIdentity() || !e.IsEqual(Group.Identity()) {
			t.Fatalf("torsion representative %x is not the identity", e.e.Bytes())
		}
	}
}

func TestGroupScalarDifferential(t *testing.T) {
	r := newRand(t)
	scalars := testScalars(r)
	for i, x := range scalars {
		ox := ourScalar(t, x)
		for j, y := range scalars {
			oy := ourScalar(t, y)
			sameScalar(t, "Add", Group.NewScalar().Add(ox, oy), g.NewScalar().Add(x, y))
			sameScalar(t, "Sub", Group.NewScalar().Sub(ox, oy), g.NewScalar().Sub(x, y))
			sameScalar(t, "Mul", Group.NewScalar().Mul(ox, oy), g.NewScalar().Mul(x, y))
			if ox.IsEqual(oy) != x.IsEqual(y) || ox.IsEqual(oy) != (i == j) {
				t.Fatalf("IsEqual(%d, %d): ours %v, circl %v", i, j, ox.IsEqual(oy), x.IsEqual(y))
			}
			for b := range 2 {
				sameScalar(t, "CSelect", Group.NewScalar().CSelect(b, ox, oy), g.NewScalar().CSelect(b, x, y))
				sameScalar(t, "CMov", ox.Copy().CMov(b, oy), x.Copy().CMov(b, y))
			}
		}
		sameScalar(t, "Neg", Group.NewScalar().Neg(ox), g.NewScalar().Neg(x))
		sameScalar(t, "Inv", Group.NewScalar().Inv(ox), g.NewScalar().Inv(x))
		sameScalar(t, "Set", Group.NewScalar().Set(ox), x)
	}
	for _, v := range []uint64{0, 1, 2, 1 << 63, ^uint64(0)} {
		sameScalar(t, "SetUint64", Group.NewScalar().SetUint64(v), g.NewScalar().SetUint64(v))
	}
	l := new(big.Int).Set(order)
	two256 := new(big.Int).Lsh(big.NewInt(1), 256)
	for _, v := range []*big.Int{
		big.NewInt(0), big.NewInt(7), new(big.Int).Sub(l, big.NewInt(1)), l,
		new(big.Int).Add(l, big.NewInt(5)), two256, new(big.Int).Sub(two256, big.NewInt(1)),
		new(big.Int).Lsh(l, 300),
	} {
		sameScalar(t, "SetBigInt "+v.String(), Group.NewScalar().SetBigInt(v), g.NewScalar().SetBigInt(v))
	}
	// A negative integer is reduced to its residue in [0, ℓ).
	minus3 := Group.NewScalar().SetBigInt(big.NewInt(-3))
	want := Group.NewScalar().Neg(Group.NewScalar().SetUint64(3))
	if !minus3.IsEqual(want) {
		t.Fatal("SetBigInt(-3) is not -3")
	}
	// x · x^-1 = 1 for x ≠ 0, and 0^-1 = 0.
	one := Group.NewScalar().SetUint64(1)
	for _, x := range scalars {
		ox := ourScalar(t, x)
		p := Group.NewScalar().Mul(ox, Group.NewScalar().Inv(ox))
		if ox.IsZero() != p.IsZero() || !ox.IsZero() && !p.IsEqual(one) {
			t.Fatalf("%x · its inverse = %x", x, p)
		}
	}
}

func TestGroupScalarEncodings(t *testing.T) {
	l := new(big.Int).Set(order)
	le := func(v *big.Int) []byte {
		b := v.FillBytes(make([]byte, 32))
		return reverse(b)
	}
	for _, b := range [][]byte{
		nil, make([]byte, 31), make([]byte, 33), make([]byte, 32),
		le(big.NewInt(1)), le(new(big.Int).Sub(l, big.NewInt(1))), le(l),
		le(new(big.Int).Add(l, big.NewInt(1))), bytes.Repeat([]byte{0xff}, 32),
	} {
		ours, theirs := Group.NewScalar(), g.NewScalar()
		errO, errT := ours.UnmarshalBinary(b), theirs.UnmarshalBinary(b)
		if (errO == nil) != (errT == nil) {
			t.Fatalf("UnmarshalBinary(%x): ours %v, circl %v", b, errO, errT)
		}
		if errO == nil {
			sameScalar(t, "UnmarshalBinary", ours, theirs)
		}
		// The cryptobyte forms, with a trailing byte left in the string.
		in := append(append([]byte{}, b...), 0xaa)
		so, st := cryptobyte.String(in), cryptobyte.String(in)
		okO, okT := Group.NewScalar().(interface {
			Unmarshal(*cryptobyte.String) bool
		}).Unmarshal(&so), g.NewScalar().(interface {
			Unmarshal(*cryptobyte.String) bool
		}).Unmarshal(&st)
		if okO != okT || len(so) != len(st) {
			t.Fatalf("Unmarshal(%x): ours %v (%d left), circl %v (%d left)", in, okO, len(so), okT, len(st))
		}
	}
	r := newRand(t)
	for _, x := range testScalars(r) {
		var bo, bt cryptobyte.Builder
		bo.AddValue(ourScalar(t, x).(cryptobyte.MarshalingValue))
		bt.AddValue(x.(cryptobyte.MarshalingValue))
		if !bytes.Equal(bo.BytesOrPanic(), bt.BytesOrPanic()) {
			t.Fatalf("Marshal: ours %x, circl %x", bo.BytesOrPanic(), bt.BytesOrPanic())
		}
	}
}

func TestGroupElementDecoding(t *testing.T) {
	var cases [][]byte
	for _, h := range invalidEncodings {
		cases = append(cases, mustHex(t, h))
	}
	r := newRand(t)
	for range 200 {
		b := make([]byte, 32)
		r.Read(b)
		cases = append(cases, b)
	}
	for _, e := range testElements(r) {
		b := circlBytes(t, e)
		cases = append(cases, b, b[:31], append(b, 0))
	}
	cases = append(cases, nil, make([]byte, 32))
	accepted := 0
	for _, b := range cases {
		ours, theirs := Group.NewElement(), g.NewElement()
		errO, errT := ours.UnmarshalBinary(b), theirs.UnmarshalBinary(b)
		if (errO == nil) != (errT == nil) {
			t.Fatalf("UnmarshalBinary(%x): ours %v, circl %v", b, errO, errT)
		}
		if errO == nil {
			accepted++
			sameElem(t, "UnmarshalBinary", ours, theirs)
		} else if !ours.IsIdentity() {
			t.Fatalf("refused %x but wrote the element", b)
		}
	}
	if accepted < 10 || accepted == len(cases) {
		t.Fatalf("%d of %d encodings accepted: the cases test nothing", accepted, len(cases))
	}
}

func TestGroupHashes(t *testing.T) {
	dsts := append(rfc9497DSTs(), []byte("HashToScalar-OPRFV1-\x01-ristretto255-SHA512"), bytes.Repeat([]byte("d"), 300))
	for _, dst := range dsts {
		for _, msg := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte{0xfe}, 1000)} {
			sameElem(t, "HashToElement", Group.HashToElement(msg, dst), g.HashToElement(msg, dst))
			sameElem(t, "HashToElementNonUniform", Group.HashToElementNonUniform(msg, dst), g.HashToElementNonUniform(msg, dst))
			sameScalar(t, "HashToScalar", Group.HashToScalar(msg, dst), g.HashToScalar(msg, dst))
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestGroupRandom(t *testing.T) {
	// The reader decides: the same bytes give the same values.
	a := Group.RandomScalar(rand.NewChaCha8([32]byte{1}))
	b := Group.RandomScalar(rand.NewChaCha8([32]byte{1}))
	c := Group.RandomScalar(rand.NewChaCha8([32]byte{2}))
	if !a.IsEqual(b) || a.IsEqual(c) {
		t.Fatal("RandomScalar does not follow its reader")
	}
	if Group.RandomNonZeroScalar(rand.NewChaCha8([32]byte{3})).IsZero() {
		t.Fatal("RandomNonZeroScalar gave zero")
	}
	e1 := Group.RandomElement(rand.NewChaCha8([32]byte{1}))
	e2 := Group.RandomElement(rand.NewChaCha8([32]byte{2}))
	if e1.IsEqual(e2) || e1.IsIdentity() {
		t.Fatal("RandomElement does not follow its reader")
	}
	for name, f := range map[string]func(){
		"RandomScalar":  func() { Group.RandomScalar(failingReader{}) },
		"RandomElement": func() { Group.RandomElement(failingReader{}) },
	} {
		if msg := panicOf(f); !strings.Contains(msg, "no entropy") {
			t.Errorf("%s with a failing reader: panic %q", name, msg)
		}
	}
}

func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			switch v := r.(type) {
			case string:
				msg = v
			case error:
				msg = v.Error()
			default:
				msg = "panic"
			}
		}
	}()
	f()
	return ""
}

func TestGroupMixing(t *testing.T) {
	for name, f := range map[string]func(){
		"Add":     func() { Group.NewElement().Add(Group.Generator(), g.Generator()) },
		"Mul":     func() { Group.NewElement().Mul(Group.Generator(), g.NewScalar()) },
		"Scalar":  func() { Group.NewScalar().Add(Group.NewScalar(), g.NewScalar()) },
		"CMov 2":  func() { Group.NewElement().CMov(2, Group.Generator()) },
		"CSel -1": func() { Group.NewScalar().CSelect(-1, Group.NewScalar(), Group.NewScalar()) },
	} {
		if panicOf(f) == "" {
			t.Errorf("%s: no panic", name)
		}
	}
	if got := panicOf(func() { Elem(g.Generator()) }); !strings.Contains(got, "not an r255.Group element") {
		t.Errorf("Elem of a circl element: panic %q", got)
	}
}

func TestGroupElemScal(t *testing.T) {
	// Elem and Scal reach the values behind the interface.
	k := Group.RandomScalar(rand.NewChaCha8([32]byte{9}))
	e := Group.NewElement().MulGen(k)
	var direct Element
	direct.ScalarBaseMult(Scal(k))
	if Elem(e).Equal(&direct) != 1 {
		t.Fatal("Elem/Scal do not reach the values behind the interface")
	}
}
