package evtx

// appendValue renders a substitution value (arrays included) as text.
func appendValue(dst []byte, v value) []byte {
	if v.typ&vtArray == 0 {
		return appendScalar(dst, v.typ, v.data)
	}
	et := v.typ &^ vtArray
	switch et {
	case vtWString:
		// python-evtx: each NUL-terminated string as <string>s</string>\n.
		b := v.data
		for len(b) >= 2 {
			end := 0
			for end+1 < len(b) && (b[end] != 0 || b[end+1] != 0) {
				end += 2
			}
			dst = append(dst, "<string>"...)
			dst = appendUTF16(dst, b[:end])
			dst = append(dst, "</string>\n"...)
			if end+2 > len(b) {
				break
			}
			b = b[end+2:]
		}
		return dst
	case vtAnsi:
		return appendScalar(dst, vtAnsi, v.data)
	}
	sz := scalarSize(et)
	if sz == 0 {
		return appendScalar(dst, vtBinary, v.data)
	}
	dst = append(dst, '[')
	for i := 0; i+sz <= len(v.data); i += sz {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = appendScalar(dst, et, v.data[i:i+sz])
	}
	return append(dst, ']')
}
