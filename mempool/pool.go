package mempool

import (
	"container/heap"
	"math/bits"
	"slices"
	"sync"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/state"
)

// Defaults for the zero fields of Config.
const (
	// DefaultMaxTxs bounds the pool: about 20 MB of memory when full.
	DefaultMaxTxs = 50_000
	// DefaultMaxTxsPerSender bounds one sender's share of the pool.
	DefaultMaxTxsPerSender = 64
	// DefaultMaxNonceGap is how far past its next executable nonce a sender
	// may queue a transaction.
	DefaultMaxNonceGap = 16
	// DefaultMinReplaceFeeBump is the percent by which a replacement must
	// raise the fee.
	DefaultMinReplaceFeeBump = 10
	// DefaultMaxLocalTxs bounds the pooled transactions of local accounts
	// together.
	DefaultMaxLocalTxs = 10_000
)

// percent is the denominator of MinReplaceFeeBump.
const percent = 100

// Chain is what the pool needs from the chain; *blockchain.Blockchain
// satisfies it. Account must return the state at the chain's current tip
// and be safe for concurrent use; the pool calls it with its own lock held,
// so it must not call into the pool.
type Chain interface {
	Account(chain.Address) state.Account
	Params() *consensus.Params
}

// Config bounds a Pool. A zero field selects its default.
type Config struct {
	// MaxTxs bounds the pooled transactions (DefaultMaxTxs).
	MaxTxs int
	// MaxTxsPerSender bounds the pooled transactions of one sender
	// (DefaultMaxTxsPerSender).
	MaxTxsPerSender int
	// MaxNonceGap is how far above the sender's next executable nonce a
	// transaction's nonce may be (DefaultMaxNonceGap); a negative value
	// admits only the next executable nonce.
	MaxNonceGap int
	// MinReplaceFeeBump is the percent by which a replacement's fee must
	// exceed the pooled one's (DefaultMinReplaceFeeBump); a negative value
	// asks only for a higher fee.
	MinReplaceFeeBump int
	// MaxLocalTxs bounds the pooled transactions of the local accounts
	// (SetLocal) together (DefaultMaxLocalTxs); it is capped at MaxTxs.
	MaxLocalTxs int
	// SigCache, when set, is the verified-signature cache the chain's
	// block validation reads (blockchain.Blockchain.SigCache): the pool
	// skips the signatures it holds and adds those of the transactions it
	// admits. nil: every signature is verified and none is remembered. A
	// cache made for another network is not used.
	SigCache *consensus.SigCache
}

func (c Config) withDefaults() Config {
	if c.MaxTxs <= 0 {
		c.MaxTxs = DefaultMaxTxs
	}
	if c.MaxTxsPerSender <= 0 {
		c.MaxTxsPerSender = DefaultMaxTxsPerSender
	}
	if c.MaxLocalTxs <= 0 {
		c.MaxLocalTxs = DefaultMaxLocalTxs
	}
	c.MaxLocalTxs = min(c.MaxLocalTxs, c.MaxTxs)
	switch {
	case c.MaxNonceGap == 0:
		c.MaxNonceGap = DefaultMaxNonceGap
	case c.MaxNonceGap < 0:
		c.MaxNonceGap = 0
	}
	switch {
	case c.MinReplaceFeeBump == 0:
		c.MinReplaceFeeBump = DefaultMinReplaceFeeBump
	case c.MinReplaceFeeBump < 0:
		c.MinReplaceFeeBump = 0
	}
	return c
}

// Pool is the transaction pool. It is safe for concurrent use.
type Pool struct {
	chain Chain
	cfg   Config
	netID chain.Hash

	mu      sync.RWMutex // guards everything below
	byID    map[chain.Hash]*entry
	senders map[chain.Address]*sender
	evict   evictHeap
	seq     uint64
	locals  map[chain.Address]bool

	subMu sync.Mutex
	subs  []func(*chain.Tx)
}

// New returns an empty pool that checks transactions against c.
func New(c Chain, cfg Config) *Pool {
	netID := c.Params().GenesisHash()
	if cfg.SigCache != nil && cfg.SigCache.NetworkID() != netID {
		cfg.SigCache = nil
	}
	return &Pool{
		chain:   c,
		cfg:     cfg.withDefaults(),
		netID:   netID,
		byID:    make(map[chain.Hash]*entry),
		senders: make(map[chain.Address]*sender),
		locals:  make(map[chain.Address]bool),
	}
}

// SetLocal marks addr as a local account, as geth does with the node's own
// keys: its transactions are exempt from MaxTxsPerSender and are never
// evicted to make room, and all local accounts' transactions together are
// bounded by MaxLocalTxs (ErrLocalLimit). Every other rule applies.
func (p *Pool) SetLocal(addr chain.Address) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.locals[addr] = true
	if s := p.senders[addr]; s != nil && !s.local {
		s.local = true
		p.fixSender(s)
	}
}

// localTxs counts the pooled transactions of local accounts. Called with
// mu held.
func (p *Pool) localTxs() int {
	n := 0
	for a := range p.locals {
		if s := p.senders[a]; s != nil {
			n += len(s.txs)
		}
	}
	return n
}

// Config returns the pool's bounds, defaults filled in.
func (p *Pool) Config() Config { return p.cfg }

// Subscribe registers fn to be called with each newly admitted transaction
// (replacements and transactions taken back from a disconnected block
// included), after the pool's lock is released. fn may call the pool.
func (p *Pool) Subscribe(fn func(tx *chain.Tx)) {
	p.subMu.Lock()
	p.subs = append(p.subs, fn)
	p.subMu.Unlock()
}

func (p *Pool) notify(txs []*chain.Tx) {
	if len(txs) == 0 {
		return
	}
	p.subMu.Lock()
	fns := slices.Clone(p.subs)
	p.subMu.Unlock()
	for _, tx := range txs {
		for _, fn := range fns {
			fn(tx)
		}
	}
}

// precheck runs the context-free checks and returns the transaction id.
func precheck(tx *chain.Tx) (chain.Hash, error) {
	if tx == nil {
		return chain.Hash{}, refuse(chain.Hash{}, ErrNilTx, "")
	}
	id := tx.ID()
	if err := consensus.CheckTxSanity(tx); err != nil {
		return id, refuse(id, err, "")
	}
	return id, nil
}

func duplicateErr(id chain.Hash) error { return refuse(id, ErrDuplicate, "") }

// Add checks tx and admits it: the context-free checks, then the cheap
// checks against the sender's account (cheapCheck: duplicate, used nonce,
// a cost the balance cannot pay), and only then the signature, so a
// transaction from an unfunded key costs no signature verification. The
// remaining rules (nonce gap, limits, replacement) follow in admit. The
// caller must not modify tx afterwards.
func (p *Pool) Add(tx *chain.Tx) error {
	id, err := precheck(tx)
	if err != nil {
		return err
	}
	p.mu.RLock()
	err = p.cheapCheck(tx, id)
	p.mu.RUnlock()
	if err != nil {
		return err
	}
	if !p.sigCached(id) && !consensus.VerifyTx(tx, p.netID) {
		return refuse(id, ErrBadSignature, "")
	}
	p.mu.Lock()
	err = p.admit(tx, id, false)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	p.cacheSigs(id)
	p.notify([]*chain.Tx{tx})
	return nil
}

// AddBatch checks txs, verifies the signatures of those that could be
// admitted on all cores (consensus.VerifyTxs), then admits them in order,
// so a sender's transactions may arrive in one batch. errs[i] is the
// outcome of txs[i]. As in Add, a transaction refused by the cheap checks
// (cheapCheck) costs no signature verification.
// The caller must not modify admitted transactions afterwards.
func (p *Pool) AddBatch(txs []*chain.Tx) []error {
	errs := make([]error, len(txs))
	ids := make([]chain.Hash, len(txs))
	for i, tx := range txs {
		ids[i], errs[i] = precheck(tx)
	}
	// Known and unpayable transactions are common in gossip and spam;
	// skip their signatures.
	cand := make([]int, 0, len(txs))
	p.mu.RLock()
	for i := range txs {
		if errs[i] != nil {
			continue
		}
		if errs[i] = p.cheapCheck(txs[i], ids[i]); errs[i] != nil {
			continue
		}
		cand = append(cand, i)
	}
	p.mu.RUnlock()

	// Signatures the cache holds were verified before: check the rest.
	list := make([]*chain.Tx, 0, len(cand))
	at := make([]int, 0, len(cand)) // list[k] is txs[at[k]]
	for _, i := range cand {
		if !p.sigCached(ids[i]) {
			list = append(list, txs[i])
			at = append(at, i)
		}
	}
	bad := verifyTxs(list, p.netID)
	if bad != nil {
		for k, i := range at {
			if bad[k] {
				errs[i] = refuse(ids[i], ErrBadSignature, "")
			}
		}
	}

	admitted := make([]*chain.Tx, 0, len(cand))
	admittedIDs := make([]chain.Hash, 0, len(cand))
	p.mu.Lock()
	for _, i := range cand {
		if errs[i] != nil {
			continue
		}
		if errs[i] = p.admit(txs[i], ids[i], false); errs[i] == nil {
			admitted = append(admitted, txs[i])
			admittedIDs = append(admittedIDs, ids[i])
		}
	}
	p.mu.Unlock()
	p.cacheSigs(admittedIDs...)
	p.notify(admitted)
	return errs
}

// sigCached reports whether the signature cache holds id: its signature
// was verified before.
func (p *Pool) sigCached(id chain.Hash) bool {
	return p.cfg.SigCache != nil && p.cfg.SigCache.Contains(id)
}

// cacheSigs adds the ids of admitted transactions, whose signatures were
// verified, to the signature cache. Only admitted ones: admission's
// bounds (funds, per-sender and pool limits) are what keeps a peer from
// flooding the cache with valid signatures of transactions nobody keeps.
func (p *Pool) cacheSigs(ids ...chain.Hash) {
	if p.cfg.SigCache != nil {
		p.cfg.SigCache.Add(ids...)
	}
}

// cheapCheck refuses, before any signature is verified, what admit would
// refuse whatever else is pooled or comes in the same batch: a duplicate,
// a nonce the account has used (ErrNonceTooLow), and a transaction whose
// amount and fee alone exceed the sender's balance at the tip
// (ErrUnfunded, which also matches ErrInsufficientFunds). It reads the
// chain's account, never the sender's pooled state. Called with mu held
// (read or write).
func (p *Pool) cheapCheck(tx *chain.Tx, id chain.Hash) error {
	if _, ok := p.byID[id]; ok {
		return duplicateErr(id)
	}
	acct := p.chain.Account(tx.Sender())
	if tx.Nonce < acct.Nonce {
		return refuse(id, ErrNonceTooLow, "nonce %d, account nonce %d", tx.Nonce, acct.Nonce)
	}
	// CheckTxSanity (precheck) ruled out an overflow of amount + fee.
	if cost := tx.Amount + tx.Fee; cost > acct.Balance {
		return refuse(id, ErrUnfunded, "balance %d, this transaction %d", acct.Balance, cost)
	}
	return nil
}

// feeBumped reports whether newFee is higher than oldFee by at least bump
// percent: newFee > oldFee and newFee*100 >= oldFee*(100+bump), computed in
// 128 bits so no fee overflows.
func feeBumped(oldFee, newFee uint64, bump int) bool {
	if newFee <= oldFee {
		return false
	}
	nh, nl := bits.Mul64(newFee, percent)
	oh, ol := bits.Mul64(oldFee, uint64(percent+bump))
	return nh > oh || (nh == oh && nl >= ol)
}

// admit applies the admission rules to a transaction that passed precheck
// and whose signature is verified. reentry, for transactions taken back
// from a disconnected block, lifts the nonce-gap bound and the per-account
// bounds (MaxTxsPerSender, MaxLocalTxs): a reorg announces the tip block's
// disconnection first, so a sender's later nonces come back before its
// earlier ones, and a per-sender bound would keep the later ones (which
// cannot be mined without the earlier) and lose the executable ones. What
// comes back was in blocks of our main chain, paid for in work, so it is
// no stranger's flood; MaxTxs still bounds the pool. Called with mu held.
func (p *Pool) admit(tx *chain.Tx, id chain.Hash, reentry bool) error {
	if _, ok := p.byID[id]; ok {
		return duplicateErr(id)
	}
	addr := tx.Sender()
	acct := p.chain.Account(addr)
	s := p.senders[addr]
	if s != nil && s.acct != acct {
		p.refresh(s, acct)
	}
	if s == nil || len(s.txs) == 0 {
		s = &sender{addr: addr, acct: acct, evictIdx: -1, local: p.locals[addr]}
	}
	if tx.Nonce < acct.Nonce {
		return refuse(id, ErrNonceTooLow, "nonce %d, account nonce %d", tx.Nonce, acct.Nonce)
	}
	cost := tx.Amount + tx.Fee
	e := &entry{tx: tx, id: id, from: s, cost: cost, size: tx.Size()}
	idx, found := s.find(tx.Nonce)
	if found {
		old := s.txs[idx]
		if !feeBumped(old.tx.Fee, tx.Fee, p.cfg.MinReplaceFeeBump) {
			return refuse(id, ErrReplacementFee, "fee %d does not beat pooled fee %d by %d%%", tx.Fee, old.tx.Fee, p.cfg.MinReplaceFeeBump)
		}
		total, carry := bits.Add64(s.cost-old.cost, cost, 0)
		if carry != 0 || total > acct.Balance {
			return refuse(id, ErrInsufficientFunds, "balance %d, pending spend with replacement would be %d", acct.Balance, total)
		}
		delete(p.byID, old.id)
		p.seq++
		e.seq = p.seq
		s.txs[idx] = e
		s.cost = total
		p.byID[id] = e
		p.fixSender(s)
		return nil
	}

	if next := s.nextNonce(); !reentry && tx.Nonce > next && tx.Nonce-next > uint64(p.cfg.MaxNonceGap) {
		return refuse(id, ErrNonceGap, "nonce %d, next executable nonce %d, gap limit %d", tx.Nonce, next, p.cfg.MaxNonceGap)
	}
	switch {
	case reentry:
	case s.local:
		if p.localTxs() >= p.cfg.MaxLocalTxs {
			return refuse(id, ErrLocalLimit, "limit %d", p.cfg.MaxLocalTxs)
		}
	case len(s.txs) >= p.cfg.MaxTxsPerSender:
		return refuse(id, ErrSenderLimit, "limit %d", p.cfg.MaxTxsPerSender)
	}
	if total, carry := bits.Add64(s.cost, cost, 0); carry != 0 || total > acct.Balance {
		return refuse(id, ErrInsufficientFunds, "balance %d, pending spend %d, this transaction %d", acct.Balance, s.cost, cost)
	}
	if len(p.byID) >= p.cfg.MaxTxs {
		eff := tx.Fee
		for _, prev := range s.txs[:idx] {
			eff = min(eff, prev.tx.Fee)
		}
		if len(p.evict) == 0 { // every pooled transaction is local
			return refuse(id, ErrPoolFull, "%d transactions, all of local accounts", len(p.byID))
		}
		victim := p.evict[0]
		if !s.local && victim.minFee >= eff {
			return refuse(id, ErrPoolFull, "%d transactions, effective fee %d does not beat lowest fee %d", len(p.byID), eff, victim.minFee)
		}
		// When the victim is this sender, its lowest fee lies at or after
		// idx (eff is the minimum before it), so its last transaction is
		// after idx and removing it leaves idx in place.
		p.removeTail(victim)
	}
	p.seq++
	e.seq = p.seq
	s.txs = slices.Insert(s.txs, idx, e)
	s.cost += cost
	p.byID[id] = e
	p.senders[addr] = s
	p.fixSender(s)
	return nil
}

// fixSender restores the sender invariants after its list changed: minFee,
// its place in the eviction heap, and removal when empty. Called with mu
// held.
func (p *Pool) fixSender(s *sender) {
	if len(s.txs) == 0 {
		if s.evictIdx >= 0 {
			heap.Remove(&p.evict, s.evictIdx)
		}
		if p.senders[s.addr] == s {
			delete(p.senders, s.addr)
		}
		return
	}
	s.minFee = s.txs[0].tx.Fee
	for _, e := range s.txs[1:] {
		s.minFee = min(s.minFee, e.tx.Fee)
	}
	if s.local { // never evicted
		if s.evictIdx >= 0 {
			heap.Remove(&p.evict, s.evictIdx)
		}
		return
	}
	if s.evictIdx < 0 {
		heap.Push(&p.evict, s)
	} else {
		heap.Fix(&p.evict, s.evictIdx)
	}
}

// removeTail evicts s's last transaction. Called with mu held.
func (p *Pool) removeTail(s *sender) {
	last := s.tail()
	delete(p.byID, last.id)
	s.cost -= last.cost
	s.txs[len(s.txs)-1] = nil
	s.txs = s.txs[:len(s.txs)-1]
	p.fixSender(s)
}

// removeEntry removes e from the pool wherever it is in its sender's
// list. Called with mu held.
func (p *Pool) removeEntry(e *entry) {
	s := e.from
	delete(p.byID, e.id)
	if i, ok := s.find(e.tx.Nonce); ok && s.txs[i] == e {
		s.txs = slices.Delete(s.txs, i, i+1)
		s.cost -= e.cost
	}
	p.fixSender(s)
}

// refresh re-checks s against acct: transactions whose nonce is used
// leave, and so do, from the end of the list, those the balance can no
// longer pay. Called with mu held.
func (p *Pool) refresh(s *sender, acct state.Account) {
	s.acct = acct
	stale := 0
	for stale < len(s.txs) && s.txs[stale].tx.Nonce < acct.Nonce {
		delete(p.byID, s.txs[stale].id)
		stale++
	}
	keep := s.txs[stale:]
	var spend uint64
	n := 0
	for ; n < len(keep); n++ {
		next, carry := bits.Add64(spend, keep[n].cost, 0)
		if carry != 0 || next > acct.Balance {
			break
		}
		spend = next
	}
	for _, e := range keep[n:] {
		delete(p.byID, e.id)
	}
	old := len(s.txs)
	s.txs = append(s.txs[:0], keep[:n]...)
	clear(s.txs[len(s.txs):old])
	s.cost = spend
	p.fixSender(s)
}

// BlockConnected removes the block's transactions and re-checks every
// account the block touched against the chain's current state, dropping
// the transactions that state invalidates (nonces used, balance too low).
// Call it for each block the chain connects, in order.
func (p *Pool) BlockConnected(b *chain.Block) {
	if b == nil {
		return
	}
	ids := chain.TxIDs(b.Txs)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if e, ok := p.byID[id]; ok {
			p.removeEntry(e)
		}
	}
	p.refreshTouched(b)
}

// BlockDisconnected takes back the block's non-coinbase transactions,
// admitting each that is still valid against the chain's current state
// (failures are ignored), and re-checks every account the block touched.
// Signatures are not verified again: the chain did when it connected the
// block. Re-admitted transactions go to the subscribers.
func (p *Pool) BlockDisconnected(b *chain.Block) {
	if b == nil {
		return
	}
	txs := make([]*chain.Tx, 0, len(b.Txs))
	ids := make([]chain.Hash, 0, len(b.Txs))
	for _, tx := range b.Txs {
		if tx == nil || tx.IsCoinbase() {
			continue
		}
		id, err := precheck(tx)
		if err != nil {
			continue
		}
		txs = append(txs, tx)
		ids = append(ids, id)
	}
	admitted := make([]*chain.Tx, 0, len(txs))
	admittedIDs := make([]chain.Hash, 0, len(txs))
	p.mu.Lock()
	for i, tx := range txs {
		if p.admit(tx, ids[i], true) == nil {
			admitted = append(admitted, tx)
			admittedIDs = append(admittedIDs, ids[i])
		}
	}
	p.refreshTouched(b)
	p.mu.Unlock()
	// The chain verified them when it connected the block.
	p.cacheSigs(admittedIDs...)
	p.notify(admitted)
}

// refreshTouched re-reads the account of every pooled sender that b sends
// from or pays to. Called with mu held.
func (p *Pool) refreshTouched(b *chain.Block) {
	check := func(addr chain.Address) {
		if s := p.senders[addr]; s != nil {
			if acct := p.chain.Account(addr); acct != s.acct {
				p.refresh(s, acct)
			}
		}
	}
	for _, tx := range b.Txs {
		if tx == nil {
			continue
		}
		if !tx.IsCoinbase() {
			check(tx.Sender())
		}
		check(tx.To)
	}
}

// Get returns the pooled transaction with id.
func (p *Pool) Get(id chain.Hash) (*chain.Tx, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if e, ok := p.byID[id]; ok {
		return e.tx, true
	}
	return nil, false
}

// Has reports whether the pool holds the transaction with id.
func (p *Pool) Has(id chain.Hash) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	_, ok := p.byID[id]
	return ok
}

// Len returns the number of pooled transactions.
func (p *Pool) Len() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.byID)
}

// Pending describes addr's pooled sends against the chain's current state:
// how many there are, their total amount plus fee, and the nonce a new
// transaction from addr should carry (the account's nonce followed by the
// contiguous run of pooled nonces).
func (p *Pool) Pending(addr chain.Address) (count int, spend uint64, nextNonce uint64) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	acct := p.chain.Account(addr)
	nextNonce = acct.Nonce
	s := p.senders[addr]
	if s == nil {
		return 0, 0, nextNonce
	}
	for _, e := range s.txs {
		if e.tx.Nonce < acct.Nonce {
			continue // used by a block the pool has not heard of yet
		}
		count++
		spend += e.cost
		if e.tx.Nonce == nextNonce {
			nextNonce++
		}
	}
	return count, spend, nextNonce
}

// OnChainEvent keeps the pool in step with the chain; register it with
// blockchain.Blockchain.Subscribe. Connected blocks drop what they include
// or invalidate, disconnected blocks give their transactions back.
func (p *Pool) OnChainEvent(n blockchain.Notification) {
	switch n.Type {
	case blockchain.BlockConnected:
		p.BlockConnected(n.Block)
	case blockchain.BlockDisconnected:
		p.BlockDisconnected(n.Block)
	}
}
