package feed

import (
	"os"
	"testing"
)

// sharedData is the folder of real public indicator files next to the
// checkout (../shared/data/README.md); these tests skip when it is absent.
const sharedData = "../../../shared/data/"

func readAll(t *testing.T, path string, opts *Options) (*Reader, int) {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		t.Skipf("%s absent", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f, opts)
	n := 0
	for range r.Entries() {
		n++
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r, n
}

// TestRealFiles imports the real STIX bundles and MISP events of
// ../shared/data and checks the counts against what the files hold (see
// each case's comment).
func TestRealFiles(t *testing.T) {
	for _, tc := range []struct {
		file                            string
		format                          Format
		imported, rejected, unsupported int
	}{
		// 59 indicators: domains, urls, one sha256, one ipv4, all imported.
		{"stix21_tweetfeed_bundle_2026-08-22.json", STIX, 59, 0, 0},
		// 12 indicators: 4 CIDR networks, 3 domains, 3 md5; 2 x509
		// issuer AND serial patterns, which are not indicator kinds.
		{"stix21_oasis_example_apt1.json", STIX, 10, 0, 2},
		// 17 attributes: ip-dst, domain, url, sha256, all imported.
		{"misp_event_tweetfeed_2026-07-19.json", MISP, 17, 0, 0},
		// 9 attributes: md5, sha1, sha256 imported; 2 links, a comment, a
		// text, a filename and a regkey|value are not indicators.
		{"misp_event_circl_xorist_2016-08-29.json", MISP, 3, 0, 6},
	} {
		t.Run(tc.file, func(t *testing.T) {
			r, n := readAll(t, sharedData+tc.file, nil)
			s := r.Summary()
			if s.Format != tc.format || n != tc.imported || s.Imported != n || s.Rejected != tc.rejected || s.Unsupported != tc.unsupported {
				t.Errorf("%+v (%d entries), want %v: %d imported, %d rejected, %d unsupported", s, n, tc.format, tc.imported, tc.rejected, tc.unsupported)
			}
			if len(r.Rejects()) != s.Rejected+s.Unsupported {
				t.Errorf("%d rejects listed for %d counted", len(r.Rejects()), s.Rejected+s.Unsupported)
			}
			for _, rj := range r.Rejects() {
				t.Log(rj)
			}
		})
	}
}
