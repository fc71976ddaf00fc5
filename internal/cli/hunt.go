package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/event"
	"github.com/shieldwall/shieldwall/internal/hunt"
	"github.com/shieldwall/shieldwall/internal/ingest"
	"github.com/shieldwall/shieldwall/internal/node"
)

// detectionFlags are the flags hunt and rules check share.
type detectionFlags struct {
	sigma        []string
	intel        []string
	warninglists string
	placeholders []string
}

func (f *detectionFlags) add(c *cobra.Command, withIntel bool) {
	c.Flags().StringArrayVar(&f.sigma, "sigma", nil, "folder of Sigma rules (repeatable)")
	c.Flags().StringArrayVar(&f.placeholders, "placeholder", nil, "value of a Sigma %placeholder%: NAME=V1,V2 (repeatable)")
	if withIntel {
		c.Flags().StringArrayVar(&f.intel, "intel", nil, "intelligence file for IOC matching and STIX patterns: STIX bundle, MISP event, CSV or IOC list (repeatable)")
		c.Flags().StringVar(&f.warninglists, "warninglists", "", "folder of MISP warning lists: known-good values never alerted on")
	}
}

func (f *detectionFlags) build(ctx context.Context) (*node.Detection, error) {
	ph := map[string][]string{}
	for _, p := range f.placeholders {
		name, vals, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return nil, usageError{fmt.Errorf("--placeholder %q: want NAME=V1,V2", p)}
		}
		ph[strings.Trim(name, "%")] = append(ph[strings.Trim(name, "%")], strings.Split(vals, ",")...)
	}
	objs, _, err := node.ReadIntelFiles(ctx, f.intel)
	if err != nil {
		return nil, err
	}
	return node.BuildDetection(node.DetectionOptions{SigmaDirs: f.sigma, Placeholders: ph, Intel: objs, WarningLists: f.warninglists})
}

func huntCmd(e *env) *cobra.Command {
	var (
		df      detectionFlags
		format  string
		workers int
		quiet   bool
	)
	c := &cobra.Command{
		Use:   "hunt --sigma DIR [--intel FILE] [--format jsonl|text] PATH...",
		Short: "Run Sigma rules, IOCs and STIX patterns once over log files and folders",
		Long: `Hunt reads every log file under the given paths (Windows EVTX, JSON lines, Suricata EVE,
Zeek TSV or JSON, syslog; the format is recognised from the content), runs the Sigma rules,
the IOCs and the STIX patterns of the intelligence files over every event, and writes each
alert once on stdout (--format jsonl: one JSON object per alert). A progress bar (on a terminal)
and a summary go to stderr: events read and per second, rules loaded and failed with reasons,
alerts by level and by rule. A file or record that cannot be read is reported and skipped.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			ctx := cmd.Context()
			if format != "jsonl" && format != "text" {
				return usageError{fmt.Errorf("--format %q: want jsonl or text", format)}
			}
			if len(df.sigma) == 0 && len(df.intel) == 0 {
				return usageError{errors.New("give rules to hunt with: --sigma DIR and/or --intel FILE")}
			}
			d, err := df.build(ctx)
			if err != nil {
				return err
			}
			printRuleSummary(e.stderr, d)
			out := bufio.NewWriterSize(e.stdout, 64<<10)
			defer out.Flush()
			enc := json.NewEncoder(out)
			write := func(a *detect.Alert) error {
				if format == "text" {
					_, err := fmt.Fprintf(out, "%s\t%s\t%s\t%s:%d\t%s\n", a.Time.Format("2006-01-02T15:04:05Z07:00"), a.Level, a.RuleTitle, a.Source, a.Offset, matchesText(a.Matches))
					return err
				}
				if len(a.Event) > 0 && !json.Valid(a.Event) {
					a.Event = nil
				}
				return enc.Encode(a)
			}
			var progress io.Writer
			if f, ok := e.stderr.(*os.File); ok && !quiet && isatty.IsTerminal(f.Fd()) {
				progress = e.stderr
			}
			s, err := hunt.Run(ctx, hunt.Options{
				Paths:     paths,
				Open:      openLog,
				NewEngine: d.NewEngine,
				Workers:   workers,
				Alert:     write,
				Progress:  progress,
			})
			if s != nil && !quiet {
				s.WriteSummary(e.stderr)
			}
			return err
		},
	}
	df.add(c, true)
	c.Flags().StringVar(&format, "format", "jsonl", "alert output: jsonl or text")
	c.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "files read in parallel")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress and no summary")
	return c
}

func matchesText(ms []detect.Match) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%q", m.Field, m.Value)
	}
	return b.String()
}

// openLog opens one file for the hunt; files in no log format are skipped.
func openLog(path string) (hunt.Source, error) {
	src, err := ingest.OpenFile(path, ingest.Options{})
	if errors.Is(err, ingest.ErrUnknownFormat) {
		return nil, fmt.Errorf("%w: %v", hunt.ErrUnsupported, err)
	}
	if err != nil {
		return nil, err
	}
	return sourceAdapter{src}, nil
}

type sourceAdapter struct{ ingest.Source }

func (s sourceAdapter) Next(ctx context.Context) (*event.Event, error) { return s.Source.Next(ctx) }

func printRuleSummary(w io.Writer, d *node.Detection) {
	fmt.Fprintf(w, "sigma rules: %d read, %d compiled, %d failed\n", d.SigmaRules, d.SigmaCompiled(), len(d.SigmaFailed))
	for i, f := range d.SigmaFailed {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more (shieldwall rules check lists them all)\n", len(d.SigmaFailed)-20)
			break
		}
		fmt.Fprintf(w, "  %s\n", f.Error())
	}
	if d.IOCIndex != nil && d.IOCIndex.Len() > 0 || d.STIXReport.Loaded > 0 {
		fmt.Fprintf(w, "intelligence: %d IOC keys, %d STIX patterns, %d objects not usable\n", d.IOCIndex.Len(), d.STIXReport.Loaded, len(d.IOCErrors)+len(d.STIXReport.Errors))
	}
}

func rulesCmd(e *env) *cobra.Command {
	cmd := group("rules", "Check detection rules")
	var df detectionFlags
	check := &cobra.Command{
		Use:   "check --sigma DIR",
		Short: `Load and compile Sigma rules; print {"rules": N, "compiled": M, "failed": [{"path", "error"}]}`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(df.sigma) == 0 {
				return usageError{errors.New("--sigma DIR is required")}
			}
			d, err := df.build(cmd.Context())
			if err != nil {
				return err
			}
			type failure struct {
				Path  string `json:"path"`
				Rule  string `json:"rule,omitempty"`
				Error string `json:"error"`
			}
			out := struct {
				Rules    int       `json:"rules"`
				Compiled int       `json:"compiled"`
				Failed   []failure `json:"failed"`
			}{Rules: d.SigmaRules, Compiled: d.SigmaCompiled(), Failed: []failure{}}
			for _, f := range d.SigmaFailed {
				out.Failed = append(out.Failed, failure{Path: f.Path, Rule: f.Rule, Error: errText(f.Err)})
			}
			sort.SliceStable(out.Failed, func(i, j int) bool { return out.Failed[i].Path < out.Failed[j].Path })
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}
	df.add(check, false)
	cmd.AddCommand(check)
	return cmd
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
