package policy

import (
	"encoding/json"
	"fmt"
	"slices"
)

// protected are the properties redaction never removes: without them the
// object is no longer a valid STIX object, or no longer the same one.
var protected = []string{"type", "id", "spec_version", "created", "modified"}

// Strip returns raw (one STIX object as JSON) without the named top-level
// properties; the other properties keep their values. Stripping a property
// that STIX requires (sighting_of_ref, say) is the caller's mistake and is
// refused, as are the identifying properties.
func Strip(raw []byte, props []string) ([]byte, error) {
	if len(props) == 0 {
		return raw, nil
	}
	for _, p := range props {
		if slices.Contains(protected, p) {
			return nil, fmt.Errorf("redaction may not remove %q", p)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("redact: %w", err)
	}
	changed := false
	for _, p := range props {
		if _, ok := m[p]; ok {
			delete(m, p)
			changed = true
		}
	}
	if !changed {
		return raw, nil
	}
	return json.Marshal(m)
}
