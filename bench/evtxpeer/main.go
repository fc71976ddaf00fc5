// Command evtxpeer reads every record of the .evtx files given as arguments
// with github.com/0xrawsec/golang-evtx (GPL-3.0, kept in this separate
// module so that it is never linked into Shieldwall) and prints the number
// of records and records per second, to compare with bench/evtxspeed.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/0xrawsec/golang-evtx/evtx"
)

func main() {
	fast := flag.Bool("fast", false, "use FastEvents (parallel, unordered chunks) instead of Events")
	flag.Parse()
	start := time.Now()
	records := 0
	for _, p := range flag.Args() {
		f, err := evtx.OpenDirty(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", p, err)
			continue
		}
		var events chan *evtx.GoEvtxMap
		if *fast {
			events = f.FastEvents()
		} else {
			events = f.Events()
		}
		for range events {
			records++
		}
		f.Close()
	}
	d := time.Since(start)
	mode := "Events"
	if *fast {
		mode = "FastEvents"
	}
	fmt.Printf("golang-evtx (%s): %d files, %d records in %.3fs: %.0f records/s\n",
		mode, flag.NArg(), records, d.Seconds(), float64(records)/d.Seconds())
}
