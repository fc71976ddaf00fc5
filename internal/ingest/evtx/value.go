package evtx

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Value types of substitution values.
const (
	vtNull     = 0x00
	vtWString  = 0x01
	vtAnsi     = 0x02
	vtInt8     = 0x03
	vtUint8    = 0x04
	vtInt16    = 0x05
	vtUint16   = 0x06
	vtInt32    = 0x07
	vtUint32   = 0x08
	vtInt64    = 0x09
	vtUint64   = 0x0a
	vtReal32   = 0x0b
	vtReal64   = 0x0c
	vtBool     = 0x0d
	vtBinary   = 0x0e
	vtGUID     = 0x0f
	vtSizeT    = 0x10
	vtFileTime = 0x11
	vtSysTime  = 0x12
	vtSID      = 0x13
	vtHex32    = 0x14
	vtHex64    = 0x15
	vtHandle   = 0x20
	vtBinXML   = 0x21
	vtEvtXML   = 0x23
	vtArray    = 0x80
)

// utf16String decodes little-endian UTF-16 without an intermediate slice.
func utf16String(b []byte) string {
	ascii := true
	for i := 0; i+1 < len(b); i += 2 {
		if b[i+1] != 0 || b[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		buf := make([]byte, len(b)/2)
		for i := range buf {
			buf[i] = b[2*i]
		}
		return string(buf)
	}
	return string(appendUTF16(nil, b))
}

// appendUTF16 appends the UTF-8 form of little-endian UTF-16 b to dst.
func appendUTF16(dst, b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		r := rune(binary.LittleEndian.Uint16(b[i:]))
		switch {
		case r < 0x80:
			dst = append(dst, byte(r))
			continue
		case utf16.IsSurrogate(r):
			if r < 0xdc00 && i+3 < len(b) {
				r2 := rune(binary.LittleEndian.Uint16(b[i+2:]))
				if r2 >= 0xdc00 && r2 < 0xe000 {
					r = utf16.DecodeRune(r, r2)
					i += 2
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}

// trimNUL drops trailing UTF-16 NUL characters.
func trimNUL16(b []byte) []byte {
	for len(b) >= 2 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
		b = b[:len(b)-2]
	}
	return b
}

var filetimeEpoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// filetime converts 100 ns ticks since 1601 to a time the way python-evtx
// does: through a float of Unix seconds, rounded half-even to microseconds
// (so the microseconds can differ by one from exact arithmetic).
func filetime(v uint64) time.Time {
	f := float64(v)*1e-7 - 11644473600
	sec, frac := math.Modf(f)
	us := math.RoundToEven(frac * 1e6)
	if us >= 1e6 {
		sec++
		us -= 1e6
	} else if us < 0 {
		sec--
		us += 1e6
	}
	if sec < -1e11 || sec > 1e11 {
		return filetimeEpoch
	}
	return time.Unix(int64(sec), int64(us)*1000).UTC()
}

// appendPyTime renders t like Python's str(datetime): microseconds only
// when not zero.
func appendPyTime(dst []byte, t time.Time) []byte {
	dst = t.AppendFormat(dst, "2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		s := strconv.Itoa(us)
		for i := len(s); i < 6; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	return dst
}

// appendPyFloat renders f like Python's repr(float).
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		return append(dst, ".0"...)
	}
	exp := math.Floor(math.Log10(math.Abs(f)))
	if exp < -4 || exp >= 16 {
		s := strconv.AppendFloat(nil, f, 'e', -1, 64)
		// Go writes e-05 / e+20, Python e-05 / e+20: both pad to 2 digits.
		return append(dst, s...)
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

func appendHex(dst []byte, v uint64, digits int) []byte {
	dst = append(dst, '0', 'x')
	for i := digits - 1; i >= 0; i-- {
		dst = append(dst, hexDigits[(v>>(4*uint(i)))&0xf])
	}
	return dst
}

func appendGUID(dst, b []byte) []byte {
	if len(b) < 16 {
		return dst
	}
	hex2 := func(dst []byte, x byte) []byte { return append(dst, hexDigits[x>>4], hexDigits[x&0xf]) }
	dst = append(dst, '{')
	d1 := binary.LittleEndian.Uint32(b)
	for i := 3; i >= 0; i-- {
		dst = hex2(dst, byte(d1>>(8*uint(i))))
	}
	dst = append(dst, '-')
	dst = hex2(dst, b[5])
	dst = hex2(dst, b[4])
	dst = append(dst, '-')
	dst = hex2(dst, b[7])
	dst = hex2(dst, b[6])
	dst = append(dst, '-')
	dst = hex2(dst, b[8])
	dst = hex2(dst, b[9])
	dst = append(dst, '-')
	for _, x := range b[10:16] {
		dst = hex2(dst, x)
	}
	return append(dst, '}')
}

func appendSID(dst, b []byte) []byte {
	if len(b) < 8 {
		return dst
	}
	n := int(b[1])
	var auth uint64
	for _, x := range b[2:8] {
		auth = auth<<8 | uint64(x)
	}
	dst = append(dst, "S-"...)
	dst = strconv.AppendUint(dst, uint64(b[0]), 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 0; i < n && 8+4*i+4 <= len(b); i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return dst
}

// appendScalar renders one value of a non-array type like python-evtx.
func appendScalar(dst []byte, typ byte, b []byte) []byte {
	le := binary.LittleEndian
	switch typ {
	case vtNull:
		return dst
	case vtWString:
		return appendUTF16(dst, trimNUL16(b))
	case vtAnsi:
		for len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
		for _, c := range b {
			dst = utf8.AppendRune(dst, rune(c))
		}
		return dst
	case vtInt8:
		if len(b) >= 1 {
			return strconv.AppendInt(dst, int64(int8(b[0])), 10)
		}
	case vtUint8:
		if len(b) >= 1 {
			return strconv.AppendUint(dst, uint64(b[0]), 10)
		}
	case vtInt16:
		if len(b) >= 2 {
			return strconv.AppendInt(dst, int64(int16(le.Uint16(b))), 10)
		}
	case vtUint16:
		if len(b) >= 2 {
			return strconv.AppendUint(dst, uint64(le.Uint16(b)), 10)
		}
	case vtInt32:
		if len(b) >= 4 {
			return strconv.AppendInt(dst, int64(int32(le.Uint32(b))), 10)
		}
	case vtUint32:
		if len(b) >= 4 {
			return strconv.AppendUint(dst, uint64(le.Uint32(b)), 10)
		}
	case vtInt64:
		if len(b) >= 8 {
			return strconv.AppendInt(dst, int64(le.Uint64(b)), 10)
		}
	case vtUint64:
		if len(b) >= 8 {
			return strconv.AppendUint(dst, le.Uint64(b), 10)
		}
	case vtReal32:
		if len(b) >= 4 {
			return appendPyFloat(dst, float64(math.Float32frombits(le.Uint32(b))))
		}
	case vtReal64:
		if len(b) >= 8 {
			return appendPyFloat(dst, math.Float64frombits(le.Uint64(b)))
		}
	case vtBool:
		if len(b) >= 1 {
			for _, x := range b {
				if x != 0 {
					return append(dst, "True"...)
				}
			}
			return append(dst, "False"...)
		}
	case vtBinary:
		return base64.StdEncoding.AppendEncode(dst, b)
	case vtGUID:
		return appendGUID(dst, b)
	case vtSizeT:
		if len(b) == 8 {
			return appendHex(dst, le.Uint64(b), 16)
		}
		if len(b) == 4 {
			return appendHex(dst, uint64(le.Uint32(b)), 8)
		}
	case vtFileTime:
		if len(b) >= 8 {
			return appendPyTime(dst, filetime(le.Uint64(b)))
		}
	case vtSysTime:
		if len(b) >= 16 {
			t := time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
				int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])),
				int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC)
			return appendPyTime(dst, t)
		}
	case vtSID:
		return appendSID(dst, b)
	case vtHex32:
		if len(b) >= 4 {
			return appendHex(dst, uint64(le.Uint32(b)), 8)
		}
	case vtHex64:
		if len(b) >= 8 {
			return appendHex(dst, le.Uint64(b), 16)
		}
	default:
		return base64.StdEncoding.AppendEncode(dst, b)
	}
	return dst
}

// scalarSize is the fixed size of one element of an array type, 0 for
// variable-size elements.
func scalarSize(typ byte) int {
	switch typ {
	case vtInt8, vtUint8:
		return 1
	case vtInt16, vtUint16:
		return 2
	case vtInt32, vtUint32, vtReal32, vtBool, vtHex32:
		return 4
	case vtInt64, vtUint64, vtReal64, vtFileTime, vtHex64:
		return 8
	case vtGUID, vtSysTime:
		return 16
	}
	return 0
}
