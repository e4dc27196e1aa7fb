package client

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxEventLine bounds one line of the event stream.
const maxEventLine = 4 << 20

// Event is one Server-Sent Event of GET /api/v1/events: its name (one of
// apitypes.EventNames) and its JSON data, to decode into the apitypes value
// the name stands for.
type Event struct {
	Name string
	Data json.RawMessage
}

// Decode decodes the event's data into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// EventStream reads GET /api/v1/events. Close it when done.
type EventStream struct {
	body io.ReadCloser
	sc   *bufio.Scanner
}

// Events opens the event stream; it ends when ctx ends, Close is called,
// or the node ends it.
func (c *Client) Events(ctx context.Context) (*EventStream, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	// The stream outlives any whole-request timeout: use the client's
	// transport without one.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errorOf(http.MethodGet, "/api/v1/events", resp)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	return &EventStream{body: resp.Body, sc: sc}, nil
}

// Next blocks until the next event and returns it; at the end of the
// stream it returns io.EOF. Comment lines (subscribed, heartbeats) are
// skipped.
func (s *EventStream) Next() (Event, error) {
	var ev Event
	var data []string
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.Name != "" || len(data) > 0 {
				ev.Data = json.RawMessage(strings.Join(data, "\n"))
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "event:"):
			ev.Name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := s.sc.Err(); err != nil {
		return Event{}, err
	}
	return Event{}, io.EOF
}

// Close ends the stream.
func (s *EventStream) Close() error { return s.body.Close() }
