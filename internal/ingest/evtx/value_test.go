package evtx

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/shieldwall/shieldwall/internal/event"
)

func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestAppendValue(t *testing.T) {
	guid := []byte{0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9}
	sid := cat([]byte{1, 5, 0, 0, 0, 0, 0, 5}, le32(21), le32(3583694148), le32(1414552638), le32(2922671848), le32(1000))
	systime := cat(le16(2019), le16(4), le16(6), le16(27), le16(15), le16(57), le16(25), le16(868))
	for _, tc := range []struct {
		name string
		v    value
		want string
	}{
		{"null", value{typ: vtNull}, ""},
		{"wstring", value{typ: vtWString, data: utf16le("C:\\Windows\\é😀")}, "C:\\Windows\\é😀"},
		{"wstring trailing NUL", value{typ: vtWString, data: utf16le("abc\x00")}, "abc"},
		{"ansi", value{typ: vtAnsi, data: []byte("abc\x00")}, "abc"},
		{"int8", value{typ: vtInt8, data: []byte{0xff}}, "-1"},
		{"uint8", value{typ: vtUint8, data: []byte{0xff}}, "255"},
		{"int16", value{typ: vtInt16, data: le16(0x8000)}, "-32768"},
		{"uint16", value{typ: vtUint16, data: le16(18456)}, "18456"},
		{"int32", value{typ: vtInt32, data: le32(0xfffffffe)}, "-2"},
		{"uint32", value{typ: vtUint32, data: le32(2147954407)}, "2147954407"},
		{"int64", value{typ: vtInt64, data: le64(math.MaxUint64)}, "-1"},
		{"uint64", value{typ: vtUint64, data: le64(math.MaxUint64)}, "18446744073709551615"},
		{"real32", value{typ: vtReal32, data: le32(math.Float32bits(0.1))}, "0.10000000149011612"},
		{"real64 integral", value{typ: vtReal64, data: le64(math.Float64bits(100))}, "100.0"},
		{"real64", value{typ: vtReal64, data: le64(math.Float64bits(-1.5))}, "-1.5"},
		{"real64 small", value{typ: vtReal64, data: le64(math.Float64bits(1e-05))}, "1e-05"},
		{"bool true", value{typ: vtBool, data: le32(1)}, "True"},
		{"bool false", value{typ: vtBool, data: le32(0)}, "False"},
		{"binary", value{typ: vtBinary, data: []byte{0x18, 0x48, 0, 0}}, "GEgAAA=="},
		{"guid", value{typ: vtGUID, data: guid}, "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},
		{"sizet 64", value{typ: vtSizeT, data: le64(0x7ff6a1b2c3d4)}, "0x00007ff6a1b2c3d4"},
		{"sizet 32", value{typ: vtSizeT, data: le32(0x5a801260)}, "0x5a801260"},
		{"filetime", value{typ: vtFileTime, data: le64(132036460208688640)}, "2019-05-29 23:27:00.868864"},
		{"filetime whole second", value{typ: vtFileTime, data: le64(116444736000000000)}, "1970-01-01 00:00:00"},
		{"systemtime", value{typ: vtSysTime, data: systime}, "2019-04-27 15:57:25.868000"},
		{"sid", value{typ: vtSID, data: sid}, "S-1-5-21-3583694148-1414552638-2922671848-1000"},
		{"hex32", value{typ: vtHex32, data: le32(0x100)}, "0x00000100"},
		{"hex64", value{typ: vtHex64, data: le64(0xf4be)}, "0x000000000000f4be"},
		{"string array", value{typ: vtArray | vtWString, data: utf16le("sa\x00\x001\x00")}, "<string>sa</string>\n<string></string>\n<string>1</string>\n"},
		{"uint32 array", value{typ: vtArray | vtUint32, data: cat(le32(1), le32(20))}, "[1, 20]"},
		{"short int32", value{typ: vtInt32, data: []byte{1}}, ""},
		{"unknown type", value{typ: 0x3f, data: []byte{1, 2}}, "AQI="},
	} {
		if got := string(appendValue(nil, tc.v)); got != tc.want {
			t.Errorf("appendValue(%s %#x % x) = %q, want %q", tc.name, tc.v.typ, tc.v.data, got, tc.want)
		}
	}
}

func TestFiletime(t *testing.T) {
	for _, tc := range []struct {
		ticks     uint64
		py, exact string
	}{
		// python-evtx (a float of Unix seconds) says .868864, exact is .8688636.
		{132036460208688636, "2019-05-29 23:27:00.868864", "2019-05-29T23:27:00.8688636Z"},
		{0, "1601-01-01 00:00:00", "1601-01-01T00:00:00Z"},
	} {
		if got := string(appendPyTime(nil, filetime(tc.ticks))); got != tc.py {
			t.Errorf("filetime(%d) = %s, want %s", tc.ticks, got, tc.py)
		}
		if got := exactFiletime(tc.ticks).Format(time.RFC3339Nano); got != tc.exact {
			t.Errorf("exactFiletime(%d) = %s, want %s", tc.ticks, got, tc.exact)
		}
	}
}

func TestCleanXMLText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\r\nb\rc\n", "a\nb\nc\n"},
		{"x\x00y\x01\x1fz\t", "xyz\t"},
		{"\u0094-", "\u0094-"}, // C1 controls stay, as in the reference
	} {
		buf := append([]byte("prefix"), tc.in...)
		if got := string(cleanXMLText(buf, len("prefix"))); got != "prefix"+tc.want {
			t.Errorf("cleanXMLText(%q) = %q, want %q", tc.in, got, "prefix"+tc.want)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	fields := []event.Field{
		{Name: "EventID", Value: "4624", Kind: event.Number},
		{Name: "Data", Value: "a\"b\\c\n\x01\xff"},
		{Name: "Empty", Kind: event.Null},
		{Name: "Data", Kind: event.Null},
		{Name: "Single", Value: "x"},
	}
	raw := appendJSON(nil, fields, "Data")
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("appendJSON = %s: %v", raw, err)
	}
	want := `{"EventID":4624,"Data":["a\"b\\c\n\u0001\ufffd",null],"Empty":null,"Single":"x"}`
	if string(raw) != want {
		t.Errorf("appendJSON = %s, want %s", raw, want)
	}
	one := appendJSON(nil, fields[4:], "Single")
	if string(one) != `{"Single":["x"]}` {
		t.Errorf("appendJSON(list) = %s, want {\"Single\":[\"x\"]}", one)
	}
}
