// Package policy decides what may leave this node: for every object and
// every peer it answers allow, redact or deny, with the reason. It is pure:
// no I/O, no clock, no globals; the caller describes the object (Item), this
// node (Self) and the peer (Peer), and gets a Decision it can record and
// explain.
//
// The rules, in the order they are checked (the first that denies wins):
//
//  1. A peer with no known relation gets nothing (deny by default).
//  2. Nothing goes back to the peer it came from (no echo, no loops).
//  3. TLP 2.0 as FIRST defines it. CLEAR goes to anyone. GREEN stays in the
//     community: members, partners and clients, never public consumers.
//     AMBER: what this organisation created goes to the peers the policy names
//     as recipients; what it received goes only to its own organisation and
//     its clients. AMBER+STRICT: as AMBER, but received information stays
//     within the organisation (no clients). RED never leaves by automation.
//     So distribution narrows at each hop. An object with no TLP marking
//     is treated as the policy's Unmarked level (default: not shared).
//  4. Releasability (REL TO): when an object lists releasable nations or
//     organisations, the peer's nation or organisation must be among them.
//  5. Sharing groups: when an object is restricted to sharing groups, the
//     peer must belong to one of them.
//  6. Per-peer type filters (for example: no sightings to partners).
//  7. Redactions: properties stripped for this peer (for example
//     where_sighted_refs), giving Redact instead of Allow.
package policy

import (
	"fmt"
	"slices"
	"strings"
)

// Relation is what a peer is to this node's organisation.
type Relation string

const (
	Member  Relation = "member"  // a member of the alliance (same community)
	Partner Relation = "partner" // a partner organisation of the community
	Client  Relation = "client"  // a client (constituent) of this organisation
	Public  Relation = "public"  // a public consumer: only TLP:CLEAR
)

// Action is the outcome for one object and one peer.
type Action string

const (
	Allow  Action = "allow"
	Redact Action = "redact" // allowed with Decision.Strip removed
	Deny   Action = "deny"
)

// TLP levels, from least to most restrictive.
const (
	Clear       = "clear"
	Green       = "green"
	Amber       = "amber"
	AmberStrict = "amber+strict"
	Red         = "red"
)

// Self describes this node.
type Self struct {
	Org    string // this node's organisation
	Nation string // ISO 3166-1 alpha-3 code of its nation ("" for the alliance)
	// Identity is this node's STIX identity id; objects whose created_by_ref
	// is one of Self.Identities were created by this organisation.
	Identities []string
}

// Peer describes the node an object would go to, as the policy sees it.
type Peer struct {
	Name     string
	Org      string
	Nation   string
	Relation Relation
	// Groups are the sharing groups the peer belongs to.
	Groups []string
	// Recipient says the policy names this peer as a recipient of this
	// organisation's own TLP:AMBER and TLP:AMBER+STRICT information.
	Recipient bool
	// DenyTypes lists STIX types never sent to this peer.
	DenyTypes []string
	// Strip lists, per STIX type ("*" for every type), top-level properties
	// removed before sending to this peer.
	Strip map[string][]string
}

// Item describes one object, as the policy needs to see it.
type Item struct {
	ID   string
	Type string
	// TLP is the strictest TLP level marking the object ("" when unmarked);
	// TLP 1.0 white counts as clear.
	TLP string
	// CreatedBy is the object's created_by_ref ("" when absent).
	CreatedBy string
	// ReceivedFrom names the peer this node got the object from ("" when it
	// was created or imported locally).
	ReceivedFrom string
	// ReleasableTo lists nations (ISO alpha-3) and organisations the object
	// may be released to; empty means no releasability restriction.
	ReleasableTo []string
	// Groups lists the sharing groups the object is restricted to; empty
	// means none.
	Groups []string
}

// Rules are the node-wide settings of the policy.
type Rules struct {
	// Unmarked is the TLP level assumed for objects with no TLP marking;
	// "" means unmarked objects are not shared.
	Unmarked string
	// AlwaysShare lists types that carry no intelligence of their own and go
	// to every known peer regardless of marking (typically the standard TLP
	// marking-definition objects: "marking-definition").
	AlwaysShare []string
}

// Decision is the policy's answer, with the reason it can be asked for.
type Decision struct {
	Action Action
	// Rule names the rule that decided ("relation", "echo", "tlp", "rel-to",
	// "sharing-group", "type", "redact", "allow").
	Rule   string
	Reason string
	// Strip lists the properties to remove when Action is Redact.
	Strip []string
}

func (d Decision) String() string {
	s := fmt.Sprintf("%s (%s): %s", d.Action, d.Rule, d.Reason)
	if len(d.Strip) > 0 {
		s += " [strip " + strings.Join(d.Strip, ", ") + "]"
	}
	return s
}

func deny(rule, format string, args ...any) Decision {
	return Decision{Action: Deny, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// Decide says whether item may go to peer.
func Decide(r Rules, self Self, item Item, peer Peer) Decision {
	switch peer.Relation {
	case Member, Partner, Client, Public:
	default:
		return deny("relation", "peer %q has no known relation (%q); nothing is shared by default", peer.Name, peer.Relation)
	}
	if item.ReceivedFrom != "" && item.ReceivedFrom == peer.Name {
		return deny("echo", "%s came from %s; it is not sent back", item.ID, peer.Name)
	}
	if slices.Contains(peer.DenyTypes, item.Type) {
		return deny("type", "type %s is never sent to %s", item.Type, peer.Name)
	}
	if !slices.Contains(r.AlwaysShare, item.Type) {
		if d, ok := decideTLP(r, self, item, peer); !ok {
			return d
		}
		if len(item.ReleasableTo) > 0 && !releasable(item.ReleasableTo, peer) {
			return deny("rel-to", "%s is releasable to %s only; %s is %s of %s",
				item.ID, strings.Join(item.ReleasableTo, ", "), peer.Name, orDash(peer.Org), orDash(peer.Nation))
		}
		if len(item.Groups) > 0 && !intersects(item.Groups, peer.Groups) {
			return deny("sharing-group", "%s is restricted to sharing groups %s; %s is in %s",
				item.ID, strings.Join(item.Groups, ", "), peer.Name, listOrNone(peer.Groups))
		}
	}
	strip := slices.Concat(peer.Strip["*"], peer.Strip[item.Type])
	if len(strip) > 0 {
		slices.Sort(strip)
		strip = slices.Compact(strip)
		return Decision{Action: Redact, Rule: "redact", Strip: strip,
			Reason: fmt.Sprintf("%s may go to %s without %s", item.ID, peer.Name, strings.Join(strip, ", "))}
	}
	return Decision{Action: Allow, Rule: "allow", Reason: allowReason(r, self, item, peer)}
}

// decideTLP applies rule 3; ok is false when it denies.
func decideTLP(r Rules, self Self, item Item, peer Peer) (Decision, bool) {
	level := normalise(item.TLP)
	if level == "" {
		if r.Unmarked == "" {
			return deny("tlp", "%s has no TLP marking and the policy shares no unmarked objects", item.ID), false
		}
		level = normalise(r.Unmarked)
	}
	own := self.created(item)
	if level != Clear && peer.Relation == Public {
		return deny("tlp", "%s is a public consumer and gets TLP:CLEAR only; this is TLP:%s", peer.Name, strings.ToUpper(level)), false
	}
	switch level {
	case Clear:
		return Decision{}, true
	case Green:
		if peer.Relation == Public {
			return deny("tlp", "TLP:GREEN stays in the community; %s is a public consumer", peer.Name), false
		}
		return Decision{}, true
	case Amber, AmberStrict:
		name := "TLP:" + strings.ToUpper(level)
		if peer.Org != "" && peer.Org == self.Org {
			return Decision{}, true // within the organisation
		}
		if own {
			if peer.Recipient {
				return Decision{}, true
			}
			return deny("tlp", "%s created here goes only to the recipients the policy names and within %s; %s is neither", name, orDash(self.Org), peer.Name), false
		}
		if level == Amber && peer.Relation == Client {
			return Decision{}, true
		}
		if level == Amber {
			return deny("tlp", "%s received from elsewhere goes only to %s and its clients; %s is a %s of %s",
				name, orDash(self.Org), peer.Name, peer.Relation, orDash(peer.Org)), false
		}
		return deny("tlp", "%s received from elsewhere stays within %s; %s belongs to %s",
			name, orDash(self.Org), peer.Name, orDash(peer.Org)), false
	case Red:
		return deny("tlp", "TLP:RED is for the named recipients only and is never shared by automation"), false
	}
	return deny("tlp", "unknown TLP level %q", item.TLP), false
}

func allowReason(r Rules, self Self, item Item, peer Peer) string {
	if slices.Contains(r.AlwaysShare, item.Type) {
		return fmt.Sprintf("type %s goes to every known peer", item.Type)
	}
	level := normalise(item.TLP)
	if level == "" {
		level = normalise(r.Unmarked) + " (assumed for unmarked objects)"
	}
	who := "received"
	if self.created(item) {
		who = "created here"
	}
	return fmt.Sprintf("TLP:%s, %s, to %s %s", strings.ToUpper(level), who, peer.Relation, peer.Name)
}

func (s Self) created(item Item) bool {
	return item.ReceivedFrom == "" && (item.CreatedBy == "" || slices.Contains(s.Identities, item.CreatedBy))
}

// normalise maps TLP names ("TLP:AMBER+STRICT", "white") to the levels above.
func normalise(level string) string {
	l := strings.ToLower(strings.TrimSpace(level))
	l = strings.TrimPrefix(l, "tlp:")
	if l == "white" {
		return Clear
	}
	return l
}

func releasable(to []string, p Peer) bool {
	for _, t := range to {
		if (p.Nation != "" && strings.EqualFold(t, p.Nation)) || (p.Org != "" && strings.EqualFold(t, p.Org)) {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "no group"
	}
	return strings.Join(l, ", ")
}
