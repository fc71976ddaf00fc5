package evtx

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/shieldwall/shieldwall/internal/event"
)

// fieldRef is a field whose value is buf[start:end] of the flattener.
type fieldRef struct {
	name       string
	start, end int
	kind       event.Kind
}

// flattener turns a record's XML tree into flat fields named like the
// reference python-evtx conversion:
//
//   - System: Provider_Name, Provider_Guid, EventID (a number), Version,
//     Level, Task, Opcode, Keywords, TimeCreated (SystemTime), EventRecordID,
//     ActivityID, RelatedActivityID, ProcessID_System, ThreadID, Channel,
//     Computer, SecurityUserID; empty attributes are left out.
//   - EventData: <Data Name="X"> as X; unnamed Data and Binary elements
//     are the repeated field Data (an array in Raw).
//   - UserData: every leaf element by its name.
//
// Empty element text is a Null field. Values are rendered like python-evtx
// (see appendValue) and then as an XML parser would read them back (see
// cleanXMLText). A name seen again replaces the earlier value in place, as
// in the reference's Python dict (an EventData "Channel" or "Version"
// overrides the System one).
type flattener struct {
	c      *chunk
	buf    []byte
	fields []fieldRef
	time   []byte // TimeCreated SystemTime as rendered
	ftime  uint64 // and as a FILETIME, when it was one
	recID  []byte // EventRecordID as rendered
	list   string // "Data" when unnamed Data elements were seen
	nest   int    // depth of nested Binary XML values being walked
	work   int    // nodes visited
	insts  []*instance
	ninst  int // insts used by the current record
	err    error
}

func (fl *flattener) reset(c *chunk) {
	fl.c = c
	fl.buf = fl.buf[:0]
	fl.fields = fl.fields[:0]
	fl.time = nil
	fl.ftime = 0
	fl.list = ""
	fl.recID = nil
	fl.nest = 0
	fl.work = 0
	fl.ninst = 0
	fl.err = nil
}

// each calls fn for every node of nodes, looking through template instances
// and Binary XML substitution values.
func (fl *flattener) each(nodes []xnode, vals []value, fn func(n *xnode, vals []value)) {
	for i := range nodes {
		// Templates can use templates: a small chunk can describe a
		// record that expands exponentially. Bound the work per record.
		fl.work++
		if fl.work > maxWork || len(fl.buf) > maxOutput {
			if fl.err == nil {
				fl.err = errTooLarge
			}
			return
		}
		n := &nodes[i]
		switch n.kind {
		case nInstance:
			fl.each(n.inst.tmpl.nodes, n.inst.vals, fn)
		case nSubst:
			if int(n.sub) < len(vals) && vals[n.sub].typ == vtBinXML {
				sub, err := fl.nested(vals[n.sub])
				if err != nil {
					fl.err = err
					continue
				}
				fl.nest++
				fl.each(sub, nil, fn)
				fl.nest--
				continue
			}
			fn(n, vals)
		default:
			fn(n, vals)
		}
	}
}

// Limits for one record: Binary XML values nested in one another, nodes
// visited and bytes of field values.
const (
	maxNested = 32
	maxWork   = 1 << 20
	maxOutput = 8 << 20
)

var errTooLarge = errors.New("record expands past the size limits")

func (fl *flattener) nested(v value) ([]xnode, error) {
	if fl.nest >= maxNested {
		return nil, errors.New("binary XML values nested too deep")
	}
	p := parser{c: fl.c, d: fl.c.data, pos: v.pos, end: v.pos + len(v.data)}
	if p.end-p.pos > 4+10 && p.d[p.pos] == tokFragment && p.d[p.pos+4] == tokTemplate {
		// The usual shape: one template instance, held in storage the
		// flattener reuses from record to record.
		if fl.ninst == len(fl.insts) {
			fl.insts = append(fl.insts, &instance{})
		}
		in := fl.insts[fl.ninst]
		fl.ninst++
		p.pos += 4
		if err := p.instance(in, in.vals); err != nil {
			return nil, err
		}
		in.root[0] = xnode{kind: nInstance, inst: in}
		return in.root[:], nil
	}
	return p.fragment()
}

// appendText appends the character data of nodes (not of child elements).
func (fl *flattener) appendText(nodes []xnode, vals []value) {
	fl.each(nodes, vals, func(n *xnode, vals []value) {
		switch n.kind {
		case nText, nCDATA:
			fl.buf = append(fl.buf, n.text...)
		case nCharRef:
			fl.buf = utf8.AppendRune(fl.buf, rune(n.sub))
		case nEntity:
			switch n.name {
			case "amp":
				fl.buf = append(fl.buf, '&')
			case "lt":
				fl.buf = append(fl.buf, '<')
			case "gt":
				fl.buf = append(fl.buf, '>')
			case "quot":
				fl.buf = append(fl.buf, '"')
			case "apos":
				fl.buf = append(fl.buf, '\'')
			}
		case nSubst:
			if int(n.sub) < len(vals) {
				fl.buf = appendValue(fl.buf, vals[n.sub])
			}
		}
	})
}

// add appends a field whose value is the text of nodes; empty text gives a
// Null field unless dropEmpty, which leaves the field out. Like the
// reference conversion (a Python dict), a name seen before has its value
// replaced in place, unless list is set (unnamed Data: repeated fields).
func (fl *flattener) add(name string, nodes []xnode, vals []value, dropEmpty, list bool) int {
	start := len(fl.buf)
	fl.appendText(nodes, vals)
	fl.buf = cleanXMLText(fl.buf, start)
	k := event.String
	if len(fl.buf) == start {
		if dropEmpty {
			return -1
		}
		k = event.Null
	}
	f := fieldRef{name: name, start: start, end: len(fl.buf), kind: k}
	if !list {
		for i := range fl.fields {
			if fl.fields[i].name == name {
				fl.fields[i] = f
				return i
			}
		}
	}
	fl.fields = append(fl.fields, f)
	return len(fl.fields) - 1
}

func (fl *flattener) root(nodes []xnode, vals []value) {
	fl.each(nodes, vals, func(n *xnode, vals []value) {
		if n.kind != nElement || n.name != "Event" {
			return
		}
		fl.each(n.kids, vals, func(k *xnode, vals []value) {
			if k.kind != nElement {
				return
			}
			switch k.name {
			case "System":
				fl.system(k.kids, vals)
			case "EventData":
				fl.eventData(k.kids, vals)
			case "UserData":
				fl.userData(k.kids, vals)
			}
		})
	})
}

func (fl *flattener) system(kids []xnode, vals []value) {
	fl.each(kids, vals, func(k *xnode, vals []value) {
		if k.kind != nElement {
			return
		}
		for i := range k.attrs {
			a := &k.attrs[i]
			name := systemAttr(k.name, a.name)
			if name == "" {
				continue
			}
			idx := fl.add(name, a.val, vals, true, false)
			if idx >= 0 && name == "TimeCreated" {
				f := fl.fields[idx]
				fl.time = fl.buf[f.start:f.end]
				fl.ftime = 0
				if len(a.val) == 1 && a.val[0].kind == nSubst && int(a.val[0].sub) < len(vals) {
					if v := vals[a.val[0].sub]; v.typ == vtFileTime && len(v.data) == 8 {
						fl.ftime = binary.LittleEndian.Uint64(v.data)
					}
				}
			}
		}
		if len(k.attrs) > 0 && len(k.kids) == 0 {
			return
		}
		idx := fl.add(k.name, k.kids, vals, false, false)
		if k.name == "EventRecordID" {
			f := fl.fields[idx]
			fl.recID = fl.buf[f.start:f.end]
		}
		if k.name == "EventID" {
			f := &fl.fields[idx]
			if _, err := strconv.ParseInt(string(fl.buf[f.start:f.end]), 10, 64); err == nil {
				f.kind = event.Number
			}
		}
	})
}

// systemAttr names the field of attribute attr of System element elem, ""
// for the attributes the reference conversion leaves out.
func systemAttr(elem, attr string) string {
	switch elem + "/" + attr {
	case "Provider/Name":
		return "Provider_Name"
	case "Provider/Guid":
		return "Provider_Guid"
	case "TimeCreated/SystemTime":
		return "TimeCreated"
	case "Correlation/ActivityID":
		return "ActivityID"
	case "Correlation/RelatedActivityID":
		return "RelatedActivityID"
	case "Execution/ProcessID":
		return "ProcessID_System"
	case "Execution/ThreadID":
		return "ThreadID"
	case "Security/UserID":
		return "SecurityUserID"
	}
	return ""
}

func (fl *flattener) eventData(kids []xnode, vals []value) {
	fl.each(kids, vals, func(k *xnode, vals []value) {
		if k.kind != nElement {
			return
		}
		name := ""
		for i := range k.attrs {
			if a := &k.attrs[i]; a.name == "Name" {
				if len(a.val) == 1 && a.val[0].kind == nText {
					name = a.val[0].text // static in the template: no copy
					continue
				}
				start := len(fl.buf)
				fl.appendText(a.val, vals)
				name = string(fl.buf[start:])
				fl.buf = fl.buf[:start]
			}
		}
		if name == "" {
			fl.list = "Data"
			fl.add("Data", k.kids, vals, false, true)
			return
		}
		fl.add(name, k.kids, vals, false, false)
	})
}

func (fl *flattener) userData(kids []xnode, vals []value) {
	fl.each(kids, vals, func(k *xnode, vals []value) {
		if k.kind == nElement {
			fl.userElement(k, vals)
		}
	})
}

// userElement adds a leaf element as a field named by its tag, and walks
// the children of the others. The children are expanded once (a nested
// Binary XML value is parsed once per visit), so the walk stays linear.
func (fl *flattener) userElement(k *xnode, vals []value) {
	if fl.nest >= maxNested {
		if fl.err == nil {
			fl.err = errors.New("user data nested too deep")
		}
		return
	}
	fl.nest++
	leaf := true
	fl.each(k.kids, vals, func(n *xnode, vals []value) {
		if n.kind == nElement {
			leaf = false
			fl.userElement(n, vals)
		}
	})
	fl.nest--
	if leaf {
		fl.add(k.name, k.kids, vals, false, false)
	}
}

// cleanXMLText applies to buf[start:] what python-evtx's XML escaping and
// an XML parser do to text: control characters other than tab, newline and
// carriage return are dropped, and line ends become \n.
func cleanXMLText(buf []byte, start int) []byte {
	clean := true
	for _, c := range buf[start:] {
		if c < 0x20 && c != '\t' && c != '\n' {
			clean = false
			break
		}
	}
	if clean {
		return buf
	}
	out := buf[:start]
	s := buf[start:]
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRune(s[i:])
		switch {
		case r == '\r':
			out = append(out, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
		case r < 0x20 && r != '\t' && r != '\n':
		default:
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return out
}
