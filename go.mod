module github.com/fedmatch/fedmatch

go 1.25.0

require (
	filippo.io/edwards25519 v1.2.0
	github.com/bits-and-blooms/bloom/v3 v3.7.1
	github.com/cloudflare/circl v1.6.5
	golang.org/x/crypto v0.55.0
	golang.org/x/net v0.58.0
	golang.org/x/text v0.41.0
)

require (
	github.com/bits-and-blooms/bitset v1.24.2 // indirect
	github.com/bwesterb/go-ristretto v1.2.4 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
