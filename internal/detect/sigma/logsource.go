package sigma

import "strings"

// sourceFilter is a rule's log source compiled to what an event must carry.
type sourceFilter struct {
	product  string   // "windows", "linux", "zeek"...; "" for any
	channels []string // Windows Channel values (any of), case-insensitive
	eventIDs []string // EventID values (any of)
	format   string   // event Format that must match when set ("zeek")
	path     string   // Zeek log name (the _path field) when set
	// notWindows excludes Windows event-log events (network categories).
	notWindows bool
}

// sysmonCategories maps a Windows category to Sysmon event ids, following
// pySigma's Sysmon pipeline.
var sysmonCategories = map[string][]string{
	"process_creation":         {"1"},
	"file_change":              {"2"},
	"network_connection":       {"3"},
	"sysmon_status":            {"4", "16"},
	"process_termination":      {"5"},
	"driver_load":              {"6"},
	"image_load":               {"7"},
	"create_remote_thread":     {"8"},
	"raw_access_thread":        {"9"},
	"raw_access_read":          {"9"},
	"process_access":           {"10"},
	"file_event":               {"11"},
	"registry_add":             {"12"},
	"registry_delete":          {"12"},
	"registry_set":             {"13"},
	"registry_rename":          {"14"},
	"registry_event":           {"12", "13", "14"},
	"create_stream_hash":       {"15"},
	"pipe_created":             {"17", "18"},
	"wmi_event":                {"19", "20", "21"},
	"dns_query":                {"22"},
	"file_delete":              {"23", "26"},
	"file_delete_detected":     {"26"},
	"clipboard_capture":        {"24"},
	"process_tampering":        {"25"},
	"file_block_executable":    {"27"},
	"file_block_shredding":     {"28"},
	"file_executable_detected": {"29"},
	"sysmon_error":             {"255"},
}

const sysmonChannel = "Microsoft-Windows-Sysmon/Operational"

// windowsCategories are the non-Sysmon Windows categories.
var windowsCategories = map[string]sourceFilter{
	"ps_module":                 {channels: []string{"Microsoft-Windows-PowerShell/Operational"}, eventIDs: []string{"4103"}},
	"ps_script":                 {channels: []string{"Microsoft-Windows-PowerShell/Operational"}, eventIDs: []string{"4104"}},
	"ps_classic_start":          {channels: []string{"Windows PowerShell"}, eventIDs: []string{"400"}},
	"ps_classic_provider_start": {channels: []string{"Windows PowerShell"}, eventIDs: []string{"600"}},
	"ps_classic_script":         {channels: []string{"Windows PowerShell"}, eventIDs: []string{"800"}},
	"file_access":               {channels: []string{"Microsoft-Windows-Kernel-File/Analytic"}},
	"file_rename":               {channels: []string{"Microsoft-Windows-Kernel-File/Analytic"}},
	"dns_query_client":          {channels: []string{"Microsoft-Windows-DNS-Client/Operational"}},
}

// windowsServices maps a Windows service to its channels (pySigma's
// Windows log source pipeline).
var windowsServices = map[string][]string{
	"security":                             {"Security"},
	"system":                               {"System"},
	"application":                          {"Application"},
	"sysmon":                               {sysmonChannel},
	"powershell":                           {"Microsoft-Windows-PowerShell/Operational"},
	"powershell-classic":                   {"Windows PowerShell"},
	"taskscheduler":                        {"Microsoft-Windows-TaskScheduler/Operational"},
	"wmi":                                  {"Microsoft-Windows-WMI-Activity/Operational"},
	"dns-server":                           {"DNS Server"},
	"dns-server-audit":                     {"Microsoft-Windows-DNS-Server/Audit"},
	"dns-server-analytic":                  {"Microsoft-Windows-DNS-Server/Analytical"},
	"driver-framework":                     {"Microsoft-Windows-DriverFrameworks-UserMode/Operational"},
	"ntlm":                                 {"Microsoft-Windows-NTLM/Operational"},
	"dhcp":                                 {"Microsoft-Windows-DHCP-Server/Operational"},
	"msexchange-management":                {"MSExchange Management"},
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

// compileLogsource turns a rule's log source into a filter.
func compileLogsource(ls Logsource) sourceFilter {
	p := strings.ToLower(ls.Product)
	cat := strings.ToLower(ls.Category)
	svc := strings.ToLower(ls.Service)
	f := sourceFilter{product: p}
	switch p {
	case "windows":
		if svc != "" {
			if ch, ok := windowsServices[svc]; ok {
				f.channels = ch
			}
		}
		if ids, ok := sysmonCategories[cat]; ok {
			f.channels = []string{sysmonChannel}
			f.eventIDs = ids
		} else if wc, ok := windowsCategories[cat]; ok {
			f.channels, f.eventIDs = wc.channels, wc.eventIDs
		}
	case "linux":
		if svc == "syslog" {
			f.format = "syslog"
		}
	case "zeek":
		f.format = "zeek"
		f.path = svc
	case "":
		switch cat {
		case "proxy", "webserver", "firewall", "dns":
			// Network sources come from many products (Zeek, proxies, web
			// servers' JSON logs), but never from Windows event logs.
			f.notWindows = true
		}
	}
	return f
}

// eventSource is what the dispatcher knows about one event.
type eventSource struct {
	product string
	channel string
	eventID string
	format  string
	path    string
}

func (f *sourceFilter) accepts(es *eventSource) bool {
	if f.product != "" && es.product != "" && f.product != es.product {
		return false
	}
	if f.notWindows && es.product == "windows" {
		return false
	}
	if f.format != "" && es.format != f.format {
		return false
	}
	if f.path != "" && es.path != "" && !strings.EqualFold(f.path, es.path) {
		return false
	}
	if len(f.channels) > 0 {
		ok := false
		for _, c := range f.channels {
			if strings.EqualFold(c, es.channel) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if len(f.eventIDs) > 0 {
		ok := false
		for _, id := range f.eventIDs {
			if id == es.eventID {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// fieldAliases maps a field name used by proxy and web-server rules to the
// names the same value has in Zeek http logs and common JSON web logs.
var fieldAliases = map[string][]string{
	"c-uri":        {"uri", "url"},
	"c-uri-query":  {"uri"},
	"cs-uri-query": {"uri"},
	"cs-uri-stem":  {"uri"},
	"cs-host":      {"host"},
	"r-dns":        {"host"},
	"c-useragent":  {"user_agent", "useragent"},
	"cs-method":    {"method"},
	"sc-status":    {"status_code", "status"},
	"cs-referrer":  {"referrer"},
	"c-ip":         {"id.orig_h", "id_orig_h", "src_ip"},
	"dst_ip":       {"id.resp_h", "id_resp_h"},
	"src_ip":       {"id.orig_h", "id_orig_h"},
	"dst_port":     {"id.resp_p", "id_resp_p"},
	// Zeek JSON writers may flatten "id.orig_h" to "id_orig_h" (OTRF data).
	"id.orig_h": {"id_orig_h"},
	"id.orig_p": {"id_orig_p"},
	"id.resp_h": {"id_resp_h"},
	"id.resp_p": {"id_resp_p"},
}
