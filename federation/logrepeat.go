package federation

import (
	"cmp"
	"context"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"
)

// A repeatHandler is the node's log handler: it passes records below Warn
// through, and of the warnings and errors it passes the first
// repeatBurst of each kind per period, counting the others and reporting
// their number when the period is over. A kind is a level, a message and an "err" attribute
// with addresses and numbers blanked, so that a failing disk (the same
// error on every request) or an outsider's failed TLS handshakes (the
// same error from ever new ports) make one line and a count per period,
// not one line per request. Records of kinds beyond maxRepeatKinds in
// one period are counted together.
type repeatHandler struct {
	inner slog.Handler
	st    *repeatState
}

// maxRepeatKinds bounds the kinds of records counted in one period, and
// repeatBurst is how many of each kind are passed in one period.
const (
	maxRepeatKinds = 256
	repeatBurst    = 5
)

type repeatState struct {
	mu     sync.Mutex
	inner  slog.Handler // the handler without WithAttrs and WithGroup, for the summaries
	period time.Duration
	now    func() time.Time
	start  time.Time // of the open period; zero if none
	kinds  map[string]*repeatKind
	timer  *time.Timer
}

// A repeatKind is the records of one kind in the open period: how many
// were passed through, and how many held back since.
type repeatKind struct {
	level  slog.Level
	msg    string
	err    string // the first record's "err"
	passed int
	held   uint64
}

func newRepeatHandler(inner slog.Handler, period time.Duration, now func() time.Time) *repeatHandler {
	return &repeatHandler{inner: inner, st: &repeatState{inner: inner, period: period, now: now, kinds: map[string]*repeatKind{}}}
}

func (h *repeatHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *repeatHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &repeatHandler{inner: h.inner.WithAttrs(as), st: h.st}
}

func (h *repeatHandler) WithGroup(name string) slog.Handler {
	return &repeatHandler{inner: h.inner.WithGroup(name), st: h.st}
}

func (h *repeatHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.inner.Handle(ctx, r)
	}
	var errText string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			errText = a.Value.String()
			return false
		}
		return true
	})
	if !h.st.pass(r.Level, r.Message, errText) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

// pass reports whether a record of this kind is among the first
// repeatBurst of the period, and counts it if it is not. It reports the
// period before if it is over.
func (st *repeatState) pass(level slog.Level, msg, errText string) bool {
	st.mu.Lock()
	now := st.now()
	var due []*repeatKind
	var from time.Time
	if !st.start.IsZero() && now.Sub(st.start) >= st.period {
		due, from = st.take()
	}
	if st.start.IsZero() {
		st.start = now
		st.timer = time.AfterFunc(st.period, func() { st.flush(false) })
	}
	key := level.String() + "\x00" + msg + "\x00" + blankAddresses(errText)
	k, seen := st.kinds[key]
	if !seen && len(st.kinds) >= maxRepeatKinds {
		k, seen = st.kinds[""], true
		if k == nil {
			k = &repeatKind{level: slog.LevelWarn, msg: "log records of other kinds"}
			st.kinds[""] = k
		}
	}
	if !seen {
		k = &repeatKind{level: level, msg: msg, err: errText}
		st.kinds[key] = k
	}
	pass := k.passed < repeatBurst && k != st.kinds[""]
	if pass {
		k.passed++
	} else {
		k.held++
	}
	st.mu.Unlock()
	st.report(due, from, now)
	return pass
}

// take ends the open period and returns the kinds that held records
// back. st.mu is held.
func (st *repeatState) take() ([]*repeatKind, time.Time) {
	var due []*repeatKind
	for _, k := range st.kinds {
		if k.held > 0 {
			due = append(due, k)
		}
	}
	from := st.start
	st.kinds, st.start = map[string]*repeatKind{}, time.Time{}
	if st.timer != nil {
		st.timer.Stop()
		st.timer = nil
	}
	slices.SortFunc(due, func(a, b *repeatKind) int { return cmp.Compare(b.held, a.held) })
	return due, from
}

// flush reports the open period: if it is over, or at once if force is
// set.
func (st *repeatState) flush(force bool) {
	st.mu.Lock()
	now := st.now()
	if st.start.IsZero() {
		st.mu.Unlock()
		return
	}
	if !force && now.Sub(st.start) < st.period {
		st.timer = time.AfterFunc(st.period, func() { st.flush(false) })
		st.mu.Unlock()
		return
	}
	due, from := st.take()
	st.mu.Unlock()
	st.report(due, from, now)
}

// report logs, for each kind, how many records were held back.
func (st *repeatState) report(due []*repeatKind, from, to time.Time) {
	for _, k := range due {
		r := slog.NewRecord(to, k.level, k.msg+" (repeated)", 0)
		r.AddAttrs(slog.Uint64("repeated", k.held), slog.Duration("in", to.Sub(from).Round(time.Second)))
		if k.err != "" {
			r.AddAttrs(slog.String("first_err", k.err))
		}
		st.inner.Handle(context.Background(), r)
	}
}

var (
	addrPattern   = regexp.MustCompile(`\[[0-9A-Fa-f:.%]+\](:\d+)?|\d+\.\d+\.\d+\.\d+(:\d+)?`)
	numberPattern = regexp.MustCompile(`\d+`)
)

// blankAddresses replaces the IP addresses, ports and numbers of an error
// text, which make every instance of a repeated error different.
func blankAddresses(s string) string {
	return numberPattern.ReplaceAllString(addrPattern.ReplaceAllString(s, "ADDR"), "#")
}
