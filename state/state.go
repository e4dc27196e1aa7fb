package state

import (
	"encoding/binary"
	"fmt"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// Account is the state of one address.
type Account struct {
	Balance uint64
	Nonce   uint64 // number of transactions sent; the next one must carry this nonce
}

// IsZero reports whether a is the state of an address never seen.
func (a Account) IsZero() bool { return a == Account{} }

// State maps addresses to accounts. Absent means zero.
type State struct {
	accounts map[chain.Address]Account
}

// New returns an empty state.
func New() *State { return &State{accounts: make(map[chain.Address]Account)} }

// Get returns the account of addr (zero if never seen).
func (s *State) Get(addr chain.Address) Account { return s.accounts[addr] }

// Set stores an account; a zero account is removed. Used to load state.
func (s *State) Set(addr chain.Address, a Account) {
	if a.IsZero() {
		delete(s.accounts, addr)
		return
	}
	s.accounts[addr] = a
}

// Len returns how many non-zero accounts there are.
func (s *State) Len() int { return len(s.accounts) }

// ForEach calls fn for every non-zero account, in no particular order.
func (s *State) ForEach(fn func(chain.Address, Account)) {
	for a, acct := range s.accounts {
		fn(a, acct)
	}
}

// Equal reports whether two states hold the same accounts, and if not, the
// first difference it finds.
func (s *State) Equal(o *State) (bool, string) {
	if len(s.accounts) != len(o.accounts) {
		return false, fmt.Sprintf("%d accounts vs %d", len(s.accounts), len(o.accounts))
	}
	for a, acct := range s.accounts {
		if got, ok := o.accounts[a]; !ok || got != acct {
			return false, fmt.Sprintf("account %x: %+v vs %+v", a, acct, got)
		}
	}
	return true, ""
}

// Change is an account's value after a block was applied or undone.
type Change struct {
	Address chain.Address
	Account Account // zero means the account no longer exists
}

// Undo holds the prior value of every account a block touched, in the
// order first touched.
type Undo struct {
	Prior []Change
}

// touch records addr's value before its first change in this block.
type journal struct {
	s    *State
	undo *Undo
	seen map[chain.Address]struct{}
}

func (j *journal) touch(addr chain.Address) Account {
	if _, ok := j.seen[addr]; !ok {
		j.seen[addr] = struct{}{}
		j.undo.Prior = append(j.undo.Prior, Change{Address: addr, Account: j.s.accounts[addr]})
	}
	return j.s.accounts[addr]
}

// ApplyBlock applies b to the state: each transaction in order, then the
// coinbase, which must pay exactly reward + fees. On any rule violation the
// state is left unchanged and a *consensus.RuleError says which rule. The
// caller checks signatures (consensus.VerifySignatures) and sanity first.
func (s *State) ApplyBlock(b *chain.Block, reward uint64) (*Undo, error) {
	undo := &Undo{Prior: make([]Change, 0, 2*len(b.Txs))}
	j := &journal{s: s, undo: undo, seen: make(map[chain.Address]struct{}, 2*len(b.Txs))}
	if err := s.apply(j, b, reward); err != nil {
		s.UndoBlock(undo)
		return nil, fmt.Errorf("block %d %s: %w", b.Header.Height, b.Hash(), err)
	}
	return undo, nil
}

func (s *State) apply(j *journal, b *chain.Block, reward uint64) error {
	if len(b.Txs) == 0 {
		return &consensus.RuleError{Code: consensus.CodeNoCoinbase, Detail: "block has no transactions"}
	}
	var fees uint64
	for i, tx := range b.Txs[1:] {
		if err := s.applyTx(j, tx); err != nil {
			return fmt.Errorf("transaction %d %s: %w", i+1, tx.ID(), err)
		}
		if fees+tx.Fee < fees {
			return &consensus.RuleError{Code: consensus.CodeOverflow, Detail: "total fees overflow"}
		}
		fees += tx.Fee
	}
	cb := b.Txs[0]
	if reward+fees < reward {
		return &consensus.RuleError{Code: consensus.CodeOverflow, Detail: "reward + fees overflow"}
	}
	if cb.Amount != reward+fees {
		return &consensus.RuleError{Code: consensus.CodeBadCoinbaseAmount,
			Detail: fmt.Sprintf("coinbase pays %d, reward %d + fees %d = %d", cb.Amount, reward, fees, reward+fees)}
	}
	return s.credit(j, cb.To, cb.Amount)
}

func (s *State) applyTx(j *journal, tx *chain.Tx) error {
	from := tx.Sender()
	acct := j.touch(from)
	if tx.Nonce != acct.Nonce {
		return &consensus.RuleError{Code: consensus.CodeBadNonce,
			Detail: fmt.Sprintf("nonce %d, sender's next nonce is %d", tx.Nonce, acct.Nonce)}
	}
	cost := tx.Amount + tx.Fee
	if cost < tx.Amount {
		return &consensus.RuleError{Code: consensus.CodeOverflow, Detail: "amount + fee overflows"}
	}
	if acct.Balance < cost {
		return &consensus.RuleError{Code: consensus.CodeInsufficientFunds,
			Detail: fmt.Sprintf("balance %d cannot pay %d", acct.Balance, cost)}
	}
	acct.Balance -= cost
	acct.Nonce++
	s.Set(from, acct)
	return s.credit(j, tx.To, tx.Amount)
}

func (s *State) credit(j *journal, to chain.Address, amount uint64) error {
	acct := j.touch(to)
	if acct.Balance+amount < acct.Balance {
		return &consensus.RuleError{Code: consensus.CodeOverflow, Detail: "recipient balance overflows"}
	}
	acct.Balance += amount
	s.Set(to, acct)
	return nil
}

// ApplyGenesis credits the genesis allocations (coinbase-shaped
// transactions, no rules: genesis defines the network).
func (s *State) ApplyGenesis(b *chain.Block) (*Undo, error) {
	undo := &Undo{}
	j := &journal{s: s, undo: undo, seen: make(map[chain.Address]struct{})}
	for _, tx := range b.Txs {
		if err := s.credit(j, tx.To, tx.Amount); err != nil {
			s.UndoBlock(undo)
			return nil, fmt.Errorf("genesis: %w", err)
		}
	}
	return undo, nil
}

// UndoBlock restores every account u recorded.
func (s *State) UndoBlock(u *Undo) {
	for i := len(u.Prior) - 1; i >= 0; i-- {
		s.Set(u.Prior[i].Address, u.Prior[i].Account)
	}
}

// Changes returns the current value of every account u touched: what a
// store must write after applying or undoing the block u belongs to.
func (s *State) Changes(u *Undo) []Change {
	out := make([]Change, len(u.Prior))
	for i, c := range u.Prior {
		out[i] = Change{Address: c.Address, Account: s.accounts[c.Address]}
	}
	return out
}

// undoEntrySize is the encoded size of one Change.
const undoEntrySize = chain.AddressSize + 8 + 8

// EncodeAccount returns the 16-byte encoding of an account.
func EncodeAccount(a Account) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, a.Balance)
	binary.BigEndian.PutUint64(b[8:], a.Nonce)
	return b
}

// DecodeAccount decodes exactly 16 bytes.
func DecodeAccount(b []byte) (Account, error) {
	if len(b) != 16 {
		return Account{}, fmt.Errorf("account record is %d bytes, want 16", len(b))
	}
	return Account{Balance: binary.BigEndian.Uint64(b), Nonce: binary.BigEndian.Uint64(b[8:])}, nil
}

// Encode returns the binary form of u: a 4-byte count, then per entry the
// address, prior balance and prior nonce.
func (u *Undo) Encode() []byte {
	b := make([]byte, 4, 4+len(u.Prior)*undoEntrySize)
	binary.BigEndian.PutUint32(b, uint32(len(u.Prior)))
	for _, c := range u.Prior {
		b = append(b, c.Address[:]...)
		b = binary.BigEndian.AppendUint64(b, c.Account.Balance)
		b = binary.BigEndian.AppendUint64(b, c.Account.Nonce)
	}
	return b
}

// DecodeUndo decodes what Encode made, strictly.
func DecodeUndo(b []byte) (*Undo, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("undo record of %d bytes is truncated", len(b))
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n)*undoEntrySize != uint64(len(b)-4) {
		return nil, fmt.Errorf("undo record declares %d entries but holds %d bytes", n, len(b)-4)
	}
	u := &Undo{Prior: make([]Change, n)}
	p := 4
	for i := range u.Prior {
		copy(u.Prior[i].Address[:], b[p:])
		u.Prior[i].Account.Balance = binary.BigEndian.Uint64(b[p+20:])
		u.Prior[i].Account.Nonce = binary.BigEndian.Uint64(b[p+28:])
		p += undoEntrySize
	}
	return u, nil
}
