package ioc

import (
	"encoding/binary"
	"encoding/hex"
	"strings"
	"time"
	"unsafe"
)

// Refs are stored compactly and a Ref is built only when a look-up hits:
//
//	flags      1 byte: refIDMask (how the id is kept) and the has* bits
//	id         refIDSTIX: type code (1 byte) and the UUID (16 bytes);
//	           refIDString: uvarint index in the string table
//	confidence 1 byte, confidence+1 (0: unknown); 255 is followed by a
//	           zigzag varint of a confidence outside -1..253
//	name       uvarint index in the string table      (refHasName)
//	labels     uvarint index of the label set         (refHasLabels)
//	valid_from zigzag varint Unix seconds, then when refFromNanos the
//	           sub-second part as a uvarint: milliseconds<<1, or
//	           nanoseconds<<1|1 (refHasFrom)
//	valid_until the same                               (refHasUntil)
//
// Times are counted from refEpoch, so that those of recent years take four
// bytes. Names, labels and ids that are not "type--uuid" are interned, so a name
// shared by many indicators is stored once.

const (
	refIDNone   = 0
	refIDSTIX   = 1
	refIDString = 2
	// refIDShared is not a ref: the flags byte of a value's refs part that
	// lists shared refs (a uvarint count, then their uvarint indexes).
	refIDShared = 3
	refIDMask   = 3

	refHasName    = 1 << 2
	refHasLabels  = 1 << 3
	refHasFrom    = 1 << 4
	refHasUntil   = 1 << 5
	refFromNanos  = 1 << 6
	refUntilNanos = 1 << 7

	refEpoch = 1_700_000_000 // 2023-11-14T22:13:20Z
)

// stixTypes are the object types whose ids are kept as a code and a UUID;
// code i+1 is stixTypes[i]. Append only: codes are positions.
var stixTypes = [...]string{
	"indicator", "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr",
	"file", "observed-data", "malware", "infrastructure", "threat-actor",
	"attack-pattern", "campaign", "intrusion-set", "tool", "vulnerability",
	"report", "identity", "email-message", "network-traffic", "x509-certificate",
}

func stixTypeCode(t string) byte {
	for i, s := range stixTypes {
		if s == t {
			return byte(i + 1)
		}
	}
	return 0
}

// parseUUID decodes a lower-case canonical UUID (8-4-4-4-12 hex digits), the
// only form that is written back identically.
func parseUUID(s string, dst *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, lo := s[i], s[i+1]
		if !lowerHex(hi) || !lowerHex(lo) {
			return false
		}
		dst[j] = hexValue[hi]<<4 | hexValue[lo]
		j++
		i += 2
	}
	return true
}

func lowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// strTable interns strings and label sets while building.
type strTable struct {
	strs   []string
	strIdx map[string]uint32
	sets   [][]string
	setIdx map[string]uint32
}

func (t *strTable) str(s string) uint32 {
	if t.strIdx == nil {
		t.strIdx = make(map[string]uint32)
	}
	if i, ok := t.strIdx[s]; ok {
		return i
	}
	s = strings.Clone(s) // do not keep a caller's larger backing array
	i := uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.strIdx[s] = i
	return i
}

func (t *strTable) set(labels []string) uint32 {
	if t.setIdx == nil {
		t.setIdx = make(map[string]uint32)
	}
	key := strings.Join(labels, "\x00")
	if i, ok := t.setIdx[key]; ok {
		return i
	}
	set := make([]string, len(labels))
	for j, l := range labels {
		set[j] = t.strs[t.str(l)]
	}
	i := uint32(len(t.sets))
	t.sets = append(t.sets, set)
	t.setIdx[key] = i
	return i
}

// appendRef appends the compact form of r.
func (t *strTable) appendRef(dst []byte, r *Ref) []byte {
	at := len(dst)
	dst = append(dst, 0)
	var flags byte
	if r.ID != "" {
		typ, uuid, ok := strings.Cut(r.ID, "--")
		var u [16]byte
		if code := stixTypeCode(typ); ok && code != 0 && parseUUID(uuid, &u) {
			flags |= refIDSTIX
			dst = append(dst, code)
			dst = append(dst, u[:]...)
		} else {
			flags |= refIDString
			dst = binary.AppendUvarint(dst, uint64(t.str(r.ID)))
		}
	}
	if c := r.Confidence; c >= -1 && c <= 253 {
		dst = append(dst, byte(c+1))
	} else {
		dst = append(dst, 255)
		dst = binary.AppendVarint(dst, int64(c))
	}
	if r.Name != "" {
		flags |= refHasName
		dst = binary.AppendUvarint(dst, uint64(t.str(r.Name)))
	}
	if len(r.Labels) > 0 {
		flags |= refHasLabels
		dst = binary.AppendUvarint(dst, uint64(t.set(r.Labels)))
	}
	if !r.ValidFrom.IsZero() {
		flags |= refHasFrom
		dst = binary.AppendVarint(dst, r.ValidFrom.Unix()-refEpoch)
		if ns := r.ValidFrom.Nanosecond(); ns != 0 {
			flags |= refFromNanos
			dst = appendNanos(dst, ns)
		}
	}
	if !r.ValidUntil.IsZero() {
		flags |= refHasUntil
		dst = binary.AppendVarint(dst, r.ValidUntil.Unix()-refEpoch)
		if ns := r.ValidUntil.Nanosecond(); ns != 0 {
			flags |= refUntilNanos
			dst = appendNanos(dst, ns)
		}
	}
	dst[at] = flags
	return dst
}

// refReader decodes refs written by appendRef; the data was written by this
// package, so it is trusted.
type refReader struct {
	strs []string
	sets [][]string
}

func uvarint(b []byte) (uint64, []byte) {
	v, n := binary.Uvarint(b)
	return v, b[n:]
}

func varint(b []byte) (int64, []byte) {
	v, n := binary.Varint(b)
	return v, b[n:]
}

// idBuf holds the text of a "type--uuid" id: the longest type name, "--"
// and a UUID.
type idBuf [maxTypeLen + 2 + 36]byte

const maxTypeLen = 20

// decode reads one ref from b into r and returns the rest of b. A STIX id
// is written into idb, which must not be modified afterwards, when not nil.
func (rr *refReader) decode(b []byte, r *Ref, idb *idBuf) []byte {
	flags := b[0]
	b = b[1:]
	*r = Ref{}
	switch flags & refIDMask {
	case refIDSTIX:
		if idb != nil {
			n := formatID(idb, b[:17])
			r.ID = unsafe.String(&idb[0], n)
		} else {
			var local idBuf
			n := formatID(&local, b[:17])
			r.ID = string(local[:n])
		}
		b = b[17:]
	case refIDString:
		var i uint64
		i, b = uvarint(b)
		r.ID = rr.strs[i]
	}
	if c := b[0]; c != 255 {
		r.Confidence = int(c) - 1
		b = b[1:]
	} else {
		var c int64
		c, b = varint(b[1:])
		r.Confidence = int(c)
	}
	var v uint64
	if flags&refHasName != 0 {
		v, b = uvarint(b)
		r.Name = rr.strs[v]
	}
	if flags&refHasLabels != 0 {
		v, b = uvarint(b)
		r.Labels = rr.sets[v]
	}
	if flags&refHasFrom != 0 {
		r.ValidFrom, b = decodeTime(b, flags&refFromNanos != 0)
	}
	if flags&refHasUntil != 0 {
		r.ValidUntil, b = decodeTime(b, flags&refUntilNanos != 0)
	}
	return b
}

func decodeTime(b []byte, nanos bool) (time.Time, []byte) {
	s, b := varint(b)
	var ns uint64
	if nanos {
		ns, b = uvarint(b)
		if ns&1 == 0 {
			ns = (ns >> 1) * 1e6
		} else {
			ns >>= 1
		}
	}
	return time.Unix(s+refEpoch, int64(ns)).UTC(), b
}

// appendNanos writes a sub-second part; whole milliseconds, the usual
// precision of STIX timestamps, take two bytes.
func appendNanos(dst []byte, ns int) []byte {
	if ns%1e6 == 0 {
		return binary.AppendUvarint(dst, uint64(ns/1e6)<<1)
	}
	return binary.AppendUvarint(dst, uint64(ns)<<1|1)
}

// uvarintLen is the length of the (u)varint at the start of b.
func uvarintLen(b []byte) int {
	for i, c := range b {
		if c < 0x80 {
			return i + 1
		}
	}
	return len(b)
}

// refsLen returns the length of the refs part (one ref, or a list of
// shared ones) at the start of b.
func refsLen(b []byte) int {
	flags := b[0]
	i := 1
	switch flags & refIDMask {
	case refIDShared:
		n, k := binary.Uvarint(b[1:])
		i += k
		for range n {
			i += uvarintLen(b[i:])
		}
		return i
	case refIDSTIX:
		i += 17
	case refIDString:
		i += uvarintLen(b[i:])
	}
	if b[i] == 255 {
		i++
		i += uvarintLen(b[i:])
	} else {
		i++
	}
	for _, bit := range [...]byte{refHasName, refHasLabels, refHasFrom, refFromNanos, refHasUntil, refUntilNanos} {
		if flags&bit != 0 {
			i += uvarintLen(b[i:])
		}
	}
	return i
}

// formatID writes the "type--uuid" id of a type code and UUID into id and
// returns its length.
func formatID(id *idBuf, b []byte) int {
	n := copy(id[:], stixTypes[b[0]-1])
	n += copy(id[n:], "--")
	hex.Encode(id[n:], b[1:5])
	id[n+8] = '-'
	hex.Encode(id[n+9:], b[5:7])
	id[n+13] = '-'
	hex.Encode(id[n+14:], b[7:9])
	id[n+18] = '-'
	hex.Encode(id[n+19:], b[9:11])
	id[n+23] = '-'
	hex.Encode(id[n+24:], b[11:17])
	return n + 36
}
