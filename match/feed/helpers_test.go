package feed

import "github.com/fedmatch/fedmatch/match/indicator"

func mustKind(name string) *indicator.Kind {
	k, err := indicator.Lookup(name)
	if err != nil {
		panic(err)
	}
	return k
}
