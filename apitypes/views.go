package apitypes

import (
	"encoding/hex"
	"fmt"

	"github.com/chaind/chaind/chain"
)

// CoinbaseSender is how a coinbase's sender is shown, as in the Flask
// tutorial ("sender": "0").
const CoinbaseSender = "0"

// Tx is the JSON view of a transaction. Amounts are in base units.
type Tx struct {
	ID        chain.Hash `json:"id"`
	Sender    string     `json:"sender"`
	Recipient string     `json:"recipient"`
	Amount    Uint64     `json:"amount"`
	Fee       Uint64     `json:"fee"`
	Nonce     Uint64     `json:"nonce"`
	Memo      string     `json:"memo,omitempty"`
	PublicKey string     `json:"public_key,omitempty"`
	Signature string     `json:"signature,omitempty"`
}

// Block is the JSON view of a block, with the tutorials' field names:
// index is the height and proof the nonce.
type Block struct {
	Index        uint32     `json:"index"`
	Hash         chain.Hash `json:"hash"`
	PreviousHash chain.Hash `json:"previous_hash"`
	Timestamp    uint32     `json:"timestamp"`
	Data         string     `json:"data"`
	Proof        Uint64     `json:"proof"`
	Version      uint16     `json:"version"`
	MerkleRoot   chain.Hash `json:"merkle_root"`
	Bits         string     `json:"bits"`
	Transactions []Tx       `json:"transactions"`
}

// BlockSummary is a block's header fields with counts in place of the
// transaction list: a row of a block listing, an event of the stream.
type BlockSummary struct {
	Index        uint32     `json:"index"`
	Hash         chain.Hash `json:"hash"`
	PreviousHash chain.Hash `json:"previous_hash"`
	Timestamp    uint32     `json:"timestamp"`
	Data         string     `json:"data"`
	Proof        Uint64     `json:"proof"`
	Bits         string     `json:"bits"`
	TxCount      int        `json:"tx_count"`
	Size         int        `json:"size"`
	Miner        string     `json:"miner,omitempty"` // the coinbase's recipient; none for genesis
}

// Bits formats compact target bits as the views show them: 8 hex digits.
func Bits(bits uint32) string { return fmt.Sprintf("%08x", bits) }

// SummaryOf returns the summary view of b with addresses under hrp.
func SummaryOf(hrp string, b *chain.Block) BlockSummary {
	v := BlockSummary{
		Index:        b.Header.Height,
		Hash:         b.Hash(),
		PreviousHash: b.Header.PrevHash,
		Timestamp:    b.Header.Timestamp,
		Data:         string(b.Data),
		Proof:        Uint64(b.Header.Nonce),
		Bits:         Bits(b.Header.Bits),
		TxCount:      len(b.Txs),
		Size:         b.Size(),
	}
	if b.Header.Height > 0 && len(b.Txs) > 0 {
		v.Miner = chain.FormatAddress(hrp, b.Txs[0].To)
	}
	return v
}

// TxOf returns the JSON view of tx with addresses under prefix hrp.
func TxOf(hrp string, tx *chain.Tx) Tx {
	v := Tx{
		ID:        tx.ID(),
		Recipient: chain.FormatAddress(hrp, tx.To),
		Amount:    Uint64(tx.Amount),
		Fee:       Uint64(tx.Fee),
		Nonce:     Uint64(tx.Nonce),
		Memo:      string(tx.Memo),
	}
	if tx.IsCoinbase() {
		v.Sender = CoinbaseSender
	} else {
		v.Sender = chain.FormatAddress(hrp, tx.Sender())
		v.PublicKey = hex.EncodeToString(tx.From[:])
		v.Signature = hex.EncodeToString(tx.Signature[:])
	}
	return v
}

// BlockOf returns the JSON view of b with addresses under prefix hrp.
func BlockOf(hrp string, b *chain.Block) Block {
	v := Block{
		Index:        b.Header.Height,
		Hash:         b.Hash(),
		PreviousHash: b.Header.PrevHash,
		Timestamp:    b.Header.Timestamp,
		Data:         string(b.Data),
		Proof:        Uint64(b.Header.Nonce),
		Version:      b.Header.Version,
		MerkleRoot:   b.Header.MerkleRoot,
		Bits:         Bits(b.Header.Bits),
		Transactions: make([]Tx, len(b.Txs)),
	}
	for i, tx := range b.Txs {
		v.Transactions[i] = TxOf(hrp, tx)
	}
	return v
}

// ParseTx turns a signed transaction's JSON view back into a Tx. It needs
// public_key, recipient, amount, fee, nonce and signature; sender and id are
// optional and, when given, must match. It does not verify the signature.
func ParseTx(hrp string, v Tx) (*chain.Tx, error) {
	tx := &chain.Tx{Amount: uint64(v.Amount), Fee: uint64(v.Fee), Nonce: uint64(v.Nonce)}
	if err := decodeHexField("public_key", v.PublicKey, tx.From[:]); err != nil {
		return nil, err
	}
	if tx.From.IsZero() {
		return nil, fmt.Errorf("public_key: a zero key is the coinbase's and cannot send")
	}
	if err := decodeHexField("signature", v.Signature, tx.Signature[:]); err != nil {
		return nil, err
	}
	if v.Recipient == "" {
		return nil, fmt.Errorf("recipient: missing")
	}
	to, err := chain.ParseAddress(hrp, v.Recipient)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	tx.To = to
	if len(v.Memo) > chain.MaxMemoSize {
		return nil, fmt.Errorf("memo: %d bytes exceed %d", len(v.Memo), chain.MaxMemoSize)
	}
	if v.Memo != "" {
		tx.Memo = []byte(v.Memo)
	}
	if v.Sender != "" {
		from, err := chain.ParseAddress(hrp, v.Sender)
		if err != nil {
			return nil, fmt.Errorf("sender: %w", err)
		}
		if from != tx.Sender() {
			return nil, fmt.Errorf("sender: %q is not the address of public_key (%s)", v.Sender, chain.FormatAddress(hrp, tx.Sender()))
		}
	}
	if !v.ID.IsZero() && v.ID != tx.ID() {
		return nil, fmt.Errorf("id: %s does not match the transaction (%s)", v.ID, tx.ID())
	}
	return tx, nil
}

func decodeHexField(name, s string, dst []byte) error {
	if s == "" {
		return fmt.Errorf("%s: missing", name)
	}
	if len(s) != 2*len(dst) {
		return fmt.Errorf("%s: want %d hex characters, got %d", name, 2*len(dst), len(s))
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
