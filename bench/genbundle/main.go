// Command genbundle writes a synthetic STIX 2.1 bundle of N indicators to
// stdout, streamed, for import and paging benchmarks:
//
//	go run ./bench/genbundle -n 1000000 > /tmp/indicators-1m.json
//
// The output is deterministic for a given -n and -seed. Indicators look like
// real feed content: IPv4, domain, URL and SHA-256 patterns, TLP markings,
// kill-chain phases and labels, about 600 bytes each.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/google/uuid"
)

func main() {
	n := flag.Int("n", 1000000, "number of indicators")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	newID := func(typ string) string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rng.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rng.Uint64())
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return typ + "--" + uuid.UUID(b).String()
	}
	tlps := []string{
		"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", // clear
		"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", // green
		"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", // amber
	}
	identity := newID("identity")
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	fmt.Fprintf(w, `{"type":"bundle","id":"%s","objects":[`, newID("bundle"))
	fmt.Fprintf(w, `{"type":"identity","spec_version":"2.1","id":"%s","created":"2025-01-01T00:00:00.000Z","modified":"2025-01-01T00:00:00.000Z","name":"Synthetic feed","identity_class":"organization"}`, identity)
	for i := range *n {
		created := base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
		var pattern, name string
		switch i % 4 {
		case 0:
			ip := fmt.Sprintf("%d.%d.%d.%d", 1+rng.IntN(223), rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))
			pattern, name = fmt.Sprintf("[ipv4-addr:value = '%s']", ip), "Malicious IP "+ip
		case 1:
			d := fmt.Sprintf("c2-%08x.example-%d.net", rng.Uint32(), rng.IntN(1000))
			pattern, name = fmt.Sprintf("[domain-name:value = '%s']", d), "C2 domain "+d
		case 2:
			u := fmt.Sprintf("http://dl-%06x.example.org/payload/%d.bin", rng.Uint32()&0xffffff, i)
			pattern, name = fmt.Sprintf("[url:value = '%s']", u), "Payload URL"
		default:
			var h [32]byte
			for j := 0; j < 32; j += 8 {
				binary.LittleEndian.PutUint64(h[j:], rng.Uint64())
			}
			s := hex.EncodeToString(h[:])
			pattern, name = fmt.Sprintf("[file:hashes.'SHA-256' = '%s']", s), "Malware sample "+s[:12]
		}
		fmt.Fprintf(w, `,{"type":"indicator","spec_version":"2.1","id":"%s","created_by_ref":"%s","created":"%s","modified":"%s","name":"%s","description":"Synthetic indicator %d for benchmarks.","indicator_types":["malicious-activity"],"pattern":"%s","pattern_type":"stix","valid_from":"%s","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"command-and-control"}],"labels":["synthetic","bench"],"confidence":%d,"object_marking_refs":["%s"]}`,
			newID("indicator"), identity, created, created, name, i, pattern, created, 50+rng.IntN(50), tlps[i%len(tlps)])
	}
	fmt.Fprint(w, "]}\n")
}
