// Package web is the situational-awareness console that a node serves at /:
// server-rendered pages (html/template) over the node's store and
// federation state, local user accounts with argon2id passwords, server-side
// sessions, CSRF tokens and a strict Content Security Policy, and live
// updates by server-sent events. Every asset is embedded (see Static); the
// vendored libraries (htmx, ECharts, Cytoscape.js) are rebuilt reproducibly
// from assets/package-lock.json by assets/vendor.sh, never by go build.
package web
