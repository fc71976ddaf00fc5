package stix

import "strings"

// The vocabularies of STIX 2.1 section 10. Names ending in -ov are open
// (unknown values warn), -enum closed (unknown values are errors).
var vocabularies = buildVocabularies(map[string]string{
	"account-type-ov":                "facebook ldap nis openid radius skype tacacs twitter unix windows-local windows-domain",
	"attack-motivation-ov":           "accidental coercion dominance ideology notoriety organizational-gain personal-gain personal-satisfaction revenge unpredictable",
	"attack-resource-level-ov":       "individual club contest team organization government",
	"encryption-algorithm-enum":      "AES-256-GCM ChaCha20-Poly1305 mime-type-indicated",
	"extension-type-enum":            "new-sdo new-sco new-sro property-extension toplevel-property-extension",
	"grouping-context-ov":            "suspicious-activity malware-analysis unspecified",
	"hash-algorithm-ov":              "MD5 SHA-1 SHA-256 SHA-512 SHA3-256 SHA3-512 SSDEEP TLSH",
	"identity-class-ov":              "individual group system organization class unknown",
	"implementation-language-ov":     "applescript bash c c++ c# go java javascript lua objective-c perl php powershell python ruby scala swift typescript visual-basic x86-32 x86-64",
	"indicator-type-ov":              "anomalous-activity anonymization benign compromised malicious-activity attribution unknown",
	"industry-sector-ov":             "agriculture aerospace automotive chemical commercial communications construction defense education energy entertainment financial-services government emergency-services government-local government-national government-public-services government-regional healthcare hospitality-leisure infrastructure dams nuclear water insurance manufacturing mining non-profit pharmaceuticals retail technology telecommunications transportation utilities",
	"infrastructure-type-ov":         "amplification anonymization botnet command-and-control control-system exfiltration firewall hosting-malware hosting-target-lists phishing reconnaissance routers-switches staging workstation unknown",
	"malware-capabilities-ov":        "accesses-remote-machines anti-debugging anti-disassembly anti-emulation anti-memory-forensics anti-sandbox anti-vm captures-input-peripherals captures-output-peripherals captures-system-state-data cleans-traces-of-infection commits-fraud communicates-with-c2 compromises-data-availability compromises-data-integrity compromises-system-availability controls-local-machine degrades-security-software degrades-system-updates determines-c2-server emails-spam escalates-privileges evades-av exfiltrates-data fingerprints-host hides-artifacts hides-executing-code infects-files infects-remote-machines installs-other-components persists-after-system-reboot prevents-artifact-access prevents-artifact-deletion probes-network-environment self-modifies steals-authentication-credentials violates-system-operational-integrity",
	"malware-result-ov":              "malicious suspicious benign unknown",
	"malware-type-ov":                "adware backdoor bot bootkit ddos downloader dropper exploit-kit keylogger ransomware remote-access-trojan resource-exploitation rogue-security-software rootkit screen-capture spyware trojan unknown virus webshell wiper worm",
	"opinion-enum":                   "strongly-disagree disagree neutral agree strongly-agree",
	"pattern-type-ov":                "stix pcre sigma snort suricata yara",
	"processor-architecture-ov":      "alpha arm ia-64 mips powerpc sparc x86 x86-64",
	"region-ov":                      "africa eastern-africa middle-africa northern-africa southern-africa western-africa americas latin-america-caribbean south-america caribbean central-america northern-america asia central-asia eastern-asia southern-asia south-eastern-asia western-asia europe eastern-europe northern-europe southern-europe western-europe oceania antarctica australia-new-zealand melanesia micronesia polynesia",
	"report-type-ov":                 "attack-pattern campaign identity indicator intrusion-set malware observed-data threat-actor threat-report tool vulnerability",
	"threat-actor-role-ov":           "agent director independent infrastructure-architect infrastructure-operator malware-author sponsor",
	"threat-actor-sophistication-ov": "none minimal intermediate advanced expert innovator strategic",
	"threat-actor-type-ov":           "activist competitor crime-syndicate criminal hacker insider-accidental insider-disgruntled nation-state sensationalist spy terrorist unknown",
	"tool-type-ov":                   "denial-of-service exploitation information-gathering network-capture credential-exploitation remote-access vulnerability-scanning unknown",
	"windows-registry-datatype-enum": "REG_NONE REG_SZ REG_EXPAND_SZ REG_BINARY REG_DWORD REG_DWORD_BIG_ENDIAN REG_DWORD_LITTLE_ENDIAN REG_LINK REG_MULTI_SZ REG_RESOURCE_LIST REG_FULL_RESOURCE_DESCRIPTION REG_RESOURCE_REQUIREMENTS_LIST REG_QWORD REG_INVALID_TYPE",
})

func buildVocabularies(src map[string]string) map[string]map[string]bool {
	out := make(map[string]map[string]bool, len(src))
	for name, words := range src {
		set := make(map[string]bool)
		for _, w := range strings.Fields(words) {
			set[w] = true
		}
		out[name] = set
	}
	return out
}
