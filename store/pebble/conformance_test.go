package pebble

import (
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, genesis chain.Hash) store.Store {
		p, err := Open(t.TempDir(), storetest.Network, genesis, WithLogger(quietLogger()))
		if err != nil {
			t.Fatal(err)
		}
		return p
	})
}
