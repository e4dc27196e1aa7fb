// Package state keeps the account state (a balance and a nonce per
// address) and applies and undoes blocks on it.
//
// ApplyBlock checks the rules that need balances (each nonce is exactly the
// sender's next one, nothing overflows, no balance goes negative, the
// coinbase pays exactly reward plus fees) while it applies, and either
// applies the whole block or nothing. It returns an Undo: the prior value
// of every account the block touched, which UndoBlock restores exactly.
// The undo record is stored with the block so that a reorg of any depth can
// walk back to the fork point.
//
// State is an in-memory map; package store persists the same changes (the
// Changes of each applied or undone block) in the same batch as the block.
// State is not safe for concurrent use; package blockchain owns it.
package state
