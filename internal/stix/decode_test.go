package stix

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Valid base objects; cases derive invalid ones by editing properties.
var bases = map[string]string{
	"indicator":            `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created_by_ref":"identity--f431f809-377b-45e0-aa1c-6a4751cae5ff","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","indicator_types":["malicious-activity"],"name":"Poison Ivy Malware","description":"This file is part of Poison Ivy","pattern":"[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"],"x_acme_score":12.50}`,
	"malware":              `{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","is_family":true}`,
	"location":             `{"type":"location","spec_version":"2.1","id":"location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64","created":"2016-04-06T20:03:00.000Z","modified":"2016-04-06T20:03:00.000Z","region":"south-eastern-asia"}`,
	"observed-data":        `{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":50,"object_refs":["ipv4-addr--efcd5e80-570d-4131-b213-62cb18eaa6a8"]}`,
	"sighting":             `{"type":"sighting","spec_version":"2.1","id":"sighting--ee20065d-2555-424f-ad9e-0f8428623c75","created":"2016-04-06T20:08:31.000Z","modified":"2016-04-06T20:08:31.000Z","sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","first_seen":"2016-01-01T00:00:00Z","last_seen":"2016-01-02T00:00:00Z","count":3}`,
	"relationship":         `{"type":"relationship","spec_version":"2.1","id":"relationship--57b56a43-b8b0-4cba-9deb-34e3e1faed9e","created":"2016-04-06T20:06:37.000Z","modified":"2016-04-06T20:06:37.000Z","relationship_type":"indicates","source_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","target_ref":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}`,
	"report":               `{"type":"report","spec_version":"2.1","id":"report--84e4d88f-44ea-4bcd-bbf3-b2c1c320bcb3","created":"2015-12-21T19:59:11.000Z","modified":"2015-12-21T19:59:11.000Z","name":"The Black Vine Cyberespionage Group","report_types":["campaign"],"published":"2016-01-20T17:00:00.000Z","object_refs":["indicator--26ffb872-1dd9-446e-b6f5-d58527e5b5d2"]}`,
	"opinion":              `{"type":"opinion","spec_version":"2.1","id":"opinion--b01efc25-77b4-4003-b18b-f6e24b5cd9f7","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","opinion":"strongly-disagree","object_refs":["relationship--16d2358f-3b0d-4c88-b047-0da2f7ed4471"]}`,
	"artifact":             `{"type":"artifact","spec_version":"2.1","id":"artifact--6f437177-6e48-5cf8-9d9e-872a2bddd641","mime_type":"application/zip","payload_bin":"aGVsbG8gd29ybGQ="}`,
	"network-traffic":      `{"type":"network-traffic","spec_version":"2.1","id":"network-traffic--2568d22a-8998-58eb-99ec-3c8ca74f527d","src_ref":"ipv4-addr--4d22aae0-2bf9-5427-8819-e4f6abf20a53","dst_port":80,"protocols":["tcp","http"]}`,
	"file":                 `{"type":"file","id":"file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d","hashes":{"SHA-256":"fe90a7e910cb3a4739bed9180e807e93fa70c90f25a8915476f5e4bfbac681db"},"name":"foo.exe","defanged":false}`,
	"marking-definition":   `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:GREEN","definition":{"tlp":"green"}}`,
	"x-mitre-tactic":       `{"type":"x-mitre-tactic","spec_version":"2.1","id":"x-mitre-tactic--daa4cbb1-b4f4-4723-a824-7f1efd6e0592","created":"2018-10-17T00:14:20.652Z","modified":"2019-07-19T17:42:06.909Z","name":"Reconnaissance","x_mitre_shortname":"reconnaissance"}`,
	"ipv4-addr":            `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"}`,
	"mac-addr":             `{"type":"mac-addr","id":"mac-addr--65cfcf98-8a6e-5a1b-8f61-379ac4f92d00","value":"d2:fb:49:24:37:18"}`,
	"extension-definition": `{"type":"extension-definition","spec_version":"2.1","id":"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d","created_by_ref":"identity--b3bca3c2-1f3d-4b54-b44f-dac42c3a8f01","created":"2022-09-22T00:00:00.000Z","modified":"2022-09-22T00:00:00.000Z","name":"TLP 2.0","schema":"https://example.org/tlp.json","version":"1.0.0","extension_types":["property-extension"]}`,
	"language-content":     `{"type":"language-content","spec_version":"2.1","id":"language-content--b86bd89f-98bb-4fa9-8cb2-9ad421da981d","created":"2017-02-08T21:31:22.007Z","modified":"2017-02-08T21:31:22.007Z","object_ref":"campaign--12a111f0-b824-4baf-a224-83b80237a094","object_modified":"2017-02-08T21:31:22.007Z","contents":{"de":{"name":"Bank Angriff 1"}}}`,
}

// edit returns base with props set (nil deletes).
func edit(t *testing.T, typ string, props map[string]any) string {
	t.Helper()
	var m map[string]any
	d := json.NewDecoder(stringsReader(bases[typ]))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatalf("base %s: %v", typ, err)
	}
	for k, v := range props {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodeRules(t *testing.T) {
	type M = map[string]any
	del := any(nil)
	tests := []struct {
		name  string
		typ   string
		props M
		raw   string   // used instead of typ/props when set
		want  []string // error issues; nil means valid
		warns []string // expected warnings when valid (nil: not checked)
	}{
		{name: "valid indicator", typ: "indicator", warns: []string{}},
		{name: "not JSON", raw: `{"type":`, want: []string{"malformed JSON at offset 8: unexpected end of input"}},
		{name: "not an object", raw: `[1]`, want: []string{"a STIX object must be a JSON object, not a list"}},
		{name: "bundle", raw: `{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982"}`, want: []string{"type: a bundle is not a STIX object; read it with a BundleReader"}},
		{name: "type missing", typ: "malware", props: M{"type": del}, want: []string{"type: required property missing"}},
		{name: "type syntax", typ: "x-mitre-tactic", props: M{"type": "X_tactic", "id": "X_tactic--daa4cbb1-b4f4-4723-a824-7f1efd6e0592"}, want: []string{"type: type name must begin with a lowercase letter a-z", `id: identifier type name must begin with a lowercase letter a-z: "X_tactic--daa4cbb1-b4f4-4723-a824-7f1efd6e0592"`}},
		{name: "id type mismatch", typ: "malware", props: M{"id": "tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}, want: []string{`id: type part "tool" must equal the type property "malware"`}},
		{name: "id not uuid", typ: "malware", props: M{"id": "malware--1234"}, want: []string{`id: identifier UUID must have the form xxxxxxxx-xxxx-Mxxx-Nxxx-xxxxxxxxxxxx: "malware--1234"`}},
		{name: "id uuid version 0", typ: "malware", props: M{"id": "malware--31b940d4-6f7f-059a-80ea-9c1f17b5891b"}, want: []string{`id: identifier UUID must be an RFC 4122 UUID (version 1 to 5): "malware--31b940d4-6f7f-059a-80ea-9c1f17b5891b"`}},
		{name: "id upper case warns", typ: "malware", props: M{"id": "malware--31B940D4-6f7f-459a-80ea-9c1f17b5891b"}, warns: []string{`id: UUID should be written in lower case: "malware--31B940D4-6f7f-459a-80ea-9c1f17b5891b"`}},
		{name: "spec_version missing", typ: "malware", props: M{"spec_version": del}, want: []string{"spec_version: required property missing (STIX 2.0 input must be upgraded first)"}},
		{name: "spec_version 2.0", typ: "malware", props: M{"spec_version": "2.0"}, want: []string{`spec_version: must be "2.1", not "2.0"`}},
		{name: "SCO without spec_version", typ: "file", warns: []string{}},
		{name: "created missing", typ: "malware", props: M{"created": del}, want: []string{"created: required property missing"}},
		{name: "created not UTC", typ: "malware", props: M{"created": "2016-04-06T20:07:09.000+01:00"}, want: []string{`created: must be an RFC 3339 timestamp in UTC of the form YYYY-MM-DDTHH:MM:SS[.s+]Z: "2016-04-06T20:07:09.000+01:00"`}},
		{name: "created not millisecond", typ: "malware", props: M{"created": "2016-04-06T20:07:09Z"}, want: []string{`created: must be precise to the millisecond (at least 3 fractional digits): "2016-04-06T20:07:09Z"`}},
		{name: "bad date", typ: "malware", props: M{"created": "2016-02-30T20:07:09.000Z"}, want: []string{`created: not a valid date: "2016-02-30T20:07:09.000Z"`}},
		{name: "modified before created", typ: "malware", props: M{"modified": "2016-04-06T20:07:08.999Z"}, want: []string{"modified: must be later than or equal to created"}},
		{name: "revoked not bool", typ: "malware", props: M{"revoked": "yes"}, want: []string{"revoked: must be a boolean, not a string"}},
		{name: "labels not strings", typ: "malware", props: M{"labels": []any{1}}, want: []string{"labels[0]: must be a string, not a number"}},
		{name: "labels empty", typ: "malware", props: M{"labels": []any{}}, want: []string{"labels: must not be empty"}},
		{name: "confidence range", typ: "malware", props: M{"confidence": 101}, want: []string{"confidence: must be between 0 and 100, not 101"}},
		{name: "confidence float", typ: "malware", props: M{"confidence": 1.5}, want: []string{"confidence: must be an integer, not 1.5"}},
		{name: "lang", typ: "malware", props: M{"lang": "english!"}, want: []string{`lang: must be an RFC 5646 language tag, not "english!"`}},
		{name: "created_by_ref type", typ: "malware", props: M{"created_by_ref": "tool--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}, want: []string{"created_by_ref: must reference a identity, not a tool"}},
		{name: "object_marking_refs type", typ: "malware", props: M{"object_marking_refs": []any{"identity--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}}, want: []string{"object_marking_refs[0]: must reference a marking-definition, not a identity"}},
		{name: "external reference without source_name", typ: "malware", props: M{"external_references": []any{M{"url": "https://example.org"}}}, want: []string{"external_references[0].source_name: required property missing"}},
		{name: "external reference only source_name", typ: "malware", props: M{"external_references": []any{M{"source_name": "x"}}}, want: []string{"external_references[0]: at least one of description, url or external_id must be present"}},
		{name: "external reference capec", typ: "malware", props: M{"external_references": []any{M{"source_name": "capec", "external_id": "163"}}}, want: []string{`external_references[0].external_id: must be present and of the form CAPEC-[id] when source_name is "capec"`}},
		{name: "granular marking both", typ: "malware", props: M{"granular_markings": []any{M{"selectors": []any{"name"}, "lang": "en", "marking_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}}}, want: []string{"granular_markings[0]: marking_ref and lang are mutually exclusive"}},
		{name: "granular marking neither", typ: "malware", props: M{"granular_markings": []any{M{"selectors": []any{"name"}}}}, want: []string{"granular_markings[0]: one of marking_ref or lang must be present"}},
		{name: "granular marking selector", typ: "malware", props: M{"granular_markings": []any{M{"selectors": []any{"name", "aliases.[3]"}, "lang": "en"}}}, want: []string{`granular_markings[0].selectors[1]: selector "aliases.[3]" does not refer to a property of this object`}},
		{name: "granular marking selectors missing", typ: "malware", props: M{"granular_markings": []any{M{"lang": "en"}}}, want: []string{"granular_markings[0].selectors: required property missing"}},
		{name: "kill chain phase", typ: "malware", props: M{"kill_chain_phases": []any{M{"kill_chain_name": "lockheed-martin-cyber-kill-chain"}}}, want: []string{"kill_chain_phases[0].phase_name: required property missing"}},
		{name: "reserved property", typ: "malware", props: M{"severity": "high"}, want: []string{"severity: reserved property name; it must not be used"}},
		{name: "custom property syntax", typ: "malware", props: M{"x-acme": 1}, want: []string{"x-acme: property name must only contain a-z, 0-9 and underscore"}},
		{name: "custom property short", typ: "malware", props: M{"xa": 1}, want: []string{"xa: property name must be 3 to 250 characters long"}},
		{name: "extensions key", typ: "malware", props: M{"extensions": M{"foo": M{"a": 1}}}, want: []string{"extensions.foo: extension key must be an extension-definition id or an extension name ending in -ext"}},
		{name: "extensions type enum", typ: "malware", props: M{"extensions": M{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": M{"extension_type": "other"}}}, want: []string{`extensions.extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.extension_type: "other" is not a value of extension-type-enum`}},
		{name: "malware is_family missing", typ: "malware", props: M{"is_family": del}, want: []string{"is_family: required property missing"}},
		{name: "malware family needs name", typ: "malware", props: M{"name": del}, want: []string{"name: required when is_family is true"}},
		{name: "malware unknown type warns", typ: "malware", props: M{"malware_types": []any{"cryptominer"}}, warns: []string{`malware_types[0]: "cryptominer" is not in the malware-type-ov vocabulary`}},
		{name: "indicator valid_until", typ: "indicator", props: M{"valid_until": "2016-01-01T00:00:00Z"}, want: []string{"valid_until: must be later than valid_from"}},
		{name: "indicator pattern missing", typ: "indicator", props: M{"pattern": del}, want: []string{"pattern: required property missing"}},
		{name: "indicator pattern_type open", typ: "indicator", props: M{"pattern_type": "kql"}, warns: []string{`pattern_type: "kql" is not in the pattern-type-ov vocabulary`}},
		{name: "location lat without long", typ: "location", props: M{"latitude": 48.8}, want: []string{"latitude and longitude must be present together"}},
		{name: "location nothing", typ: "location", props: M{"region": del, "name": "x"}, want: []string{"one of region, country, or latitude and longitude must be present"}},
		{name: "location latitude range", typ: "location", props: M{"latitude": 91, "longitude": 0}, want: []string{"latitude: must be a number between -90 and 90, not 91"}},
		{name: "location precision", typ: "location", props: M{"precision": 10}, want: []string{"precision: requires latitude and longitude"}},
		{name: "observed-data both", typ: "observed-data", props: M{"objects": M{"0": M{"type": "ipv4-addr", "value": "10.0.0.1"}}}, want: []string{"objects and object_refs are mutually exclusive"}},
		{name: "observed-data objects deprecated", typ: "observed-data", props: M{"object_refs": del, "objects": M{"0": M{"type": "ipv4-addr", "value": "10.0.0.1"}}}, warns: []string{"objects: deprecated since STIX 2.1; use object_refs"}},
		{name: "observed-data neither", typ: "observed-data", props: M{"object_refs": del}, want: []string{"one of objects or object_refs must be present"}},
		{name: "observed-data number", typ: "observed-data", props: M{"number_observed": 0}, want: []string{"number_observed: must be between 1 and 999999999, not 0"}},
		{name: "observed-data last before first", typ: "observed-data", props: M{"last_observed": "2015-12-21T18:00:00Z"}, want: []string{"last_observed: must be later than or equal to first_observed"}},
		{name: "sighting count", typ: "sighting", props: M{"count": 1000000000}, want: []string{"count: must be between 0 and 999999999, not 1000000000"}},
		{name: "sighting last_seen", typ: "sighting", props: M{"last_seen": "2015-01-02T00:00:00Z"}, want: []string{"last_seen: must be later than or equal to first_seen"}},
		{name: "sighting of observable", typ: "sighting", props: M{"sighting_of_ref": "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"}, want: []string{"sighting_of_ref: must reference a domain object, not a file"}},
		{name: "sighting where", typ: "sighting", props: M{"where_sighted_refs": []any{"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"}}, want: []string{"where_sighted_refs[0]: must reference a identity or location, not a malware"}},
		{name: "relationship missing refs", typ: "relationship", props: M{"source_ref": del}, want: []string{"source_ref: required property missing"}},
		{name: "relationship type syntax", typ: "relationship", props: M{"relationship_type": "Uses"}, want: []string{`relationship_type: must be 3 to 250 characters of a-z, 0-9 and hyphen, not "Uses"`}},
		{name: "relationship to marking", typ: "relationship", props: M{"target_ref": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}, want: []string{"target_ref: must reference a domain or observable object, not a marking-definition"}},
		{name: "relationship stop_time", typ: "relationship", props: M{"start_time": "2016-01-01T00:00:00Z", "stop_time": "2016-01-01T00:00:00Z"}, want: []string{"stop_time: must be later than start_time"}},
		{name: "report object_refs empty", typ: "report", props: M{"object_refs": []any{}}, want: []string{"object_refs: must not be empty"}},
		{name: "report published missing", typ: "report", props: M{"published": del}, want: []string{"published: required property missing"}},
		{name: "opinion enum", typ: "opinion", props: M{"opinion": "maybe"}, want: []string{`opinion: "maybe" is not a value of opinion-enum`}},
		{name: "artifact both", typ: "artifact", props: M{"url": "https://example.org/a.zip"}, want: []string{"payload_bin and url are mutually exclusive", "hashes: required when url is present"}},
		{name: "artifact url needs hashes", typ: "artifact", props: M{"payload_bin": del, "url": "https://example.org/a.zip"}, want: []string{"hashes: required when url is present"}},
		{name: "artifact bad base64", typ: "artifact", props: M{"payload_bin": "@@"}, want: []string{"payload_bin: must be base64-encoded binary data"}},
		{name: "network-traffic needs endpoint", typ: "network-traffic", props: M{"src_ref": del}, want: []string{"one of src_ref or dst_ref must be present"}},
		{name: "network-traffic port", typ: "network-traffic", props: M{"dst_port": 70000}, want: []string{"dst_port: must be between 0 and 65535, not 70000"}},
		{name: "file needs hashes or name", typ: "file", props: M{"hashes": del, "name": del, "size": 1}, want: []string{"one of hashes or name must be present"}},
		{name: "file unknown hash warns", typ: "file", props: M{"hashes": M{"sha256": "ab"}}, warns: []string{`hashes.sha256: "sha256" is not in the hash-algorithm-ov vocabulary`}},
		{name: "SCO defanged", typ: "file", props: M{"defanged": "no"}, want: []string{"defanged: must be a boolean, not a string"}},
		{name: "SCO extension name", typ: "file", props: M{"extensions": M{"ntfs-ext": M{"sid": "1"}}}, warns: []string{}},
		{name: "SDO extension name refused", typ: "malware", props: M{"extensions": M{"ntfs-ext": M{"sid": "1"}}}, want: []string{"extensions.ntfs-ext: only observables may use extension names; other objects must key extensions by extension-definition id"}},
		{name: "ipv4 value", typ: "ipv4-addr", props: M{"value": "2001:db8::1"}, want: []string{`value: must be an IPv4 address or CIDR block: "2001:db8::1"`}},
		{name: "ipv4 cidr", typ: "ipv4-addr", props: M{"value": "10.0.0.0/8"}, warns: []string{}},
		{name: "mac upper case", typ: "mac-addr", props: M{"value": "D2:FB:49:24:37:18"}, want: []string{`value: must be a colon-delimited, lower-case MAC-48 or EUI-64 address: "D2:FB:49:24:37:18"`}},
		{name: "tlp 1.0 wrong id", typ: "marking-definition", props: M{"id": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41db"}, want: []string{"id: TLP:GREEN markings must use the standard id marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da (section 7.2.1.4)"}},
		{name: "tlp 1.0 bad level", typ: "marking-definition", props: M{"definition": M{"tlp": "pink"}}, want: []string{`definition.tlp: must be "white", "green", "amber" or "red", not "pink"`}},
		{name: "marking definition without definition", typ: "marking-definition", props: M{"definition": del}, want: []string{"definition: required when definition_type is present"}},
		{name: "marking definition bare", typ: "marking-definition", props: M{"definition": del, "definition_type": del}, want: []string{"definition_type and definition are required when extensions is absent"}},
		{name: "statement marking", typ: "marking-definition", props: M{"id": "marking-definition--4f0bd8a3-07b7-4c1d-b9a5-6f6f1d1c6b0e", "definition_type": "statement", "definition": M{"statement": "Copyright 2026"}}, warns: []string{}},
		{name: "statement missing", typ: "marking-definition", props: M{"id": "marking-definition--4f0bd8a3-07b7-4c1d-b9a5-6f6f1d1c6b0e", "definition_type": "statement", "definition": M{}}, want: []string{"definition.statement: required property missing"}},
		{name: "tlp 2.0 marking", raw: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","name":"TLP:AMBER+STRICT","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"amber+strict"}}}`, warns: []string{}},
		{name: "tlp 2.0 wrong id", raw: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"red"}}}`, want: []string{"id: TLP:RED (TLP 2.0) markings must use the standard id marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}},
		{name: "tlp 2.0 bad level", raw: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003","created":"2022-10-01T00:00:00.000Z","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"AMBER"}}}`, want: []string{`extensions.extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.tlp_2_0: must be "clear", "green", "amber", "amber+strict" or "red", not "AMBER"`}},
		{name: "custom object common only", typ: "x-mitre-tactic", warns: []string{}},
		{name: "custom object needs modified", typ: "x-mitre-tactic", props: M{"modified": del}, want: []string{"modified: required property missing"}},
		{name: "extension-definition needs created_by_ref", typ: "extension-definition", props: M{"created_by_ref": del}, want: []string{"created_by_ref: required property missing"}},
		{name: "extension-definition types", typ: "extension-definition", props: M{"extension_types": []any{"new-thing"}}, want: []string{`extension_types[0]: "new-thing" is not a value of extension-type-enum`}},
		{name: "language-content key", typ: "language-content", props: M{"contents": M{"not a tag": M{"name": "x"}}}, want: []string{`contents.not a tag: key must be an RFC 5646 language tag, not "not a tag"`}},
		{name: "duplicate property", raw: `{"type":"mutex","id":"mutex--eba44954-d4e4-5d3b-814c-2b17dd8de300","name":"a","name":"b"}`, want: []string{"name: duplicate property (the object is ambiguous)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == "" {
				raw = edit(t, tt.typ, tt.props)
			}
			_, warns, err := Decode([]byte(raw))
			var got []string
			if err != nil {
				var ie *InvalidError
				if !errors.As(err, &ie) {
					t.Fatalf("Decode error %T, want *InvalidError", err)
				}
				for _, is := range ie.Issues {
					if is.Severity != SeverityError {
						t.Errorf("InvalidError holds a warning: %v", is)
					}
					got = append(got, is.String())
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decode(%s) errors (-want +got):\n%s", raw, diff)
			}
			if tt.warns != nil && tt.want == nil {
				gotW := []string{}
				for _, w := range warns {
					gotW = append(gotW, w.String())
				}
				if diff := cmp.Diff(tt.warns, gotW); diff != "" {
					t.Errorf("Decode(%s) warnings (-want +got):\n%s", raw, diff)
				}
			}
		})
	}
}

func TestDecodeObject(t *testing.T) {
	raw := " {\n \"type\": \"indicator\", \"spec_version\": \"2.1\", \"id\": \"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\",\n" +
		` "created": "2016-04-06T20:03:48.123Z", "modified": "2017-04-06T20:03:48.123456Z", "revoked": true,` +
		` "pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z",` +
		` "x_big": 12345678901234567890123, "x_f": 1.50, "x_z": {"b": 1, "a": [1, 2]} }`
	o, warns, err := Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := Object{
		ID: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", Type: "indicator", SpecVersion: "2.1",
		Created:  time.Date(2016, 4, 6, 20, 3, 48, 123000000, time.UTC),
		Modified: time.Date(2017, 4, 6, 20, 3, 48, 123456000, time.UTC),
		Revoked:  true,
		Raw: json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",` +
			`"created":"2016-04-06T20:03:48.123Z","modified":"2017-04-06T20:03:48.123456Z","revoked":true,` +
			`"pattern":"[ipv4-addr:value = '10.0.0.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z",` +
			`"x_big":12345678901234567890123,"x_f":1.50,"x_z":{"b":1,"a":[1,2]}}`),
	}
	if diff := cmp.Diff(want, o, cmp.Comparer(func(a, b json.RawMessage) bool { return string(a) == string(b) })); diff != "" {
		t.Errorf("Decode = (-want +got):\n%s", diff)
	}
	if len(warns) != 0 {
		t.Errorf("warnings = %v, want none", warns)
	}
}
