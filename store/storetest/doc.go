// Package storetest holds the conformance tests every store.Store
// implementation must pass (Run) and the generated test chains they use
// (Chain: valid blocks with random transfers, their undo records and
// account changes), so the memory store and the Pebble store are held to
// one contract.
package storetest
