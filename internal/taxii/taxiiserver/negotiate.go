package taxiiserver

import (
	"mime"
	"strconv"
	"strings"
)

const taxiiType = "application/taxii+json"

// acceptsTAXII reports whether Accept header values admit TAXII 2.1: no
// header at all, or a media range with q > 0 among "*/*", "application/*",
// "application/taxii+json" and "application/taxii+json;version=2.1".
// Parameter names and media types are case-insensitive and whitespace
// around separators is tolerated.
func acceptsTAXII(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			if acceptsRange(part) {
				return true
			}
		}
	}
	return false
}

// acceptsRange judges one media range of an Accept header.
func acceptsRange(part string) bool {
	part = strings.TrimSpace(part)
	if part == "" {
		return false
	}
	typ, params, ok := parseMediaType(part)
	if !ok {
		return false
	}
	if q, ok := params["q"]; ok {
		f, err := strconv.ParseFloat(q, 64)
		if err != nil || f <= 0 {
			return false
		}
	}
	switch typ {
	case "*/*", "application/*":
		return true
	case taxiiType:
		v, ok := params["version"]
		return !ok || v == "2.1"
	}
	return false
}

// isTAXIIContentType reports whether a Content-Type is TAXII 2.1 exactly:
// application/taxii+json with version=2.1.
func isTAXIIContentType(ct string) bool {
	typ, params, ok := parseMediaType(ct)
	return ok && typ == taxiiType && params["version"] == "2.1"
}

// parseMediaType parses "type/subtype; name=value; ..." with mime, which
// lower-cases the type and parameter names, tolerates whitespace around
// separators and unquotes values.
func parseMediaType(s string) (typ string, params map[string]string, ok bool) {
	t, p, err := mime.ParseMediaType(s)
	return t, p, err == nil
}
