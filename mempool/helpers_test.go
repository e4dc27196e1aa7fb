package mempool

import (
	"sync"
	"testing"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/internal/chaintest"
	"github.com/chaind/chaind/state"
	"github.com/chaind/chaind/wallet"
)

// fakeChain is a Chain whose accounts a test sets directly.
type fakeChain struct {
	p     *consensus.Params
	mu    sync.Mutex
	accts map[chain.Address]state.Account
}

// newFakeChain funds each key with each base units on a regtest network.
func newFakeChain(keys []*wallet.Key, each uint64) *fakeChain {
	f := &fakeChain{p: chaintest.Params(keys, each), accts: make(map[chain.Address]state.Account)}
	for _, k := range keys {
		f.accts[k.Address()] = state.Account{Balance: each}
	}
	return f
}

func (f *fakeChain) Account(a chain.Address) state.Account {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accts[a]
}

func (f *fakeChain) Params() *consensus.Params { return f.p }

func (f *fakeChain) set(a chain.Address, acct state.Account) {
	f.mu.Lock()
	f.accts[a] = acct
	f.mu.Unlock()
}

// recorder collects what a pool announces to subscribers.
type recorder struct {
	mu  sync.Mutex
	txs []*chain.Tx
}

func (r *recorder) add(tx *chain.Tx) {
	r.mu.Lock()
	r.txs = append(r.txs, tx)
	r.mu.Unlock()
}

func (r *recorder) ids() []chain.Hash {
	r.mu.Lock()
	defer r.mu.Unlock()
	return chain.TxIDs(r.txs)
}

// checkInvariants verifies the pool's internal structure: sender lists
// ordered and gap-checked against their accounts, costs within balances,
// the id map and eviction heap consistent, the bounds kept.
func checkInvariants(t testing.TB, p *Pool) {
	t.Helper()
	checkStructure(t, p, true)
}

// checkStructure is checkInvariants; with perAccount false, the
// per-account bounds (MaxTxsPerSender, MaxLocalTxs) are not checked, as
// after a reorg that gave back more than they allow.
func checkStructure(t testing.TB, p *Pool, perAccount bool) {
	t.Helper()
	p.mu.RLock()
	defer p.mu.RUnlock()
	total, locals := 0, 0
	for addr, s := range p.senders {
		if s.addr != addr {
			t.Fatalf("sender %x filed under %x", s.addr, addr)
		}
		if len(s.txs) == 0 {
			t.Fatalf("sender %x has no transactions but is kept", addr)
		}
		if perAccount && !s.local && len(s.txs) > p.cfg.MaxTxsPerSender {
			t.Fatalf("sender %x holds %d transactions, limit %d", addr, len(s.txs), p.cfg.MaxTxsPerSender)
		}
		var cost uint64
		minFee := s.txs[0].tx.Fee
		for i, e := range s.txs {
			if e.from != s {
				t.Fatalf("entry %s points at the wrong sender", e.id)
			}
			if e.tx.Sender() != addr {
				t.Fatalf("tx %s of %x filed under %x", e.id, e.tx.Sender(), addr)
			}
			if e.id != e.tx.ID() {
				t.Fatalf("entry id %s is not the tx id %s", e.id, e.tx.ID())
			}
			if i > 0 && e.tx.Nonce <= s.txs[i-1].tx.Nonce {
				t.Fatalf("sender %x nonces out of order: %d after %d", addr, e.tx.Nonce, s.txs[i-1].tx.Nonce)
			}
			if e.tx.Nonce < s.acct.Nonce {
				t.Fatalf("sender %x holds stale nonce %d, account nonce %d", addr, e.tx.Nonce, s.acct.Nonce)
			}
			if p.byID[e.id] != e {
				t.Fatalf("tx %s missing from the id map", e.id)
			}
			cost += e.cost
			minFee = min(minFee, e.tx.Fee)
		}
		if cost != s.cost || cost > s.acct.Balance {
			t.Fatalf("sender %x: cost %d, recorded %d, balance %d", addr, cost, s.cost, s.acct.Balance)
		}
		if minFee != s.minFee {
			t.Fatalf("sender %x: min fee %d, recorded %d", addr, minFee, s.minFee)
		}
		if s.local != p.locals[addr] {
			t.Fatalf("sender %x: local %v, pool says %v", addr, s.local, p.locals[addr])
		}
		if s.local {
			if s.evictIdx >= 0 {
				t.Fatalf("local sender %x is in the eviction heap", addr)
			}
			locals++
		} else if s.evictIdx < 0 || s.evictIdx >= len(p.evict) || p.evict[s.evictIdx] != s {
			t.Fatalf("sender %x not at its eviction heap index %d", addr, s.evictIdx)
		}
		total += len(s.txs)
	}
	if total != len(p.byID) {
		t.Fatalf("senders hold %d transactions, id map %d", total, len(p.byID))
	}
	if len(p.evict) != len(p.senders)-locals {
		t.Fatalf("eviction heap has %d senders, map %d", len(p.evict), len(p.senders))
	}
	for i := 1; i < len(p.evict); i++ {
		if p.evict.Less(i, (i-1)/2) {
			t.Fatalf("eviction heap order broken at %d", i)
		}
	}
	if len(p.byID) > p.cfg.MaxTxs {
		t.Fatalf("pool holds %d transactions, limit %d", len(p.byID), p.cfg.MaxTxs)
	}
}

func ids(txs []*chain.Tx) []chain.Hash { return chain.TxIDs(txs) }
