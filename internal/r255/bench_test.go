package r255

import (
	"testing"
	"time"

	"github.com/cloudflare/circl/group"
)

// The benchmarks time this package and circl's group.Ristretto255 on the
// same inputs in the same iterations, and report
//
//	ns/elem        this package's cost per element (per point for MSM)
//	circl-ns/elem  circl's cost for the same work
//	x-circl        the ratio of the two
//
// ns/op is the sum of both. For MSM, circl has no multi-scalar
// multiplication: its baseline is what circl's zk/dleq does for the RFC 9497
// composites, one Mul and one Add per point.
//
// Run: go test -run '^$' -bench . ./internal/r255

const benchBatch = 64

type benchInputs struct {
	encodings [][]byte
	msgs      [][]byte
	ours      []*Element
	theirs    []group.Element
	scalars   []*Scalar
	cscalars  []group.Scalar
}

func newBenchInputs(b *testing.B, n int) *benchInputs {
	r := newRand(b)
	in := &benchInputs{}
	for range n {
		ce, _ := randomCirclElement(r)
		enc := circlBytes(b, ce)
		e, err := new(Element).SetCanonicalBytes(enc)
		if err != nil {
			b.Fatal(err)
		}
		ck := randomCirclScalar(r)
		msg := make([]byte, 40)
		r.Read(msg)
		in.encodings = append(in.encodings, enc)
		in.msgs = append(in.msgs, msg)
		in.ours = append(in.ours, e)
		in.theirs = append(in.theirs, ce)
		in.scalars = append(in.scalars, scalarFromCircl(b, ck))
		in.cscalars = append(in.cscalars, ck)
	}
	return in
}

// benchPair runs ours(i) and theirs(i) for i in [0, n) once per iteration,
// alternating call by call so that a shared machine's load falls on both
// alike, and reports the costs per element (each call handles perCall
// elements) and their ratio.
func benchPair(b *testing.B, n, perCall int, ours, theirs func(i int)) {
	b.ResetTimer()
	var o, c time.Duration
	for b.Loop() {
		for i := range n {
			start := time.Now()
			ours(i)
			mid := time.Now()
			theirs(i)
			o += mid.Sub(start)
			c += time.Since(mid)
		}
	}
	per := float64(b.N * n * perCall)
	b.ReportMetric(float64(o.Nanoseconds())/per, "ns/elem")
	b.ReportMetric(float64(c.Nanoseconds())/per, "circl-ns/elem")
	b.ReportMetric(float64(o)/float64(c), "x-circl")
}

func BenchmarkDecode(b *testing.B) {
	in := newBenchInputs(b, benchBatch)
	var e Element
	ce := g.NewElement()
	benchPair(b, benchBatch, 1, func(i int) {
		if _, err := e.SetCanonicalBytes(in.encodings[i]); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		if err := ce.UnmarshalBinary(in.encodings[i]); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	in := newBenchInputs(b, benchBatch)
	var out [32]byte
	benchPair(b, benchBatch, 1, func(i int) {
		in.ours[i].bytes(&out)
	}, func(i int) {
		if _, err := in.theirs[i].MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkHashToElement(b *testing.B) {
	in := newBenchInputs(b, benchBatch)
	dst := rfc9497DSTs()[1]
	var e Element
	benchPair(b, benchBatch, 1, func(i int) {
		e.HashToElement(in.msgs[i], dst)
	}, func(i int) {
		g.HashToElement(in.msgs[i], dst)
	})
}

func BenchmarkScalarMult(b *testing.B) {
	in := newBenchInputs(b, benchBatch)
	var e Element
	ce := g.NewElement()
	benchPair(b, benchBatch, 1, func(i int) {
		e.ScalarMult(in.scalars[i], in.ours[i])
	}, func(i int) {
		ce.Mul(in.theirs[i], in.cscalars[i])
	})
}

func BenchmarkScalarBaseMult(b *testing.B) {
	in := newBenchInputs(b, benchBatch)
	var e Element
	ce := g.NewElement()
	benchPair(b, benchBatch, 1, func(i int) {
		e.ScalarBaseMult(in.scalars[i])
	}, func(i int) {
		ce.MulGen(in.cscalars[i])
	})
}

// BenchmarkVarTimeMultiScalarMult1024 reports per point of a 1,024-point
// MSM; the pair alternates whole MSMs.
func BenchmarkVarTimeMultiScalarMult1024(b *testing.B) {
	const n = 1024
	in := newBenchInputs(b, n)
	var e Element
	acc, t := g.NewElement(), g.NewElement()
	benchPair(b, 1, n, func(int) {
		e.VarTimeMultiScalarMult(in.scalars, in.ours)
	}, func(int) {
		acc.Set(g.Identity())
		for i, p := range in.theirs {
			acc.Add(acc, t.Mul(p, in.cscalars[i]))
		}
	})
}
