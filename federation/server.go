package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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
//	GET  /fedmatch/v1/health    {"node": ID, "epoch": N, "published": bool}
//
// Request and response bodies are the binary encodings of package match,
// with Content-Type application/octet-stream. Errors answer with a status
// code and a JSON body {"error": code, "message": text}; the codes are the
// Code constants.
const PathPrefix = "/fedmatch/v1/"

// Error codes of the node's endpoints, with their HTTP status. They are
// part of the protocol; do not change them.
const (
	CodeNoClientCertificate = "no_client_certificate" // 401
	CodeUnknownPartner      = "unknown_partner"       // 403
	CodeCertificateExpired  = "certificate_expired"   // 403
	CodeKindNotAllowed      = "kind_not_allowed"      // 403
	CodeNotFound            = "not_found"             // 404
	CodeMethodNotAllowed    = "method_not_allowed"    // 405
	CodeUnknownKey          = "unknown_key"           // 410: the key's epoch is over, or never was
	CodeTooLarge            = "too_large"             // 413
	CodeMalformed           = "malformed"             // 400
	CodeInvalidElement      = "invalid_element"       // 400
	CodeBudgetExhausted     = "budget_exhausted"      // 429
	CodeNotPublished        = "not_published"         // 503
	CodeInternal            = "internal"              // 500
)

// requestBodyLimit is the largest body of an evaluation or confirm
// request with batches of maxBatch.
func requestBodyLimit(maxBatch int) int64 { return 256 + int64(maxBatch)*33 }

// Handler returns the node's HTTP handler, to mount at PathPrefix in a
// server whose TLS configuration requests client certificates (such as
// [Node.ServerTLSConfig]). Every request is authenticated by its client
// certificate, pinned to a partner, before anything else; a request
// without one is refused.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathPrefix+"filter", n.authenticated(http.MethodGet, n.serveFilter))
	mux.HandleFunc(PathPrefix+"evaluate", n.authenticated(http.MethodPost, n.serveEvaluate))
	mux.HandleFunc(PathPrefix+"confirm", n.authenticated(http.MethodPost, n.serveConfirm))
	mux.HandleFunc(PathPrefix+"health", n.authenticated(http.MethodGet, n.serveHealth))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint")
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

func (n *Node) authenticated(method string, h func(http.ResponseWriter, *http.Request, *Partner)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n.closed.Load() {
			writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "the node is shutting down")
			return
		}
		if r.TLS == nil {
			writeError(w, http.StatusUnauthorized, CodeNoClientCertificate, "TLS with a client certificate is required")
			return
		}
		p, err := n.checkPeer(r.TLS.PeerCertificates)
		switch {
		case errors.Is(err, ErrNoPeerCertificate):
			writeError(w, http.StatusUnauthorized, CodeNoClientCertificate, "a client certificate is required")
			return
		case errors.Is(err, ErrPeerCertExpired):
			writeError(w, http.StatusForbidden, CodeCertificateExpired, "client certificate outside its validity period")
			return
		case err != nil:
			writeError(w, http.StatusForbidden, CodeUnknownPartner, "client certificate of no partner")
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use "+method)
			return
		}
		h(w, r, p)
	}
}

func (n *Node) serveHealth(w http.ResponseWriter, r *http.Request, p *Partner) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Node      string `json:"node"`
		Epoch     uint64 `json:"epoch"`
		Published bool   `json:"published"`
	}{n.cfg.ID, n.Epoch(), n.Epoch() != 0})
}

func (n *Node) serveFilter(w http.ResponseWriter, r *http.Request, p *Partner) {
	n.mu.RLock()
	e := n.current
	n.mu.RUnlock()
	if e == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet")
		return
	}
	e.signed.serve(w, r) // the envelope the client accepts (signed.go)
}

// readBody reads a request body of at most limit bytes; a larger one is
// refused with 413 before it is read, when its length is declared, and as
// soon as the limit is crossed otherwise.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body of %d bytes, limit %d", r.ContentLength, limit))
		return nil, false
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("body above the limit of %d bytes", limit))
		return nil, false
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, "unreadable body")
		return nil, false
	}
	return b, true
}

// decodeError answers a body that does not decode.
func decodeError(w http.ResponseWriter, err error) {
	if errors.Is(err, match.ErrOversized) || errors.Is(err, match.ErrBatchTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, CodeMalformed, err.Error())
}

func (n *Node) refuse(w http.ResponseWriter, p *Partner, epoch uint64, status int, code, msg string) {
	if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditRefusal, Partner: p.ID, Epoch: epoch, Detail: code}); err != nil {
		n.log.Error("audit", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "audit log unavailable")
		return
	}
	n.log.Info("refused", "partner", p.ID, "reason", code)
	writeError(w, status, code, msg)
}

// keyedRequest is what evaluation and confirm requests share.
type keyedRequest interface {
	UnmarshalBinary([]byte) error
	KeyID() match.KeyID
	Len() int
}

// readRequest reads and decodes a request body into req, and returns the
// epoch of the key it names and the current epoch (to which it is
// charged). It answers the errors itself; ok is false after one.
func (n *Node) readRequest(w http.ResponseWriter, r *http.Request, req keyedRequest) (e *epoch, charged uint64, ok bool) {
	body, ok := readBody(w, r, requestBodyLimit(n.cfg.MaxBatch))
	if !ok {
		return nil, 0, false
	}
	if err := req.UnmarshalBinary(body); err != nil {
		decodeError(w, err)
		return nil, 0, false
	}
	e, charged = n.publisherFor(req.KeyID())
	switch {
	case charged == 0:
		writeError(w, http.StatusServiceUnavailable, CodeNotPublished, "no filter published yet")
		return nil, 0, false
	case e == nil:
		writeError(w, http.StatusGone, CodeUnknownKey, "key "+req.KeyID().String()+" is not served (its epoch is over); fetch the filter again")
		return nil, 0, false
	case req.Len() > n.cfg.MaxBatch:
		writeError(w, http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("batch of %d, limit %d", req.Len(), n.cfg.MaxBatch))
		return nil, 0, false
	}
	return e, charged, true
}

func (n *Node) serveEvaluate(w http.ResponseWriter, r *http.Request, p *Partner) {
	// Policy first: nothing below touches the group until the partner,
	// the kind, the size and the budget are authorised.
	var req match.EvalRequest
	e, charged, ok := n.readRequest(w, r, &req)
	if !ok {
		return
	}
	if !p.allowsKind(req.Kind()) {
		n.refuse(w, p, charged, http.StatusForbidden, CodeKindNotAllowed, "kind "+req.Kind()+" is not allowed for this partner")
		return
	}
	// Charged to the epoch current now, whichever key the request uses,
	// so the grace period gives no second budget.
	left, granted, err := n.budgets.reserve(p.ID, charged, req.Len(), p.Budget)
	if err != nil {
		n.log.Error("budget", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "budget store unavailable")
		return
	}
	if !granted {
		n.refuse(w, p, charged, http.StatusTooManyRequests, CodeBudgetExhausted,
			fmt.Sprintf("batch of %d, %d evaluations left in epoch %d", req.Len(), left, charged))
		return
	}
	resp, err := e.pub.Evaluate(&req)
	if errors.Is(err, match.ErrInvalidElement) {
		writeError(w, http.StatusBadRequest, CodeInvalidElement, err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, err.Error())
		return
	}
	out, err := resp.MarshalBinary()
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, "encoding failed")
		return
	}
	detail := "kind " + req.Kind()
	if e.number != charged {
		detail += fmt.Sprintf(" under epoch %d's key", e.number)
	}
	if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditEvaluation, Partner: p.ID, Epoch: charged,
		Count: uint64(req.Len()), Detail: detail}); err != nil {
		n.log.Error("audit", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "audit log unavailable")
		return
	}
	n.log.Info("evaluated", "partner", p.ID, "kind", req.Kind(), "count", req.Len(), "epoch", e.number, "left", left)
	writeBinary(w, out)
}

func (n *Node) serveConfirm(w http.ResponseWriter, r *http.Request, p *Partner) {
	var req match.ConfirmRequest
	e, charged, ok := n.readRequest(w, r, &req)
	if !ok {
		return
	}
	// A partner confirms at most as many tags as it had evaluated: no
	// confirmations without evaluations, no replays beyond them.
	allowed, err := n.budgets.reserveConfirm(p.ID, charged, req.Len())
	if err != nil {
		n.log.Error("budget", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "budget store unavailable")
		return
	}
	if !allowed {
		n.refuse(w, p, charged, http.StatusTooManyRequests, CodeBudgetExhausted,
			fmt.Sprintf("%d tags: more confirmations than evaluations", req.Len()))
		return
	}
	resp, hits, err := e.pub.Confirm(&req)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeMalformed, err.Error())
		return
	}
	resp.Redact(p.releases)
	out, err := resp.MarshalBinary()
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, "encoding failed")
		return
	}
	// Hits counts indicators (tags); an indicator that several entries
	// hold confirms each of them.
	confirmed, detail := resp.Confirmed(), ""
	if len(hits) != confirmed {
		detail = fmt.Sprintf("%d entries", len(hits))
	}
	if err := n.audit.append(AuditRecord{Time: n.cfg.Now(), Type: AuditConfirmation, Partner: p.ID, Epoch: charged,
		Count: uint64(req.Len()), Hits: uint64(confirmed), Detail: detail}); err != nil {
		n.log.Error("audit", "err", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "audit log unavailable")
		return
	}
	n.log.Info("confirmed", "partner", p.ID, "tags", req.Len(), "hits", confirmed, "entries", len(hits), "epoch", e.number)
	writeBinary(w, out)
	if len(hits) > 0 && n.cfg.OnHit != nil {
		go n.cfg.OnHit(HitNotice{Partner: p.ID, Epoch: e.number, Entries: hits})
	}
}

// ListenAndServe serves the node alone on addr over mutual TLS
// ([Node.ServerTLSConfig]) until ctx is cancelled, then shuts down
// gracefully. It returns the listener's address on ready, if not nil,
// once it accepts connections.
func (n *Node) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           n.Handler(),
		TLSConfig:         n.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		// A pinned partner still must not hold a connection by trickling
		// a body; the write timeout leaves room for evaluating the largest
		// batch on a busy node.
		ReadTimeout:  2 * time.Minute,
		WriteTimeout: 10 * time.Minute,
		IdleTimeout:  2 * time.Minute,
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shut)
		return ctx.Err()
	}
}
