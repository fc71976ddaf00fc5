package main

import (
	"fmt"
	"sort"
	"strings"
)

// The log-source table below is the one Shieldwall's engine uses
// (internal/detect/sigma/logsource.go, itself after pySigma's Windows and
// Sysmon pipelines), copied so that every engine restricts a rule to the same
// events and only the detection logic is compared.

var sysmonCategories = map[string][]int{
	"process_creation": {1}, "file_change": {2}, "network_connection": {3},
	"sysmon_status": {4, 16}, "process_termination": {5}, "driver_load": {6},
	"image_load": {7}, "create_remote_thread": {8}, "raw_access_thread": {9},
	"raw_access_read": {9}, "process_access": {10}, "file_event": {11},
	"registry_add": {12}, "registry_delete": {12}, "registry_set": {13},
	"registry_rename": {14}, "registry_event": {12, 13, 14}, "create_stream_hash": {15},
	"pipe_created": {17, 18}, "wmi_event": {19, 20, 21}, "dns_query": {22},
	"file_delete": {23, 26}, "file_delete_detected": {26}, "clipboard_capture": {24},
	"process_tampering": {25}, "file_block_executable": {27}, "file_block_shredding": {28},
	"file_executable_detected": {29}, "sysmon_error": {255},
}

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational"

type chanIDs struct {
	channels []string
	ids      []int
}

var windowsCategories = map[string]chanIDs{
	"ps_module":                 {[]string{"Microsoft-Windows-PowerShell/Operational"}, []int{4103}},
	"ps_script":                 {[]string{"Microsoft-Windows-PowerShell/Operational"}, []int{4104}},
	"ps_classic_start":          {[]string{"Windows PowerShell"}, []int{400}},
	"ps_classic_provider_start": {[]string{"Windows PowerShell"}, []int{600}},
	"ps_classic_script":         {[]string{"Windows PowerShell"}, []int{800}},
	"file_access":               {[]string{"Microsoft-Windows-Kernel-File/Analytic"}, nil},
	"file_rename":               {[]string{"Microsoft-Windows-Kernel-File/Analytic"}, nil},
	"dns_query_client":          {[]string{"Microsoft-Windows-DNS-Client/Operational"}, nil},
}

var windowsServices = map[string][]string{
	"security": {"Security"}, "system": {"System"}, "application": {"Application"},
	"sysmon": {sysmonChannel}, "powershell": {"Microsoft-Windows-PowerShell/Operational"},
	"powershell-classic": {"Windows PowerShell"}, "taskscheduler": {"Microsoft-Windows-TaskScheduler/Operational"},
	"wmi": {"Microsoft-Windows-WMI-Activity/Operational"}, "dns-server": {"DNS Server"},
	"dns-server-audit": {"Microsoft-Windows-DNS-Server/Audit"}, "dns-server-analytic": {"Microsoft-Windows-DNS-Server/Analytical"},
	"driver-framework": {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"}, "ntlm": {"Microsoft-Windows-NTLM/Operational"},
	"dhcp": {"Microsoft-Windows-DHCP-Server/Operational"}, "msexchange-management": {"MSExchange Management"},
	"applocker":                            {"Microsoft-Windows-AppLocker/MSI and Script", "Microsoft-Windows-AppLocker/EXE and DLL", "Microsoft-Windows-AppLocker/Packaged app-Deployment", "Microsoft-Windows-AppLocker/Packaged app-Execution"},
	"printservice-admin":                   {"Microsoft-Windows-PrintService/Admin"},
	"printservice-operational":             {"Microsoft-Windows-PrintService/Operational"},
	"codeintegrity-operational":            {"Microsoft-Windows-CodeIntegrity/Operational"},
	"smbclient-security":                   {"Microsoft-Windows-SmbClient/Security"},
	"smbclient-connectivity":               {"Microsoft-Windows-SmbClient/Connectivity"},
	"smbserver-connectivity":               {"Microsoft-Windows-SMBServer/Connectivity"},
	"firewall-as":                          {"Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"},
	"bits-client":                          {"Microsoft-Windows-Bits-Client/Operational"},
	"windefend":                            {"Microsoft-Windows-Windows Defender/Operational"},
	"terminalservices-localsessionmanager": {"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational"},
	"microsoft-servicebus-client":          {"Microsoft-ServiceBus-Client"},
	"ldap_debug":                           {"Microsoft-Windows-LDAP-Client/Debug"},
	"security-mitigations":                 {"Microsoft-Windows-Security-Mitigations/Kernel Mode", "Microsoft-Windows-Security-Mitigations/User Mode"},
	"diagnosis-scripted":                   {"Microsoft-Windows-Diagnosis-Scripted/Operational"},
	"shell-core":                           {"Microsoft-Windows-Shell-Core/Operational"},
	"openssh":                              {"OpenSSH/Operational"},
	"bitlocker":                            {"Microsoft-Windows-BitLocker/BitLocker Management"},
	"vhdmp":                                {"Microsoft-Windows-VHDMP-Operational"},
	"appxdeployment-server":                {"Microsoft-Windows-AppXDeploymentServer/Operational"},
	"lsa-server":                           {"Microsoft-Windows-LSA/Operational"},
	"appxpackaging-om":                     {"Microsoft-Windows-AppxPackaging/Operational"},
	"dns-client":                           {"Microsoft-Windows-DNS Client Events/Operational", "Microsoft-Windows-DNS-Client/Operational"},
	"appmodel-runtime":                     {"Microsoft-Windows-AppModel-Runtime/Admin"},
	"capi2":                                {"Microsoft-Windows-CAPI2/Operational"},
	"certificateservicesclient-lifecycle-system": {"Microsoft-Windows-CertificateServicesClient-Lifecycle-System/Operational"},
	"kernel-shimengine":                          {"Microsoft-Windows-Kernel-ShimEngine/Operational", "Microsoft-Windows-Kernel-ShimEngine/Diagnostic"},
	"hyper-v-worker":                             {"Microsoft-Windows-Hyper-V-Worker"},
	"iis-configuration":                          {"Microsoft-IIS-Configuration/Operational"},
	"sysmon-linux":                               {"Linux-Sysmon/Operational"},
	"wmi-activity":                               {"Microsoft-Windows-WMI-Activity/Operational"},
	"kernel-event-tracing":                       {"Microsoft-Windows-Kernel-EventTracing/Admin"},
	"user-device-registration":                   {"Microsoft-Windows-User Device Registration/Admin"},
}

// filter is a rule's log source as Channel and EventID sets (nil: any).
type filter struct {
	channels []string
	ids      []int
}

// compile maps a Windows rule's category and service to a filter the way
// Shieldwall does: a known category wins over the service.
func compile(category, service string) filter {
	var f filter
	if ch, ok := windowsServices[strings.ToLower(service)]; ok {
		f.channels = ch
	}
	cat := strings.ToLower(category)
	if ids, ok := sysmonCategories[cat]; ok {
		f.channels, f.ids = []string{sysmonChannel}, ids
	} else if wc, ok := windowsCategories[cat]; ok {
		f.channels, f.ids = wc.channels, wc.ids
	}
	return f
}

// accepts reports whether an event with this Channel and EventID is in the
// rule's log source.
func (f filter) accepts(channel string, eventID string) bool {
	if len(f.channels) > 0 {
		ok := false
		for _, c := range f.channels {
			if strings.EqualFold(c, channel) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.ids) > 0 {
		for _, id := range f.ids {
			if fmt.Sprint(id) == eventID {
				return true
			}
		}
		return false
	}
	return true
}

// sigmaGoConfig renders the table as a sigma-go config: one catch-all
// mapping for product windows that gives the index, and one mapping per
// category and per service that adds Channel/EventID conditions.
func sigmaGoConfig() string {
	var b strings.Builder
	b.WriteString("title: Windows channels and Sysmon event ids (pySigma tables)\nlogsources:\n")
	b.WriteString("  windows:\n    product: windows\n    index: windows\n")
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	writeCond := func(ch []string, ids []int) {
		b.WriteString("    conditions:\n")
		if len(ch) > 0 {
			b.WriteString("      Channel:\n")
			for _, c := range ch {
				b.WriteString("        - " + q(c) + "\n")
			}
		}
		if len(ids) > 0 {
			b.WriteString("      EventID:\n")
			for _, id := range ids {
				fmt.Fprintf(&b, "        - %d\n", id)
			}
		}
	}
	for _, k := range sortedKeys(sysmonCategories) {
		fmt.Fprintf(&b, "  cat_%s:\n    product: windows\n    category: %s\n", k, k)
		writeCond([]string{sysmonChannel}, sysmonCategories[k])
	}
	for _, k := range sortedKeys(windowsCategories) {
		fmt.Fprintf(&b, "  cat_%s:\n    product: windows\n    category: %s\n", k, k)
		writeCond(windowsCategories[k].channels, windowsCategories[k].ids)
	}
	for _, k := range sortedKeys(windowsServices) {
		fmt.Fprintf(&b, "  svc_%s:\n    product: windows\n    service: %s\n", k, k)
		writeCond(windowsServices[k], nil)
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
