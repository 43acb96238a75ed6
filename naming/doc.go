// Package naming turns a person's fields into a username that nobody in
// the domain has: the pattern language Workspace admins know from the Java
// project "Account provisioning for Google Apps" ([firstname].[lastname],
// [C1_firstname][lastname], [firstname][lastname][#], custom fields, static
// text), with its known defects fixed.
//
// A Pattern is literal text plus fields. Field values are normalised to the
// characters a username may hold ([Normalize]); a pattern whose field is
// missing or empty after normalisation is skipped, and a candidate that is
// not a valid username ([Valid]) is skipped like a taken one. [#] is a
// counter: the smallest integer ≥ 1 that makes the name available, found in
// O(1) amortised time per name because a [Reserver] keeps a counter per base
// name instead of probing from 1.
//
// A [Reserver] hands out names in the order it is asked, safe for concurrent
// use, consulting a pluggable [Checker] (the directory's name snapshot, a
// live lookup, the journal) and a reserved list. When no configured pattern
// yields an available name, the last resort [C9_firstname][C9_lastname][#]
// always does.
package naming
