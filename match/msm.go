package match

import (
	"github.com/cloudflare/circl/group"

	"github.com/fedmatch/fedmatch/internal/r255"
)

// msm returns Σ scalars[i]·points[i], the identity for empty input. It
// panics if the two slices differ in length (programmer misuse).
//
// msm runs in variable time: its running time and memory access pattern
// depend on the scalars and the points. Use it only on public values, such
// as the RFC 9497 composites (Section 2.2.1), whose scalars dᵢ are hashes
// of public elements; secret keys and blinds stay in the group's
// constant-time Element.Mul.
//
// Both methods recode each scalar into signed digits in [-2^(w-1), 2^(w-1)),
// so that a window needs only 2^(w-1) multiples or buckets and a negative
// digit costs a negation. Small batches use Straus's interleaved windows
// (a table of multiples per point, one shared chain of doublings); large
// ones use Pippenger's bucket method, which costs about (b/c)·(n + 2^c)
// additions for b-bit scalars and window c, that is under b/c additions a
// point once n dwarfs 2^c. The choice between them and the window follow
// from these operation counts (see msmPlan), calibrated by BenchmarkMSM.
// Both serve ristretto255 only, and on internal/r255 only batches above
// msmFilippoMax points; on the NIST curves circl's Add is too
// costly next to its Mul for either to pay, and msm sums one Mul a point.
func msm(g group.Group, scalars []group.Scalar, points []group.Element) group.Element {
	if len(scalars) != len(points) {
		panic("match: msm of mismatched scalars and points")
	}
	n := len(points)
	if n == 0 {
		return g.Identity()
	}
	if n == 1 {
		// Straus on one point is a plain double-and-add with circl's
		// Dbl (an Add) and measures 1.2-1.4 Muls.
		return g.NewElement().Mul(points[0], scalars[0])
	}
	if g == r255.Group && n <= msmFilippoMax {
		ss := make([]*r255.Scalar, n)
		ps := make([]*r255.Element, n)
		for i := range n {
			ss[i], ps[i] = r255.Scal(scalars[i]), r255.Elem(points[i])
		}
		out := g.NewElement()
		r255.Elem(out).VarTimeMultiScalarMult(ss, ps)
		return out
	}
	if g != group.Ristretto255 && g != r255.Group {
		// circl's NIST curves keep affine big.Int coordinates, so each
		// Add goes through crypto/elliptic and pays a field inversion,
		// while Mul runs in nistec's projective coordinates: Pippenger
		// over Add costs about 3.7 Muls a point at n = 1000 on P-256
		// (BenchmarkMSM), one Mul and one Add a point is cheaper.
		acc, t := g.Identity(), g.NewElement()
		for i, p := range points {
			acc.Add(acc, t.Mul(p, scalars[i]))
		}
		return acc
	}
	bits := 8 * int(g.Params().ScalarLength)
	straus, w := msmPlan(n, bits)
	digits := recodeScalars(g, scalars, w, bits)
	if straus {
		return msmStraus(g, digits, points, w)
	}
	return msmPippenger(g, digits, points, w)
}

// msmFilippoMax is the largest batch for which msm on r255.Group calls
// filippo.io/edwards25519's VarTimeMultiScalarMult (Straus with a
// width-5 NAF table a point, no allocation a term) rather than the
// generic methods below: BenchmarkMSM measured it at 0.42-0.24 x-mul
// from 3 to 64 points, where the generic code over r255.Group costs
// 0.68-0.29, while from 256 points on its tables outgrow the cache
// (0.25 at 1,000 points and 0.29 at 4,096, against Pippenger's 0.17
// and 0.14).
const msmFilippoMax = 128

// msmPlan chooses the method and window for n points and b-bit scalars by
// counting group additions (doublings cost about the same and are shared
// by all points, so they are left out):
//
//   - Straus with window w: 2^(w-1)-1 additions a point for its table of
//     multiples, then one addition a point per window, ⌈(b+1)/w⌉ windows;
//   - Pippenger with window c: per window, one addition a point into its
//     bucket and two per bucket (2^(c-1) of them) to sum the buckets.
//
// The extra bit is the carry out of the top window of a signed recoding.
func msmPlan(n, bits int) (straus bool, window int) {
	// Straus measures about 1.5 times its count (BenchmarkMSM and a
	// sweep of both methods over n and w on ristretto255: its table
	// costs an allocation an entry, and each negative digit a
	// negation), which moves the crossover from n ≈ 100 down to ≈ 35.
	best, bestCost := 0, -1
	for w := 2; w <= 8; w++ {
		c := 3 * (n*(1<<(w-1)-1) + n*windows(bits, w)) / 2
		if bestCost < 0 || c < bestCost {
			best, bestCost = w, c
		}
	}
	straus, window = true, best
	for c := 2; c <= 15; c++ { // digits fit in int16
		cost := windows(bits, c) * (n + 1<<c)
		if cost < bestCost {
			straus, window, bestCost = false, c, cost
		}
	}
	return straus, window
}

// windows is the number of w-bit signed digits of a b-bit scalar.
func windows(bits, w int) int { return (bits + 1 + w - 1) / w }

// recodeScalars returns, for each scalar, its windows(bits, w) signed
// digits in [-2^(w-1), 2^(w-1)) (the top one in [0, 2^(w-1)]), least
// significant first, such that
// s = Σ digit[j]·2^(w·j). Digits of scalar i start at i·windows(bits, w).
func recodeScalars(g group.Group, scalars []group.Scalar, w, bits int) []int16 {
	nw := windows(bits, w)
	digits := make([]int16, len(scalars)*nw)
	// circl encodes ristretto255 scalars little-endian and the NIST
	// curves' big-endian; the encoding of 1 tells which.
	one, _ := g.NewScalar().SetUint64(1).MarshalBinary()
	bigEndian := one[0] != 1
	le := make([]byte, bits/8+8) // room to read 64 bits past any digit
	half, full := int64(1)<<(w-1), int64(1)<<w
	mask := uint64(full - 1)
	for i, s := range scalars {
		b, err := s.MarshalBinary()
		if err != nil || len(b) != bits/8 {
			panic("match: msm scalar of the wrong group")
		}
		clear(le)
		if bigEndian {
			for k := range b {
				le[len(b)-1-k] = b[k]
			}
		} else {
			copy(le, b)
		}
		d := digits[i*nw : (i+1)*nw]
		carry := int64(0)
		for j := range d {
			pos := j * w
			var word uint64
			for k := 7; k >= 0; k-- {
				word = word<<8 | uint64(le[pos/8+k])
			}
			v := int64((word>>(pos%8))&mask) + carry
			carry = 0
			// The top digit keeps a value of half: there is no
			// window above it to carry into, and tables and buckets
			// hold magnitudes 1 … 2^(w-1).
			if v >= half && j < len(d)-1 {
				v -= full
				carry = 1
			}
			d[j] = int16(v)
		}
	}
	return digits
}

// msmStraus is Straus's method: a table of P, 2P, …, 2^(w-1)P per point,
// then one pass over the windows from the top, doubling the accumulator w
// times and adding the looked-up multiple of every point.
func msmStraus(g group.Group, digits []int16, points []group.Element, w int) group.Element {
	n, nw := len(points), len(digits)/len(points)
	size := 1 << (w - 1)
	table := make([]group.Element, n*size)
	for i, p := range points {
		t := table[i*size : (i+1)*size]
		t[0] = p
		if size > 1 {
			t[1] = g.NewElement().Dbl(p)
		}
		for k := 2; k < size; k++ {
			t[k] = g.NewElement().Add(t[k-1], p)
		}
	}
	acc, neg := g.NewElement(), g.NewElement()
	empty := true // acc is the identity: set rather than add
	for j := nw - 1; j >= 0; j-- {
		if !empty {
			for range w {
				acc.Dbl(acc)
			}
		}
		for i := range n {
			d := digits[i*nw+j]
			if d == 0 {
				continue
			}
			q := table[i*size+int(abs16(d))-1]
			if d < 0 {
				q = neg.Neg(q)
			}
			if empty {
				acc.Set(q)
				empty = false
			} else {
				acc.Add(acc, q)
			}
		}
	}
	return acc
}

// msmPippenger is Pippenger's bucket method: for each window from the top,
// every point goes into the bucket of its digit's magnitude (negated for a
// negative digit), and Σ k·bucket[k] is summed with two running sums.
func msmPippenger(g group.Group, digits []int16, points []group.Element, c int) group.Element {
	n, nw := len(points), len(digits)/len(points)
	nb := 1 << (c - 1)
	negs := make([]group.Element, n)
	for i, p := range points {
		negs[i] = g.NewElement().Neg(p)
	}
	buckets := make([]group.Element, nb)
	for k := range buckets {
		buckets[k] = g.NewElement()
	}
	used := make([]bool, nb)
	acc, running, sum := g.NewElement(), g.NewElement(), g.NewElement()
	empty := true
	for j := nw - 1; j >= 0; j-- {
		if !empty {
			for range c {
				acc.Dbl(acc)
			}
		}
		clear(used)
		for i := range n {
			d := digits[i*nw+j]
			if d == 0 {
				continue
			}
			p := points[i]
			if d < 0 {
				p = negs[i]
			}
			k := int(abs16(d)) - 1
			if used[k] {
				buckets[k].Add(buckets[k], p)
			} else {
				buckets[k].Set(p)
				used[k] = true
			}
		}
		// sum = Σ (k+1)·bucket[k] = Σ_k running_k, where running_k is
		// the sum of buckets k and above.
		runEmpty, sumEmpty := true, true
		for k := nb - 1; k >= 0; k-- {
			if used[k] {
				if runEmpty {
					running.Set(buckets[k])
					runEmpty = false
				} else {
					running.Add(running, buckets[k])
				}
			}
			if runEmpty {
				continue
			}
			if sumEmpty {
				sum.Set(running)
				sumEmpty = false
			} else {
				sum.Add(sum, running)
			}
		}
		if sumEmpty {
			continue
		}
		if empty {
			acc.Set(sum)
			empty = false
		} else {
			acc.Add(acc, sum)
		}
	}
	return acc
}

func abs16(d int16) int16 {
	if d < 0 {
		return -d
	}
	return d
}
