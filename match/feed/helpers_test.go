package feed

import "github.com/fedmatch/fedmatch/match"

func mustKind(name string) *match.Kind {
	k, err := match.KindByName(name)
	if err != nil {
		panic(err)
	}
	return k
}
