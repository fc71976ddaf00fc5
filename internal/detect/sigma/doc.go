// Package sigma compiles Sigma detection rules (SigmaHQ specification: rules,
// value modifiers, conditions and correlations) into one Matcher that runs
// every rule over a stream of events.
//
// Use:
//
//	rs, loadErrs, err := sigma.LoadDirs([]string{"rules/windows"}, sigma.Options{})
//	// loadErrs: one LoadError per rule or file that failed, with the reason
//	m := rs.Matcher // a detect.Engine
//	err = m.Process(ctx, ev, emit) // for each event, in time order
//	err = m.Flush(ctx, emit)       // at the end of a stream, for correlations
//
// All rules are compiled together: rules are dispatched by log source
// (Channel and EventID for Windows, product and format otherwise), field names
// are interned to small integers resolved once per event, and the literal
// substring tests of every rule on one field share one case-insensitive
// Aho-Corasick automaton per log source. A rule's condition is only evaluated
// when one of the literals it cannot match without was found in the event, so
// the cost per event grows far slower than the number of rules.
//
// Matching follows the specification: plain values are case-insensitive
// (ASCII letters only; other letters compare exactly) with * and ? wildcards
// and \ escapes; re is case-sensitive unless i is given and uses Go's RE2
// syntax (look-around and back-references are refused with a reason); field
// names are compared case-insensitively. A Matcher keeps per-event scratch
// space and correlation state: use it from one goroutine at a time, and Clone
// it for more.
package sigma
