package feed

import (
	"slices"
	"strings"
	"testing"

	"github.com/fedmatch/fedmatch/match"
)

// A record whose label or reference match.Publish would refuse (a control
// character, a line separator) is a reject naming the field, not an entry
// that makes the whole publication fail. Regression: CSV and Options.Label
// passed a newline through, and Publish then refused the watchlist.
func TestLabelsPublishAccepts(t *testing.T) {
	data := "value,kind,ref,label\n" +
		"192.0.2.1,ipv4,case-1,\"two\nlines\"\n" +
		"192.0.2.2,ipv4,case-2,\"tab\there\"\n" +
		"192.0.2.3,ipv4,\"case\x1b[2J\",fine\n" +
		"192.0.2.4,ipv4,case-4,\"TLP:GREEN \u2028 forged\"\n" +
		"192.0.2.5,ipv4,case-5,TLP:GREEN ok\n"
	entries, rejects, r := runBytes(t, []byte(data), &Options{Format: CSV})
	check(t, "entries", entries, []string{`ipv4:192.0.2.5 case-5 "TLP:GREEN ok"`})
	check(t, "rejects", rejects, []string{
		"line 2: rejected: label: a control character or line separator at byte 3",
		"line 4: rejected: label: a control character or line separator at byte 3",
		"line 5: rejected: reference: a control character or line separator at byte 4",
		"line 6: rejected: label: a control character or line separator at byte 10",
	})
	checkSummary(t, r, Summary{Format: CSV, Imported: 1, Rejected: 4})

	// A label function producing several lines (a MISP comment, say).
	entries, rejects, _ = runBytes(t, []byte("example.com\nexample.org\n"), &Options{Kind: mustKind("domain"),
		Label: func(s Source) string {
			if s.Where == "line 1" {
				return "first line\nsecond line"
			}
			return strings.Repeat("x", match.MaxLabelLen+1)
		}})
	check(t, "label function", entries, nil)
	check(t, "label function rejects", rejects, []string{
		"line 1: rejected: label: a control character or line separator at byte 10",
		"line 2: rejected: label: longer than 1024 bytes",
	})

	// What is imported publishes.
	rd := NewReader(strings.NewReader(data), &Options{Format: CSV})
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := match.Publish(key, rd.Entries(), nil); err != nil || rd.Err() != nil {
		t.Errorf("publishing the imported entries: %v, %v", err, rd.Err())
	}
	for _, rj := range rd.Rejects() {
		if strings.Contains(rj.Reason, "lines") || slices.Contains([]string{"two", "tab", "forged"}, rj.Reason) {
			t.Errorf("reject quotes the label: %v", rj)
		}
	}
}
