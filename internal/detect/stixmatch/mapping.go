package stixmatch

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/stix/pattern"
)

// The field mapping from a flat event to STIX cyber observables. Names are
// exact (case-sensitive). The first field of each role wins, except that
// every domain name, URL and e-mail address makes its own object.
//
//   - process image file: Image, process.executable, NewProcessName (4688)
//   - process command_line: CommandLine, process.command_line
//   - process pid: ProcessId, process.pid, NewProcessId (decimal or 0x hex;
//     when NewProcessId is present, ProcessId is the parent's, as in 4688)
//   - parent image file: ParentImage, process.parent.executable, ParentProcessName
//   - parent command_line: ParentCommandLine, process.parent.command_line
//   - user-account account_login: User (part after '\'), user.name,
//     SubjectUserName
//   - file hashes: Hashes / Hash ("SHA256=..,MD5=..", Sysmon), file.hash.<alg>
//     (target file) and process.hash.<alg> (image); hash names become
//     hash-algorithm-ov names (SHA256 -> SHA-256). Sysmon hashes go to the
//     target file when the event has one (events 7, 15, 23, 26), else to the image.
//   - target file: TargetFilename, ImageLoaded (Sysmon 7), file.path,
//     filename (Zeek files.log)
//   - network-traffic src_ref: SourceIp, source.ip, id.orig_h, src_ip
//   - network-traffic dst_ref: DestinationIp, destination.ip, id.resp_h, dest_ip
//   - network-traffic src_port: SourcePort, source.port, id.orig_p, src_port
//   - network-traffic dst_port: DestinationPort, destination.port, id.resp_p, dest_port
//   - (Zeek names are also taken with "_" for ".": id_orig_h, as some
//     exporters write them)
//   - network-traffic protocols[0]: Protocol, network.transport, proto (lower-cased)
//   - domain-name: QueryName, DestinationHostname, dns.question.name,
//     url.domain, destination.domain, query (Zeek), host (Zeek), dns.rrname,
//     http.hostname, tls.sni (Suricata); a trailing dot is dropped and IP
//     addresses become ipv4-addr / ipv6-addr instead
//   - url: url.full, url.original; "http://" + host + uri (Zeek http.log) and
//     http.hostname + http.url (Suricata); uri/http.url alone when absolute
//   - email-addr: email.from.address, email.to.address, mailfrom, rcptto
//   - windows-registry-key key: TargetObject; values[0].data: Details
//
// Files get name (last path element) and parent_directory_ref (a directory
// with path); processes get image_ref, parent_ref and creator_user_ref;
// IP addresses are ipv4-addr or ipv6-addr objects that network-traffic
// refers to. Each property remembers its event field as Object.Origin.
type fieldRole struct {
	role string
	prop string
}

var fieldMap = map[string]fieldRole{
	"Image": {"image", "path"}, "process.executable": {"image", "path"}, "NewProcessName": {"image", "path"},
	"CommandLine": {"process", "command_line"}, "process.command_line": {"process", "command_line"},
	"ProcessId": {"process", "pid"}, "process.pid": {"process", "pid"}, "NewProcessId": {"process", "pid"},
	"ParentImage": {"pimage", "path"}, "process.parent.executable": {"pimage", "path"}, "ParentProcessName": {"pimage", "path"},
	"ParentCommandLine": {"parent", "command_line"}, "process.parent.command_line": {"parent", "command_line"},
	"User": {"user", "account_login"}, "user.name": {"user", "account_login"}, "SubjectUserName": {"user", "account_login"},
	"Hashes": {"hashes", ""}, "Hash": {"hashes", ""},
	"TargetFilename": {"target", "path"}, "ImageLoaded": {"target", "path"}, "file.path": {"target", "path"}, "filename": {"target", "path"},
	"SourceIp": {"net", "src"}, "source.ip": {"net", "src"}, "id.orig_h": {"net", "src"}, "id_orig_h": {"net", "src"}, "src_ip": {"net", "src"},
	"DestinationIp": {"net", "dst"}, "destination.ip": {"net", "dst"}, "id.resp_h": {"net", "dst"}, "id_resp_h": {"net", "dst"}, "dest_ip": {"net", "dst"},
	"SourcePort": {"net", "src_port"}, "source.port": {"net", "src_port"}, "id.orig_p": {"net", "src_port"}, "id_orig_p": {"net", "src_port"}, "src_port": {"net", "src_port"},
	"DestinationPort": {"net", "dst_port"}, "destination.port": {"net", "dst_port"}, "id.resp_p": {"net", "dst_port"}, "id_resp_p": {"net", "dst_port"}, "dest_port": {"net", "dst_port"},
	"Protocol": {"net", "protocols"}, "network.transport": {"net", "protocols"}, "proto": {"net", "protocols"},
	"QueryName": {"domain", ""}, "DestinationHostname": {"domain", ""}, "dns.question.name": {"domain", ""},
	"url.domain": {"domain", ""}, "destination.domain": {"domain", ""}, "query": {"domain", ""},
	"dns.rrname": {"domain", ""}, "http.hostname": {"domain", ""}, "tls.sni": {"domain", ""}, "host": {"domain", ""},
	"url.full": {"url", ""}, "url.original": {"url", ""}, "uri": {"uripath", ""}, "http.url": {"uripath", ""},
	"email.from.address": {"email", ""}, "email.to.address": {"email", ""}, "mailfrom": {"email", ""}, "rcptto": {"email", ""},
	"TargetObject": {"regkey", "key"}, "Details": {"regkey", "data"},
}

// ECS hash fields: file.hash.<alg> and process.hash.<alg>.
func ecsHash(name string) (role, alg string, ok bool) {
	for _, p := range []struct{ prefix, role string }{{"file.hash.", "target"}, {"process.hash.", "image"}} {
		if a, found := strings.CutPrefix(name, p.prefix); found {
			return p.role, a, true
		}
	}
	return "", "", false
}

// hashName maps the spellings events use (SHA256, sha256, IMPHASH) to
// hash-algorithm-ov names where one exists.
func hashName(s string) string {
	switch strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(s)) {
	case "MD5":
		return "MD5"
	case "SHA1":
		return "SHA-1"
	case "SHA256":
		return "SHA-256"
	case "SHA512":
		return "SHA-512"
	case "SSDEEP":
		return "SSDEEP"
	case "TLSH":
		return "TLSH"
	}
	return strings.ToUpper(s)
}

type builder struct {
	objs  []*pattern.Object
	roles map[string]*pattern.Object
	seen  map[string]bool // type + value of multi-valued objects
}

func (b *builder) add(typ string) *pattern.Object {
	o := pattern.NewObject(typ)
	b.objs = append(b.objs, o)
	return o
}

func (b *builder) role(r, typ string) *pattern.Object {
	if o, ok := b.roles[r]; ok {
		return o
	}
	o := b.add(typ)
	b.roles[r] = o
	return o
}

// file fills a file object from a full path (Windows or POSIX).
func (b *builder) file(r, full, origin string) *pattern.Object {
	f := b.role(r, "file")
	if _, done := f.Props["name"]; done {
		return f
	}
	full = strings.TrimSpace(full)
	i := strings.LastIndexAny(full, `\/`)
	f.Set("name", full[i+1:], origin)
	if i > 0 {
		d := b.add("directory")
		d.Set("path", full[:i], origin)
		f.Set("parent_directory_ref", d, origin)
	}
	return f
}

func (b *builder) multi(typ, value, origin string) {
	value = strings.TrimSpace(value)
	if value == "" || value == "-" || b.seen[typ+"\x00"+value] {
		return
	}
	b.seen[typ+"\x00"+value] = true
	b.add(typ).Set("value", value, origin)
}

func (b *builder) ip(value, origin string) *pattern.Object {
	a, err := netip.ParseAddr(strings.TrimSpace(value))
	if err != nil {
		return nil
	}
	typ := "ipv4-addr"
	if a = a.Unmap(); a.Is6() {
		typ = "ipv6-addr"
	}
	key := typ + "\x00" + a.String()
	if o, ok := b.roles[key]; ok {
		return o
	}
	o := b.add(typ)
	o.Set("value", a.String(), origin)
	b.roles[key] = o
	return o
}

func (b *builder) hashes(f *pattern.Object, alg, value, origin string) {
	h, ok := f.Props["hashes"].(map[string]any)
	if !ok {
		h = map[string]any{}
		f.Set("hashes", h, origin)
	}
	h[hashName(alg)] = strings.TrimSpace(value)
}

// Observation maps an event to the cyber observables it describes (see the
// table above); events with none of the fields give an empty observation.
func Observation(ev *event.Event) *pattern.Observation {
	b := &builder{roles: map[string]*pattern.Object{}, seen: map[string]bool{}}
	fields := ev.Fields()
	hasTarget := false
	var host, uri, hostField string
	hasNewPid := false
	for _, f := range fields {
		if m, ok := fieldMap[f.Name]; ok && m.role == "target" {
			hasTarget = true
		}
		hasNewPid = hasNewPid || f.Name == "NewProcessId"
	}
	for _, f := range fields {
		if f.Kind == event.Null || f.Value == "" {
			continue
		}
		if r, alg, ok := ecsHash(f.Name); ok {
			b.hashes(b.role(r, "file"), alg, f.Value, f.Name)
			continue
		}
		m, ok := fieldMap[f.Name]
		if !ok {
			continue
		}
		switch m.role {
		case "image", "pimage", "target":
			b.file(m.role, f.Value, f.Name)
		case "process", "parent":
			r := m.role
			if f.Name == "ProcessId" && hasNewPid {
				r = "parent" // Security 4688: ProcessId is the creator's
			}
			p := b.role(r, "process")
			if m.prop == "pid" {
				if n, err := strconv.ParseInt(strings.TrimSpace(f.Value), 0, 64); err == nil {
					p.Set("pid", n, f.Name)
				}
			} else if _, done := p.Props[m.prop]; !done {
				p.Set(m.prop, f.Value, f.Name)
			}
		case "user":
			u := b.role("user", "user-account")
			if _, done := u.Props["account_login"]; !done {
				login := f.Value
				if i := strings.LastIndexByte(login, '\\'); i >= 0 {
					login = login[i+1:]
				}
				u.Set("account_login", login, f.Name)
				u.Set("display_name", f.Value, f.Name)
			}
		case "hashes":
			r := "image"
			if hasTarget {
				r = "target"
			}
			file := b.role(r, "file")
			for _, kv := range strings.Split(f.Value, ",") {
				if alg, v, ok := strings.Cut(kv, "="); ok {
					b.hashes(file, strings.TrimSpace(alg), v, f.Name)
				}
			}
		case "net":
			nt := b.role("net", "network-traffic")
			switch m.prop {
			case "src", "dst":
				if a := b.ip(f.Value, f.Name); a != nil {
					if _, done := nt.Props[m.prop+"_ref"]; !done {
						nt.Set(m.prop+"_ref", a, f.Name)
					}
				}
			case "src_port", "dst_port":
				if n, err := strconv.ParseInt(strings.TrimSpace(f.Value), 10, 64); err == nil {
					nt.Set(m.prop, n, f.Name)
				}
			case "protocols":
				nt.Set("protocols", []any{strings.ToLower(f.Value)}, f.Name)
			}
		case "domain":
			if f.Name == "host" {
				host, hostField = f.Value, f.Name
			}
			if f.Name == "http.hostname" {
				host, hostField = f.Value, f.Name
			}
			if _, err := netip.ParseAddr(f.Value); err == nil {
				b.ip(f.Value, f.Name)
			} else {
				b.multi("domain-name", strings.TrimSuffix(f.Value, "."), f.Name)
			}
		case "url":
			b.multi("url", f.Value, f.Name)
		case "uripath":
			uri = f.Value
		case "email":
			b.multi("email-addr", f.Value, f.Name)
		case "regkey":
			k := b.role("regkey", "windows-registry-key")
			if m.prop == "key" {
				k.Set("key", f.Value, f.Name)
			} else {
				k.Set("values", []any{map[string]any{"data": f.Value}}, f.Name)
			}
		}
	}
	if uri != "" {
		switch {
		case strings.Contains(uri, "://"):
			b.multi("url", uri, "uri")
		case host != "":
			if !strings.HasPrefix(uri, "/") {
				uri = "/" + uri
			}
			b.multi("url", "http://"+host+uri, hostField+"+uri")
		}
	}
	b.link()
	return &pattern.Observation{Time: ev.Time, Objects: b.objs}
}

// link adds the references between the role objects.
func (b *builder) link() {
	ref := func(from, prop, to string) {
		f, t := b.roles[from], b.roles[to]
		if f != nil && t != nil {
			f.Set(prop, t, "")
		}
	}
	if b.roles["image"] != nil || b.roles["parent"] != nil || b.roles["pimage"] != nil {
		b.role("process", "process")
	}
	if b.roles["pimage"] != nil {
		b.role("parent", "process")
	}
	ref("process", "image_ref", "image")
	ref("parent", "image_ref", "pimage")
	ref("process", "parent_ref", "parent")
	ref("process", "creator_user_ref", "user")
}
