// Command evtxspeed reads every record of the .evtx files given as
// arguments with Shieldwall's internal/ingest/evtx and prints the number of
// records and records per second, to compare with bench/evtxpeer.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/shieldwall/shieldwall/internal/ingest/evtx"
)

func main() {
	flag.Parse()
	start := time.Now()
	records, fields, bad := 0, 0, 0
	for _, p := range flag.Args() {
		f, err := evtx.Open(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			continue
		}
		for {
			ev, err := f.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				bad++
				fmt.Fprintf(os.Stderr, "%v\n", err)
				continue
			}
			records++
			fields += len(ev.Fields())
		}
		f.Close()
	}
	d := time.Since(start)
	fmt.Printf("shieldwall evtx: %d files, %d records (%d fields, %d errors) in %.3fs: %.0f records/s\n",
		flag.NArg(), records, fields, bad, d.Seconds(), float64(records)/d.Seconds())
}
