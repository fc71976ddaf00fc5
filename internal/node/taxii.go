package node

import (
	"fmt"
	"net/http"

	"github.com/shieldwall/shieldwall/internal/taxii/taxiiserver"
)

// taxiiHandler builds the TAXII 2.1 server over the node's store.
func (n *Node) taxiiHandler(opts ServeOptions) (http.Handler, error) {
	o := taxiiserver.Options{
		Objects:          n.Store,
		Collections:      n.Store,
		Statuses:         n.Store,
		Tokens:           n.Store,
		Grants:           n.Store,
		Logger:           n.log,
		MaxContentLength: opts.MaxContentLength,
		PublicURL:        opts.PublicURL,
		Title:            "Shieldwall node",
		Description:      "Threat intelligence of this node, as STIX 2.1 over TAXII 2.1.",
	}
	if opts.Federation != nil {
		// A peer pushing here learns which objects this node already got
		// from elsewhere, and stops relaying those trees (federation's relay.go).
		o.Held = opts.Federation.Held
	}
	srv, err := taxiiserver.New(o)
	if err != nil {
		return nil, fmt.Errorf("taxii: %w", err)
	}
	return srv, nil
}
