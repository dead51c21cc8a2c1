package match

import (
	"encoding/hex"
	"testing"

	"github.com/fedmatch/fedmatch/match/indicator"
)

// TestInput checks the OPRF input and POPRF info against PROTOCOL.md
// section 1.2, and that the same value under two kinds is two inputs.
func TestInput(t *testing.T) {
	ind := indicator.MustNew(indicator.Email, "broker@example.net")
	const (
		wantInput = "6665646d617463682d76312f656d61696c0062726f6b6572406578616d706c652e6e6574"
		wantInfo  = "6665646d617463682d76312f656d61696c"
	)
	if got := hex.EncodeToString(appendInput(nil, ind)); got != wantInput {
		t.Errorf("input %s, want %s", got, wantInput)
	}
	if got := hex.EncodeToString(kindInfo("email")); got != wantInfo {
		t.Errorf("info %s, want %s", got, wantInfo)
	}

	v := "d41d8cd98f00b204e9800998ecf8427e"
	custom, err := indicator.NewKind("x-token", func(s string) (string, error) { return s, nil })
	if err != nil {
		t.Fatal(err)
	}
	a, b := indicator.MustNew(indicator.MD5, v), indicator.MustNew(custom, v)
	if string(appendInput(nil, a)) == string(appendInput(nil, b)) {
		t.Fatal("equal values of different kinds are the same OPRF input")
	}
}
