package stix

import (
	"encoding/base64"
	"net/netip"
	"strings"
)

// Cyber-observable objects (STIX 2.1 section 6).

func scoSpecs() map[string]*typeSpec {
	value := pStr("value").required()
	addrRefs := []string{"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}
	return map[string]*typeSpec{
		"artifact": {cat: catSCO, check: checkArtifact, props: []prop{
			pStr("mime_type"), pStr("payload_bin"), pStr("url"), pHash("hashes"),
			pEnumOf("encryption_algorithm", "encryption-algorithm-enum"), pStr("decryption_key")}},
		"autonomous-system": {cat: catSCO, props: []prop{
			pIntR("number", 0, 4294967295).required(), pStr("name"), pStr("rir")}},
		"directory": {cat: catSCO, props: []prop{
			pStr("path").required(), pStr("path_enc"), pTime("ctime"), pTime("mtime"), pTime("atime"),
			pRefs("contains_refs", "file", "directory")}},
		"domain-name": {cat: catSCO, props: []prop{
			value, pRefs("resolves_to_refs", "ipv4-addr", "ipv6-addr", "domain-name")}},
		"email-addr": {cat: catSCO, props: []prop{
			value, pStr("display_name"), pRef1("belongs_to_ref", "user-account")}},
		"email-message": {cat: catSCO, check: checkEmailMessage, props: []prop{
			pBoolean("is_multipart").required(), pTime("date"), pStr("content_type"),
			pRef1("from_ref", "email-addr"), pRef1("sender_ref", "email-addr"),
			pRefs("to_refs", "email-addr"), pRefs("cc_refs", "email-addr"), pRefs("bcc_refs", "email-addr"),
			pStr("message_id"), pStr("subject"), pStrs("received_lines"),
			pDictionary("additional_header_fields"), pStr("body"), pObjs("body_multipart"),
			pRef1("raw_email_ref", "artifact")}},
		"file": {cat: catSCO, check: checkFile, props: []prop{
			pHash("hashes"), pUint("size"), pStr("name"), pStr("name_enc"), pStr("magic_number_hex"),
			pStr("mime_type"), pTime("ctime"), pTime("mtime"), pTime("atime"),
			pRef1("parent_directory_ref", "directory"), pRefs("contains_refs"), pRef1("content_ref", "artifact")}},
		"ipv4-addr": {cat: catSCO, check: checkIPv4, props: []prop{
			value, pRefs("resolves_to_refs", "mac-addr"), pRefs("belongs_to_refs", "autonomous-system")}},
		"ipv6-addr": {cat: catSCO, check: checkIPv6, props: []prop{
			value, pRefs("resolves_to_refs", "mac-addr"), pRefs("belongs_to_refs", "autonomous-system")}},
		"mac-addr": {cat: catSCO, check: checkMAC, props: []prop{value}},
		"mutex":    {cat: catSCO, props: []prop{pStr("name").required()}},
		"network-traffic": {cat: catSCO, check: checkNetworkTraffic, props: []prop{
			pTime("start"), pTime("end"), pBoolean("is_active"), pRef1("src_ref", addrRefs...),
			pRef1("dst_ref", addrRefs...), pIntR("src_port", 0, 65535), pIntR("dst_port", 0, 65535),
			pStrs("protocols").required(), pUint("src_byte_count"), pUint("dst_byte_count"),
			pUint("src_packets"), pUint("dst_packets"), pDictionary("ipfix"),
			pRef1("src_payload_ref", "artifact"), pRef1("dst_payload_ref", "artifact"),
			pRefs("encapsulates_refs", "network-traffic"), pRef1("encapsulated_by_ref", "network-traffic")}},
		"process": {cat: catSCO, check: atLeastOneProperty, props: []prop{
			pBoolean("is_hidden"), pUint("pid"), pTime("created_time"), pStr("cwd"), pStr("command_line"),
			pDictionary("environment_variables"), pRefs("opened_connection_refs", "network-traffic"),
			pRef1("creator_user_ref", "user-account"), pRef1("image_ref", "file"),
			pRef1("parent_ref", "process"), pRefs("child_refs", "process")}},
		"software": {cat: catSCO, props: []prop{
			pStr("name").required(), pStr("cpe"), pStr("swid"), pStrs("languages"), pStr("vendor"), pStr("version")}},
		"url": {cat: catSCO, props: []prop{value}},
		"user-account": {cat: catSCO, check: atLeastOneProperty, props: []prop{
			pStr("user_id"), pStr("credential"), pStr("account_login"),
			pOV("account_type", "account-type-ov"), pStr("display_name"), pBoolean("is_service_account"),
			pBoolean("is_privileged"), pBoolean("can_escalate_privs"), pBoolean("is_disabled"),
			pTime("account_created"), pTime("account_expires"), pTime("credential_last_changed"),
			pTime("account_first_login"), pTime("account_last_login")}},
		"windows-registry-key": {cat: catSCO, check: checkRegistryKey, props: []prop{
			pStr("key"), pObjs("values"), pTime("modified_time"), pRef1("creator_user_ref", "user-account"),
			pUint("number_of_subkeys")}},
		"x509-certificate": {cat: catSCO, check: checkX509, props: []prop{
			pBoolean("is_self_signed"), pHash("hashes"), pStr("version"), pStr("serial_number"),
			pStr("signature_algorithm"), pStr("issuer"), pTime("validity_not_before"),
			pTime("validity_not_after"), pStr("subject"), pStr("subject_public_key_algorithm"),
			pStr("subject_public_key_modulus"), pUint("subject_public_key_exponent"),
			pDictionary("x509_v3_extensions")}},
	}
}

// scoCommonNames are the properties every observable may carry.
var scoCommonNames = map[string]bool{
	"type": true, "id": true, "spec_version": true, "object_marking_refs": true,
	"granular_markings": true, "defanged": true,
}

// atLeastOneProperty applies the rule of process, user-account,
// windows-registry-key and x509-certificate: at least one property of the
// object (or one extension) beyond the common ones.
func atLeastOneProperty(c *checker, o *value) {
	for i := range o.o {
		if !scoCommonNames[o.o[i].key] {
			return
		}
	}
	c.err("", "at least one property specific to "+o.str("type")+" (or an extension) must be present")
}

func checkArtifact(c *checker, o *value) {
	bin, url := o.get("payload_bin"), o.get("url")
	switch {
	case bin != nil && url != nil:
		c.err("", "payload_bin and url are mutually exclusive")
	case bin == nil && url == nil:
		c.err("", "one of payload_bin or url must be present")
	}
	if url != nil && !o.has("hashes") {
		c.err("hashes", "required when url is present")
	}
	if bin != nil && bin.k == kString {
		if _, err := base64.StdEncoding.DecodeString(bin.s); err != nil {
			c.err("payload_bin", "must be base64-encoded binary data")
		}
	}
	if o.has("decryption_key") && !o.has("encryption_algorithm") {
		c.err("decryption_key", "requires encryption_algorithm")
	}
}

func checkEmailMessage(c *checker, o *value) {
	mp := o.get("is_multipart")
	if mp == nil || mp.k != kBool {
		return
	}
	if mp.b && o.has("body") {
		c.err("body", "must not be used when is_multipart is true (use body_multipart)")
	}
	if !mp.b && o.has("body_multipart") {
		c.err("body_multipart", "must not be used when is_multipart is false")
	}
	if bm := o.get("body_multipart"); bm != nil && bm.k == kArray {
		for i := range bm.a {
			p := "body_multipart[" + itoa(i) + "]"
			part := &bm.a[i]
			if part.k != kObject {
				continue
			}
			body, raw := part.get("body"), part.get("body_raw_ref")
			if (body == nil) == (raw == nil) {
				c.err(p, "exactly one of body or body_raw_ref must be present")
			}
			if raw != nil {
				c.ref(p+".body_raw_ref", raw, "artifact", "file")
			}
		}
	}
}

func checkFile(c *checker, o *value) {
	if !o.has("hashes") && !o.has("name") {
		c.err("", "one of hashes or name must be present")
	}
	if v := o.get("magic_number_hex"); v != nil && v.k == kString && !isHex(v.s) {
		c.err("magic_number_hex", "must be hexadecimal")
	}
}

func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f' || ch >= 'A' && ch <= 'F') {
			return false
		}
	}
	return true
}

func checkIP(c *checker, o *value, v6 bool) {
	v := o.get("value")
	if v == nil || v.k != kString {
		return
	}
	var addr netip.Addr
	var err error
	if strings.Contains(v.s, "/") {
		var p netip.Prefix
		p, err = netip.ParsePrefix(v.s)
		addr = p.Addr()
	} else {
		addr, err = netip.ParseAddr(v.s)
	}
	switch {
	case err != nil:
		c.errorf("value", "must be an IP address or CIDR block: %q", v.s)
	case v6 && !addr.Is6():
		c.errorf("value", "must be an IPv6 address or CIDR block: %q", v.s)
	case !v6 && !addr.Is4():
		c.errorf("value", "must be an IPv4 address or CIDR block: %q", v.s)
	}
}

func checkIPv4(c *checker, o *value) { checkIP(c, o, false) }
func checkIPv6(c *checker, o *value) { checkIP(c, o, true) }

// checkMAC requires the colon-delimited lower-case MAC-48 or EUI-64 form.
func checkMAC(c *checker, o *value) {
	v := o.get("value")
	if v == nil || v.k != kString {
		return
	}
	parts := strings.Split(v.s, ":")
	ok := len(parts) == 6 || len(parts) == 8
	for _, p := range parts {
		if len(p) != 2 || !isHex(p) || strings.ToLower(p) != p {
			ok = false
		}
	}
	if !ok {
		c.errorf("value", "must be a colon-delimited, lower-case MAC-48 or EUI-64 address: %q", v.s)
	}
}

func checkNetworkTraffic(c *checker, o *value) {
	if !o.has("src_ref") && !o.has("dst_ref") {
		c.err("", "one of src_ref or dst_ref must be present")
	}
	if a := o.get("is_active"); a != nil && a.k == kBool && a.b && o.has("end") {
		c.err("end", "must not be present when is_active is true")
	}
	c.timeOrder(o, "start", "end", false)
	if p := o.get("protocols"); p != nil && p.k == kArray {
		for i := range p.a {
			if s := p.a[i].s; s != strings.ToLower(s) {
				c.warn("protocols["+itoa(i)+"]", "should be lower case")
			}
		}
	}
}

func checkRegistryKey(c *checker, o *value) {
	atLeastOneProperty(c, o)
	vs := o.get("values")
	if vs == nil || vs.k != kArray {
		return
	}
	for i := range vs.a {
		p := "values[" + itoa(i) + "]"
		el := &vs.a[i]
		if el.k != kObject {
			continue
		}
		for _, k := range []string{"name", "data"} {
			if f := el.get(k); f != nil {
				c.str(p+"."+k, f)
			}
		}
		if dt := el.get("data_type"); dt != nil {
			c.enum(p+".data_type", dt, "windows-registry-datatype-enum")
		}
	}
}

func checkX509(c *checker, o *value) {
	atLeastOneProperty(c, o)
	c.timeOrder(o, "validity_not_before", "validity_not_after", false)
}
