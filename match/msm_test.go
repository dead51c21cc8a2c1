package match

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/internal/r255"
)

var msmGroups = []struct {
	name string
	g    group.Group
}{
	{"ristretto255", group.Ristretto255},
	{"r255", r255.Group},
	{"P256", group.P256},
}

// naiveMSM is Σ sᵢ·Pᵢ by one circl Element.Mul a point.
func naiveMSM(g group.Group, scalars []group.Scalar, points []group.Element) group.Element {
	acc := g.Identity()
	for i := range points {
		acc.Add(acc, g.NewElement().Mul(points[i], scalars[i]))
	}
	return acc
}

// msmInput returns n random scalars and points salted with the edge cases
// msm must get right: zero scalars, scalars whose signed recoding carries
// through every window (-1, -2, 2^k and 2^k-1), identity points, and a
// point repeated (also with opposite scalars, so terms cancel).
func msmInput(g group.Group, n int) ([]group.Scalar, []group.Element) {
	scalars := make([]group.Scalar, n)
	points := make([]group.Element, n)
	two := g.NewScalar().SetUint64(2)
	pow := g.NewScalar().SetUint64(1)
	for i := range n {
		scalars[i] = g.RandomScalar(rand.Reader)
		points[i] = g.RandomElement(rand.Reader)
		pow.Mul(pow, two)
		switch i % 11 {
		case 1:
			scalars[i] = g.NewScalar() // zero
		case 2:
			points[i] = g.Identity()
		case 3:
			points[i] = points[i-1].Copy() // repeated, scalar random
		case 4:
			scalars[i] = g.NewScalar().SetUint64(1)
			scalars[i].Neg(scalars[i]) // -1: all ones in every window
		case 5:
			scalars[i] = pow.Copy()
		case 6:
			scalars[i] = g.NewScalar().Sub(pow, g.NewScalar().SetUint64(1))
		case 7:
			points[i] = points[i-1] // same point, opposite scalar
			scalars[i] = g.NewScalar().Neg(scalars[i-1])
		case 8:
			scalars[i] = g.NewScalar().SetUint64(2)
			scalars[i].Neg(scalars[i])
		}
	}
	return scalars, points
}

func TestMSM(t *testing.T) {
	for _, tc := range msmGroups {
		for _, n := range []int{0, 1, 2, 3, 7, 12, 64, 200, 1000} {
			t.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(t *testing.T) {
				if testing.Short() && n > 64 {
					t.Skip("large batch")
				}
				scalars, points := msmInput(tc.g, n)
				want := naiveMSM(tc.g, scalars, points)
				if got := msm(tc.g, scalars, points); !got.IsEqual(want) {
					t.Fatalf("msm differs from the naive sum")
				}
			})
		}
	}
}

// TestMSMWindows runs both methods at every window msmPlan may choose, so
// that a method or window the plan does not pick at these sizes is
// still checked. P-384 is there for its 384-bit scalars: 385 bits split
// exactly into 5- and 7-bit windows, the only case where the top signed
// digit reaches 2^(w-1) (it once was recoded with a lost carry).
func TestMSMWindows(t *testing.T) {
	for _, tc := range append(msmGroups, struct {
		name string
		g    group.Group
	}{"P384", group.P384}) {
		bits := 8 * int(tc.g.Params().ScalarLength)
		// Wide windows cost 2^c additions each, slow on circl's
		// big.Int NIST curves: ristretto255 checks every width.
		maxC := 11
		if tc.g == group.Ristretto255 {
			maxC = 15
		}
		for _, n := range []int{1, 2, 11, 40} {
			scalars, points := msmInput(tc.g, n)
			want := naiveMSM(tc.g, scalars, points)
			for w := 2; w <= 8; w++ {
				got := msmStraus(tc.g, recodeScalars(tc.g, scalars, w, bits), points, w)
				if !got.IsEqual(want) {
					t.Errorf("%s: Straus n=%d w=%d differs from the naive sum", tc.name, n, w)
				}
			}
			for c := 2; c <= maxC; c++ {
				got := msmPippenger(tc.g, recodeScalars(tc.g, scalars, c, bits), points, c)
				if !got.IsEqual(want) {
					t.Errorf("%s: Pippenger n=%d c=%d differs from the naive sum", tc.name, n, c)
				}
			}
		}
	}
}

// TestMSMAllZero: only zero scalars, or only identity points, give the
// identity (no window ever sets the accumulator).
func TestMSMAllZero(t *testing.T) {
	for _, tc := range msmGroups {
		for _, n := range []int{1, 5, 300} {
			scalars, points := msmInput(tc.g, n)
			zeros := make([]group.Scalar, n)
			ids := make([]group.Element, n)
			for i := range zeros {
				zeros[i], ids[i] = tc.g.NewScalar(), tc.g.Identity()
			}
			if !msm(tc.g, zeros, points).IsIdentity() || !msm(tc.g, scalars, ids).IsIdentity() {
				t.Errorf("%s n=%d: not the identity", tc.name, n)
			}
		}
	}
}

func TestMSMMismatchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	g := group.Ristretto255
	msm(g, []group.Scalar{g.NewScalar()}, nil)
}

// BenchmarkMSM reports the cost per point and its ratio to one circl
// Element.Mul (variable base) measured in the same run.
func BenchmarkMSM(b *testing.B) {
	for _, tc := range msmGroups {
		for _, n := range []int{1, 2, 3, 7, 16, 32, 64, 128, 256, 1000, 4096} {
			b.Run(fmt.Sprintf("%s/n=%d", tc.name, n), func(b *testing.B) {

				scalars := make([]group.Scalar, n)
				points := make([]group.Element, n)
				for i := range n {
					scalars[i] = tc.g.RandomScalar(rand.Reader)
					points[i] = tc.g.RandomElement(rand.Reader)
				}
				const muls = 8
				q := tc.g.NewElement()
				var ours, raw time.Duration
				for b.Loop() {
					start := time.Now()
					msm(tc.g, scalars, points)
					ours += time.Since(start)
					b.StopTimer()
					start = time.Now()
					for i := range muls {
						q.Mul(points[i%n], scalars[i%n])
					}
					raw += time.Since(start)
					b.StartTimer()
				}
				b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N*n), "ns/point")
				b.ReportMetric(float64(ours)/float64(n)/(float64(raw)/muls), "x-mul")
			})
		}
	}
}
