package indicator_test

// vectorCases are the inputs of the canonicalization vectors
// (TestVectors), by kind. Valid inputs must canonicalize; invalid ones
// must be refused with a reason code of their own. Choose cases that a
// second implementation could get wrong: each comment says which edge a
// group covers.
var vectorCases = []kindCases{}
