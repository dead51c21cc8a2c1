package federation

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// TestRepeatHandler: records below Warn pass; of warnings and errors, the
// first repeatBurst of a kind (level, message, "err" without addresses
// and numbers) per period pass, and the others are counted and reported
// when the period is over; kinds beyond maxRepeatKinds are counted
// together.
func TestRepeatHandler(t *testing.T) {
	rec := &recorder{}
	clk := newClock()
	h := newRepeatHandler(rec, time.Minute, clk.Now)
	log := slog.New(h).With("node", "a")
	for i := range 20 {
		log.Info("evaluated", "count", i)
		log.Error("budget", "err", errors.New("write budgets.tmp-"+fmt.Sprint(i)+": no space left on device"))
		log.Warn("http server", "err", fmt.Sprintf("http: TLS handshake error from 192.0.2.%d:%d: EOF", i, 40000+i))
		log.Warn("http server", "err", fmt.Sprintf("http: TLS handshake error from [2001:db8::%d]:%d: EOF", i, 40000+i))
	}
	if n := len(rec.find("evaluated", "count")); n != 20 {
		t.Errorf("%d info records of 20", n)
	}
	// Handshake errors from any address are one kind.
	if n, m := len(rec.find("budget", "err")), len(rec.find("http server", "err")); n != repeatBurst || m != repeatBurst {
		t.Errorf("%d and %d warnings passed", n, m)
	}
	if got := rec.find("budget (repeated)", "repeated"); len(got) != 0 {
		t.Errorf("reported before the period is over: %v", got)
	}
	clk.Advance(time.Minute)
	log.Error("budget", "err", "no space left on device") // the next period
	if got := rec.find("budget (repeated)", "repeated"); len(got) != 1 || got[0] != "15" {
		t.Errorf("budget repeated %v", got)
	}
	if got := rec.find("http server (repeated)", "repeated"); len(got) != 1 || got[0] != "35" {
		t.Errorf("handshake errors repeated %v", got)
	}
	// Many kinds: beyond maxRepeatKinds, counted together.
	for i := range maxRepeatKinds + 10 {
		log.Warn(fmt.Sprint("kind ", i))
	}
	h.st.flush(true)
	if got := rec.find("log records of other kinds (repeated)", "repeated"); len(got) != 1 || got[0] != "11" {
		t.Errorf("other kinds %v", got)
	}
}
