package lab

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Observatory collects the devnet's events and computes the report:
// propagation per block, stale rate, reorg depths, miners' shares. It is
// safe for concurrent use; events may arrive out of order (first-seen
// times are kept as the earliest).
type Observatory struct {
	mu     sync.Mutex
	rec    *Recorder          // nil: not recorded
	nodes  map[string]bool    // running
	shares map[string]float64 // hash-rate share by node
	blocks map[string]*blockObs
	txs    map[string]map[string]time.Time
	reorgs map[string][]int
	events int
	first  time.Time
	last   time.Time
	subs   map[int]chan Event
	nextID int
}

type blockObs struct {
	hash, parent string
	height       uint32
	miner        string
	found        time.Time
	running      map[string]bool // nodes running when it was found
	seen         map[string]time.Time
}

// NewObservatory returns an observatory that records every event to rec
// (nil: none).
func NewObservatory(rec *Recorder) *Observatory {
	return &Observatory{rec: rec, nodes: map[string]bool{}, shares: map[string]float64{},
		blocks: map[string]*blockObs{}, txs: map[string]map[string]time.Time{}, reorgs: map[string][]int{},
		subs: map[int]chan Event{}}
}

// Subscribe returns a channel of the events from now on, buffered by
// size, and a function that ends the subscription. A subscriber that falls
// behind by more than size misses events rather than stalling the network.
func (o *Observatory) Subscribe(size int) (<-chan Event, func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	id := o.nextID
	o.nextID++
	ch := make(chan Event, size)
	o.subs[id] = ch
	return ch, func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		if c, ok := o.subs[id]; ok {
			delete(o.subs, id)
			close(c)
		}
	}
}

// Add takes one event.
func (o *Observatory) Add(ev Event) {
	if o.rec != nil {
		o.rec.Record(ev)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events++
	if o.first.IsZero() || ev.T.Before(o.first) {
		o.first = ev.T
	}
	if ev.T.After(o.last) {
		o.last = ev.T
	}
	switch ev.Kind {
	case KindStart, KindAdd:
		o.nodes[ev.Node] = true
		if ev.Share > 0 {
			o.shares[ev.Node] = ev.Share
		}
	case KindStop, KindCrash:
		delete(o.nodes, ev.Node)
	case KindHashRate:
		o.shares[ev.Node] = ev.Share
	case KindFound:
		b := o.block(ev)
		b.miner, b.found = ev.Node, ev.T
		b.running = make(map[string]bool, len(o.nodes))
		for n := range o.nodes {
			b.running[n] = true
		}
		o.see(b, ev.Node, ev.T)
	case KindBlock:
		o.see(o.block(ev), ev.Node, ev.T)
	case KindTx:
		m := o.txs[ev.Hash]
		if m == nil {
			m = map[string]time.Time{}
			o.txs[ev.Hash] = m
		}
		if t, ok := m[ev.Node]; !ok || ev.T.Before(t) {
			m[ev.Node] = ev.T
		}
	case KindReorg:
		o.reorgs[ev.Node] = append(o.reorgs[ev.Node], ev.Depth)
	}
	for _, c := range o.subs {
		select {
		case c <- ev:
		default: // a slow subscriber misses it
		}
	}
}

func (o *Observatory) block(ev Event) *blockObs {
	b := o.blocks[ev.Hash]
	if b == nil {
		b = &blockObs{hash: ev.Hash, seen: map[string]time.Time{}}
		o.blocks[ev.Hash] = b
	}
	if ev.Parent != "" {
		b.parent, b.height = ev.Parent, ev.Height
	}
	return b
}

func (o *Observatory) see(b *blockObs, node string, t time.Time) {
	if s, ok := b.seen[node]; !ok || t.Before(s) {
		b.seen[node] = t
	}
}

// Dist summarises a distribution of durations.
type Dist struct {
	Count  int           `json:"count"`
	Mean   time.Duration `json:"mean"`
	Median time.Duration `json:"p50"`
	P90    time.Duration `json:"p90"`
	P99    time.Duration `json:"p99"`
	Max    time.Duration `json:"max"`
}

func distOf(ds []time.Duration) Dist {
	if len(ds) == 0 {
		return Dist{}
	}
	slices.Sort(ds)
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return Dist{Count: len(ds), Mean: sum / time.Duration(len(ds)), Median: quantile(ds, 0.5),
		P90: quantile(ds, 0.9), P99: quantile(ds, 0.99), Max: ds[len(ds)-1]}
}

// quantile is the nearest-rank quantile of sorted ds.
func quantile(ds []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// MinerReport is one miner's blocks against its hash-rate share.
type MinerReport struct {
	Node       string  `json:"node"`
	HashShare  float64 `json:"hash_share"`
	Found      int     `json:"found"`
	MainChain  int     `json:"main_chain"`
	ChainShare float64 `json:"chain_share"` // of the main chain's blocks found in the session
}

// Report is what the observatory measured.
type Report struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Events int       `json:"events"`
	Nodes  int       `json:"nodes_running"`
	// Blocks found in the session; on the main chain (from the best
	// tip: highest, first found on a tie); stale = found - main.
	Found     int     `json:"blocks_found"`
	MainChain int     `json:"main_chain"`
	Stale     int     `json:"stale"`
	StaleRate float64 `json:"stale_rate"`
	// Propagation of each block from its find to 50%, 90% and 100% of the
	// nodes running then (a block that never reached a fraction is left
	// out of that fraction's distribution).
	To50  Dist `json:"to_50"`
	To90  Dist `json:"to_90"`
	To100 Dist `json:"to_100"`
	// Delay is the mean time from a find to each other node's first sight,
	// over every block found. A node that was on a competing block sees
	// the winner only when the fork resolves, about a block time later,
	// so forks inflate it.
	Delay time.Duration `json:"mean_delay"`
	// Clean counts the blocks whose propagation no fork disturbed: on the
	// main chain, the only block found on their parent, and found when
	// every running node had that parent. CleanTo100 is their
	// propagation to every node: how long after a block the whole
	// network is on one tip when no block competes.
	Clean      int  `json:"clean_blocks"`
	CleanTo100 Dist `json:"clean_to_100"`
	// CleanDelay is the mean delay from a find to each other node over
	// the clean blocks. HashDelay is the d of the textbook estimate: the
	// mean over clean blocks of the hash-share-weighted delay to the
	// miners, the finder counting 0 (Decker and Wattenhofer's integral of
	// the hash power that does not know the block yet).
	CleanDelay time.Duration `json:"clean_delay"`
	HashDelay  time.Duration `json:"hash_delay"`
	// FindInterval is the session's time over the blocks found in it: the
	// network's block time T, stale blocks included.
	FindInterval time.Duration `json:"find_interval"`
	// StaleTextbook is the textbook stale rate 1 - e^(-d/T) with d =
	// HashDelay and T = FindInterval; StaleMeanDelay is the same with d =
	// Delay.
	StaleTextbook  float64 `json:"stale_textbook"`
	StaleMeanDelay float64 `json:"stale_mean_delay"`
	// Forks counts the main-chain blocks whose parent had another child
	// found: the heights where the chain branched. ForkRate is Forks over
	// MainChain, what 1 - e^(-d/T) estimates (the chance that another
	// block is found while one propagates). StaleRate counts the stale
	// blocks among all found, stale ones included, so it is about
	// ForkRate / (1 + ForkRate) when forks are one block deep.
	Forks    int     `json:"forks"`
	ForkRate float64 `json:"fork_rate"`
	// ForkPerBlock averages 1 - e^(-d_b/T) over the clean blocks b, each
	// with its own hash-weighted delay d_b: the fork chance of a Poisson
	// race when each block's delays are fixed by where it was found
	// (below StaleTextbook by Jensen's inequality).
	ForkPerBlock float64       `json:"fork_per_block"`
	Reorgs       int           `json:"reorgs"`
	ReorgDepth   map[int]int   `json:"reorg_depths"` // depth -> count
	MaxReorg     int           `json:"max_reorg"`
	Txs          int           `json:"txs"`
	TxTo100      Dist          `json:"tx_to_all"` // first sight anywhere to every running node
	Miners       []MinerReport `json:"miners"`
	BlockTime    time.Duration `json:"mean_block_time"` // session time / main-chain blocks
	Tip          string        `json:"tip"`
	TipHeight    uint32        `json:"tip_height"`
}

// Report computes the report from the events so far.
func (o *Observatory) Report() Report { return o.ReportSince(time.Time{}) }

// ReportSince computes the report over the blocks found from since on (a
// warm-up left out: a thousand nodes starting at once propagate slowly).
// The main chain is still traced through every block; reorgs and
// transactions are counted over the whole session.
func (o *Observatory) ReportSince(since time.Time) Report {
	o.mu.Lock()
	defer o.mu.Unlock()
	first := o.first
	if since.After(first) {
		first = since
	}
	r := Report{From: first, To: o.last, Events: o.events, Nodes: len(o.nodes), ReorgDepth: map[int]int{}}

	// The main chain: from the best tip (highest; first found on a tie)
	// back through known parents.
	var tip *blockObs
	for _, b := range o.blocks {
		if b.found.IsZero() && b.parent == "" {
			continue
		}
		if tip == nil || b.height > tip.height || (b.height == tip.height && earlier(b, tip)) {
			tip = b
		}
	}
	main := map[string]bool{}
	for b := tip; b != nil; b = o.blocks[b.parent] {
		if main[b.hash] {
			break
		}
		main[b.hash] = true
	}
	if tip != nil {
		r.Tip, r.TipHeight = tip.hash, tip.height
	}

	var to50, to90, to100, delays []time.Duration
	perMiner := map[string]*MinerReport{}
	for node, s := range o.shares {
		perMiner[node] = &MinerReport{Node: node, HashShare: s}
	}
	for _, b := range o.blocks {
		if b.found.IsZero() || b.found.Before(first) {
			continue // seen but not found in the session (or its part reported)
		}
		r.Found++
		m := perMiner[b.miner]
		if m == nil {
			m = &MinerReport{Node: b.miner}
			perMiner[b.miner] = m
		}
		m.Found++
		if main[b.hash] {
			r.MainChain++
			m.MainChain++
		}
		// Propagation counts the nodes that ran when the block was found:
		// a node started later syncs it, which is not propagation.
		var ds []time.Duration
		for node, t := range b.seen {
			if !b.running[node] && node != b.miner {
				continue
			}
			d := max(t.Sub(b.found), 0)
			ds = append(ds, d)
			if node != b.miner {
				delays = append(delays, d)
			}
		}
		slices.Sort(ds)
		n := max(len(b.running), len(ds))
		reach := func(frac float64) (time.Duration, bool) {
			k := int(math.Ceil(frac * float64(n)))
			if k < 1 || k > len(ds) {
				return 0, false
			}
			return ds[k-1], true
		}
		if d, ok := reach(0.5); ok {
			to50 = append(to50, d)
		}
		if d, ok := reach(0.9); ok {
			to90 = append(to90, d)
		}
		if d, ok := reach(1); ok {
			to100 = append(to100, d)
		}
	}
	r.Stale = r.Found - r.MainChain
	if r.Found > 0 {
		r.StaleRate = float64(r.Stale) / float64(r.Found)
	}
	r.To50, r.To90, r.To100 = distOf(to50), distOf(to90), distOf(to100)
	if len(delays) > 0 {
		r.Delay = distOf(delays).Mean
	}
	perBlock := o.cleanBlocks(&r, main, first)
	if r.Found > 0 && o.last.After(first) {
		r.FindInterval = o.last.Sub(first) / time.Duration(r.Found)
		T := r.FindInterval.Seconds()
		r.StaleTextbook = 1 - math.Exp(-r.HashDelay.Seconds()/T)
		r.StaleMeanDelay = 1 - math.Exp(-r.Delay.Seconds()/T)
		for _, d := range perBlock {
			r.ForkPerBlock += (1 - math.Exp(-d.Seconds()/T)) / float64(len(perBlock))
		}
	}
	for _, ds := range o.reorgs {
		for _, d := range ds {
			r.Reorgs++
			r.ReorgDepth[d]++
			r.MaxReorg = max(r.MaxReorg, d)
		}
	}
	var txAll []time.Duration
	for _, m := range o.txs {
		r.Txs++
		if len(m) < len(o.nodes) || len(m) == 0 {
			continue
		}
		var lo, hi time.Time
		for _, t := range m {
			if lo.IsZero() || t.Before(lo) {
				lo = t
			}
			if t.After(hi) {
				hi = t
			}
		}
		txAll = append(txAll, hi.Sub(lo))
	}
	r.TxTo100 = distOf(txAll)
	for _, m := range perMiner {
		if r.MainChain > 0 {
			m.ChainShare = float64(m.MainChain) / float64(r.MainChain)
		}
		r.Miners = append(r.Miners, *m)
	}
	sort.Slice(r.Miners, func(i, j int) bool { return r.Miners[i].Node < r.Miners[j].Node })
	if r.MainChain > 0 && o.last.After(first) {
		r.BlockTime = o.last.Sub(first) / time.Duration(r.MainChain)
	}
	return r
}

// cleanBlocks fills the report's figures over the clean blocks: main-chain
// blocks found on a parent no other block was found on, when every node
// running had that parent. Their first sights are plain propagation, with
// no fork in the way. Called with o.mu held.
func (o *Observatory) cleanBlocks(r *Report, main map[string]bool, since time.Time) (perBlock []time.Duration) {
	children := map[string]int{}
	for _, b := range o.blocks {
		if !b.found.IsZero() {
			children[b.parent]++
		}
	}
	for _, b := range o.blocks {
		if !b.found.IsZero() && !b.found.Before(since) && main[b.hash] && children[b.parent] > 1 {
			r.Forks++
		}
	}
	if r.MainChain > 0 {
		r.ForkRate = float64(r.Forks) / float64(r.MainChain)
	}
	var to100, delays []time.Duration
	var hashSum time.Duration
	for _, b := range o.blocks {
		if b.found.IsZero() || b.found.Before(since) || !main[b.hash] || children[b.parent] != 1 {
			continue
		}
		if p := o.blocks[b.parent]; p != nil { // the genesis is known to all
			ok := true
			for n := range b.running {
				if t, seen := p.seen[n]; !seen || t.After(b.found) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		r.Clean++
		var last time.Duration
		all := true
		var weighted, weights float64
		for n := range b.running {
			t, seen := b.seen[n]
			if !seen {
				all = false
				continue
			}
			d := max(t.Sub(b.found), 0)
			last = max(last, d)
			if n != b.miner {
				delays = append(delays, d)
			}
			if s := o.shares[n]; s > 0 {
				weighted += s * float64(d)
				weights += s
			}
		}
		if all {
			to100 = append(to100, last)
		}
		if weights > 0 {
			hashSum += time.Duration(weighted / weights)
			perBlock = append(perBlock, time.Duration(weighted/weights))
		}
	}
	r.CleanTo100 = distOf(to100)
	if len(delays) > 0 {
		r.CleanDelay = distOf(delays).Mean
	}
	if r.Clean > 0 {
		r.HashDelay = hashSum / time.Duration(r.Clean)
	}
	return perBlock
}

// earlier orders blocks of equal height: first found, then by hash.
func earlier(a, b *blockObs) bool {
	switch {
	case a.found.IsZero() != b.found.IsZero():
		return !a.found.IsZero()
	case !a.found.Equal(b.found):
		return a.found.Before(b.found)
	}
	return a.hash < b.hash
}

// Replay builds an observatory from a recording.
func Replay(events []Event) *Observatory {
	o := NewObservatory(nil)
	for _, ev := range events {
		o.Add(ev)
	}
	return o
}

// ReorgsOf returns how many reorgs a node had.
func (o *Observatory) ReorgsOf(node string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.reorgs[node])
}

// Arrival returns how long after its find a block reached a node (its
// first sight there); false until the find and the sight are both known.
func (o *Observatory) Arrival(hash, node string) (time.Duration, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.blocks[hash]
	if b == nil || b.found.IsZero() {
		return 0, false
	}
	t, ok := b.seen[node]
	if !ok {
		return 0, false
	}
	return t.Sub(b.found), true
}
