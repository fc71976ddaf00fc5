package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The MISP JSON model, reduced to what the conversion reads. MISP writes
// numbers and booleans as strings in some versions, so those fields use the
// lenient types below.

type event struct {
	UUID             string      `json:"uuid"`
	Info             flexString  `json:"info"`
	Date             flexString  `json:"date"`
	Timestamp        flexTime    `json:"timestamp"`
	PublishTimestamp flexTime    `json:"publish_timestamp"`
	ThreatLevelID    flexString  `json:"threat_level_id"`
	Analysis         flexString  `json:"analysis"`
	Orgc             *org        `json:"Orgc"`
	Tag              []tag       `json:"Tag"`
	Galaxy           []galaxy    `json:"Galaxy"`
	Attribute        []attribute `json:"Attribute"`
	Object           []object    `json:"Object"`
}

type org struct {
	UUID string     `json:"uuid"`
	Name flexString `json:"name"`
}

type tag struct {
	Name flexString `json:"name"`
}

type galaxy struct {
	Type          flexString `json:"type"`
	Name          flexString `json:"name"`
	GalaxyCluster []cluster  `json:"GalaxyCluster"`
}

type cluster struct {
	Type        flexString      `json:"type"`
	Value       flexString      `json:"value"`
	TagName     flexString      `json:"tag_name"`
	Description flexString      `json:"description"`
	UUID        string          `json:"uuid"`
	Meta        json.RawMessage `json:"meta"` // read leniently by clusterMeta
}

type attribute struct {
	UUID           string     `json:"uuid"`
	Type           flexString `json:"type"`
	Category       flexString `json:"category"`
	Value          flexString `json:"value"`
	Comment        flexString `json:"comment"`
	ToIDs          flexBool   `json:"to_ids"`
	Deleted        flexBool   `json:"deleted"`
	Timestamp      flexTime   `json:"timestamp"`
	FirstSeen      flexTime   `json:"first_seen"`
	LastSeen       flexTime   `json:"last_seen"`
	ObjectRelation flexString `json:"object_relation"`
	Tag            []tag      `json:"Tag"`
	Galaxy         []galaxy   `json:"Galaxy"`
	Sighting       []sighting `json:"Sighting"`
}

type object struct {
	UUID         string      `json:"uuid"`
	Name         flexString  `json:"name"`
	MetaCategory flexString  `json:"meta-category"`
	Comment      flexString  `json:"comment"`
	Timestamp    flexTime    `json:"timestamp"`
	FirstSeen    flexTime    `json:"first_seen"`
	LastSeen     flexTime    `json:"last_seen"`
	Deleted      flexBool    `json:"deleted"`
	Attribute    []attribute `json:"Attribute"`
}

type sighting struct {
	UUID         string     `json:"uuid"`
	DateSighting flexTime   `json:"date_sighting"`
	Type         flexString `json:"type"`
	Source       flexString `json:"source"`
	Organisation *org       `json:"Organisation"`
}

// flexString accepts a JSON string, number, boolean or null.
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*s = ""
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '{' || b[0] == '[':
		return fmt.Errorf("expected a string, got %.20s", b)
	default:
		*s = flexString(b)
	}
	return nil
}

// flexBool accepts true/false, 1/0 and their string forms.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "true", "1":
		*f = true
	default:
		*f = false
	}
	return nil
}

// flexTime accepts unix seconds (number or string) or an RFC 3339 /
// ISO 8601 date-time such as MISP's first_seen "2019-06-26T10:13:29.000000+00:00".
// Unparsable or absent values leave it zero.
type flexTime struct{ time.Time }

func (f *flexTime) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	f.Time = parseTime(string(s))
	return nil
}

// parseTime reads unix seconds or an RFC 3339 date-time; zero when neither.
func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		// STIX timestamps are four-digit years; keep within them.
		if n <= 0 || n > 253402300799 {
			return time.Time{}
		}
		return time.Unix(n, 0).UTC()
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if u := t.UTC(); u.Year() >= 1 && u.Year() <= 9999 {
			return u
		}
	}
	return time.Time{}
}
