package sqlitestore

import (
	"testing"

	"github.com/shieldwall/shieldwall/internal/store"
	"github.com/shieldwall/shieldwall/internal/store/storetest"
)

func TestFederationConformance(t *testing.T) {
	storetest.RunFederation(t, func(t *testing.T) store.Backend { return openTemp(t) })
}
