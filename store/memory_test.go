package store_test

import (
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/store"
	"github.com/chaind/chaind/store/storetest"
)

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T, chain.Hash) store.Store { return store.NewMemory() })
}
