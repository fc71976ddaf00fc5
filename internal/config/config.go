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
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a node's configuration file.
type Config struct {
	Node      Node      `yaml:"node"`
	Detection Detection `yaml:"detection"`
	Inputs    []Input   `yaml:"inputs"`
}

// Node says where the node keeps its data and where it serves.
type Node struct {
	// Name is this node's short name (used in sightings and logs).
	Name string `yaml:"name"`
	// Data is the data directory (--data overrides it).
	Data string `yaml:"data"`
	// Listen is HOST:PORT for the HTTP surface (--listen overrides it).
	Listen string `yaml:"listen"`
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
}

// Input types.
const (
	InputFile   = "file"   // follow files like tail -F, with checkpoints
	InputSyslog = "syslog" // listen for syslog on UDP or TCP
	InputStdin  = "stdin"
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
		case "":
			bad(p+".type", "missing (file, syslog or stdin)")
		default:
			bad(p+".type", "%q is not one of file, syslog, stdin", in.Type)
		}
	}
	return errors.Join(errs...)
}
