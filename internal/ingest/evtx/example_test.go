package evtx_test

import (
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/shieldwall/shieldwall/internal/ingest/evtx"
)

func ExampleOpen() {
	f, err := evtx.Open("testdata/rdp_tunnel_5156.evtx")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for {
		ev, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *evtx.RecordError
		if errors.As(err, &re) {
			log.Printf("skipping: %v", re)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		if id, _ := ev.Value("EventID"); id == "1102" {
			user, _ := ev.Value("SubjectUserName")
			ch, _ := ev.Value("Channel")
			fmt.Println(ev.Offset, ev.Time.Format("2006-01-02 15:04:05"), ch, id, user)
			fmt.Println(string(ev.Raw)[:60])
		}
	}
	// Output:
	// 227693 2019-02-13 18:01:41 Security 1102 admin01
	// {"Provider_Name":"Microsoft-Windows-Eventlog","Provider_Guid
}
