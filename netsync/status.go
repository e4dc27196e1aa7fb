package netsync

import (
	"context"
	"fmt"

	"github.com/chaind/chaind/p2p"
)

// request sends one request with the syncer's deadline.
func (s *Syncer) request(ctx context.Context, to p2p.PeerID, proto string, req []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.requestTimeout)
	defer cancel()
	return s.net.Request(ctx, to, proto, req)
}

// exchangeStatus sends our status to a peer and records its answer. The
// number of exchanges in flight is bounded by MaxConcurrentStatus.
func (s *Syncer) exchangeStatus(ctx context.Context, id p2p.PeerID) (Status, error) {
	select {
	case s.statusSem <- struct{}{}:
		defer func() { <-s.statusSem }()
	case <-ctx.Done():
		return Status{}, ctx.Err()
	}
	resp, err := s.request(ctx, id, ProtoStatus, EncodeStatus(s.status()))
	if err != nil {
		return Status{}, err
	}
	st, err := DecodeStatus(resp)
	if err != nil {
		s.net.Penalize(id, PenaltyMalformed, "status response: "+err.Error())
		return Status{}, fmt.Errorf("status from %s: %w", id.Short(), err)
	}
	if err := s.checkGenesis(id, st); err != nil {
		return Status{}, err
	}
	s.notePeerStatus(id, st)
	return st, nil
}
