// Package indicator turns the values on a watchlist (e-mail addresses,
// domains, URLs, IP addresses and networks, phone numbers, file hashes,
// cryptocurrency addresses, IBANs, travel documents, vehicle plates) into
// canonical indicators, the exact strings that package match compares.
//
// Canonicalization is what makes private matching work at all: two
// agencies find a shared indicator only if they write it the same way,
// because the OPRF behind matching turns "Alice@Example.org" and
// "alice@example.org" into unrelated values. Each [Kind] therefore fixes
// one canonical form for its values and refuses what is not a value of
// the kind, with an [*Error] naming the kind and the reason (never the
// value nor any part of it, only lengths and counts: errors end up in
// logs, and indicator values must not).
//
//	ind, err := indicator.New(indicator.Email, " Alice@EXAMPLE.org")
//	// ind.String() == "email:alice@example.org"
//
// # Kinds
//
// The built-in kinds, their names, and the canonical form of their values
// (each kind's documentation gives the rules in full):
//
//	Email      email      local part in NFC, Unicode full lower case, NFC "@"
//	                      the domain as Domain
//	Domain     domain     UTS 46 (15.0.0, nontransitional) ASCII, lower case,
//	                      no trailing dot, at least two labels, not an address
//	URL        url        Safe Browsing-style: escapes decoded until stable, scheme
//	                      and host lower case, default port and fragment dropped,
//	                      dot segments resolved, hosts as browsers read them
//	IPv4       ipv4       dotted decimal; IPv4-mapped IPv6 addresses are this kind
//	IPv6       ipv6       RFC 5952 text
//	IPv4CIDR   ipv4-cidr  network address (host bits cleared) "/" prefix length
//	IPv6CIDR   ipv6-cidr  as IPv4CIDR, RFC 5952
//	Phone      phone      E.164: "+", country calling code, national number
//	MD5        md5        lower-case hex of 32 digits
//	SHA1       sha1       lower-case hex of 40 digits
//	SHA256     sha256     lower-case hex of 64 digits
//	SHA512     sha512     lower-case hex of 128 digits
//	SSDEEP     ssdeep     "blocksize:hash:hash" as ssdeep prints it
//	TLSH       tlsh       upper-case hex, with its "T1" prefix if it has one
//	BTC        btc        Base58Check as written, bech32/bech32m lower case,
//	                      checksums verified
//	ETH        eth        "0x" and lower-case hex, EIP-55 checksum verified
//	IBAN       iban       upper case without spaces, mod-97 check verified
//	Document   document   ISO 3166-1 alpha-3 issuer ":" upper-case number
//	Plate      plate      ISO 3166-1 alpha-3 country ":" upper-case plate
//
// Networks are kinds of their own and are never expanded into addresses.
// Every canonical value is valid UTF-8 of at most [MaxValueLen] bytes.
//
// [Lookup] finds a kind by its name or by the other names MISP attribute
// types, STIX object types and CSV headers use for it ("hostname",
// "sha-256", "phone-number", ...). [ParseIP] picks the IP kind a value
// calls for, [ParsePhone] reads national-format numbers with a default
// country, and [NewKind] adds a custom kind ("x-...") with a
// canonicalizer every party agrees on.
//
// Provider-specific rewriting (Gmail's dots, "+tag" suffixes) is not done:
// it would merge addresses that are distinct elsewhere.
package indicator
