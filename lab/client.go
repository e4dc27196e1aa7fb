package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MaxClientResponse bounds a controller answer the client reads.
const MaxClientResponse = 16 << 20

// Client talks to a devnet's controller (the CLI's `chaind devnet
// partition ...` and tests).
type Client struct {
	Base string // "http://127.0.0.1:3100"
	HTTP *http.Client
}

// NewClient returns a client of the controller at base.
func NewClient(base string) *Client {
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: controlTimeout + 10*time.Second}}
}

// ControlError is a controller's refusal: its HTTP status and message.
type ControlError struct {
	Status  int
	Message string
}

func (e *ControlError) Error() string { return fmt.Sprintf("%s (HTTP %d)", e.Message, e.Status) }

// Do sends a request to path (under APIPrefix) with body as JSON (nil:
// none) and decodes the answer into out (nil: discarded).
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+APIPrefix+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("devnet controller at %s: %w", c.Base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxClientResponse))
	if err != nil {
		return fmt.Errorf("devnet controller: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		return &ControlError{Status: resp.StatusCode, Message: e.Error}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("devnet controller answer: %w", err)
		}
	}
	return nil
}

// Control sends a command in the CLI's words ("partition a,b c,d",
// "shape a-b --delay 200ms", "mine a 5", ...) to the matching route and
// returns the controller's result.
func (c *Client) Control(ctx context.Context, cmd Command) (any, error) {
	var out struct {
		Result any `json:"result"`
	}
	var err error
	one := func() (string, error) {
		if len(cmd.Args) < 1 {
			return "", fmt.Errorf("%w: %s needs a node", ErrBadRequest, cmd.Op)
		}
		return cmd.Args[0], nil
	}
	switch cmd.Op {
	case "partition":
		gs, perr := ParseGroups(cmd.Args)
		if perr != nil {
			return nil, perr
		}
		err = c.Do(ctx, http.MethodPost, "/partition", map[string]any{"groups": gs}, &out)
	case "heal":
		err = c.Do(ctx, http.MethodPost, "/heal", nil, &out)
	case "shape":
		if len(cmd.Args) < 1 {
			return nil, fmt.Errorf("%w: usage: shape a-b --delay 200ms --jitter 20ms --loss 5%%", ErrBadRequest)
		}
		f, ferr := flags(cmd.Args[1:], "delay", "latency", "jitter", "loss", "bandwidth")
		if ferr != nil {
			return nil, ferr
		}
		if f["delay"] == "" {
			f["delay"] = f["latency"]
		}
		err = c.Do(ctx, http.MethodPost, "/shape", ShapeRequest{Link: cmd.Args[0], Delay: f["delay"], Jitter: f["jitter"],
			Loss: f["loss"], Bandwidth: f["bandwidth"]}, &out)
	case "stop", "crash", "start":
		name, nerr := one()
		if nerr != nil {
			return nil, nerr
		}
		err = c.Do(ctx, http.MethodPost, "/nodes/"+name+"/"+cmd.Op, nil, &out)
	case "add":
		name, nerr := one()
		if nerr != nil {
			return nil, nerr
		}
		f, ferr := flags(cmd.Args[1:], "peer")
		if ferr != nil {
			return nil, ferr
		}
		gs, gerr := ParseGroups([]string{f["peer"]})
		if gerr != nil {
			return nil, fmt.Errorf("%w: add needs --peer", ErrBadRequest)
		}
		err = c.Do(ctx, http.MethodPost, "/nodes", map[string]any{"name": name, "peers": gs[0]}, &out)
	case "mine":
		if len(cmd.Args) != 2 {
			return nil, fmt.Errorf("%w: usage: mine NODE BLOCKS", ErrBadRequest)
		}
		var n int
		if _, serr := fmt.Sscan(cmd.Args[1], &n); serr != nil {
			return nil, fmt.Errorf("%w: blocks %q", ErrBadRequest, cmd.Args[1])
		}
		err = c.Do(ctx, http.MethodPost, "/nodes/"+cmd.Args[0]+"/mine", map[string]int{"blocks": n}, &out)
	case "hashrate":
		if len(cmd.Args) != 2 {
			return nil, fmt.Errorf("%w: usage: hashrate NODE PERCENT", ErrBadRequest)
		}
		s, serr := ParseShare(cmd.Args[1])
		if serr != nil {
			return nil, serr
		}
		err = c.Do(ctx, http.MethodPost, "/nodes/"+cmd.Args[0]+"/hashrate", map[string]float64{"percent": s * 100}, &out)
	case "send":
		if len(cmd.Args) != 3 {
			return nil, fmt.Errorf("%w: usage: send FROM TO AMOUNT", ErrBadRequest)
		}
		var amt uint64
		if _, serr := fmt.Sscan(cmd.Args[2], &amt); serr != nil {
			return nil, fmt.Errorf("%w: amount %q", ErrBadRequest, cmd.Args[2])
		}
		err = c.Do(ctx, http.MethodPost, "/nodes/"+cmd.Args[0]+"/send", map[string]any{"to": cmd.Args[1], "amount": amt}, &out)
	case "load":
		tps, from, lerr := ParseLoad(cmd.Args)
		if lerr != nil {
			return nil, lerr
		}
		err = c.Do(ctx, http.MethodPost, "/load", map[string]any{"tps": tps, "from": from}, &out)
	default:
		return nil, fmt.Errorf("%w: unknown control %q", ErrBadRequest, cmd.Op)
	}
	return out.Result, err
}
