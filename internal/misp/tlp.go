package misp

import (
	"strings"

	"github.com/shieldwall/shieldwall/internal/stix"
)

// lookupTLP resolves a TLP name as found in a MISP tag ("tlp:amber+strict")
// or in Options.DefaultTLP to its TLP 2.0 marking; TLP 1.0 "white" is
// TLP 2.0 "clear".
func lookupTLP(name string) (stix.TLP, bool) {
	return stix.TLPByName(strings.TrimSpace(name))
}
