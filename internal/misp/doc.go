// Package misp converts MISP events (the JSON that MISP's REST API and
// PyMISP write) into STIX 2.1 objects, following the mapping of MISP's own
// misp-stix library where practical:
//
//   - the event becomes a report (report--<event uuid>) created by an
//     identity for the creator organisation (identity--<Orgc uuid>);
//   - attributes with to_ids set become indicators (indicator--<attribute
//     uuid>) with an escaped STIX pattern; other attributes become
//     observed-data with deterministic cyber-observable objects, or an
//     x-misp-attribute custom object when no observable fits;
//   - MISP objects become one indicator with an AND-ed pattern when any of
//     their attributes has to_ids, else observed-data or x-misp-object;
//   - tlp:* tags become TLP 2.0 object_marking_refs, other tags and galaxy
//     clusters become labels; sightings become sighting objects.
//
// Timestamps come from the event, so converting the same event twice yields
// the same objects with the same versions. Problems with single attributes
// are reported as warnings, never by failing the event.
package misp
