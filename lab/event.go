package lab

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Event kinds.
const (
	KindFound     = "found"     // Node mined block Hash (Parent, Height)
	KindBlock     = "block"     // Node first saw block Hash (Parent, Height)
	KindTx        = "tx"        // Node first saw transaction Hash
	KindReorg     = "reorg"     // Node's tip moved to another branch, Depth blocks disconnected
	KindPartition = "partition" // Detail: the groups, "a,b|c,d"
	KindHeal      = "heal"
	KindShape     = "shape"    // Detail: "a-b" and the shape
	KindStop      = "stop"     // Node stopped cleanly
	KindCrash     = "crash"    // Node killed without a clean stop
	KindStart     = "start"    // Node (re)started
	KindAdd       = "add"      // Node joined (Detail: its peers)
	KindHashRate  = "hashrate" // Node's hash-rate Share changed
	KindMine      = "mine"     // Detail: blocks asked of Node
	KindNote      = "note"     // Detail: free text (scenario steps, expectations)
)

// MaxEventLine bounds one recorded line when reading a recording.
const MaxEventLine = 1 << 16

// Event is one thing that happened on the devnet; a session is recorded as
// one JSON object per line.
type Event struct {
	T      time.Time `json:"t"`
	Kind   string    `json:"kind"`
	Node   string    `json:"node,omitempty"`
	Hash   string    `json:"hash,omitempty"`
	Parent string    `json:"parent,omitempty"`
	Height uint32    `json:"height,omitempty"`
	Depth  int       `json:"depth,omitempty"`
	Share  float64   `json:"share,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// Recorder writes events as JSON lines. It is safe for concurrent use.
type Recorder struct {
	mu  sync.Mutex
	w   io.Writer
	enc *json.Encoder
	err error
}

// NewRecorder records to w.
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w, enc: json.NewEncoder(w)} }

// Record writes ev; the first write error sticks and is returned by Err.
func (r *Recorder) Record(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.enc.Encode(ev)
	}
}

// Err returns the first write error.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// ReadEvents reads a recording: one JSON event per line, blank lines
// skipped.
func ReadEvents(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxEventLine)
	var out []Event
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("recording line %d: %w", line, err)
		}
		if ev.Kind == "" {
			return nil, fmt.Errorf("recording line %d: event without a kind", line)
		}
		out = append(out, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	return out, nil
}
