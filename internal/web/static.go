package web

import (
	"embed"
	"io/fs"
)

// staticFiles holds the console's own CSS and JavaScript and the vendored
// libraries (static/vendor, rebuilt by assets/vendor.sh from
// assets/package-lock.json). Nothing is fetched from elsewhere at run time.
//
//go:embed static
var staticFiles embed.FS

// Static returns the embedded static files, rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded above; cannot happen
	}
	return sub
}
