package sigma

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/shieldwall/shieldwall/internal/detect"
)

// corpora is the shared corpus folder, relative to this package.
const corpora = "../../../../shared/corpora"

func sigmaDir(t testing.TB) string {
	t.Helper()
	d := filepath.Join(corpora, "sigma")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("Sigma corpus not found at %s: %v", d, err)
	}
	return d
}

// corpusPlaceholders gives every placeholder the SigmaHQ placeholder rules
// use a site-specific value, as an operator would.
func corpusPlaceholders() map[string][]string {
	return map[string][]string{
		"Administrators": {"admin1", "admin2"}, "Admins_Workstations": {"adminws1"},
		"ApprovedUserUpn": {"a@example.com"}, "Approved_Inviters": {"b@example.com"},
		"DomainController": {"dc1"}, "DomainControllers": {"dc1", "dc2"}, "HomeTenantID": {"tenant"},
		"Important_AppIds": {"app"}, "KNOWN_LOCATION": {"here"}, "Known_Location": {"here"},
		"Legitimate_Countries": {"FR"}, "Legitimate_IP_Ranges": {"10.0.0.0/8"}, "ServerSystems": {"srv1"},
		"UnApprovedDevice": {"dev"}, "UnApprovedIp": {"192.0.2.1"}, "UnLegitCountries": {"XX"},
		"Workstations": {"ws1"}, "dc_ip_addresses": {"10.0.0.1"}, "dc_machine_accounts": {"DC1$"},
		"domain_controller_hostnames": {"dc1"}, "internal_domains": {"example.com"}, "known_cdcs": {"cdc"},
		"legit_ips": {"10.0.0.2"}, "legtimate_identifiers": {"id"},
	}
}

var reasonNorm = regexp.MustCompile(`"[^"]*"|%[^%]+%`)

func TestCorpusCompile(t *testing.T) {
	d := sigmaDir(t)
	var dirs []string
	for _, s := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting", "rules-placeholder", "rules-compliance"} {
		dirs = append(dirs, filepath.Join(d, s))
	}
	rs, errs, err := LoadDirs(dirs, Options{Placeholders: corpusPlaceholders()})
	if err != nil {
		t.Fatalf("LoadDirs: %v", err)
	}
	total, compiled := rs.Matcher.Stats()
	// Parse failures are files, not rules: count each as one rule.
	parseFails := 0
	groups := map[string][]string{}
	for _, e := range errs {
		if e.Rule == "" {
			parseFails++
		}
		if e.Err == nil || e.Err.Error() == "" {
			t.Errorf("%s: failure without a reason", e.Path)
		}
		k := reasonNorm.ReplaceAllString(e.Err.Error(), "…")
		groups[k] = append(groups[k], fmt.Sprintf("%s (%s)", filepath.Base(e.Path), e.Err))
	}
	all := total + parseFails
	pct := 100 * float64(compiled) / float64(all)
	t.Logf("compiled %d of %d rules (%.2f%%), %d failures", compiled, all, pct, len(errs))
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return len(groups[keys[i]]) > len(groups[keys[j]]) })
	for _, k := range keys {
		t.Logf("%4d × %s\n\t%s", len(groups[k]), k, strings.Join(groups[k], "\n\t"))
	}
	if all < 3000 {
		t.Errorf("only %d rules found; corpus incomplete?", all)
	}
	if pct < 99 {
		t.Errorf("compiled %.2f%% of rules, want >= 99%%", pct)
	}
}

// TestCorpusOverAttackSamples runs every corpus rule over the EVTX attack
// samples: rules of other products must stay silent on Windows events, and
// Windows rules must find something in 7,167 records of real attacks.
func TestCorpusOverAttackSamples(t *testing.T) {
	rs, _ := corpusRuleSet(t)
	evs := loadAttackSamples(t)
	byID := map[string]*Rule{}
	for _, r := range rs.Rules {
		byID[r.ID] = r
	}
	fired := map[string]int{}
	for _, ev := range evs {
		err := rs.Matcher.Process(context.Background(), ev, func(a *detect.Alert) {
			fired[a.RuleID]++
			if r := byID[a.RuleID]; r != nil && r.Logsource.Product != "" && r.Logsource.Product != "windows" {
				t.Errorf("rule %s (product %s) fired on Windows event %d of %s", r.Title, r.Logsource.Product, ev.Offset, ev.Source)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	total := 0
	for _, n := range fired {
		total += n
	}
	t.Logf("%d alerts from %d distinct rules over %d events", total, len(fired), len(evs))
	if len(fired) < 50 {
		t.Errorf("only %d distinct rules fired over the attack samples; want at least 50", len(fired))
	}
}
