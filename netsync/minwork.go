package netsync

import "math/big"

// The network's minimum chain work (consensus.Params.MinimumChainWork, as
// Bitcoin Core's nMinimumChainWork) is checked in one place, here: no
// block of a header chain is downloaded before its headers have shown it
// (betterThanTip), and a node whose own tip is below it reports itself
// syncing (in initial download) whatever its peers claim.

// meetsMinimumWork reports whether the work a header chain's headers
// showed, kept or only checked (presync), reaches the network's minimum
// chain work. A chain below it is not downloaded and its peer is not
// penalised (it may itself be catching up); the chain is judged again
// when the peer announces more.
func (s *Syncer) meetsMinimumWork(shown *big.Int) bool {
	return s.params.MeetsMinimumWork(shown)
}

// belowMinimumWork reports whether our own tip is below the network's
// minimum chain work: the node is in initial download.
func (s *Syncer) belowMinimumWork() bool {
	return !s.params.MeetsMinimumWork(s.chain.Tip().Work)
}
