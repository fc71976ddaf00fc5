package misp

import (
	"fmt"
	"slices"
	"strings"
)

// patternObjects are the MISP object templates whose attributes describe
// one observable (or one connection) and so can be AND-ed into one pattern
// or merged into one observed-data. Others (pe, pe-section,
// virustotal-report...) become x-misp-object. Immutable.
var patternObjects = map[string]bool{
	"file":               true,
	"domain-ip":          true,
	"ip-port":            true,
	"url":                true,
	"email":              true,
	"network-connection": true,
	"registry-key":       true,
	"mutex":              true,
	"x509":               true,
	"asn":                true,
}

// objectMapping maps one attribute of a MISP object, taking its
// object_relation into account where the type alone says too little.
func objectMapping(objName string, a *attribute) (mapping, error) {
	typ, rel, v := string(a.Type), string(a.ObjectRelation), string(a.Value)
	switch {
	case objName == "domain-ip" && (typ == "ip-dst" || typ == "ip-src"):
		ip, _, _, err := ipDraft(v)
		if err != nil {
			return mapping{}, err
		}
		return mapping{
			cmps:   []comparison{{"domain-name", "domain-name:resolves_to_refs[*].value = " + quote(ip.props["value"].(string))}},
			drafts: []*draft{ip},
		}, nil
	case (objName == "ip-port" || objName == "network-connection") && typ == "port" && (rel == "src-port" || rel == "dst-port"):
		side := strings.TrimSuffix(rel, "-port")
		port, err := parsePort(v)
		if err != nil {
			return mapping{}, err
		}
		return mapping{
			cmps:   []comparison{{"network-traffic", fmt.Sprintf("network-traffic:%s_port = %d", side, port)}},
			drafts: []*draft{newDraft("network-traffic", map[string]any{side + "_port": port})},
		}, nil
	case objName == "registry-key" && rel == "data":
		return mapping{
			cmps: []comparison{{"windows-registry-key", "windows-registry-key:values[*].data = " + quote(v)}},
		}, nil
	}
	return mapAttribute(typ, v)
}

// object converts one MISP object.
func (c *converter) object(o *object) {
	name := string(o.Name)
	uuid, ok := canonicalUUID(o.UUID)
	if !ok {
		uuid = derivedUUID("misp-object", c.evUUID, name, o.Timestamp.String(), fmt.Sprint(len(o.Attribute)))
		c.warn(o.UUID, name, fmt.Errorf("object uuid is not a UUID; using derived %s", uuid))
	}
	t := o.Timestamp.Time
	if t.IsZero() {
		t = c.evTime
	}
	var (
		tags     []tag
		gs       []galaxy
		toIDs    bool
		cmps     []comparison
		drafts   []*draft
		unmapped []string
		attrs    []*attribute
	)
	for i := range o.Attribute {
		a := &o.Attribute[i]
		if a.Deleted {
			continue
		}
		attrs = append(attrs, a)
		tags = append(tags, a.Tag...)
		gs = append(gs, a.Galaxy...)
		toIDs = toIDs || bool(a.ToIDs)
		if !patternObjects[name] {
			continue
		}
		m, err := objectMapping(name, a)
		if err != nil {
			unmapped = append(unmapped, fmt.Sprintf("%s (%s): %v", string(a.ObjectRelation), string(a.Type), err))
			continue
		}
		cmps = append(cmps, m.cmps...)
		drafts = append(drafts, m.drafts...)
	}
	l, tagLabels := c.tagsOf(uuid, name, tags, gs)
	labels := []string{
		fmt.Sprintf("misp:name=%q", name),
		fmt.Sprintf("misp:meta-category=%q", string(o.MetaCategory)),
	}
	for _, tl := range tagLabels {
		labels = appendLabel(labels, tl)
	}
	if len(unmapped) > 0 && (len(cmps) > 0 || len(drafts) > 0) {
		c.warn(uuid, name, fmt.Errorf("object attributes left out of its STIX form: %s", strings.Join(unmapped, "; ")))
	}
	clusters := c.clusters(clustersOf(gs, tags), l)
	switch {
	case toIDs && len(cmps) > 0:
		id := "indicator--" + uuid
		c.indicator(id, buildPattern(cmps), t, o.FirstSeen.Time, o.LastSeen.Time, labels, string(o.Comment), l)
		c.relate(id, clusters, t, l)
		for _, a := range attrs {
			c.sightings(a, id, uuid, name)
		}
		return
	case !toIDs && len(drafts) > 0:
		ds := mergeDrafts(drafts)
		linkDomainIP(name, ds)
		if c.observedData("observed-data--"+uuid, ds, t, o.FirstSeen.Time, o.LastSeen.Time, labels, l) {
			c.objectNoSightings(attrs, uuid, name)
			return
		}
	}
	if toIDs {
		c.warn(uuid, name, fmt.Errorf("to_ids object kept as x-misp-object: %w", ErrUnmapped))
	}
	obj := c.common("x-misp-object", "x-misp-object--"+uuid, t, t, labels, l)
	obj["x_misp_name"] = name
	obj["x_misp_meta_category"] = string(o.MetaCategory)
	if o.Comment != "" {
		obj["x_misp_comment"] = string(o.Comment)
	}
	list := make([]any, 0, len(attrs))
	for _, a := range attrs {
		m := map[string]any{
			"type":     string(a.Type),
			"category": string(a.Category),
			"value":    string(a.Value),
			"to_ids":   bool(a.ToIDs),
		}
		if a.ObjectRelation != "" {
			m["object_relation"] = string(a.ObjectRelation)
		}
		if u, ok := canonicalUUID(a.UUID); ok {
			m["uuid"] = u
		}
		if a.Comment != "" {
			m["comment"] = string(a.Comment)
		}
		list = append(list, m)
	}
	if len(list) > 0 {
		obj["x_misp_attributes"] = list
	}
	c.add(obj, t, t)
	c.objectNoSightings(attrs, uuid, name)
}

// linkDomainIP points a domain-ip object's domain at its addresses.
func linkDomainIP(name string, ds []*draft) {
	if name != "domain-ip" {
		return
	}
	i := slices.IndexFunc(ds, func(d *draft) bool { return d.typ == "domain-name" })
	if i < 0 {
		return
	}
	for _, d := range ds {
		if d.typ == "ipv4-addr" || d.typ == "ipv6-addr" {
			ds[i].addListRef("resolves_to_refs", d)
		}
	}
}

func (c *converter) objectNoSightings(attrs []*attribute, ref, kind string) {
	for _, a := range attrs {
		c.noSightings(a, ref, kind)
	}
}
