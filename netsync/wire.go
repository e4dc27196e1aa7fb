package netsync

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
)

// Protocol and topic names, registered on the p2p.Network (which namespaces
// them per network).
const (
	ProtoStatus  = "status/1"
	ProtoHeaders = "headers/1"
	ProtoBlocks  = "blocks/1"
	ProtoMempool = "mempool/1"
	TopicBlocks  = "blocks"
	TopicTxs     = "txs"
)

// Message bounds. Each cap is the registered size limit of its protocol, so
// the network layer refuses (and penalises) anything larger before it is
// read; the decoders then enforce the counts exactly.
const (
	// MaxWorkBytes bounds the big-endian total work in a status message.
	MaxWorkBytes = 40
	// MaxStatusSize caps a status message (request and response alike).
	MaxStatusSize = 2*chain.HashSize + 4 + 1 + MaxWorkBytes

	// MaxHeadersRequestSize caps a headers request: a count, the locator
	// (at most blockchain.MaxLocatorHashes hashes) and the stop hash.
	MaxHeadersRequestSize = 1 + blockchain.MaxLocatorHashes*chain.HashSize + chain.HashSize
	// MaxHeadersResponseSize caps a headers response: a count and at most
	// blockchain.MaxHeadersPerRequest headers.
	MaxHeadersResponseSize = 2 + blockchain.MaxHeadersPerRequest*chain.HeaderSize

	// MaxBlocksPerRequest bounds the hashes of one blocks request (the
	// count is one byte). Small blocks are cheap to serve and the round
	// trip of a request is what a catch-up of small blocks pays, so a
	// request carries many; MaxBlocksResponseBytes bounds the answer.
	MaxBlocksPerRequest = 128
	// MaxBlocksRequestSize caps a blocks request.
	MaxBlocksRequestSize = 1 + MaxBlocksPerRequest*chain.HashSize
	// MaxBlocksResponseBytes bounds the blocks a server puts in one answer;
	// it stops before the block that would cross it (but always sends the
	// first block it has), and the requester asks again for the rest.
	MaxBlocksResponseBytes = 4 << 20
	// MaxBlocksResponseSize caps a blocks response: room for
	// MaxBlocksResponseBytes plus one block of the largest size any decoder
	// accepts, with the framing.
	MaxBlocksResponseSize = 1 + MaxBlocksResponseBytes + chain.MaxBlockSize + MaxBlocksPerRequest*4

	// MaxMempoolTxs bounds the transactions of one mempool answer (the
	// highest-fee ones are sent).
	MaxMempoolTxs = 5000
	// MaxMempoolRequestSize caps a mempool request, which is empty.
	MaxMempoolRequestSize = 0
	// MaxMempoolResponseSize caps a mempool response.
	MaxMempoolResponseSize = 2 + MaxMempoolTxs*(1+chain.MaxTxSize)
)

// errMalformed marks a message that does not decode; the sender is penalised.
var errMalformed = errors.New("netsync: malformed message")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// Status is what a node says about its chain in the status handshake.
type Status struct {
	Genesis chain.Hash
	Best    chain.Hash
	Height  uint32
	Work    *big.Int // cumulative work of the best chain
}

// EncodeStatus encodes a status message: genesis | best | height u32 |
// work length u8 | work big-endian.
func EncodeStatus(s Status) []byte {
	work := s.Work.Bytes()
	b := make([]byte, 0, 2*chain.HashSize+4+1+len(work))
	b = append(b, s.Genesis[:]...)
	b = append(b, s.Best[:]...)
	b = binary.BigEndian.AppendUint32(b, s.Height)
	b = append(b, byte(len(work)))
	return append(b, work...)
}

// DecodeStatus decodes a status message, refusing a malformed one.
func DecodeStatus(b []byte) (Status, error) {
	var s Status
	const fixed = 2*chain.HashSize + 4 + 1
	if len(b) < fixed {
		return s, malformed("status of %d bytes, need at least %d", len(b), fixed)
	}
	copy(s.Genesis[:], b)
	copy(s.Best[:], b[chain.HashSize:])
	s.Height = binary.BigEndian.Uint32(b[2*chain.HashSize:])
	n := int(b[fixed-1])
	if n > MaxWorkBytes {
		return s, malformed("status work of %d bytes exceeds %d", n, MaxWorkBytes)
	}
	if len(b) != fixed+n {
		return s, malformed("status of %d bytes, want %d", len(b), fixed+n)
	}
	if n > 0 && b[fixed] == 0 {
		return s, malformed("status work has a leading zero byte")
	}
	s.Work = new(big.Int).SetBytes(b[fixed:])
	return s, nil
}

// HeadersRequest asks for the main-chain headers after the first locator
// hash the server knows, up to stop (zero: as many as allowed).
type HeadersRequest struct {
	Locator []chain.Hash
	Stop    chain.Hash
}

// EncodeHeadersRequest encodes a headers request: count u8, the locator
// hashes, the stop hash.
func EncodeHeadersRequest(r HeadersRequest) []byte {
	b := make([]byte, 0, 1+(len(r.Locator)+1)*chain.HashSize)
	b = append(b, byte(len(r.Locator)))
	for _, h := range r.Locator {
		b = append(b, h[:]...)
	}
	return append(b, r.Stop[:]...)
}

// DecodeHeadersRequest decodes a headers request, refusing a malformed
// one or a locator over blockchain.MaxLocatorHashes.
func DecodeHeadersRequest(b []byte) (HeadersRequest, error) {
	var r HeadersRequest
	if len(b) < 1 {
		return r, malformed("empty headers request")
	}
	n := int(b[0])
	if n > blockchain.MaxLocatorHashes {
		return r, malformed("locator of %d hashes exceeds %d", n, blockchain.MaxLocatorHashes)
	}
	if want := 1 + (n+1)*chain.HashSize; len(b) != want {
		return r, malformed("headers request of %d bytes, want %d", len(b), want)
	}
	r.Locator = make([]chain.Hash, n)
	p := 1
	for i := range r.Locator {
		copy(r.Locator[i][:], b[p:])
		p += chain.HashSize
	}
	copy(r.Stop[:], b[p:])
	return r, nil
}

// EncodeHeaders encodes a headers answer: count u16, then the headers.
func EncodeHeaders(hs []chain.Header) []byte {
	b := make([]byte, 2, 2+len(hs)*chain.HeaderSize)
	binary.BigEndian.PutUint16(b, uint16(len(hs)))
	for i := range hs {
		enc := hs[i].Encode()
		b = append(b, enc[:]...)
	}
	return b
}

func decodeHeaders(b []byte) ([]chain.Header, error) {
	if len(b) < 2 {
		return nil, malformed("headers response of %d bytes", len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > blockchain.MaxHeadersPerRequest {
		return nil, malformed("%d headers exceed %d", n, blockchain.MaxHeadersPerRequest)
	}
	if want := 2 + n*chain.HeaderSize; len(b) != want {
		return nil, malformed("headers response of %d bytes, want %d", len(b), want)
	}
	hs := make([]chain.Header, n)
	for i := range hs {
		h, err := chain.DecodeHeader(b[2+i*chain.HeaderSize : 2+(i+1)*chain.HeaderSize])
		if err != nil {
			return nil, malformed("header %d: %v", i, err)
		}
		hs[i] = h
	}
	return hs, nil
}

func encodeHashes(hs []chain.Hash) []byte {
	b := make([]byte, 0, 1+len(hs)*chain.HashSize)
	b = append(b, byte(len(hs)))
	for _, h := range hs {
		b = append(b, h[:]...)
	}
	return b
}

// decodeBlocksRequest decodes 1..MaxBlocksPerRequest distinct hashes.
func decodeBlocksRequest(b []byte) ([]chain.Hash, error) {
	if len(b) < 1 {
		return nil, malformed("empty blocks request")
	}
	n := int(b[0])
	if n == 0 || n > MaxBlocksPerRequest {
		return nil, malformed("blocks request for %d blocks, want 1..%d", n, MaxBlocksPerRequest)
	}
	if want := 1 + n*chain.HashSize; len(b) != want {
		return nil, malformed("blocks request of %d bytes, want %d", len(b), want)
	}
	hs := make([]chain.Hash, n)
	seen := make(map[chain.Hash]struct{}, n)
	for i := range hs {
		copy(hs[i][:], b[1+i*chain.HashSize:])
		if _, dup := seen[hs[i]]; dup {
			return nil, malformed("blocks request names %s twice", hs[i])
		}
		seen[hs[i]] = struct{}{}
	}
	return hs, nil
}

// Framing of a blocks response: a count, then each block's length and bytes.
const (
	blocksCountSize = 1 // u8 block count
	blockLenSize    = 4 // u32 length before each block
)

// encodeBlocks frames encoded blocks: count u8, then length u32 and bytes each.
func encodeBlocks(raw [][]byte) []byte {
	size := blocksCountSize
	for _, r := range raw {
		size += blockLenSize + len(r)
	}
	b := make([]byte, 0, size)
	b = append(b, byte(len(raw)))
	for _, r := range raw {
		b = binary.BigEndian.AppendUint32(b, uint32(len(r)))
		b = append(b, r...)
	}
	return b
}

// decodeBlocks decodes a blocks response of at most max blocks.
func decodeBlocks(b []byte, max int) ([]*chain.Block, error) {
	if len(b) < blocksCountSize {
		return nil, malformed("empty blocks response")
	}
	n := int(b[0])
	if n > max {
		return nil, malformed("%d blocks in a response, asked for %d", n, max)
	}
	out := make([]*chain.Block, 0, n)
	p := blocksCountSize
	for i := 0; i < n; i++ {
		if len(b)-p < blockLenSize {
			return nil, malformed("blocks response truncated at block %d", i)
		}
		l := int(binary.BigEndian.Uint32(b[p:]))
		p += blockLenSize
		if l > chain.MaxBlockSize || l > len(b)-p {
			return nil, malformed("block %d of %d bytes does not fit", i, l)
		}
		blk, err := chain.DecodeBlock(b[p : p+l])
		if err != nil {
			return nil, malformed("block %d: %v", i, err)
		}
		out = append(out, blk)
		p += l
	}
	if p != len(b) {
		return nil, malformed("%d trailing bytes after the blocks", len(b)-p)
	}
	return out, nil
}

// encodeTxs frames transactions: count u16, then length u8 and bytes each.
func encodeTxs(txs []*chain.Tx) []byte {
	b := make([]byte, 2, 2+len(txs)*(1+chain.MaxTxSize))
	binary.BigEndian.PutUint16(b, uint16(len(txs)))
	for _, tx := range txs {
		b = append(b, byte(tx.Size()))
		b = tx.AppendEncode(b)
	}
	return b
}

func decodeTxs(b []byte) ([]*chain.Tx, error) {
	if len(b) < 2 {
		return nil, malformed("transactions message of %d bytes", len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if n > MaxMempoolTxs {
		return nil, malformed("%d transactions exceed %d", n, MaxMempoolTxs)
	}
	if n*(1+chain.MinTxSize) > len(b)-2 {
		return nil, malformed("%d transactions cannot fit in %d bytes", n, len(b)-2)
	}
	txs := make([]*chain.Tx, n)
	p := 2
	for i := range txs {
		if p >= len(b) {
			return nil, malformed("transactions truncated at %d", i)
		}
		l := int(b[p])
		p++
		if l > len(b)-p {
			return nil, malformed("transaction %d of %d bytes does not fit", i, l)
		}
		tx, err := chain.DecodeTx(b[p : p+l])
		if err != nil {
			return nil, malformed("transaction %d: %v", i, err)
		}
		txs[i] = tx
		p += l
	}
	if p != len(b) {
		return nil, malformed("%d trailing bytes after the transactions", len(b)-p)
	}
	return txs, nil
}
