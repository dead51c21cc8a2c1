package match

import (
	"fmt"

	"github.com/cloudflare/circl/group"
	"github.com/cloudflare/circl/oprf"
)

// A client is the client side of RFC 9497 (Section 3.3: Blind, Finalize)
// for one filter's suite, mode and key: circl's client of that mode,
// chosen once, in [newClient]. Blinding hashes to the group with a DST
// that names the mode, so the client must be of the filter's mode even
// where the arithmetic is the same; in the verifiable modes circl
// verifies each batch's DLEQ proof in Finalize.
//
// circl's group elements are not safe for concurrent use even when only
// encoded (P-256 elements reduce their coordinates in place when
// marshalled), so every goroutine makes its own client.
type client struct {
	blindRandom func(inputs [][]byte) (*oprf.FinalizeData, *oprf.EvaluationRequest, error)
	blindFixed  func(inputs [][]byte, blinds []oprf.Blind) (*oprf.FinalizeData, *oprf.EvaluationRequest, error)
	finalizeFn  func(fd *oprf.FinalizeData, ev *oprf.Evaluation, info []byte) ([][]byte, error)
}

// newClient returns the client for suite s, mode m and the publisher key
// pub (unused in ModeOPRF).
func newClient(s Suite, m Mode, pub *PublicKey) (*client, error) {
	cs := s.params().circl
	var pk *oprf.PublicKey
	if m.verifiable() {
		pk = new(oprf.PublicKey)
		if err := pk.UnmarshalBinary(cs, pub.enc); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
		}
	}
	switch m {
	case ModePOPRF:
		c := oprf.NewPartialObliviousClient(cs, pk)
		return &client{c.Blind, c.DeterministicBlind, c.Finalize}, nil
	case ModeVOPRF:
		c := oprf.NewVerifiableClient(cs, pk)
		return &client{c.Blind, c.DeterministicBlind,
			func(fd *oprf.FinalizeData, ev *oprf.Evaluation, _ []byte) ([][]byte, error) {
				return c.Finalize(fd, ev)
			}}, nil
	case ModeOPRF:
		c := oprf.NewClient(cs)
		return &client{c.Blind, c.DeterministicBlind,
			func(fd *oprf.FinalizeData, ev *oprf.Evaluation, _ []byte) ([][]byte, error) {
				return c.Finalize(fd, ev)
			}}, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrWrongMode, m)
}

// blind is Blind of RFC 9497 Section 3.3.1 over a batch of inputs.
// blinds fixes the blinds for known-answer tests; nil draws them from
// crypto/rand.
func (c *client) blind(inputs [][]byte, blinds []group.Scalar) (*oprf.FinalizeData, *oprf.EvaluationRequest, error) {
	if blinds != nil {
		return c.blindFixed(inputs, blinds)
	}
	return c.blindRandom(inputs)
}

// finalize is Finalize of RFC 9497 Section 3.3: it verifies the
// evaluation's proof (verifiable modes) and returns the OPRF outputs.
// info is the POPRF public input, ignored in the other modes.
func (c *client) finalize(fd *oprf.FinalizeData, ev *oprf.Evaluation, info []byte) ([][]byte, error) {
	return c.finalizeFn(fd, ev, info)
}
