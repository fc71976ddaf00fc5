package pattern

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"
)

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "# ") {
			out = append(out, l)
		}
	}
	return out
}

// TestParseExamples parses every example and checks that the canonical
// rendering parses back to the same rendering.
func TestParseExamples(t *testing.T) {
	for _, src := range readLines(t, "testdata/spec-examples.txt") {
		p, err := Parse(src)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want success", src, err)
			continue
		}
		roundTrip(t, src, p)
	}
}

func roundTrip(t *testing.T, src string, p *Pattern) {
	t.Helper()
	s := p.String()
	p2, err := Parse(s)
	if err != nil {
		t.Errorf("Parse(String(Parse(%q))) = %v; rendering was %q", src, err, s)
		return
	}
	if s2 := p2.String(); s2 != s {
		t.Errorf("rendering of %q is not stable: %q then %q", src, s, s2)
	}
}

func TestParseCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[ file:name == 'a' ]", "[file:name = 'a']"},
		{"[file:size <> +5]", "[file:size != 5]"},
		{"[a-b:c = 1] OR [a-b:c = 2] FOLLOWEDBY [a-b:c = 3] AND [a-b:c = 4]",
			"[a-b:c = 1] OR [a-b:c = 2] FOLLOWEDBY [a-b:c = 3] AND [a-b:c = 4]"},
		{"([a-b:c = 1] OR [a-b:c = 2]) AND [a-b:c = 3]", "([a-b:c = 1] OR [a-b:c = 2]) AND [a-b:c = 3]"},
		{"[a-b:c = 1] FOLLOWEDBY ([a-b:c = 2] FOLLOWEDBY [a-b:c = 3])", "[a-b:c = 1] FOLLOWEDBY ([a-b:c = 2] FOLLOWEDBY [a-b:c = 3])"},
		{"(([a-b:c = 1] FOLLOWEDBY [a-b:c = 2]) FOLLOWEDBY [a-b:c = 3])", "[a-b:c = 1] FOLLOWEDBY [a-b:c = 2] FOLLOWEDBY [a-b:c = 3]"},
		{"([a-b:c = 1] AND [a-b:c = 2]) WITHIN 5 SECONDS", "([a-b:c = 1] AND [a-b:c = 2]) WITHIN 5 SECONDS"},
		{"[a-b:c = 1 AND (a-b:d = 2 OR a-b:e = 3)]", "[a-b:c = 1 AND (a-b:d = 2 OR a-b:e = 3)]"},
		{"[a-b:c = 1 OR a-b:d = 2 AND a-b:e = 3]", "[a-b:c = 1 OR a-b:d = 2 AND a-b:e = 3]"},
		{"[file:hashes.'MD5' = 'cead3f77f6cda6ec00f57d76c9a6879f']", "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']"},
		{"[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7]", "[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7]"},
		{"[x-a:b = 1.50]", "[x-a:b = 1.5]"},
		{"[x-a:b = h'FFD8']", "[x-a:b = h'ffd8']"},
		{"[x-a:b = 'it\\'s']", "[x-a:b = 'it\\'s']"},
		{"[x-a:b NOT LIKE 'a%']", "[x-a:b NOT LIKE 'a%']"},
		{"[NOT EXISTS x-a:b]", "[NOT EXISTS x-a:b]"},
		{"[x-a:b IN ('a','b' , 1)]", "[x-a:b IN ('a', 'b', 1)]"},
		{"[x-a:b = 1] WITHIN +2.50 SECONDS", "[x-a:b = 1] WITHIN 2.50 SECONDS"},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) = %v, want %q", tt.in, err, tt.want)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTree(t *testing.T) {
	p, err := Parse("[a-b:c = 1] OR [a-b:c = 2] AND [a-b:c = 3] FOLLOWEDBY [a-b:c = 4] WITHIN 3 SECONDS")
	if err != nil {
		t.Fatal(err)
	}
	fb, ok := p.Root.(*ObsBinary)
	if !ok || fb.Op != FollowedBy {
		t.Fatalf("root = %#v, want FOLLOWEDBY", p.Root)
	}
	or, ok := fb.Left.(*ObsBinary)
	if !ok || or.Op != ObsOr {
		t.Fatalf("left of FOLLOWEDBY = %#v, want OR", fb.Left)
	}
	if and, ok := or.Right.(*ObsBinary); !ok || and.Op != ObsAnd {
		t.Fatalf("right of OR = %#v, want AND", or.Right)
	}
	if q, ok := fb.Right.(*ObsQualified); !ok || q.Qual.Kind != Within || q.Qual.Window.Seconds() != 3 {
		t.Fatalf("right of FOLLOWEDBY = %#v, want [..] WITHIN 3 SECONDS", fb.Right)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in        string
		off       int
		line, col int
		msg       string // substring
	}{
		{"", 0, 1, 1, "want '[' or '('"},
		{"   ", 3, 1, 4, "end of pattern"},
		{"[file:name = 'x'", 16, 1, 17, "want ']'"},
		{"[file:name = 'x'] AND", 21, 1, 22, "end of pattern"},
		{"[file:name == ]", 14, 1, 15, "want a literal"},
		{"[file:name = 'x] ", 13, 1, 14, "unterminated string"},
		{`[file:name = 'a\b']`, 15, 1, 16, "invalid escape"},
		{"[file:size > true]", 13, 1, 14, "cannot compare a boolean"},
		{"[File:name = 'x']", 1, 1, 2, "type name must"},
		{"[ab:name = 'x']", 1, 1, 2, "3 to 250"},
		{"[file:Name = 'x']", 1, 1, 2, "property \"Name\""},
		{"[file:name MATCHES '(?=x)']", 19, 1, 20, "RE2"},
		{"[ipv4-addr:value ISSUBSET 'nope']", 26, 1, 27, "CIDR"},
		{"[ipv4-addr:value ISSUBSET 10]", 26, 1, 27, "want a string after ISSUBSET"},
		{"[file:name = 'x'] WITHIN 0 SECONDS", 25, 1, 26, "greater than 0"},
		{"[file:name = 'x'] WITHIN 5 MINUTES", 27, 1, 28, "want SECONDS"},
		{"[file:name = 'x'] REPEATS 0 TIMES", 26, 1, 27, "from 1 to"},
		{"[file:name = 'x'] REPEATS 1.5 TIMES", 26, 1, 27, "positive integer"},
		{"[file:name = 'x'] START t'2016-02-01T00:00:00Z' STOP t'2016-01-01T00:00:00Z'", 53, 1, 54, "later than START"},
		{"[file:name = 'x'] START t'2016-02-01T00:00:00Z'", 47, 1, 48, "want STOP"},
		{"[file:hashes.MD5 = 'abc']", 19, 1, 20, "32 hex digits"},
		{"[file:hashes.'SHA-256' IN ('aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f', 'zz')]", 95, 1, 96, "64 hex digits"},
		{"[file:name = t'2016-13-01T00:00:00Z']", 13, 1, 14, "timestamp"},
		{"[file:name = t'2016-01-01T00:00:00+01:00']", 13, 1, 14, "timestamp"},
		{"[file:foo-bar = 1]", 6, 1, 7, "quote it"},
		{"[file:name = 'x'] $", 18, 1, 19, "unexpected character"},
		{"[file:name = 'x']\n  AND [", 25, 2, 8, "end of pattern"},
		{"[file:name = 01]", 13, 1, 14, "leading zero"},
		{"[NOT file:name = 'x']", 5, 1, 6, "want EXISTS"},
		{"[file:name IN ('a' 'b')]", 19, 1, 20, "want ','"},
		{"[file:name IN 'a']", 14, 1, 15, "want '('"},
		{"[file:name = b'abc']", 13, 1, 14, "base64"},
		{"[file:name = h'abc']", 13, 1, 14, "hex digits"},
		{"[file:name = 'x'] [file:name = 'y']", 18, 1, 19, "want AND, OR"},
		{"[file:name = 'x' FOLLOWEDBY file:name = 'y']", 17, 1, 18, "want ']'"},
		{"[file:name = 'x'] AND file:name = 'y'", 22, 1, 23, "want '[' or '('"},
		{"[file: = 'x']", 7, 1, 8, "want a property name"},
		{"[file:name[x] = 'x']", 11, 1, 12, "list index"},
		{"/* open", 0, 1, 1, "unterminated comment"},
		{"[file:name = 'x'] WITHIN 5 SECONDS START", 40, 1, 41, "timestamp"},
		{"[file:name = 99999999999999999999]", 13, 1, 14, "out of range"},
		{"[é:name = 'x']", 1, 1, 2, "unexpected character"},
		{"[x-a:b = 'é' AND]", 17, 1, 17, "want an object path"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want *SyntaxError at %d", tt.in, err, tt.off)
			continue
		}
		if se.Offset != tt.off || se.Line != tt.line || se.Col != tt.col || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Parse(%q) = %d:%d off %d %q, want %d:%d off %d containing %q",
				tt.in, se.Line, se.Col, se.Offset, se.Msg, tt.line, tt.col, tt.off, tt.msg)
		}
	}
}

func TestParseDepthLimit(t *testing.T) {
	deep := strings.Repeat("(", 500) + "[x-a:b = 1]" + strings.Repeat(")", 500)
	if _, err := Parse(deep); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("Parse(500 nested parentheses) = %v, want a nesting error", err)
	}
	ok := strings.Repeat("(", 50) + "[x-a:b = 1]" + strings.Repeat(")", 50)
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse(50 nested parentheses) = %v, want success", err)
	}
}

func TestValidateHandBuilt(t *testing.T) {
	path := ObjectPath{ObjectType: "file", Steps: []Step{{Key: "name"}}}
	tests := []struct {
		c    *Comparison
		want string
	}{
		{&Comparison{Path: path, Op: Eq}, "one value"},
		{&Comparison{Path: path, Op: Exists, Values: []Literal{{Kind: LitInt}}}, "no value"},
		{&Comparison{Path: path, Op: Like, Values: []Literal{{Kind: LitInt}}}, "needs a string"},
		{&Comparison{Path: path, Op: Eq, Values: []Literal{{Kind: LitString, Str: "x"}}}, ""},
	}
	for _, tt := range tests {
		err := Validate("", &Pattern{Root: &ObsTest{Expr: tt.c}})
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%s) = %v, want %q", tt.c.Op, err, tt.want)
		}
	}
}

func TestParseSizeLimit(t *testing.T) {
	big := "[" + strings.Repeat("x-a:b = 1 OR ", maxTests) + "x-a:b = 2]"
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Parse(%d comparisons) = %v, want a size error", maxTests+1, err)
	}
}

func TestLookups(t *testing.T) {
	tests := []struct {
		in   string
		want []Lookup
		ok   bool
	}{
		{"[ipv4-addr:value = '10.0.0.1' OR domain-name:value = 'a.example']",
			[]Lookup{{"ipv4-addr", "value", "=", []string{"10.0.0.1"}}, {"domain-name", "value", "=", []string{"a.example"}}}, true},
		{"[file:hashes.'SHA-256' IN ('aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f')]",
			[]Lookup{{"file", "hashes.'SHA-256'", "IN", []string{"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}}}, true},
		{"[file:hashes.sha256 = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f' OR file:hashes.md5 = 'cead3f77f6cda6ec00f57d76c9a6879f']",
			[]Lookup{{"file", "hashes.'SHA-256'", "=", []string{"aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"}},
				{"file", "hashes.MD5", "=", []string{"cead3f77f6cda6ec00f57d76c9a6879f"}}}, true},
		{"[ipv4-addr:value ISSUBSET '10.0.0.0/8']", []Lookup{{"ipv4-addr", "value", "ISSUBSET", []string{"10.0.0.0/8"}}}, true},
		{"[x-a:port = 443]", []Lookup{{"x-a", "port", "=", []string{"443"}}}, true},
		{"[ipv4-addr:value = '10.0.0.1' AND ipv4-addr:value != '10.0.0.2']", nil, false},
		{"[ipv4-addr:value NOT = '10.0.0.1']", nil, false},
		{"[url:value LIKE 'http://%']", nil, false},
		{"[ipv4-addr:value = '10.0.0.1'] OR [ipv4-addr:value = '10.0.0.2']", nil, false},
		{"[ipv4-addr:value = '10.0.0.1'] WITHIN 5 SECONDS", nil, false},
	}
	for _, tt := range tests {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q) = %v", tt.in, err)
		}
		got, ok := p.Lookups()
		if ok != tt.ok || !equalLookups(got, tt.want) {
			t.Errorf("Parse(%q).Lookups() = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func equalLookups(a, b []Lookup) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ObjectType != b[i].ObjectType || a[i].Path != b[i].Path || a[i].Op != b[i].Op ||
			strings.Join(a[i].Values, "\x00") != strings.Join(b[i].Values, "\x00") {
			return false
		}
	}
	return true
}
