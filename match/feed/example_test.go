package feed_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/fedmatch/fedmatch/match"
	"github.com/fedmatch/fedmatch/match/feed"
)

// A case system's CSV export goes straight into a filter; the records that
// are not indicators are reported, not lost.
func ExampleNewReader() {
	export := `kind,value,ref,label
domain,WWW.Example.COM.,case-1,phishing kit
ip,::ffff:192.0.2.44,case-2,C2
phone,030 1234567,case-3,
sha256,not-a-hash,case-4,
mutex,Global\evil,case-5,
`
	r := feed.NewReader(strings.NewReader(export), &feed.Options{PhoneRegion: "DE"})
	key, err := match.GenerateKey(match.SuiteRistretto255)
	if err != nil {
		log.Fatal(err)
	}
	pub, err := match.Publish(key, r.Entries(), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Err(); err != nil {
		log.Fatal(err)
	}
	s := r.Summary()
	fmt.Printf("%s: %d imported, %d rejected, %d unsupported; filter of %d entries\n",
		s.Format, s.Imported, s.Rejected, s.Unsupported, pub.Filter().Len())
	for _, rej := range r.Rejects() {
		fmt.Println(rej)
	}
	// Output:
	// csv: 3 imported, 1 rejected, 1 unsupported; filter of 3 entries
	// line 5: rejected: invalid sha256: not hexadecimal (a character other than 0-9, a-f and A-F)
	// line 6: unsupported: kind "mutex" is not supported
}
