// Package person matches people: it turns a person record (a name as
// written in any of several scripts, a date of birth as precise as the
// source gives it, a nationality, documents) into several exact match
// keys, each an indicator of a kind of its own, so that the same person
// written differently by two agencies meets on at least one key while the
// OPRF of package match stays exact.
package person
