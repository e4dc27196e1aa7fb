package lab

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// forkEvents: four nodes; a mines 1 and 2, c mines a rival 2' that loses
// when a mines 3 on 2; c reorganises one block.
func forkEvents() []Event {
	evs := []Event{
		{T: at(0), Kind: KindStart, Node: "a", Share: 0.5},
		{T: at(0), Kind: KindStart, Node: "b"},
		{T: at(0), Kind: KindStart, Node: "c", Share: 0.5},
		{T: at(0), Kind: KindStart, Node: "d"},
		{T: at(1000), Kind: KindFound, Node: "a", Hash: "h1", Parent: "g", Height: 1},
		{T: at(1010), Kind: KindBlock, Node: "b", Hash: "h1", Parent: "g", Height: 1},
		{T: at(1020), Kind: KindBlock, Node: "c", Hash: "h1", Parent: "g", Height: 1},
		{T: at(1100), Kind: KindBlock, Node: "d", Hash: "h1", Parent: "g", Height: 1},
		{T: at(2000), Kind: KindFound, Node: "a", Hash: "h2", Parent: "h1", Height: 2},
		{T: at(2005), Kind: KindFound, Node: "c", Hash: "x2", Parent: "h1", Height: 2},
		{T: at(2010), Kind: KindBlock, Node: "b", Hash: "h2", Parent: "h1", Height: 2},
		{T: at(2030), Kind: KindBlock, Node: "d", Hash: "x2", Parent: "h1", Height: 2},
		{T: at(3000), Kind: KindFound, Node: "a", Hash: "h3", Parent: "h2", Height: 3},
		{T: at(3010), Kind: KindBlock, Node: "b", Hash: "h3", Parent: "h2", Height: 3},
		{T: at(3020), Kind: KindBlock, Node: "c", Hash: "h2", Parent: "h1", Height: 2},
		{T: at(3021), Kind: KindBlock, Node: "c", Hash: "h3", Parent: "h2", Height: 3},
		{T: at(3022), Kind: KindReorg, Node: "c", Depth: 1},
		{T: at(3040), Kind: KindBlock, Node: "d", Hash: "h2", Parent: "h1", Height: 2},
		{T: at(3041), Kind: KindBlock, Node: "d", Hash: "h3", Parent: "h2", Height: 3},
		{T: at(3042), Kind: KindReorg, Node: "d", Depth: 1},
		{T: at(3500), Kind: KindTx, Node: "b", Hash: "t1"},
		{T: at(3520), Kind: KindTx, Node: "a", Hash: "t1"},
		{T: at(3530), Kind: KindTx, Node: "c", Hash: "t1"},
		{T: at(3560), Kind: KindTx, Node: "d", Hash: "t1"},
	}
	return evs
}

func TestObservatoryReport(t *testing.T) {
	o := NewObservatory(nil)
	for _, ev := range forkEvents() {
		o.Add(ev)
	}
	r := o.Report()
	if r.Found != 4 || r.MainChain != 3 || r.Stale != 1 || math.Abs(r.StaleRate-0.25) > 1e-12 {
		t.Errorf("found %d, main %d, stale %d (%.2f)", r.Found, r.MainChain, r.Stale, r.StaleRate)
	}
	if r.Tip != "h3" || r.TipHeight != 3 {
		t.Errorf("tip %s at %d", r.Tip, r.TipHeight)
	}
	if r.Reorgs != 2 || r.MaxReorg != 1 || r.ReorgDepth[1] != 2 {
		t.Errorf("reorgs %d, max %d, depths %v", r.Reorgs, r.MaxReorg, r.ReorgDepth)
	}
	// h1 reached 2 of 4 nodes at +10 ms, 4 at +100 ms; h2 reached c and d
	// only at +1020 and +1040 ms; h3 everyone by +41 ms; x2 reached 2 of 4
	// (c, d) at +25 ms and never everyone.
	if r.To100.Count != 3 || r.To100.Max != 1040*time.Millisecond {
		t.Errorf("to 100%%: %+v", r.To100)
	}
	if r.To50.Count != 4 || r.To50.Median != 10*time.Millisecond {
		t.Errorf("to 50%%: %+v", r.To50)
	}
	if r.TxTo100.Count != 1 || r.TxTo100.Max != 60*time.Millisecond {
		t.Errorf("tx: %+v", r.TxTo100)
	}
	// Only h1 is clean: h2 had a rival, and c and d lacked h2 when h3 was
	// found. h1 reached b, c, d at +10, +20, +100 ms; the miners a and c
	// hold half the hash rate each, so d = (0 + 20 ms) / 2.
	if r.Clean != 1 || r.CleanTo100.Count != 1 || r.CleanTo100.Max != 100*time.Millisecond {
		t.Errorf("clean %d, to 100%% %+v", r.Clean, r.CleanTo100)
	}
	if r.CleanDelay != 130*time.Millisecond/3 || r.HashDelay != 10*time.Millisecond {
		t.Errorf("clean delay %v, hash delay %v", r.CleanDelay, r.HashDelay)
	}
	// One fork: h2 and x2 on h1.
	if r.Forks != 1 || math.Abs(r.ForkRate-1.0/3) > 1e-12 {
		t.Errorf("forks %d, rate %.4f", r.Forks, r.ForkRate)
	}
	// T = 3.56 s of session over 4 finds.
	if r.FindInterval != 890*time.Millisecond {
		t.Errorf("find interval %v", r.FindInterval)
	}
	want := 1 - math.Exp(-0.010/0.890)
	if math.Abs(r.StaleTextbook-want) > 1e-12 {
		t.Errorf("textbook %.6f, want %.6f", r.StaleTextbook, want)
	}
	if math.Abs(r.ForkPerBlock-want) > 1e-12 { // one clean block: no Jensen gap
		t.Errorf("per block %.6f, want %.6f", r.ForkPerBlock, want)
	}
	if want := 1 - math.Exp(-r.Delay.Seconds()/0.890); math.Abs(r.StaleMeanDelay-want) > 1e-12 {
		t.Errorf("with the mean delay %.6f, want %.6f", r.StaleMeanDelay, want)
	}
	// From 1.5 s on: h2, x2 and h3 found, h2 and h3 on the main chain,
	// over the 2.06 s left.
	if r := o.ReportSince(at(1500)); r.Found != 3 || r.MainChain != 2 || r.Stale != 1 || r.Forks != 1 ||
		r.Clean != 0 || r.FindInterval != 2060*time.Millisecond/3 {
		t.Errorf("since 1.5 s: found %d, main %d, stale %d, forks %d, clean %d, find interval %v",
			r.Found, r.MainChain, r.Stale, r.Forks, r.Clean, r.FindInterval)
	}
	shares := map[string]MinerReport{}
	for _, m := range r.Miners {
		shares[m.Node] = m
	}
	if a := shares["a"]; a.Found != 3 || a.MainChain != 3 || a.ChainShare != 1 || a.HashShare != 0.5 {
		t.Errorf("miner a: %+v", a)
	}
	if c := shares["c"]; c.Found != 1 || c.MainChain != 0 || c.HashShare != 0.5 {
		t.Errorf("miner c: %+v", c)
	}
}

// TestRecordingReplays records a session as JSON lines and recomputes the
// same report from the recording.
func TestRecordingReplays(t *testing.T) {
	var buf bytes.Buffer
	o := NewObservatory(NewRecorder(&buf))
	for _, ev := range forkEvents() {
		o.Add(ev)
	}
	evs, err := ReadEvents(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(forkEvents()) {
		t.Fatalf("read %d events, wrote %d", len(evs), len(forkEvents()))
	}
	live, _ := json.Marshal(o.Report())
	again, _ := json.Marshal(Replay(evs).Report())
	if !bytes.Equal(live, again) {
		t.Fatalf("replayed report differs:\n%s\n%s", live, again)
	}
	if _, err := ReadEvents(bytes.NewBufferString("{\"kind\":\"found\"}\nnot json\n")); err == nil {
		t.Fatal("a broken recording was read")
	}
	if _, err := ReadEvents(bytes.NewBufferString("{\"t\":\"2026-01-01T00:00:00Z\"}\n")); err == nil {
		t.Fatal("an event without a kind was read")
	}
}

func TestSubscribe(t *testing.T) {
	o := NewObservatory(nil)
	ch, cancel := o.Subscribe(2)
	o.Add(Event{T: at(0), Kind: KindHeal})
	o.Add(Event{T: at(1), Kind: KindHeal})
	o.Add(Event{T: at(2), Kind: KindHeal}) // the buffer is full: missed, not blocking
	if len(ch) != 2 {
		t.Fatalf("%d events buffered", len(ch))
	}
	cancel()
	cancel()
	for range ch {
	}
}
