package stix

import "strings"

// Domain, relationship and meta objects (STIX 2.1 sections 4, 5 and 7).

func sdoSpecs() map[string]*typeSpec {
	name := pStr("name").required()
	desc := pStr("description")
	aliases := pStrs("aliases")
	kcp := pKCP("kill_chain_phases")
	firstSeen, lastSeen := pTime("first_seen"), pTime("last_seen")
	resource := pOV("resource_level", "attack-resource-level-ov")
	primary := pOV("primary_motivation", "attack-motivation-ov")
	secondary := pOVs("secondary_motivations", "attack-motivation-ov")
	seen := func(c *checker, o *value) { c.timeOrder(o, "first_seen", "last_seen", false) }

	return map[string]*typeSpec{
		"attack-pattern":   {cat: catSDO, props: []prop{name, desc, aliases, kcp}},
		"course-of-action": {cat: catSDO, props: []prop{name, desc}},
		"vulnerability":    {cat: catSDO, props: []prop{name, desc}},
		"incident":         {cat: catSDO, props: []prop{name, desc, kcp}},
		"campaign": {cat: catSDO, check: seen, props: []prop{
			name, desc, aliases, firstSeen, lastSeen, pStr("objective")}},
		"grouping": {cat: catSDO, props: []prop{
			pStr("name"), desc, pOV("context", "grouping-context-ov").required(), pRefs("object_refs").required()}},
		"identity": {cat: catSDO, props: []prop{
			name, desc, pStrs("roles"), pOV("identity_class", "identity-class-ov"),
			pOVs("sectors", "industry-sector-ov"), pStr("contact_information")}},
		"indicator": {cat: catSDO, check: checkIndicator, props: []prop{
			pStr("name"), desc, pOVs("indicator_types", "indicator-type-ov"), pStr("pattern").required(),
			pOV("pattern_type", "pattern-type-ov").required(), pStr("pattern_version"),
			pTime("valid_from").required(), pTime("valid_until"), kcp}},
		"infrastructure": {cat: catSDO, check: seen, props: []prop{
			name, desc, pOVs("infrastructure_types", "infrastructure-type-ov"), aliases, kcp, firstSeen, lastSeen}},
		"intrusion-set": {cat: catSDO, check: seen, props: []prop{
			name, desc, aliases, firstSeen, lastSeen, pStrs("goals"), resource, primary, secondary}},
		"location": {cat: catSDO, check: checkLocation, props: []prop{
			pStr("name"), desc, pFloatR("latitude", -90, 90), pFloatR("longitude", -180, 180),
			pFloatR("precision", 0, 1e300), pOV("region", "region-ov"), pStr("country"),
			pStr("administrative_area"), pStr("city"), pStr("street_address"), pStr("postal_code")}},
		"malware": {cat: catSDO, check: checkMalware, props: []prop{
			pStr("name"), desc, pOVs("malware_types", "malware-type-ov"), pBoolean("is_family").required(),
			aliases, kcp, firstSeen, lastSeen, pRefs("operating_system_refs", "software"),
			pOVs("architecture_execution_envs", "processor-architecture-ov"),
			pOVs("implementation_languages", "implementation-language-ov"),
			pOVs("capabilities", "malware-capabilities-ov"), pRefs("sample_refs", "file", "artifact")}},
		"malware-analysis": {cat: catSDO, check: checkMalwareAnalysis, props: []prop{
			pStr("product").required(), pStr("version"), pRef1("host_vm_ref", "software"),
			pRef1("operating_system_ref", "software"), pRefs("installed_software_refs", "software"),
			pStr("configuration_version"), pStrs("modules"), pStr("analysis_engine_version"),
			pStr("analysis_definition_version"), pTime("submitted"), pTime("analysis_started"),
			pTime("analysis_ended"), pStr("result_name"), pOV("result", "malware-result-ov"),
			pRefs("analysis_sco_refs"), pRef1("sample_ref", "file", "network-traffic", "artifact")}},
		"note": {cat: catSDO, props: []prop{
			pStr("abstract"), pStr("content").required(), pStrs("authors"), pRefs("object_refs").required()}},
		"observed-data": {cat: catSDO, check: checkObservedData, props: []prop{
			pTime("first_observed").required(), pTime("last_observed").required(),
			pIntR("number_observed", 1, 999999999).required(), pDictionary("objects"), pRefs("object_refs")}},
		"opinion": {cat: catSDO, props: []prop{
			pStr("explanation"), pStrs("authors"), pEnumOf("opinion", "opinion-enum").required(),
			pRefs("object_refs").required()}},
		"report": {cat: catSDO, props: []prop{
			name, desc, pOVs("report_types", "report-type-ov"), pTime("published").required(),
			pRefs("object_refs").required()}},
		"threat-actor": {cat: catSDO, check: seen, props: []prop{
			name, desc, pOVs("threat_actor_types", "threat-actor-type-ov"), aliases, firstSeen, lastSeen,
			pOVs("roles", "threat-actor-role-ov"), pStrs("goals"),
			pOV("sophistication", "threat-actor-sophistication-ov"), resource, primary, secondary,
			pOVs("personal_motivations", "attack-motivation-ov")}},
		"tool": {cat: catSDO, props: []prop{
			name, desc, pOVs("tool_types", "tool-type-ov"), aliases, kcp, pStr("tool_version")}},

		"relationship": {cat: catSRO, check: checkRelationship, props: []prop{
			pStr("relationship_type").required(), desc, pRef1("source_ref").required(),
			pRef1("target_ref").required(), pTime("start_time"), pTime("stop_time")}},
		"sighting": {cat: catSRO, check: checkSighting, props: []prop{
			desc, firstSeen, lastSeen, pIntR("count", 0, 999999999), pRef1("sighting_of_ref").required(),
			pRefs("observed_data_refs", "observed-data"), pRefs("where_sighted_refs", "identity", "location"),
			pBoolean("summary")}},

		"marking-definition": {cat: catMarking, check: checkMarkingDefinition, props: []prop{
			pStr("name"), pRef1("created_by_ref", "identity"), pStr("definition_type"), pObj("definition")}},
		"language-content": {cat: catMeta, check: checkLanguageContent, props: []prop{
			pRef1("object_ref").required(), pTime("object_modified"), pDictionary("contents").required()}},
		"extension-definition": {cat: catMeta, check: checkExtensionDefinition, props: []prop{
			pRef1("created_by_ref", "identity").required(), name, desc, pStr("schema").required(),
			pStr("version").required(), pStrs("extension_properties")}},
	}
}

func checkIndicator(c *checker, o *value) {
	c.timeOrder(o, "valid_from", "valid_until", true)
	if p := o.get("pattern"); p != nil && p.k == kString && strings.TrimSpace(p.s) == "" {
		c.err("pattern", "must not be empty")
	}
}

func checkLocation(c *checker, o *value) {
	lat, lon := o.has("latitude"), o.has("longitude")
	if lat != lon {
		c.err("", "latitude and longitude must be present together")
	}
	if o.has("precision") && !(lat && lon) {
		c.err("precision", "requires latitude and longitude")
	}
	if !o.has("region") && !o.has("country") && !(lat && lon) {
		c.err("", "one of region, country, or latitude and longitude must be present")
	}
}

func checkMalware(c *checker, o *value) {
	if f := o.get("is_family"); f != nil && f.k == kBool && f.b && !o.has("name") {
		c.err("name", "required when is_family is true")
	}
	c.timeOrder(o, "first_seen", "last_seen", false)
}

func checkMalwareAnalysis(c *checker, o *value) {
	if !o.has("result") && !o.has("analysis_sco_refs") {
		c.err("", "one of result or analysis_sco_refs must be present")
	}
	c.timeOrder(o, "analysis_started", "analysis_ended", false)
}

func checkObservedData(c *checker, o *value) {
	c.timeOrder(o, "first_observed", "last_observed", false)
	objs, refs := o.get("objects"), o.get("object_refs")
	switch {
	case objs != nil && refs != nil:
		c.err("", "objects and object_refs are mutually exclusive")
	case objs == nil && refs == nil:
		c.err("", "one of objects or object_refs must be present")
	}
	if objs != nil && objs.k == kObject {
		c.warn("objects", "deprecated since STIX 2.1; use object_refs")
		for i := range objs.o {
			m := &objs.o[i]
			p := "objects." + m.key
			if m.val.k != kObject {
				c.errorf(p, "must be an observable object, not a %s", m.val.k)
				continue
			}
			if t := m.val.get("type"); t == nil {
				c.err(p+".type", "required property missing")
			} else if c.str(p+".type", t) {
				if msg := CheckTypeName(t.s); msg != "" {
					c.err(p+".type", msg)
				} else if cat, ok := categories[t.s]; ok && cat != catSCO {
					c.errorf(p+".type", "%s is not an observable type", t.s)
				}
			}
		}
	}
	if refs != nil && refs.k == kArray {
		sco := false
		for i := range refs.a {
			t, _, _ := strings.Cut(refs.a[i].s, "--")
			cat, known := categories[t]
			switch {
			case !known || cat == catSCO:
				sco = true
			case cat != catSRO:
				c.errorf("object_refs["+itoa(i)+"]", "must reference an observable or a relationship, not a %s", t)
			}
		}
		if !sco {
			c.err("object_refs", "must reference at least one observable")
		}
	}
}

// notRelatable are the types a relationship may not point at.
var notRelatable = map[string]bool{
	"relationship": true, "sighting": true, "marking-definition": true, "bundle": true,
	"language-content": true, "extension-definition": true,
}

func checkRelationship(c *checker, o *value) {
	if rt := o.get("relationship_type"); rt != nil && rt.k == kString {
		if !isRelationshipType(rt.s) {
			c.errorf("relationship_type", "must be 3 to 250 characters of a-z, 0-9 and hyphen, not %q", rt.s)
		}
	}
	for _, k := range []string{"source_ref", "target_ref"} {
		if v := o.get(k); v != nil && v.k == kString {
			if t, _, _ := strings.Cut(v.s, "--"); notRelatable[t] {
				c.errorf(k, "must reference a domain or observable object, not a %s", t)
			}
		}
	}
	c.timeOrder(o, "start_time", "stop_time", true)
}

func isRelationshipType(s string) bool {
	if len(s) < 3 || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}

func checkSighting(c *checker, o *value) {
	c.timeOrder(o, "first_seen", "last_seen", false)
	if v := o.get("sighting_of_ref"); v != nil && v.k == kString {
		t, _, _ := strings.Cut(v.s, "--")
		if cat, known := categories[t]; known && cat != catSDO {
			c.errorf("sighting_of_ref", "must reference a domain object, not a %s", t)
		}
	}
}

// checkMarkingDefinition applies section 7.2.1: definition_type and
// definition go together and are required without extensions; the TLP 1.0
// markings must be the four standard objects.
func checkMarkingDefinition(c *checker, o *value) {
	checkTLP2(c, o)
	if er := o.get("external_references"); er != nil {
		c.externalReferences("external_references", er)
	}
	dt, def := o.get("definition_type"), o.get("definition")
	switch {
	case dt == nil && def == nil:
		if !o.has("extensions") {
			c.err("", "definition_type and definition are required when extensions is absent")
		}
		return
	case dt == nil:
		c.err("definition_type", "required when definition is present")
		return
	case def == nil:
		c.err("definition", "required when definition_type is present")
		return
	}
	if dt.k != kString || def.k != kObject {
		return
	}
	switch dt.s {
	case "statement":
		if s := def.get("statement"); s == nil {
			c.err("definition.statement", "required property missing")
		} else {
			c.str("definition.statement", s)
		}
	case "tlp":
		tv := def.get("tlp")
		if tv == nil {
			c.err("definition.tlp", "required property missing")
			return
		}
		if !c.str("definition.tlp", tv) {
			return
		}
		want, ok := tlp1IDs[tv.s]
		if !ok {
			c.errorf("definition.tlp", `must be "white", "green", "amber" or "red", not %q`, tv.s)
			return
		}
		if id := o.str("id"); id != "" && id != want {
			c.errorf("id", "TLP:%s markings must use the standard id %s (section 7.2.1.4)", strings.ToUpper(tv.s), want)
		}
	}
}

// checkTLP2 applies the OASIS TLP 2.0 extension: tlp_2_0 names one of the
// five levels and the marking is the standard object for it.
func checkTLP2(c *checker, o *value) {
	ext := o.get("extensions")
	if ext == nil || ext.k != kObject {
		return
	}
	t := ext.get(TLP2ExtensionID)
	if t == nil || t.k != kObject {
		return
	}
	p := "extensions." + TLP2ExtensionID + ".tlp_2_0"
	lv := t.get("tlp_2_0")
	if lv == nil {
		c.err(p, "required property missing")
		return
	}
	if !c.str(p, lv) {
		return
	}
	want, ok := tlp2IDs[lv.s]
	if !ok {
		c.errorf(p, `must be "clear", "green", "amber", "amber+strict" or "red", not %q`, lv.s)
		return
	}
	if id := o.str("id"); id != "" && id != want {
		c.errorf("id", "TLP:%s (TLP 2.0) markings must use the standard id %s", strings.ToUpper(lv.s), want)
	}
}

func checkLanguageContent(c *checker, o *value) {
	cs := o.get("contents")
	if cs == nil || cs.k != kObject {
		return
	}
	for i := range cs.o {
		m := &cs.o[i]
		p := "contents." + m.key
		if !isLangTag(m.key) {
			c.errorf(p, "key must be an RFC 5646 language tag, not %q", m.key)
		}
		c.dict(p, &m.val)
	}
}

func checkExtensionDefinition(c *checker, o *value) {
	et := o.get("extension_types")
	if et == nil {
		c.err("extension_types", "required property missing")
		return
	}
	toplevel := false
	c.list("extension_types", et, func(p string, el *value) {
		c.enum(p, el, "extension-type-enum")
		toplevel = toplevel || el.s == "toplevel-property-extension"
	})
	if o.has("extension_properties") && !toplevel {
		c.err("extension_properties", "only allowed with the toplevel-property-extension type")
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
