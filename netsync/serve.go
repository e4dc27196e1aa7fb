package netsync

import (
	"context"
	"fmt"

	"github.com/chaind/chaind/blockchain"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/p2p"
)

// serveStatus answers a status request, which carries the asker's status:
// both sides learn each other's chain in one exchange.
func (s *Syncer) serveStatus(_ context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
	theirs, err := DecodeStatus(req)
	if err != nil {
		s.net.Penalize(from, PenaltyMalformed, "status request: "+err.Error())
		return nil, err
	}
	if err := s.checkGenesis(from, theirs); err != nil {
		return nil, err
	}
	s.notePeerStatus(from, theirs)
	return EncodeStatus(s.status()), nil
}

// checkGenesis bans a peer whose chain has another genesis: it is on
// another network whatever its protocol ids say.
func (s *Syncer) checkGenesis(from p2p.PeerID, st Status) error {
	if st.Genesis == s.params.GenesisHash() {
		return nil
	}
	s.net.Penalize(from, PenaltyWrongGenesis, "status: genesis "+st.Genesis.String())
	return fmt.Errorf("netsync: genesis %s is not this network's %s", st.Genesis, s.params.GenesisHash())
}

// notePeerStatus records a peer's status and wakes the sync loop, which
// syncs from the peer if it has more work than our tip and otherwise asks
// for its mempool if it has not yet.
func (s *Syncer) notePeerStatus(from p2p.PeerID, st Status) {
	s.peers.noteStatus(from, st, s.now())
	s.wake()
}

// serveHeaders answers a locator with up to MaxHeadersPerRequest headers.
func (s *Syncer) serveHeaders(_ context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
	r, err := DecodeHeadersRequest(req)
	if err != nil {
		s.net.Penalize(from, PenaltyMalformed, "headers request: "+err.Error())
		return nil, err
	}
	hs, err := s.chain.HeadersAfter(r.Locator, r.Stop, blockchain.MaxHeadersPerRequest)
	if err != nil {
		return nil, fmt.Errorf("netsync: headers: %w", err)
	}
	return EncodeHeaders(hs), nil
}

// serveBlocks answers with the requested blocks this node holds and
// considers valid, in the order asked, stopping before the block that
// would take the answer past MaxBlocksResponseBytes.
func (s *Syncer) serveBlocks(ctx context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
	hashes, err := decodeBlocksRequest(req)
	if err != nil {
		s.net.Penalize(from, PenaltyMalformed, "blocks request: "+err.Error())
		return nil, err
	}
	raw := make([][]byte, 0, len(hashes))
	size := 0
	for _, h := range hashes {
		if ctx.Err() != nil {
			break
		}
		info, ok := s.chain.BlockInfo(h)
		if !ok || info.Invalid {
			continue
		}
		b, err := s.chain.Block(h)
		if err != nil {
			if blockchain.IsNotFound(err) {
				continue
			}
			return nil, fmt.Errorf("netsync: load block %s: %w", h, err)
		}
		enc := b.Encode()
		if len(raw) > 0 && size+len(enc) > MaxBlocksResponseBytes {
			break
		}
		raw = append(raw, enc)
		size += len(enc)
	}
	return encodeBlocks(raw), nil
}

// serveMempool answers with up to MaxMempoolTxs pending transactions,
// highest fee first.
func (s *Syncer) serveMempool(_ context.Context, from p2p.PeerID, req []byte) ([]byte, error) {
	if len(req) != 0 {
		s.net.Penalize(from, PenaltyMalformed, "mempool request is not empty")
		return nil, malformed("mempool request of %d bytes", len(req))
	}
	var txs []*chain.Tx
	if s.pool != nil {
		txs = s.pool.Txs()
	}
	if len(txs) > MaxMempoolTxs {
		txs = txs[:MaxMempoolTxs]
	}
	return encodeTxs(txs), nil
}
