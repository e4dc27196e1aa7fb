package netsync

// The network's minimum chain work (consensus.Params.MinimumChainWork, as
// Bitcoin Core's nMinimumChainWork) is checked in one place, here: a
// session downloads no block of a header chain whose headers have not
// shown it, and a node whose own tip is below it reports itself syncing
// (in initial download) whatever its peers claim.

// checkMinimumWork refuses a header chain whose headers, kept or only
// checked (presync), have not shown the network's minimum chain work: its
// blocks are not downloaded. The peer is not penalised (it may itself be
// catching up); the chain is judged again when the peer announces more.
func (s *Syncer) checkMinimumWork(hc *headerChain) error {
	if s.params.MeetsMinimumWork(hc.shown) {
		return nil
	}
	return errNotBetter
}

// belowMinimumWork reports whether our own tip is below the network's
// minimum chain work: the node is in initial download.
func (s *Syncer) belowMinimumWork() bool {
	return !s.params.MeetsMinimumWork(s.chain.Tip().Work)
}
