//go:build race

package federation

// raceEnabled says the tests run under the race detector, which makes
// timings meaningless.
const raceEnabled = true
