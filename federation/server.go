package federation

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/fedmatch/fedmatch/match"
)

// PathPrefix is where the node's endpoints live (PROTOCOL.md, "HTTP"):
//
//	GET  /fedmatch/v1/filter    the signed filter; ETag and If-None-Match
//	POST /fedmatch/v1/evaluate  an EvalRequest; answers an EvalResponse
//	POST /fedmatch/v1/confirm   a ConfirmRequest; answers a ConfirmResponse
//	GET  /fedmatch/v1/health    {"node": ID, "epoch": N, "published": bool, "limits": {...}} (see [Health])
//	GET  /fedmatch/v1/count-filter  the signed count filter (Partner.Cardinality); ETag and If-None-Match
//	POST /fedmatch/v1/count     a CountRequest; answers a CountResponse (Partner.Cardinality)
//
// Request and response bodies are the binary encodings of package match,
// with Content-Type application/octet-stream. Errors answer with a status
// code and a JSON body {"error": code, "message": text}; the codes are the
// Code constants.
const PathPrefix = "/fedmatch/v1/"

// Error codes of the node's endpoints, with their HTTP status. They are
// part of the protocol; do not change them. The refusals of evaluation and
// confirm requests are counted per partner and recorded once a period
// (see [AuditRefusal]), not one by one.
const (
	CodeNoClientCertificate = "no_client_certificate" // 401
	CodeUnknownPartner      = "unknown_partner"       // 403
	CodeCertificateExpired  = "certificate_expired"   // 403
	CodeKindNotAllowed      = "kind_not_allowed"      // 403
	CodeCountNotAllowed     = "count_not_allowed"     // 403: the partner may not count (Partner.Cardinality)
	CodeNotFound            = "not_found"             // 404
	CodeMethodNotAllowed    = "method_not_allowed"    // 405
	CodeUnknownKey          = "unknown_key"           // 410: the key's epoch is over, or never was
	CodeTooLarge            = "too_large"             // 413
	CodeMalformed           = "malformed"             // 400
	CodeInvalidElement      = "invalid_element"       // 400
	CodeBudgetExhausted     = "budget_exhausted"      // 429
	CodeNotPublished        = "not_published"         // 503
	CodeBusy                = "busy"                  // 503, with Retry-After: nothing was read or spent; try again
	CodeInternal            = "internal"              // 500
)

// Handler returns the node's HTTP handler, to mount at PathPrefix in a
// server whose TLS configuration requests client certificates (such as
// [Node.ServerTLSConfig]). Every request is authenticated by its client
// certificate, pinned to a partner, before anything else; a request
// without one is refused. The handler bounds the requests, request bodies
// and evaluation workers in flight, per partner and in total, and
// refuses work beyond them with 503 busy (PROTOCOL.md 5.3); connections
// and timeouts are the server's to bound, as [Node.ListenAndServe]
// does.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathPrefix+"filter", n.authenticated(http.MethodGet, n.serveFilter))
	mux.HandleFunc(PathPrefix+"evaluate", n.authenticated(http.MethodPost, n.serveEvaluate))
	mux.HandleFunc(PathPrefix+"confirm", n.authenticated(http.MethodPost, n.serveConfirm))
	mux.HandleFunc(PathPrefix+"health", n.authenticated(http.MethodGet, n.serveHealth))
	mux.HandleFunc(PathPrefix+"count-filter", n.authenticated(http.MethodGet, n.serveCountFilter))
	mux.HandleFunc(PathPrefix+"count", n.authenticated(http.MethodPost, n.serveCount))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Authenticated too, so that a handler mounted behind a TLS
		// configuration that lets anyone in answers a stranger nothing
		// but the refusal of its certificate, whatever the path.
		if _, ok := n.partnerOf(w, r); ok {
			writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint")
		}
	})
	return mux
}

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(apiError{Error: code, Message: msg})
}

func writeBinary(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

// partnerOf returns the partner whose certificate the request came
// with; without one it answers the request itself (ok false). Under
// ListenAndServe or ServerTLSConfig the handshake has already refused
// any other certificate, so only a handler mounted behind another TLS
// configuration answers these errors (PROTOCOL.md 5.3).
func (n *Node) partnerOf(w http.ResponseWriter, r *http.Request) (p *Partner, ok bool) {
	if n.closed.Load() {
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "the node is shutting down")
		return nil, false
	}
	if r.TLS == nil {
		writeError(w, http.StatusUnauthorized, CodeNoClientCertificate, "TLS with a client certificate is required")
		return nil, false
	}
	p, err := n.checkPeer(r.TLS.PeerCertificates)
	switch {
	case errors.Is(err, ErrNoPeerCertificate):
		writeError(w, http.StatusUnauthorized, CodeNoClientCertificate, "a client certificate is required")
		return nil, false
	case errors.Is(err, ErrPeerCertExpired):
		writeError(w, http.StatusForbidden, CodeCertificateExpired, "client certificate outside its validity period")
		return nil, false
	case err != nil:
		writeError(w, http.StatusForbidden, CodeUnknownPartner, "client certificate of no partner")
		return nil, false
	}
	return p, true
}

func (n *Node) authenticated(method string, h func(http.ResponseWriter, *http.Request, *Partner)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := n.partnerOf(w, r)
		if !ok {
			return
		}
		defer n.observe(p, r, time.Now()) // latency, for Metrics
		if r.Method != method {
			w.Header().Set("Allow", method)
			n.refuse(w, p, &refusal{http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use " + method})
			return
		}
		h(w, r, p)
	}
}

func (n *Node) serveFilter(w http.ResponseWriter, r *http.Request, p *Partner) {
	n.mu.RLock()
	e := n.current
	n.mu.RUnlock()
	if e == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet")
		return
	}
	if n.serveChange(w, r, p) { // a client that holds a version (delta.go)
		return
	}
	w.Header().Set(headerGeneration, e.gen)
	e.signed.serve(w, r) // the envelope the client accepts (signed.go)
}

func (n *Node) serveEvaluate(w http.ResponseWriter, r *http.Request, p *Partner) {
	var req match.EvalRequest
	n.serveQuery(w, r, p, match.ParseEvalRequestHeader, &req, AuditEvaluation, "evaluated",
		func(in *incoming) (encoding.BinaryMarshaler, *reservation, int, bool) {
			return n.evaluate(w, r, in, &req)
		})
}

// A queryRequest is an evaluation or a count request, as serveQuery
// handles both.
type queryRequest interface {
	UnmarshalBinary([]byte) error
	Kind() string
	Len() int
}

// serveQuery serves an evaluation or a count request: it authorises the
// header (kind, budget) before reading the rest, decodes the body into
// req, has evaluate run it (evaluate answers its own refusals; ok is false
// after one), and answers only once the budget reservation and the audit
// record (of type typ) are on disk, logging msg.
func (n *Node) serveQuery(w http.ResponseWriter, r *http.Request, p *Partner,
	parse func([]byte) (*match.RequestHeader, error), req queryRequest, typ AuditType, msg string,
	evaluate func(in *incoming) (resp encoding.BinaryMarshaler, res *reservation, left int, ok bool)) {
	// Policy first, on the header: nothing more is read until the partner,
	// the kind, the size and the budget are authorised.
	in, ok := n.readRequest(w, r, p, parse, func(h *match.RequestHeader, _ *epoch, charged uint64) *refusal {
		if !p.allowsKind(h.Kind()) {
			return &refusal{http.StatusForbidden, CodeKindNotAllowed, "kind " + h.Kind() + " is not allowed for this partner"}
		}
		if left := n.budgets.left(p.ID, charged, p.Budget); h.Len() > left {
			return &refusal{http.StatusTooManyRequests, CodeBudgetExhausted, fmt.Sprintf("batch of %d, %d evaluations left in epoch %d", h.Len(), left, charged)}
		}
		return nil
	})
	if !ok {
		return
	}
	defer in.done()
	if err := req.UnmarshalBinary(in.body); err != nil {
		n.refuse(w, p, decodeRefusal(err))
		return
	}
	in.body = nil
	resp, res, left, ok := evaluate(in)
	if !ok {
		return
	}
	// Answered only once the reservation is on disk.
	if err := res.wait(); err != nil {
		n.log.Error("budget", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "budget store unavailable")
		return
	}
	out, err := resp.MarshalBinary()
	if err != nil {
		res.release()
		writeError(w, http.StatusInternalServerError, CodeInternal, "encoding failed")
		return
	}
	detail := "kind " + req.Kind()
	if in.e.number != in.charged {
		detail += fmt.Sprintf(" under epoch %d's key", in.e.number)
	}
	if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: typ, Partner: p.ID, Epoch: in.charged,
		Count: uint64(req.Len()), Detail: detail}); err != nil {
		// Not recorded, not answered: the budget is given back.
		res.release()
		n.log.Error("audit", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "audit log unavailable")
		return
	}
	n.log.Info(msg, "partner", p.ID, "kind", req.Kind(), "count", req.Len(), "epoch", in.e.number, "left", left)
	n.evaluated(p, req.Kind(), req.Len(), in.charged, left)
	writeBinary(w, out)
}

// evaluate runs a request's evaluation in the partner's turn (fairGate):
// it checks every element, then reserves the budget (in memory, its write
// under way), then evaluates. A request refused before the reservation
// spends nothing. It answers the errors itself; ok is false after one.
func (n *Node) evaluate(w http.ResponseWriter, r *http.Request, in *incoming, req *match.EvalRequest) (
	resp *match.EvalResponse, res *reservation, left int, ok bool) {
	p := in.p
	units := (req.Len() + req.ChunkSize() - 1) / req.ChunkSize()
	release, err := n.srv.gate.acquire(r.Context(), p.ID, units)
	if err != nil {
		// The client is gone; nothing was spent.
		n.refuse(w, p, busy("the request was cancelled while it waited for its turn"))
		return nil, nil, 0, false
	}
	defer release()
	if err := in.e.pub.Check(req); err != nil {
		n.refuse(w, p, elementRefusal(err))
		return nil, nil, 0, false
	}
	if res, left, ok = n.reserve(w, in, req.Len()); !ok {
		return nil, nil, 0, false
	}
	resp, err = in.e.pub.Evaluate(req)
	if err != nil {
		// Checked, so not the request's fault.
		if res.wait() == nil {
			res.release()
		}
		n.log.Error("evaluation", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "evaluation failed")
		return nil, nil, 0, false
	}
	return resp, res, left, true
}

func (n *Node) serveConfirm(w http.ResponseWriter, r *http.Request, p *Partner) {
	in, ok := n.readRequest(w, r, p, match.ParseConfirmRequestHeader, func(h *match.RequestHeader, _ *epoch, _ uint64) *refusal {
		// A partner confirms at most as many tags as it had evaluated: no
		// confirmations without evaluations, no replays beyond them.
		if uint64(h.Len()) > n.budgets.confirmable(p.ID) {
			return &refusal{http.StatusTooManyRequests, CodeBudgetExhausted, fmt.Sprintf("%d tags: more confirmations than evaluations", h.Len())}
		}
		return nil
	})
	if !ok {
		return
	}
	defer in.done()
	var req match.ConfirmRequest
	if err := req.UnmarshalBinary(in.body); err != nil {
		n.refuse(w, p, decodeRefusal(err))
		return
	}
	in.body = nil
	resp, hits, err := in.e.pub.Confirm(&req)
	if err != nil {
		n.refuse(w, p, &refusal{http.StatusBadRequest, CodeMalformed, err.Error()})
		return
	}
	resp.Redact(p.releases)
	out, err := resp.MarshalBinary()
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, "encoding failed")
		return
	}
	if req.Len() == 0 {
		writeBinary(w, out) // changes nothing, so records nothing
		return
	}
	if !n.recordConfirm(w, p, in.e, &req, resp, hits) {
		return
	}
	writeBinary(w, out)
	if len(hits) > 0 && n.cfg.OnHit != nil {
		go n.cfg.OnHit(HitNotice{Partner: p.ID, Epoch: in.e.number, Entries: hits})
	}
}

// recordConfirm charges a confirmation to the epoch of the key it uses
// and audits it; ok is false after an error, which it answers.
func (n *Node) recordConfirm(w http.ResponseWriter, p *Partner, e *epoch, req *match.ConfirmRequest,
	resp *match.ConfirmResponse, hits []match.ConfirmedEntry) (ok bool) {
	res, err := n.budgets.reserveConfirm(p.ID, e.number, req.Len())
	if err == nil && res != nil {
		err = res.wait()
	}
	if err != nil {
		n.log.Error("budget", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "budget store unavailable")
		return false
	}
	if res == nil {
		n.refuse(w, p, &refusal{http.StatusTooManyRequests, CodeBudgetExhausted, fmt.Sprintf("%d tags: more confirmations than evaluations", req.Len())})
		return false
	}
	// Hits counts indicators (tags); an indicator that several entries
	// hold confirms each of them.
	confirmed, detail := resp.Confirmed(), ""
	if len(hits) != confirmed {
		detail = fmt.Sprintf("%d entries", len(hits))
	}
	if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditConfirmation, Partner: p.ID, Epoch: e.number,
		Count: uint64(req.Len()), Hits: uint64(confirmed), Detail: detail}); err != nil {
		res.release()
		n.log.Error("audit", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "audit log unavailable")
		return false
	}
	n.log.Info("confirmed", "partner", p.ID, "tags", req.Len(), "hits", confirmed, "entries", len(hits), "epoch", e.number)
	n.confirmed(p, req.Len(), confirmed)
	return true
}

// elementRefusal is the refusal of a request whose elements the
// publisher refused: invalid_element for an element that does not decode
// or is the identity, malformed otherwise.
func elementRefusal(err error) *refusal {
	f := &refusal{http.StatusBadRequest, CodeMalformed, err.Error()}
	if errors.Is(err, match.ErrInvalidElement) {
		f.code = CodeInvalidElement
	}
	return f
}

// reserve reserves n evaluations of in's partner against the budget of
// the epoch current when the request arrived, whichever key it uses (so
// the grace period gives no second budget), its write under way. It
// answers the refusals itself; ok is false after one.
func (n *Node) reserve(w http.ResponseWriter, in *incoming, count int) (res *reservation, left int, ok bool) {
	p := in.p
	res, left, err := n.budgets.reserveAsync(p.ID, in.charged, count, p.Budget)
	if err != nil {
		n.log.Error("budget", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "budget store unavailable")
		return nil, 0, false
	}
	if res == nil {
		n.refuse(w, p, &refusal{http.StatusTooManyRequests, CodeBudgetExhausted,
			fmt.Sprintf("batch of %d, %d evaluations left in epoch %d", count, left, in.charged)})
		return nil, 0, false
	}
	return res, left, true
}
