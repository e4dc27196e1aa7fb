package libp2p

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/chaind/chaind/p2p"
)

// Wire format of a request/response exchange, one stream per request:
//
//	request:  len uint32 (big-endian) | len bytes
//	response: status uint8 | len uint32 | len bytes
//
// Status 0 carries the response; any other status is a RemoteCode and the
// bytes are the error text (at most MaxRemoteErrorSize). The requester
// closes its write side after the request; the server closes the stream
// after the response. Both sides check the length against their cap before
// reading the body, so nobody allocates more than its cap.
const (
	frameLenSize = 4
	statusOK     = 0
)

// errFrameTooLarge reports a frame whose announced length exceeds the cap.
type errFrameTooLarge struct{ n, limit uint64 }

func (e *errFrameTooLarge) Error() string {
	return fmt.Sprintf("%d bytes, limit %d", e.n, e.limit)
}

func writeFrame(w io.Writer, b []byte) error {
	buf := make([]byte, frameLenSize+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[frameLenSize:], b)
	_, err := w.Write(buf)
	return err
}

// readFrame reads one frame of at most limit bytes.
func readFrame(r io.Reader, limit int) ([]byte, error) {
	var hdr [frameLenSize]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(limit) {
		return nil, &errFrameTooLarge{n: uint64(n), limit: uint64(limit)}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

func writeResponse(w io.Writer, status p2p.RemoteCode, b []byte) error {
	if _, err := w.Write([]byte{byte(status)}); err != nil {
		return err
	}
	return writeFrame(w, b)
}

func writeRemoteError(s network.Stream, code p2p.RemoteCode, msg string) {
	if len(msg) > p2p.MaxRemoteErrorSize {
		msg = msg[:p2p.MaxRemoteErrorSize]
	}
	if err := writeResponse(s, code, []byte(msg)); err != nil {
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

// serveStream returns the stream handler of a request/response protocol.
func (h *Host) serveStream(p *protoState) network.StreamHandler {
	return func(s network.Stream) {
		from := s.Conn().RemotePeer()
		fromID := p2p.PeerID(from.String())
		deadline := time.Now().Add(p2p.DefaultRequestTimeout)
		_ = s.SetDeadline(deadline)

		req, err := readFrame(s, p.maxReq)
		var tooLarge *errFrameTooLarge
		switch {
		case errors.As(err, &tooLarge):
			h.Penalize(fromID, p2p.PenaltyOversized, "oversized request on "+p.name)
			writeRemoteError(s, p2p.CodeRequestTooLarge, fmt.Sprintf("request too large: %v", tooLarge))
			return
		case err != nil:
			_ = s.Reset()
			return
		}

		ctx, cancel := context.WithDeadline(h.ctx, deadline)
		defer cancel()
		resp, err := p.handler(ctx, fromID, req)
		switch {
		case err != nil:
			writeRemoteError(s, p2p.CodeHandler, err.Error())
		case len(resp) > p.maxResp:
			h.log.Warn("handler response over its cap", "protocol", p.name, "size", len(resp), "limit", p.maxResp)
			writeRemoteError(s, p2p.CodeResponseTooLarge, fmt.Sprintf("response too large: %d bytes, limit %d", len(resp), p.maxResp))
		default:
			if err := writeResponse(s, statusOK, resp); err != nil {
				_ = s.Reset()
				return
			}
			_ = s.Close()
		}
	}
}

// caps returns the protocol's namespaced id and its size caps: the
// registered ones, or the defaults for a protocol this node does not serve.
func (h *Host) caps(name string) (*protoState, error) {
	if p, ok := h.protocols[name]; ok {
		return p, nil
	}
	if err := p2p.CheckName(name); err != nil {
		return nil, err
	}
	return &protoState{name: name, pid: h.protocolID(name), maxReq: p2p.DefaultMaxRequestSize, maxResp: p2p.DefaultMaxResponseSize}, nil
}

// Request sends a request to a connected peer and waits for its response.
// See Network.
func (h *Host) Request(ctx context.Context, to p2p.PeerID, name string, req []byte) ([]byte, error) {
	if !h.started() {
		if h.state.Load() == stateClosed {
			return nil, p2p.ErrClosed
		}
		return nil, p2p.ErrNotStarted
	}
	p, err := h.caps(name)
	if err != nil {
		return nil, err
	}
	if len(req) > p.maxReq {
		return nil, fmt.Errorf("%w: %s: %d bytes, limit %d", p2p.ErrRequestTooLarge, name, len(req), p.maxReq)
	}
	pid, err := peer.Decode(string(to))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: bad peer id %q", p2p.ErrNotConnected, name, to)
	}
	if h.banned(pid) {
		return nil, fmt.Errorf("%w: %s", p2p.ErrBanned, to.Short())
	}
	if h.h.Network().Connectedness(pid) != network.Connected {
		return nil, fmt.Errorf("%w: %s", p2p.ErrNotConnected, to.Short())
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p2p.DefaultRequestTimeout)
		defer cancel()
	}
	resp, err := h.request(ctx, pid, to, p, req)
	if err != nil && !errors.Is(err, p2p.ErrRemote) {
		// The stream's deadline and the context's may fire in either order.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("p2p: %s to %s: %w", name, to.Short(), ctxErr)
		}
		if dl, _ := ctx.Deadline(); !time.Now().Before(dl) {
			return nil, fmt.Errorf("p2p: %s to %s: %w", name, to.Short(), context.DeadlineExceeded)
		}
	}
	return resp, err
}

func (h *Host) request(ctx context.Context, pid peer.ID, to p2p.PeerID, p *protoState, req []byte) ([]byte, error) {
	s, err := h.h.NewStream(network.WithNoDial(ctx, "request"), pid, p.pid)
	if err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: open stream: %w", p.name, to.Short(), err)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = s.SetDeadline(dl)
	}

	werr := writeFrame(s, req)
	if werr == nil {
		werr = s.CloseWrite()
	}
	// Read the answer even if writing failed: a server that refused an
	// oversized request says so before it closes the stream.
	resp, rerr := h.readResponse(s, to, p)
	if rerr != nil {
		_ = s.Reset()
		var re *p2p.RemoteError
		if werr != nil && !errors.As(rerr, &re) {
			return nil, fmt.Errorf("p2p: %s to %s: send request: %w", p.name, to.Short(), werr)
		}
		return nil, rerr
	}
	_ = s.Close()
	return resp, nil
}

func (h *Host) readResponse(s network.Stream, to p2p.PeerID, p *protoState) ([]byte, error) {
	var status [1]byte
	if _, err := io.ReadFull(s, status[:]); err != nil {
		return nil, fmt.Errorf("p2p: %s to %s: read response: %w", p.name, to.Short(), err)
	}
	if status[0] == statusOK {
		resp, err := readFrame(s, p.maxResp)
		var tooLarge *errFrameTooLarge
		if errors.As(err, &tooLarge) {
			h.Penalize(to, p2p.PenaltyOversized, "oversized response on "+p.name)
			return nil, fmt.Errorf("%w: %s from %s: %v", p2p.ErrResponseTooLarge, p.name, to.Short(), tooLarge)
		}
		if err != nil {
			return nil, fmt.Errorf("p2p: %s to %s: read response: %w", p.name, to.Short(), err)
		}
		return resp, nil
	}
	msg, err := readFrame(s, p2p.MaxRemoteErrorSize)
	if err != nil {
		h.Penalize(to, p2p.PenaltyProtocol, "malformed error frame on "+p.name)
		return nil, fmt.Errorf("p2p: %s to %s: read error response: %w", p.name, to.Short(), err)
	}
	return nil, &p2p.RemoteError{Peer: to, Protocol: p.name, Code: p2p.RemoteCode(status[0]), Msg: string(msg)}
}
