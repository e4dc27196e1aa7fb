package chaintest

import (
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"

	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
)

// Vector is one consensus rule vector: a block, as bytes, that breaks
// exactly one rule when offered on top of the base chain, and the rule.
type Vector struct {
	Name  string `json:"name"`
	Code  string `json:"code"`  // consensus.Code.String() of the error it must produce; "" for the valid control
	Block string `json:"block"` // hex of the encoded block (or of malformed bytes)
}

// VectorSet is the committed rule-vector file: the base chain to process
// first, then vectors each offered alone on top of it.
type VectorSet struct {
	Comment string   `json:"comment"`
	Base    []string `json:"base"` // hex-encoded blocks after genesis
	Vectors []Vector `json:"vectors"`
}

//go:embed testdata/rule_vectors.json
var vectorFile []byte

// VectorParams returns the network the rule vectors are built for: regtest
// funding test keys 0..3, with small block limits so size rules are cheap
// to break.
func VectorParams() *consensus.Params {
	p := Params(Keys(4), 1_000_000)
	p.MaxBlockSize = 16 << 10
	p.MaxBlockTxs = 100
	return p
}

// LoadVectors returns the committed rule vectors, decoded: the base blocks
// and, per vector, its raw bytes.
func LoadVectors() (base []*chain.Block, vectors []Vector, err error) {
	var vs VectorSet
	if err := json.Unmarshal(vectorFile, &vs); err != nil {
		return nil, nil, fmt.Errorf("rule vectors: %w", err)
	}
	for i, s := range vs.Base {
		raw, err := hex.DecodeString(s)
		if err != nil {
			return nil, nil, fmt.Errorf("rule vectors: base %d: %w", i, err)
		}
		b, err := chain.DecodeBlock(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("rule vectors: base %d: %w", i, err)
		}
		base = append(base, b)
	}
	return base, vs.Vectors, nil
}

// VectorFile returns the committed file's bytes (for the golden test).
func VectorFile() []byte { return vectorFile }

// GenerateVectors builds the rule vectors from scratch, deterministically.
func GenerateVectors() VectorSet {
	p := VectorParams()
	keys := Keys(4)
	br := NewBranch(p, keys)
	for i := 0; i < 12; i++ { // enough blocks for a meaningful median time
		br.Next([]*chain.Tx{Tx(p, keys[1], keys[2].Address(), 1000, 1, uint64(i))}, Spec{})
	}
	vs := VectorSet{Comment: "Each vector breaks one rule on top of the base chain (network: chaintest.VectorParams). Regenerate with: go test ./internal/chaintest -update"}
	for _, b := range br.Blocks[1:] {
		vs.Base = append(vs.Base, hex.EncodeToString(b.Encode()))
	}
	tip := &br.Tip().Header
	k1 := keys[1]
	nonce1 := br.State.Get(k1.Address()).Nonce
	reward := p.Reward(tip.Height + 1)
	spec := func(txs ...*chain.Tx) Spec {
		return Spec{Parent: tip, Miner: keys[0].Address(), Txs: txs, Reward: reward}
	}
	okTx := func(n uint64) *chain.Tx { return Tx(p, k1, keys[3].Address(), 10, 1, nonce1+n) }
	add := func(name string, code consensus.Code, b *chain.Block) {
		c := ""
		if code != 0 {
			c = code.String()
		}
		vs.Vectors = append(vs.Vectors, Vector{Name: name, Code: c, Block: hex.EncodeToString(b.Encode())})
	}
	resolve := func(b *chain.Block) *chain.Block { Solve(b); return b }

	// The control: a valid block, which must be accepted.
	add("valid", 0, Block(spec(okTx(0))))

	b := Block(spec())
	raw := b.Encode()
	vs.Vectors = append(vs.Vectors, Vector{Name: "truncated", Code: consensus.CodeMalformed.String(), Block: hex.EncodeToString(raw[:len(raw)-1])})

	b = Unsolved(spec())
	b.Header.Version = 2
	add("unknown version", consensus.CodeBadVersion, resolve(b))

	b = Block(spec())
	Unsolve(b)
	add("hash above target", consensus.CodeBadPoW, b)

	b = Unsolved(spec())
	b.Header.Bits = 0x2100ffff
	add("bits easier than the limit", consensus.CodeBadBits, resolve(b))

	b = Unsolved(spec())
	b.Header.Bits = 0x2000ffff
	add("bits not the retarget's", consensus.CodeBadBits, resolve(b))

	var big []*chain.Tx
	for i := 0; i < 90; i++ {
		tx := &chain.Tx{To: keys[3].Address(), Amount: 1, Nonce: nonce1 + uint64(i), Memo: make([]byte, chain.MaxMemoSize)}
		for j := range tx.Memo {
			tx.Memo[j] = 'm'
		}
		k1.SignTx(tx, p.GenesisHash())
		big = append(big, tx)
	}
	add("block too big", consensus.CodeBlockTooBig, Block(spec(big...)))

	var many []*chain.Tx
	for i := 0; i < p.MaxBlockTxs; i++ {
		many = append(many, Tx(p, k1, keys[3].Address(), 1, 0, nonce1+uint64(i)))
	}
	add("too many transactions", consensus.CodeTooManyTxs, Block(spec(many...)))

	b = Unsolved(spec(okTx(0)))
	b.Txs = b.Txs[1:]
	Seal(b)
	add("no coinbase", consensus.CodeNoCoinbase, resolve(b))

	b = Unsolved(spec())
	b.Txs = append(b.Txs, &chain.Tx{To: keys[0].Address(), Amount: 1, Nonce: 7})
	Seal(b)
	add("second coinbase", consensus.CodeExtraCoinbase, resolve(b))

	b = Unsolved(spec())
	b.Txs[0].Nonce++
	Seal(b)
	add("coinbase without the height", consensus.CodeBadCoinbase, resolve(b))

	b = Unsolved(spec(okTx(0)))
	b.Txs[0].Amount++
	Seal(b)
	add("coinbase pays too much", consensus.CodeBadCoinbaseAmount, resolve(b))

	b = Unsolved(spec(okTx(0)))
	b.Header.MerkleRoot[0] ^= 1
	add("merkle root mismatch", consensus.CodeBadMerkleRoot, resolve(b))

	b = Unsolved(Spec{Parent: tip, Miner: keys[0].Address(), Reward: reward, Data: "note"})
	b.Data = []byte("edit")
	add("data hash mismatch", consensus.CodeBadDataHash, resolve(b))

	b = Unsolved(spec())
	b.Data = []byte{0xff, 0xfe}
	Seal(b)
	add("data note not UTF-8", consensus.CodeBadEncoding, resolve(b))

	b = Unsolved(spec())
	b.Header.Height++
	b.Txs[0].Nonce++
	Seal(b)
	add("height skips one", consensus.CodeBadHeight, resolve(b))

	times := []uint32{}
	for i := len(br.Blocks) - 1; i >= 0 && len(times) < consensus.MedianTimeBlocks; i-- {
		times = append(times, br.Blocks[i].Header.Timestamp)
	}
	s := spec()
	s.Time = consensus.MedianTime(times)
	add("timestamp at the median time", consensus.CodeTimeTooOld, Block(s))

	s = spec()
	s.Time = math.MaxUint32
	add("timestamp far in the future", consensus.CodeTimeTooNew, Block(s))

	tx := okTx(0)
	tx.Signature[5] ^= 1
	add("bad signature", consensus.CodeBadSignature, Block(spec(tx)))

	tx = Tx(p, k1, keys[3].Address(), 10, 1, 0) // k1 has sent before: nonce 0 is spent
	add("reused nonce", consensus.CodeBadNonce, Block(spec(tx)))

	add("nonce gap", consensus.CodeBadNonce, Block(spec(okTx(1))))

	tx = Tx(p, k1, keys[3].Address(), br.State.Get(k1.Address()).Balance, 1, nonce1)
	add("spends more than the balance", consensus.CodeInsufficientFunds, Block(spec(tx)))

	tx = Tx(p, k1, keys[3].Address(), math.MaxUint64, 1, nonce1)
	add("amount plus fee overflows", consensus.CodeOverflow, Block(spec(tx)))

	tx = Tx(p, k1, keys[3].Address(), 0, 1, nonce1)
	add("zero amount", consensus.CodeZeroAmount, Block(spec(tx)))

	tx = okTx(0)
	add("same transaction twice", consensus.CodeDuplicateTx, Block(spec(tx, tx)))

	orphanParent := *tip
	orphanParent.Nonce ^= 0xffff
	add("unknown parent", consensus.CodeUnknownParent, Block(Spec{Parent: &orphanParent, Miner: keys[0].Address(), Reward: reward}))
	return vs
}

// Marshal returns the file form of vs.
func (vs VectorSet) Marshal() []byte {
	b, err := json.MarshalIndent(vs, "", " ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}
