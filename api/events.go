package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/node"
)

// HeartbeatInterval is how often an idle event stream gets a comment line,
// so proxies and clients can tell a quiet stream from a dead one.
const HeartbeatInterval = 15 * time.Second

// maxEventsPerFlush bounds how many queued events are written before a
// flush, so a burst goes out in few packets but a client still sees it
// promptly.
const maxEventsPerFlush = 64

// getEvents streams node events as Server-Sent Events: "event: <type>"
// (block, block-accepted, tx, reorg, block-disconnected, peer) and "data: <JSON>". It ends when
// the client leaves, the server shuts down, the node stops, or the client
// falls node.EventBuffer events behind (the hub drops it; EventSource
// clients reconnect).
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		return nil
	}
	ch, cancel, err := s.n.Events().Subscribe()
	if errors.Is(err, node.ErrTooManySubscribers) {
		return &Error{Status: http.StatusServiceUnavailable, Msg: "too many event streams are open; try again later"}
	}
	if err != nil {
		return err
	}
	defer cancel()
	shrinkSendBuffer(r)
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriter(w)
	flush := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(StreamWriteTimeout))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	_, _ = bw.WriteString(": subscribed\n\n")
	if !flush() {
		return nil
	}
	beat := time.NewTicker(HeartbeatInterval)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		case <-beat.C:
			_, _ = bw.WriteString(": heartbeat\n\n")
		case ev, ok := <-ch:
			for n := 0; ; n++ {
				if !ok {
					_, _ = bw.WriteString(": stream ended (node stopping, or this client fell behind)\n\n")
					flush()
					return nil
				}
				s.writeEvent(bw, ev)
				if n+1 == maxEventsPerFlush || len(ch) == 0 {
					break
				}
				ev, ok = <-ch
			}
		}
		if !flush() {
			return nil
		}
	}
}

// renderEvent presents a node event for the stream: its name and JSON data
// (apitypes' event names and payloads).
func (s *Server) renderEvent(ev node.Event) (string, any) {
	switch e := ev.(type) {
	case *node.BlockConnected:
		return apitypes.EventBlock, apitypes.SummaryOf(s.hrp, e.Block)
	case *node.BlockAccepted:
		return apitypes.EventBlockAccepted, apitypes.SummaryOf(s.hrp, e.Block)
	case *node.BlockDisconnected:
		return apitypes.EventBlockDisconnected, apitypes.SummaryOf(s.hrp, e.Block)
	case *node.Reorg:
		return apitypes.EventReorg, apitypes.Reorg{Height: e.Height, Hash: e.Hash}
	case *node.TxAccepted:
		return apitypes.EventTx, apitypes.TxOf(s.hrp, e.Tx)
	case *node.PeerChanged:
		return apitypes.EventPeer, apitypes.PeerEvent{Peer: string(e.Peer), Connected: e.Connected, Addr: e.Addr}
	}
	return "", nil
}

func (s *Server) writeEvent(bw *bufio.Writer, ev node.Event) {
	name, v := s.renderEvent(ev)
	if name == "" {
		s.log.Error("event stream: unknown node event", "event", fmt.Sprintf("%T", ev))
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.log.Error("event stream: encode event", "event", name, "err", err)
		return
	}
	_, _ = bw.WriteString("event: ")
	_, _ = bw.WriteString(name)
	_, _ = bw.WriteString("\ndata: ")
	_, _ = bw.Write(data)
	_, _ = bw.WriteString("\n\n")
}
