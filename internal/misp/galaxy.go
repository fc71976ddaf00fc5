package misp

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// clusterSDO maps MISP galaxy types to the STIX domain object a cluster
// becomes, after misp-stix's stix2_mapping. Immutable.
var clusterSDO = map[string]string{
	"threat-actor": "threat-actor", "microsoft-activity-group": "threat-actor",
	"android": "malware", "banker": "malware", "stealer": "malware", "backdoor": "malware",
	"ransomware": "malware", "malpedia": "malware", "mitre-malware": "malware",
	"mitre-enterprise-attack-malware": "malware", "mitre-mobile-attack-malware": "malware",
	"botnet": "tool", "rat": "tool", "exploit-kit": "tool", "tds": "tool", "tool": "tool",
	"mitre-tool": "tool", "mitre-enterprise-attack-tool": "tool", "mitre-mobile-attack-tool": "tool",
	"mitre-attack-pattern": "attack-pattern", "mitre-enterprise-attack-attack-pattern": "attack-pattern",
	"mitre-mobile-attack-attack-pattern": "attack-pattern", "mitre-pre-attack-attack-pattern": "attack-pattern",
	"mitre-intrusion-set": "intrusion-set", "mitre-enterprise-attack-intrusion-set": "intrusion-set",
	"mitre-mobile-attack-intrusion-set": "intrusion-set", "mitre-pre-attack-intrusion-set": "intrusion-set",
	"mitre-course-of-action": "course-of-action", "mitre-enterprise-attack-course-of-action": "course-of-action",
	"mitre-mobile-attack-course-of-action": "course-of-action",
}

// galaxyTagRE reads a galaxy tag: misp-galaxy:<type>="<value>".
var galaxyTagRE = regexp.MustCompile(`^misp-galaxy:([^=]+)="(.*)"$`)

// mitreIDRE finds an ATT&CK id at the end of a cluster value ("... - T1441").
var mitreIDRE = regexp.MustCompile(` - ((?:T|TA|G|S|M|C)\d{4}(?:\.\d{3})?)$`)

// clusterRef is a galaxy cluster as seen on an event or attribute, from a
// Galaxy entry or only from its tag.
type clusterRef struct {
	typ, value, tagName, description, uuid string
	meta                                   json.RawMessage
}

// clustersOf gathers the clusters of galaxies and of misp-galaxy tags, once each.
func clustersOf(gs []galaxy, tags []tag) []clusterRef {
	var out []clusterRef
	seen := map[string]bool{}
	for _, g := range gs {
		for _, cl := range g.GalaxyCluster {
			typ := string(cl.Type)
			if typ == "" {
				typ = string(g.Type)
			}
			tn := string(cl.TagName)
			if tn == "" {
				tn = fmt.Sprintf("misp-galaxy:%s=%q", typ, string(cl.Value))
			}
			if typ == "" || cl.Value == "" || seen[tn] {
				continue
			}
			seen[tn] = true
			out = append(out, clusterRef{typ, string(cl.Value), tn, string(cl.Description), cl.UUID, cl.Meta})
		}
	}
	for _, t := range tags {
		m := galaxyTagRE.FindStringSubmatch(strings.TrimSpace(string(t.Name)))
		if m == nil || seen[m[0]] || m[2] == "" {
			continue
		}
		seen[m[0]] = true
		out = append(out, clusterRef{typ: m[1], value: m[2], tagName: m[0]})
	}
	return out
}

// clusterMeta reads the parts of a cluster's meta this package uses,
// ignoring anything malformed.
func clusterMeta(raw json.RawMessage) (synonyms, refs []string) {
	var m struct {
		Synonyms json.RawMessage `json:"synonyms"`
		Refs     json.RawMessage `json:"refs"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return nil, nil
	}
	_ = json.Unmarshal(m.Synonyms, &synonyms)
	_ = json.Unmarshal(m.Refs, &refs)
	return synonyms, refs
}

// clusters adds an SDO for each mappable cluster and returns their ids.
func (c *converter) clusters(cls []clusterRef, l *stix.TLP) []string {
	var ids []string
	for _, cl := range cls {
		typ, ok := clusterSDO[cl.typ]
		if !ok {
			continue
		}
		u, ok := canonicalUUID(cl.uuid)
		if !ok {
			u = derivedUUID("misp-galaxy-cluster", cl.typ, cl.value)
		}
		id := typ + "--" + u
		ids = append(ids, id)
		if c.ids[id] > 0 {
			continue
		}
		obj := c.common(typ, id, c.evTime, c.evTime, []string{cl.tagName}, l)
		name := cl.value
		var ext []any
		if m := mitreIDRE.FindStringSubmatch(cl.value); m != nil && strings.HasPrefix(cl.typ, "mitre-") {
			name = strings.TrimSuffix(cl.value, m[0])
			ext = append(ext, map[string]any{"source_name": "mitre-attack", "external_id": m[1]})
		}
		obj["name"] = name
		if cl.description != "" {
			obj["description"] = cl.description
		}
		synonyms, refs := clusterMeta(cl.meta)
		var aliases []string
		for _, s := range synonyms {
			aliases = appendLabel(aliases, s)
		}
		if len(aliases) > 0 && typ != "course-of-action" {
			obj["aliases"] = aliases
		}
		for _, r := range refs {
			if r = strings.TrimSpace(r); r != "" {
				ext = append(ext, map[string]any{"source_name": "misp-galaxy", "url": r})
			}
		}
		if len(ext) > 0 {
			obj["external_references"] = ext
		}
		if typ == "malware" {
			obj["is_family"] = true
		}
		c.add(obj, c.evTime, c.evTime)
	}
	return ids
}

// relate adds "indicates" relationships from an indicator to the cluster
// objects of its attribute, as misp-stix does.
func (c *converter) relate(from string, to []string, t time.Time, l *stix.TLP) {
	for _, target := range to {
		id := "relationship--" + derivedUUID("misp-relationship", from, "indicates", target)
		obj := c.common("relationship", id, t, t, nil, l)
		obj["relationship_type"] = "indicates"
		obj["source_ref"] = from
		obj["target_ref"] = target
		c.add(obj, t, t)
	}
}
