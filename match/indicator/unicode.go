package indicator

// UnicodeVersion is the version of the Unicode tables behind canonical
// values: case mapping, normalization (NFC, NFKC) and UTS #46 mapping of
// domain names. Another implementation must use the same version's tables
// to make the same values of text that holds characters assigned or
// changed since; PROTOCOL.md section 4 says which characters that concerns.
// TestUnicodeVersion checks that every table this package uses is of
// this version.
const UnicodeVersion = "15.0.0"
