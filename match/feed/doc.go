// Package feed imports watchlists for fedmatch from the formats agencies
// keep them in: STIX 2.1 bundles, MISP events and feeds, CSV files and
// plain line lists. It streams: entries are read as the consumer (usually
// match.Publish) takes them, and memory does not grow with the input.
//
// Every record that is not imported is reported, with its location (line
// number, STIX object id, MISP attribute UUID) and the reason, to
// [Options.OnReject] or [Reader.Rejects]; [Reader.Summary] counts what was
// imported, rejected (invalid values) and unsupported (types and patterns
// this package does not import). Nothing is dropped silently; a record
// whose label or reference [match.Publish] would refuse (see
// [match.CheckLabel]: a newline, a tab or another control character) is
// rejected, so that it cannot make the whole publication fail. A value
// that several records hold becomes one entry per record, each with its
// own reference and label, and a hit on it releases them all;
// [match.Publish] takes up to [match.MaxRepeats] entries of one
// indicator.
//
// # STIX 2.1
//
// Indicator objects with pattern_type "stix". A pattern's comparisons
// must use '=' with a string value, on one of the object paths
// ipv4-addr:value and ipv6-addr:value (addresses, and networks as the
// CIDR kinds), domain-name:value, url:value, email-addr:value,
// email-message:from_ref.value and sender_ref.value, and
// file:hashes.NAME or artifact:hashes.NAME with NAME any spelling of MD5,
// SHA-1, SHA-256, SHA-512, SSDEEP or TLSH ('SHA-256', SHA256, sha256 ...).
// Comparisons joined by OR are imported one by one, those that cannot be
// imported reported; comparisons joined by AND are imported only if every
// one of them can be (each then becomes an entry). NOT, EXISTS,
// FOLLOWEDBY, qualifiers (WITHIN, REPEATS, START/STOP), other operators,
// other pattern types and revoked indicators are reported as unsupported,
// never guessed. Objects other than indicators are counted as skipped. An
// entry's reference is the indicator's id.
//
// # MISP
//
// Attributes of an event (also those inside objects), in a
// {"Event": ...} wrapper, bare, or in an API response. Types imported:
// ip-src and ip-dst (either family, networks as CIDR kinds), domain,
// hostname, url, email, email-src, email-dst, email-reply-to,
// target-email, whois-registrant-email, md5, sha1, sha256, sha512, ssdeep,
// tlsh, btc, iban, phone-number, whois-registrant-phone and
// passport-number (with the issuing country written in the value, or
// given by a passport-country or issuing-country attribute of its
// object). Composite types are split into their parts: domain|ip gives two
// entries; hostname|port, ip-src|port, ip-dst|port, filename|md5 and the
// other filename|hash types, and malware-sample give their indicator part.
// Other types and deleted attributes are reported as unsupported. An
// entry's reference is the attribute's UUID. [NewMISPFeedReader] reads a
// feed directory: manifest.json and its event files.
//
// # CSV and line lists
//
// CSV has a header row naming a value column and, unless [Options.Kind]
// is set, a kind column (kind names as indicator.Lookup knows them, and
// "ip" for either family); reference and label columns are optional. The
// delimiter is ',', ';' or tab, whichever the header uses most. A line
// list has one value per line, all of [Options.Kind]. In both, lines
// starting with '#' and blank lines are skipped (and counted), and an
// entry's reference is its reference column or "line N".
package feed
