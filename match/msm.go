package match

import "github.com/cloudflare/circl/group"

// msm returns Σ scalars[i]·points[i] in g. It runs in variable time: it is
// only for public values, such as the RFC 9497 composites (Section 2.2.1)
// and the DLEQ verification equations (Section 2.2.2).
//
// This naive loop of Mul and Add is a placeholder: it is replaced by the
// real MSM at merge.
func msm(g group.Group, scalars []group.Scalar, points []group.Element) group.Element {
	if len(scalars) != len(points) {
		panic("match: msm of mismatched lengths")
	}
	acc, t := g.Identity(), g.NewElement()
	for i := range points {
		acc.Add(acc, t.Mul(points[i], scalars[i]))
	}
	return acc
}
