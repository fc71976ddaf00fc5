// Command taxiipage measures TAXII 2.1 paging on a real node: it serves a
// data directory over loopback HTTP and walks a whole collection with
// `limit` objects per page, then reports objects/s and the p50/p99 latency of
// the pages at the start, middle and end of the collection. Each run adds an
// admin token named bench-<time> to the data directory; use a copy, not a
// node's real data.
//
//	go run ./bench/genbundle -n 1000000 > /tmp/ind-1m.json
//	go run ./cmd/shieldwall intel import --data /tmp/sw-bench /tmp/ind-1m.json
//	go run ./bench/taxiipage -data /tmp/sw-bench
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/shieldwall/shieldwall/internal/node"
	"github.com/shieldwall/shieldwall/internal/store"
)

func main() {
	dataDir := flag.String("data", "", "data directory of a node holding the collection")
	db := flag.String("db", "", "PostgreSQL DSN of the node's store (default: SQLite in -data)")
	coll := flag.String("collection", node.DefaultCollectionAlias, "collection id or alias")
	limit := flag.Int("limit", 1000, "objects per page")
	window := flag.Int("window", 100, "pages measured at the start, middle and end")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("-data is required")
	}
	ctx := context.Background()
	n, err := node.Open(ctx, node.Options{DataDir: *dataDir, DB: *db})
	if err != nil {
		log.Fatal(err)
	}
	defer n.Close()
	name := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	token, err := n.CreateToken(ctx, name, store.RoleAdmin)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = n.Serve(ctx, ln, node.ServeOptions{}) }()
	base := "http://" + ln.Addr().String() + "/taxii2/root/collections/" + *coll + "/objects/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	// Measure a node that is up: its start-up (building the TAXII server
	// and the console) is not a page.
	for {
		resp, err := client.Get("http://" + ln.Addr().String() + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}

	var durs []time.Duration
	objects := 0
	next := ""
	start := time.Now()
	for {
		q := url.Values{"limit": {fmt.Sprint(*limit)}}
		if next != "" {
			q.Set("next", next)
		}
		req, _ := http.NewRequest("GET", base+"?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil || resp.StatusCode != 200 {
			log.Fatalf("page %d: %v %d %s", len(durs), err, resp.StatusCode, body[:min(len(body), 300)])
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(body, &env); err != nil {
			log.Fatal(err)
		}
		durs = append(durs, d)
		objects += len(env.Objects)
		if !env.More {
			break
		}
		next = env.Next
	}
	total := time.Since(start)
	if os.Getenv("TAXIIPAGE_SLOWEST") != "" {
		idx := make([]int, len(durs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return durs[idx[a]] > durs[idx[b]] })
		for _, i := range idx[:min(5, len(idx))] {
			fmt.Printf("slow page %d: %.1f ms\n", i, float64(durs[i].Microseconds())/1000)
		}
	}
	fmt.Printf("pages %d, objects %d, %.1fs, %.0f objects/s (client decodes every page)\n",
		len(durs), objects, total.Seconds(), float64(objects)/total.Seconds())
	w := min(*window, len(durs))
	mid := max(0, len(durs)/2-w/2)
	for _, part := range []struct {
		name string
		d    []time.Duration
	}{{"start", durs[:w]}, {"middle", durs[mid : mid+w]}, {"end", durs[len(durs)-w:]}} {
		s := slices.Clone(part.d)
		slices.Sort(s)
		fmt.Printf("%-6s %d pages: p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms\n", part.name, len(s),
			ms(s[len(s)/2]), ms(s[min(len(s)-1, len(s)*99/100)]), ms(s[len(s)-1]))
	}
	_ = os.Stdout.Sync()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
