package federation

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"github.com/fedmatch/fedmatch/internal/wire"
	"github.com/fedmatch/fedmatch/match"
)

// A node serves the change of its filter since a version a partner holds
// (PROTOCOL.md 2.8) as a signed delta (type 0x0E), the signed filter's
// layout around a delta instead of a filter:
//
//	header(type 0x0E) nodeIDLen:u8 nodeID epoch:u64 keyID[16]
//	deltaLen:u32 delta signature[64]
//
// signed in Ed25519 over "fedmatch-v1 signed delta" followed by every byte
// before the signature. A client asks for it with GET filter?key=K&from=V
// (K the hex key id of the filter it holds, V its version, and &gen=G the
// Fedmatch-Generation of the answer that gave it) and an Accept
// header naming MediaTypeDelta; with &wait=S (1 to 60 seconds) the node
// answers when a version after V exists, or with 304 Not Modified after
// S seconds (a long poll).
const labelSignedDelta = "fedmatch-v1 signed delta"

// MediaTypeDelta is the media type of the signed delta (type 0x0E).
const MediaTypeDelta = "application/vnd.fedmatch.filter-delta"

// maxWait is the longest long poll; maxWaiting the long polls one partner
// may have waiting at once (beyond, 503 busy).
const (
	maxWait    = 60 * time.Second
	maxWaiting = 4
)

// ErrDeltaSignature reports a signed delta that fails its checks.
var ErrDeltaSignature = errors.New("federation: signed delta does not verify")

// signDelta returns the signed delta of d by node id.
func signDelta(id string, key ed25519.PrivateKey, d *match.Delta) ([]byte, error) {
	db, err := d.MarshalBinary()
	if err != nil {
		return nil, err
	}
	kid := d.KeyID()
	b := wire.AppendHeader([]byte(labelSignedDelta), wire.TypeSignedDelta)
	b = append(b, byte(len(id)))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint64(b, d.Epoch())
	b = append(b, kid[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(db)))
	b = append(b, db...)
	b = append(b, ed25519.Sign(key, b)...)
	return b[len(labelSignedDelta):], nil
}

// readSignedDelta verifies a signed delta of partner p and returns the
// delta. It checks the length against the largest delta before reading
// it whole.
func readSignedDelta(r io.Reader, p *Partner) (*match.Delta, error) {
	limit := int64(wire.HeaderLen+1+255+8+match.KeyIDSize+4+ed25519.SignatureSize) + deltaMaxLen
	msg, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(msg)) > limit {
		return nil, fmt.Errorf("%w: signed delta above %d bytes", match.ErrOversized, limit)
	}
	if len(msg) < ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrDeltaSignature, len(msg))
	}
	body, sig := msg[:len(msg)-ed25519.SignatureSize], msg[len(msg)-ed25519.SignatureSize:]
	if !ed25519.Verify(p.Identity, append([]byte(labelSignedDelta), body...), sig) {
		return nil, ErrDeltaSignature
	}
	s := cryptobyte.String(body)
	var id cryptobyte.String
	var kid, db []byte
	var epoch uint64
	var dlen uint32
	if err := wire.ReadHeader(&s, wire.TypeSignedDelta); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDeltaSignature, err)
	}
	if !s.ReadUint8LengthPrefixed(&id) || !s.ReadUint64(&epoch) || !s.ReadBytes(&kid, match.KeyIDSize) ||
		!s.ReadUint32(&dlen) || !s.ReadBytes(&db, int(dlen)) || !s.Empty() {
		return nil, fmt.Errorf("%w: envelope", ErrDeltaSignature)
	}
	if string(id) != p.ID {
		return nil, fmt.Errorf("%w: signed delta of node %q", ErrFilterSigner, id)
	}
	var d match.Delta
	if err := d.UnmarshalBinary(db); err != nil {
		return nil, err
	}
	if k := d.KeyID(); d.Epoch() != epoch || string(k[:]) != string(kid) {
		return nil, fmt.Errorf("%w: delta of epoch %d key %v in an envelope of epoch %d", ErrFilterKey, d.Epoch(), d.KeyID(), epoch)
	}
	return &d, nil
}

// deltaMaxLen bounds a delta's encoding: match.MaxDeltaLen tags.
const deltaMaxLen = 64 + 16*match.MaxDeltaLen

// filterQuery is what a GET filter asks beyond the filter: the version of
// the current key the client holds and how long it waits for a newer one.
type filterQuery struct {
	key  match.KeyID
	from uint64
	gen  string // the line of versions the client's belongs to; "" unknown
	wait time.Duration
	ok   bool // key and from given
}

// headerGeneration names, in every answer to GET filter, the line of
// versions of the filter or delta sent (PROTOCOL.md 5.3).
const headerGeneration = "Fedmatch-Generation"

func parseFilterQuery(q url.Values) (filterQuery, error) {
	var fq filterQuery
	ks, fs, ws, gs := q.Get("key"), q.Get("from"), q.Get("wait"), q.Get("gen")
	if ks == "" && fs == "" && ws == "" && gs == "" {
		return fq, nil
	}
	if g, err := hex.DecodeString(gs); err != nil || len(g) > 32 {
		return fq, errors.New("gen is not a hex generation")
	}
	fq.gen = gs
	kb, err := hex.DecodeString(ks)
	if err != nil || len(kb) != match.KeyIDSize {
		return fq, errors.New("key is not a hex key id")
	}
	copy(fq.key[:], kb)
	if fq.from, err = strconv.ParseUint(fs, 10, 64); err != nil {
		return fq, errors.New("from is not a version")
	}
	if ws != "" {
		w, err := strconv.Atoi(ws)
		if err != nil || w < 1 || time.Duration(w)*time.Second > maxWait {
			return fq, fmt.Errorf("wait is not 1 to %d seconds", int(maxWait/time.Second))
		}
		fq.wait = time.Duration(w) * time.Second
	}
	fq.ok = true
	return fq, nil
}

// waitForVersion waits until the current epoch's filter is not the
// version fq names, for at most fq.wait; it reports false if it waited
// that long (or the request ended) with nothing new.
func (n *Node) waitForVersion(ctx context.Context, fq filterQuery) bool {
	deadline := time.NewTimer(fq.wait)
	defer deadline.Stop()
	for {
		n.mu.RLock()
		e, changed := n.current, n.changed
		n.mu.RUnlock()
		if n.closed.Load() {
			return false
		}
		if e == nil || e.key.KeyID() != fq.key || e.gen != fq.gen || e.pub.Filter().Version() != fq.from {
			return true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// serveChange answers a GET filter that names the version the client
// holds (PROTOCOL.md 5.3): after waiting for a newer one if asked, 304 if
// there is none, the signed delta from it if the client accepts one and
// the node has it, and the whole filter otherwise. It reports false if the
// request names no version, for serveFilter to serve the filter.
func (n *Node) serveChange(w http.ResponseWriter, r *http.Request, p *Partner) bool {
	fq, err := parseFilterQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, "filter query: "+err.Error())
		return true
	}
	if !fq.ok {
		return false
	}
	if fq.wait > 0 {
		n.waitMu.Lock()
		full := n.waiting[p.ID] >= maxWaiting
		if !full {
			n.waiting[p.ID]++
		}
		n.waitMu.Unlock()
		if full {
			n.refuse(w, p, busy(fmt.Sprintf("%d long polls of this partner waiting, the limit", maxWaiting)))
			return true
		}
		changed := n.waitForVersion(r.Context(), fq)
		n.waitMu.Lock()
		if n.waiting[p.ID]--; n.waiting[p.ID] == 0 {
			delete(n.waiting, p.ID)
		}
		n.waitMu.Unlock()
		if !changed {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	n.mu.RLock()
	e := n.current
	n.mu.RUnlock()
	if e == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet")
		return true
	}
	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set(headerGeneration, e.gen)
	if e.key.KeyID() == fq.key && e.gen == fq.gen { // versions of one line only
		switch v := e.pub.Filter().Version(); {
		case v == fq.from:
			w.WriteHeader(http.StatusNotModified)
			return true
		case v > fq.from && accepts(r.Header.Values("Accept"), MediaTypeDelta):
			if d, err := e.pub.Delta(fq.from); err == nil {
				b, err := signDelta(n.cfg.ID, n.cfg.Identity, d)
				if err == nil {
					w.Header().Set("Content-Type", MediaTypeDelta)
					w.Header().Set("Content-Length", strconv.Itoa(len(b)))
					w.Write(b)
					return true
				}
			}
		}
	}
	e.signed.serve(w, r) // another key, an unknown version, or no delta accepted
	return true
}

// WaitForFilter waits, for at most wait (1 second to a minute), for a
// newer version of partner's filter than the one this matcher holds, and
// fetches it: as a signed delta when the partner has one for the version
// held (PROTOCOL.md 2.8: bytes in proportion to the change), whole
// otherwise (a new epoch, or a first fetch, which does not wait). It
// returns the version held afterwards and its epoch. The partner holds at
// most 4 long polls of one partner waiting; a node calls it in a loop, per
// partner, to learn of additions within seconds without polling.
func (m *Matcher) WaitForFilter(ctx context.Context, partner string, wait time.Duration) (epoch, version uint64, err error) {
	var p *Partner
	for i := range m.cfg.Partners {
		if m.cfg.Partners[i].ID == partner {
			p = &m.cfg.Partners[i]
		}
	}
	switch {
	case p == nil:
		return 0, 0, fmt.Errorf("federation: no partner %q", partner)
	case wait < time.Second || wait > maxWait:
		return 0, 0, fmt.Errorf("federation: wait %v not in [1s, %v]", wait, maxWait)
	case wait >= m.cfg.RequestTimeout:
		return 0, 0, fmt.Errorf("federation: wait %v not below Config.RequestTimeout %v", wait, m.cfg.RequestTimeout)
	}
	c := m.client(p)
	if err := c.blockedNow(); err != nil {
		return 0, 0, err
	}
	q, _, err := c.refreshWait(ctx, wait)
	if err != nil {
		return 0, 0, err
	}
	return q.Filter().Epoch(), q.Filter().Version(), nil
}
