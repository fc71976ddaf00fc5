package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shieldwall/shieldwall/internal/store"
)

// attackNameScan bounds the records read per collection to name ATT&CK ids;
// attackNameTTL is how long the names are kept before they are read again.
const (
	attackNameScan = 20000
	attackNameTTL  = 10 * time.Minute
)

// attackNames maps ATT&CK ids (T1059.001, G0007, S0002) to their names, from
// the MITRE ATT&CK objects the store holds (public data: only objects with a
// mitre-attack external reference are used, whoever may read their
// collection).
type attackNames struct {
	mu sync.Mutex
	at time.Time
	m  map[string]string
}

func (s *Server) attackName(ctx context.Context) map[string]string {
	an := &s.names
	an.mu.Lock()
	defer an.mu.Unlock()
	if an.m != nil && s.now().Sub(an.at) < attackNameTTL {
		return an.m
	}
	m, err := s.readAttackNames(ctx)
	if err != nil {
		s.log.Warn("web: reading ATT&CK names", "err", err)
		if an.m != nil {
			return an.m
		}
		return map[string]string{}
	}
	an.m, an.at = m, s.now()
	return m
}

func (s *Server) readAttackNames(ctx context.Context) (map[string]string, error) {
	cs, err := s.o.Store.Collections(ctx)
	if err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	m := map[string]string{}
	for _, c := range cs {
		f := store.Filter{Types: []string{"attack-pattern", "intrusion-set", "malware", "tool"}, Limit: 1000}
		for read := 0; read < attackNameScan; {
			page, err := s.o.Store.Query(ctx, c.ID, f)
			if err != nil {
				return nil, fmt.Errorf("collection %s: %w", c.ID, err)
			}
			for _, rec := range page.Records {
				var v struct {
					Name string `json:"name"`
					Refs []struct {
						Source string `json:"source_name"`
						ID     string `json:"external_id"`
					} `json:"external_references"`
				}
				if json.Unmarshal(rec.Object.Raw, &v) != nil || v.Name == "" {
					continue
				}
				for _, r := range v.Refs {
					if strings.HasPrefix(r.Source, "mitre-") && r.ID != "" {
						m[strings.ToUpper(r.ID)] = v.Name
					}
				}
			}
			read += len(page.Records)
			if !page.More {
				break
			}
			f.Next = page.Next
		}
	}
	return m, nil
}
