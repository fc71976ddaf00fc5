package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shieldwall/shieldwall/internal/detect"
	"github.com/shieldwall/shieldwall/internal/hunt"
	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

// demoAlerts hunts the corpora's real attack samples (EVTX) with the
// community's Windows Sigma rules and stores the alerts, so that the
// console shows real detections. It returns how many alerts were stored;
// without the corpora it does nothing.
func demoAlerts(ctx context.Context, n *node.Node, corpora string, log io.Writer) (int, error) {
	rules := filepath.Join(corpora, "sigma", "rules", "windows")
	samples := filepath.Join(corpora, "evtx-attack-samples")
	if _, err := os.Stat(rules); err != nil {
		return 0, nil
	}
	if _, err := os.Stat(samples); err != nil {
		return 0, nil
	}
	as, ok := n.Store.(store.Alerts)
	if !ok {
		return 0, fmt.Errorf("demo alerts: the store keeps no alerts")
	}
	d, err := node.BuildDetection(node.DetectionOptions{SigmaDirs: []string{rules}})
	if err != nil {
		return 0, fmt.Errorf("demo alerts: %w", err)
	}
	n.SetDetection(d)
	var batch []store.AlertRecord
	stored := 0
	flush := func() error {
		k, err := as.PutAlerts(ctx, batch)
		stored += k
		batch = batch[:0]
		return err
	}
	_, err = hunt.Run(ctx, hunt.Options{
		Paths:     []string{samples},
		Open:      openLog,
		NewEngine: d.NewEngine,
		Workers:   1, // the demo shares the machine with its visitors
		Alert: func(a *detect.Alert) error {
			a.ID = detect.AlertID(a)
			rec, err := node.AlertRecord(a)
			if err != nil {
				return err
			}
			batch = append(batch, rec)
			if len(batch) >= 500 {
				return flush()
			}
			return nil
		},
	})
	if err != nil {
		return stored, fmt.Errorf("demo alerts: %w", err)
	}
	if err := flush(); err != nil {
		return stored, fmt.Errorf("demo alerts: %w", err)
	}
	fmt.Fprintf(log, "demo: %d alerts from hunting %s stored; the console shows them\n", stored, samples)
	return stored, nil
}
