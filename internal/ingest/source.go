// Package ingest reads logs into events: whole files and folders (the
// format picked by extension and content), stdin, and files followed like
// `tail -F` with checkpoints so that a restart neither loses nor repeats
// records. The formats themselves live in subpackages (jsonlines, suricata,
// zeek, syslog, evtx), which never import this package.
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/ingest/jsonlines"
	"github.com/shieldwall/shieldwall/internal/ingest/suricata"
	"github.com/shieldwall/shieldwall/internal/ingest/syslog"
	"github.com/shieldwall/shieldwall/internal/ingest/zeek"
)

// Format names, as in event.Event.Format.
const (
	FormatJSONL  = "jsonl"
	FormatEVE    = suricata.Format
	FormatZeek   = zeek.Format
	FormatSyslog = syslog.Format
	FormatEVTX   = "evtx"
)

// Source yields the events of one input.
//
// Next returns the next event; or io.EOF when the input is exhausted (a
// followed file never ends: Next blocks until a line arrives or ctx is
// done, then returns ctx.Err()); or a *RecordError when one record could not
// be read, after which Next may be called again; any other error ends the
// source. Records whose fields fail to decode lazily are still returned: see
// the event's Err. The event and its Raw are valid until the next call.
type Source interface {
	Next(ctx context.Context) (*event.Event, error)
	Close() error
}

// RecordError reports one unreadable record; the source goes on.
type RecordError struct {
	Source string // where the record was
	Offset int64  // its byte offset (or record number)
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s at %d: %v", e.Source, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// ErrUnknownFormat says the content matches no supported format.
var ErrUnknownFormat = errors.New("ingest: unknown log format")

// Options tune readers; the zero value is the default.
type Options struct {
	// Format forces a format ("jsonl", "eve", "zeek", "syslog") instead of
	// sniffing the content.
	Format string
	// MaxLine is the longest record accepted (DefaultMaxLine when 0).
	MaxLine int
	// Syslog parses syslog lines (its Now and Location).
	Syslog syslog.Parser
}

// lineParser is what every line format package provides.
type lineParser interface {
	Parse(source string, off int64, line []byte) (*event.Event, error)
}

func (o Options) parser(format, name string) (lineParser, error) {
	switch format {
	case FormatJSONL:
		return jsonlines.Parser{}, nil
	case FormatEVE:
		return suricata.Parser{}, nil
	case FormatZeek:
		return zeek.NewParser(zeek.PathFromFile(name)), nil
	case FormatSyslog:
		return o.Syslog, nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknownFormat, format)
}

// zeekLogs are the log names Zeek writes, to tell Zeek JSON from other
// JSON lines by file name.
var zeekLogs = map[string]bool{"conn": true, "dns": true, "http": true, "files": true, "ssl": true, "x509": true, "smb_files": true,
	"smb_mapping": true, "kerberos": true, "dce_rpc": true, "ntlm": true, "notice": true, "weird": true, "pe": true, "dpd": true,
	"ssh": true, "smtp": true, "rdp": true, "ftp": true, "sip": true, "snmp": true, "tunnel": true, "software": true, "known_hosts": true,
	"known_services": true, "known_certs": true, "analyzer": true, "packet_filter": true, "loaded_scripts": true, "capture_loss": true,
	"stats": true, "reporter": true, "dhcp": true, "ntp": true, "radius": true, "mysql": true, "irc": true, "socks": true, "ocsp": true,
	"intel": true, "signatures": true, "traceroute": true, "modbus": true, "dnp3": true, "quic": true, "websocket": true}

// Sniff names the format of a log from its name and first bytes: "evtx",
// "zeek" (TSV headers, or JSON with "ts" and a Zeek "uid" or a Zeek log
// name), "eve" (JSON with "event_type" and "timestamp"), "jsonl" (other
// JSON objects), "syslog"; "" when it cannot tell.
func Sniff(name string, head []byte) string {
	if bytes.HasPrefix(head, []byte("ElfFile\x00")) || (len(head) == 0 && strings.EqualFold(filepath.Ext(name), ".evtx")) {
		return FormatEVTX
	}
	head = bytes.TrimPrefix(head, []byte("\uFEFF"))
	line := head
	for len(line) > 0 {
		l := line
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			l, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		if l = bytes.TrimSpace(l); len(l) == 0 {
			continue
		}
		return sniffLine(name, l)
	}
	return ""
}

func sniffLine(name string, l []byte) string {
	switch {
	case bytes.HasPrefix(l, []byte("#separator")) || bytes.HasPrefix(l, []byte("#fields")):
		return FormatZeek
	case l[0] == '{':
		if suricata.IsEVE(l) {
			return FormatEVE
		}
		_, _, ts := jsonlines.Lookup(l, []string{"ts"})
		_, _, stream := jsonlines.Lookup(l, []string{"@stream", "_path"})
		_, _, uid := jsonlines.Lookup(l, []string{"uid", "id.orig_h", "fuid"})
		if proc, _, _ := jsonlines.Lookup(l, []string{"@proc"}); proc == "zeek" ||
			(ts && (uid || stream)) || (zeekLogs[zeek.PathFromFile(name)] && (ts || stream)) {
			return FormatZeek
		}
		return FormatJSONL
	}
	if _, err := (syslog.Parser{}).Parse(name, 0, l); err == nil {
		return FormatSyslog
	}
	return ""
}

// reader is the Source of a stream of lines.
type reader struct {
	source string
	lr     *LineReader
	parse  lineParser
	closer io.Closer
}

// NewReader returns a Source reading the lines of r, named source (a path,
// "stdin"), to its end. The format is opts.Format or sniffed from the
// first 64 KiB.
func NewReader(source string, r io.Reader, opts Options) (Source, error) {
	format := opts.Format
	br := bufio.NewReaderSize(r, 64<<10)
	if format == "" {
		head, err := br.Peek(64 << 10)
		if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("ingest: reading %s: %w", source, err)
		}
		if format = Sniff(source, head); format == "" {
			if len(bytes.TrimSpace(head)) == 0 {
				format = FormatJSONL // empty input: no records either way
			} else {
				return nil, fmt.Errorf("ingest: %s: %w", source, ErrUnknownFormat)
			}
		}
		if format == FormatEVTX {
			return nil, fmt.Errorf("ingest: %s: EVTX is read from files with OpenFile, not from a stream", source)
		}
	}
	p, err := opts.parser(format, source)
	if err != nil {
		return nil, err
	}
	lr := NewLineReader(br, source, 0, opts.MaxLine)
	lr.Final = true
	return &reader{source: source, lr: lr, parse: p}, nil
}

// Stdin returns a Source reading standard input (given as r) to its end.
func Stdin(r io.Reader, opts Options) (Source, error) { return NewReader("stdin", r, opts) }

func (r *reader) Next(ctx context.Context) (*event.Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		line, off, err := r.lr.Next()
		if err != nil {
			if err != io.EOF && !isRecordError(err) {
				err = fmt.Errorf("ingest: reading %s: %w", r.source, err)
			}
			return nil, err
		}
		ev, err := parseLine(r.parse, r.source, off, line)
		if err != nil || ev != nil {
			return ev, err
		}
	}
}

// parseLine parses one line (a private copy of it, for the event to keep);
// (nil, nil) is a line that holds no record.
func parseLine(p lineParser, source string, off int64, line []byte) (*event.Event, error) {
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	line = bytes.TrimRight(line, "\r\n")
	ev, err := p.Parse(source, off, bytes.Clone(line))
	if err != nil {
		return nil, &RecordError{Source: source, Offset: off, Err: err}
	}
	return ev, nil
}

func isRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}

func (r *reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// OpenFile opens a log file and picks its reader by content (and, for
// EVTX, extension): EVTX, Zeek TSV or JSON, Suricata EVE, other JSON lines,
// syslog. The caller closes the Source.
func OpenFile(path string, opts Options) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if opts.Format == "" {
		head := make([]byte, 8)
		n, _ := io.ReadFull(f, head)
		if Sniff(path, head[:n]) == FormatEVTX || (n == 0 && strings.EqualFold(filepath.Ext(path), ".evtx")) {
			f.Close()
			return openEVTX(path)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("ingest: %w", err)
		}
	}
	src, err := NewReader(path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	src.(*reader).closer = f
	return src, nil
}
