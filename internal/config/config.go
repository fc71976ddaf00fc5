// Package config holds a node's typed configuration: what it listens on,
// which detection rules and intelligence it uses, and which inputs it reads.
// Load reads a YAML file strictly (unknown keys are errors) and Validate
// reports every problem at once, each with its path in the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a node's configuration file.
type Config struct {
	Node       Node       `yaml:"node"`
	Detection  Detection  `yaml:"detection"`
	Inputs     []Input    `yaml:"inputs"`
	Federation Federation `yaml:"federation"`
}

// Node says where the node keeps its data and where it serves.
type Node struct {
	// Name is this node's short name (used in sightings and logs).
	Name string `yaml:"name"`
	// Data is the data directory (--data overrides it).
	Data string `yaml:"data"`
	// Listen is HOST:PORT for the HTTP surface (--listen overrides it).
	Listen string `yaml:"listen"`
	// Organisation owns the node; with Name it makes the node's identity on
	// first start.
	Organisation string `yaml:"organisation"`
	// Nation is the ISO 3166-1 alpha-3 code of the node's nation, if any.
	Nation string `yaml:"nation"`
}

// Federation configures sharing with peers (docs/federation.md).
type Federation struct {
	// Unmarked is the TLP level assumed for objects without a TLP marking
	// ("" shares no unmarked object).
	Unmarked string `yaml:"unmarked"`
	Peers    []Peer `yaml:"peers"`
}

// Peer is another node this one shares with.
type Peer struct {
	Name string `yaml:"name"`
	// URL is the peer's TAXII 2.1 API root.
	URL string `yaml:"url"`
	// Token is a bearer token for the peer's API root; User adds HTTP Basic
	// with Token as password. TokenFile reads the token from a file instead.
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	User      string `yaml:"user"`
	// Organisation, Nation, Relation (member, partner, client, public) and
	// Groups describe the peer for the sharing policy.
	Organisation string   `yaml:"organisation"`
	Nation       string   `yaml:"nation"`
	Relation     string   `yaml:"relation"`
	Groups       []string `yaml:"groups"`
	// Recipient names the peer as a recipient of our own TLP:AMBER.
	Recipient bool `yaml:"recipient"`
	// PublicKey (ed25519:BASE64) verifies what the peer signs; AgeRecipient
	// (age1...) is what offline bundles for the peer are sealed to.
	PublicKey    string `yaml:"public_key"`
	AgeRecipient string `yaml:"age_recipient"`
	// Pull lists the peer's collections to pull from, into the local
	// collection Into (default "default"); Push lists local collections
	// whose objects go to the peer's collection PushTo.
	Pull   []string `yaml:"pull"`
	Into   string   `yaml:"into"`
	Push   []string `yaml:"push"`
	PushTo string   `yaml:"push_to"`
	// DenyTypes are never sent to this peer; Strip removes properties per
	// type ("*" for all) before sending.
	DenyTypes []string            `yaml:"deny_types"`
	Strip     map[string][]string `yaml:"strip"`
	Link      Link                `yaml:"link"`
}

// Link describes the network path to a peer.
type Link struct {
	// Bandwidth is the budget in bits per second ("64kbit", "2mbit"; 0 or
	// empty: unlimited).
	Bandwidth Bandwidth `yaml:"bandwidth"`
	// Interval is how often to sync (default 30s).
	Interval Duration `yaml:"interval"`
	// Compression is zstd (default), gzip or none.
	Compression string `yaml:"compression"`
}

// Bandwidth is a rate in bits per second, written "9600", "64kbit", "2mbit".
type Bandwidth struct{ BitsPerSecond int64 }

// UnmarshalYAML reads a bandwidth.
func (b *Bandwidth) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseBandwidth(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	b.BitsPerSecond = v
	return nil
}

// ParseBandwidth reads "9600", "9.6kbit", "64kbit", "2mbit", "1gbit".
func ParseBandwidth(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"gbit", 1e9}, {"mbit", 1e6}, {"kbit", 1e3}, {"bit", 1}} {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(v), u.m
			break
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a bandwidth like 9600, 64kbit or 2mbit", s)
	}
	return int64(f * mult), nil
}

// Detection configures the engines the inputs feed.
type Detection struct {
	// Sigma lists folders of Sigma rules.
	Sigma []string `yaml:"sigma"`
	// Placeholders fill Sigma's expand modifier (%name% → values).
	Placeholders map[string][]string `yaml:"placeholders"`
	// Intel lists the collections (id or alias) whose indicators and
	// observables feed IOC matching and STIX patterns; empty means
	// "default". The node reloads them as they change.
	Intel []string `yaml:"intel"`
	// Reload is how often the node looks for new intelligence (default 10s).
	Reload Duration `yaml:"reload"`
	// WarningLists is a folder of MISP warning lists (known-good values
	// that never raise an IOC alert).
	WarningLists string `yaml:"warninglists"`
	// AlertsFile receives every alert as one JSON line ("-" = stdout).
	AlertsFile string `yaml:"alerts_file"`
	// Sightings is the collection where IOC hits become STIX sightings
	// (empty: "default").
	Sightings string `yaml:"sightings"`
	// AlertsNATS, when its URL is set, also publishes every alert to
	// JetStream, once per alert id.
	AlertsNATS NATSOutput `yaml:"alerts_nats"`
}

// Input types.
const (
	InputFile   = "file"   // follow files like tail -F, with checkpoints
	InputSyslog = "syslog" // listen for syslog on UDP or TCP
	InputStdin  = "stdin"
	InputNATS   = "nats" // a JetStream durable consumer shared by several nodes
)

// Input is one source of events.
type Input struct {
	// Name identifies the input in alerts and checkpoints (default: its type
	// and path or address).
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Paths are the files a "file" input follows (globs allowed).
	Paths []string `yaml:"paths"`
	// Format is auto, jsonl, eve, zeek, syslog or evtx (default auto).
	Format string `yaml:"format"`
	// Listen is udp://HOST:PORT or tcp://HOST:PORT for a "syslog" input.
	Listen string `yaml:"listen"`
	// NATS is the server, stream, subject and durable consumer of a "nats"
	// input; every node with the same durable shares the stream's events.
	NATS NATSInput `yaml:"nats"`
	// IOCFields adds event fields that IOC matching checks for this input,
	// beyond the defaults for Sysmon, Suricata, Zeek and ECS names: field
	// name → ip, host, url, email, md5, sha1, sha256, sha512 or hashes
	// (a Sysmon-style "SHA256=…,MD5=…" list).
	IOCFields map[string]string `yaml:"ioc_fields"`
}

// NATSInput reads events from a JetStream stream.
type NATSInput struct {
	URL     string `yaml:"url"`
	Stream  string `yaml:"stream"`
	Subject string `yaml:"subject"`
	Durable string `yaml:"durable"`
}

// NATSOutput publishes alerts to JetStream.
type NATSOutput struct {
	URL string `yaml:"url"`
	// Stream captures the alerts; it is created when missing.
	Stream string `yaml:"stream"`
	// Prefix of the subjects: an alert goes to PREFIX.LEVEL
	// (default shieldwall.alerts).
	Prefix string `yaml:"prefix"`
}

// Duration is a time.Duration written as "10s", "5m".
type Duration struct{ time.Duration }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 10s or 5m", n.Line, s)
	}
	d.Duration = v
	return nil
}

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates configuration text.
func Parse(b []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file is an empty configuration.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	c.defaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Config) defaults() {
	if len(c.Detection.Intel) == 0 {
		c.Detection.Intel = []string{"default"}
	}
	if c.Detection.Reload.Duration == 0 {
		c.Detection.Reload.Duration = 10 * time.Second
	}
	if c.Detection.Sightings == "" {
		c.Detection.Sightings = "default"
	}
	for i := range c.Federation.Peers {
		p := &c.Federation.Peers[i]
		if p.Into == "" {
			p.Into = "default"
		}
		if p.Link.Interval.Duration == 0 {
			p.Link.Interval.Duration = 30 * time.Second
		}
		if p.Link.Compression == "" {
			p.Link.Compression = "zstd"
		}
	}
	for i := range c.Inputs {
		in := &c.Inputs[i]
		if in.Format == "" {
			in.Format = "auto"
		}
		if in.Name == "" {
			switch in.Type {
			case InputFile:
				in.Name = "file:" + strings.Join(in.Paths, ",")
			case InputSyslog:
				in.Name = "syslog:" + in.Listen
			case InputNATS:
				in.Name = "nats:" + in.NATS.Stream + "/" + in.NATS.Durable
			default:
				in.Name = in.Type
			}
		}
	}
}

// Validate reports every problem, one per line, each with its path.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
	}
	if c.Detection.Reload.Duration < time.Second {
		bad("detection.reload", "%s is too short (at least 1s)", c.Detection.Reload.Duration)
	}
	names := map[string]int{}
	for i, in := range c.Inputs {
		p := fmt.Sprintf("inputs[%d]", i)
		if j, dup := names[in.Name]; dup {
			bad(p+".name", "%q is also the name of inputs[%d]", in.Name, j)
		}
		names[in.Name] = i
		switch in.Format {
		case "auto", "jsonl", "eve", "zeek", "syslog", "evtx":
		default:
			bad(p+".format", "%q is not one of auto, jsonl, eve, zeek, syslog, evtx", in.Format)
		}
		for f, k := range in.IOCFields {
			switch k {
			case "ip", "host", "url", "email", "md5", "sha1", "sha256", "sha512", "hashes":
			default:
				bad(p+".ioc_fields."+f, "%q is not one of ip, host, url, email, md5, sha1, sha256, sha512, hashes", k)
			}
		}
		switch in.Type {
		case InputFile:
			if len(in.Paths) == 0 {
				bad(p+".paths", "a file input needs at least one path")
			}
			if in.Listen != "" {
				bad(p+".listen", "only syslog inputs listen")
			}
		case InputSyslog:
			u, err := url.Parse(in.Listen)
			if in.Listen == "" || err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Host == "" {
				bad(p+".listen", "%q is not udp://HOST:PORT or tcp://HOST:PORT", in.Listen)
			}
			if len(in.Paths) > 0 {
				bad(p+".paths", "a syslog input listens; it has no paths")
			}
		case InputStdin:
		case InputNATS:
			if !strings.HasPrefix(in.NATS.URL, "nats://") && !strings.HasPrefix(in.NATS.URL, "tls://") {
				bad(p+".nats.url", "%q is not a nats:// URL", in.NATS.URL)
			}
			if in.NATS.Stream == "" || in.NATS.Durable == "" {
				bad(p+".nats", "a NATS input needs stream and durable")
			}
		case "":
			bad(p+".type", "missing (file, syslog, stdin or nats)")
		default:
			bad(p+".type", "%q is not one of file, syslog, stdin, nats", in.Type)
		}
	}
	if o := c.Detection.AlertsNATS; o.URL != "" && (o.Stream == "" || !strings.HasPrefix(o.URL, "nats://") && !strings.HasPrefix(o.URL, "tls://")) {
		bad("detection.alerts_nats", "needs a nats:// url and a stream")
	}
	switch strings.ToLower(c.Federation.Unmarked) {
	case "", "clear", "green", "amber", "amber+strict", "red", "tlp:clear", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red":
	default:
		bad("federation.unmarked", "%q is not a TLP 2.0 level", c.Federation.Unmarked)
	}
	peers := map[string]int{}
	for i, p := range c.Federation.Peers {
		path := fmt.Sprintf("federation.peers[%d]", i)
		if p.Name == "" {
			bad(path+".name", "missing")
		} else if j, dup := peers[p.Name]; dup {
			bad(path+".name", "%q is also the name of federation.peers[%d]", p.Name, j)
		}
		peers[p.Name] = i
		if p.Name != "" && p.Name == c.Node.Name {
			bad(path+".name", "%q is this node's own name", p.Name)
		}
		switch p.Relation {
		case "member", "partner", "client", "public":
		default:
			bad(path+".relation", "%q is not one of member, partner, client, public", p.Relation)
		}
		if p.URL != "" {
			if u, err := url.Parse(p.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad(path+".url", "%q is not an http(s) URL of a TAXII API root", p.URL)
			}
		}
		if p.URL == "" && (len(p.Pull) > 0 || len(p.Push) > 0) {
			bad(path+".url", "pull and push need the peer's TAXII API root URL")
		}
		if len(p.Push) > 0 && p.PushTo == "" {
			bad(path+".push_to", "push needs the peer's collection to push to")
		}
		if p.Token != "" && p.TokenFile != "" {
			bad(path+".token_file", "give token or token_file, not both")
		}
		if p.PublicKey != "" && !strings.HasPrefix(p.PublicKey, "ed25519:") {
			bad(path+".public_key", "want ed25519:BASE64 (from the peer's shieldwall identity show)")
		}
		if p.AgeRecipient != "" && !strings.HasPrefix(p.AgeRecipient, "age1") {
			bad(path+".age_recipient", "want age1... (from the peer's shieldwall identity show)")
		}
		switch p.Link.Compression {
		case "zstd", "gzip", "none":
		default:
			bad(path+".link.compression", "%q is not one of zstd, gzip, none", p.Link.Compression)
		}
	}
	return errors.Join(errs...)
}
