package match

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// CheckLabel returns an error unless s may be the label or the reference
// of an [Entry]: valid UTF-8 of at most [MaxLabelLen] bytes, without
// control characters — C0 (U+0000 to U+001F: tab, CR and LF included),
// DEL (U+007F) and C1 (U+0080 to U+009F: NEL included) — and without the
// line and paragraph separators U+2028 and U+2029. Those are the
// characters that end a line or a column, or drive a terminal, where a
// label is printed, so a publisher's label could otherwise forge lines in
// a querier's output (PROTOCOL.md, "Confirm response"). Other format
// characters (bidirectional marks, zero-width joiners) are allowed, as
// scripts need them; a program that prints labels should escape what is
// not printable (the examples print such labels as Go strings).
//
// [Publish] refuses an entry whose label or reference fails this check,
// and a querier refuses a confirm response holding such a label. The
// error says which rule s breaks and where, never s itself.
func CheckLabel(s string) error {
	switch {
	case len(s) > MaxLabelLen:
		return fmt.Errorf("longer than %d bytes", MaxLabelLen)
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	}
	if i := labelControl(s); i >= 0 {
		return fmt.Errorf("a control character or line separator at byte %d", i)
	}
	return nil
}

// labelControl returns the byte offset of the first character of s that
// CheckLabel refuses, or -1. It reads bytes, not runes, so that it costs
// nothing on ASCII: C1 and the separators are the only multi-byte
// characters refused, and their encodings (0xC2 0x80..0x9F, 0xE2 0x80
// 0xA8..0xA9) are recognised at their first byte.
func labelControl[T ~string | ~[]byte](s T) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return i
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return i
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			return i
		}
	}
	return -1
}
