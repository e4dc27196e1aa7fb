// Package client is the Go client of chaind's HTTP API. Its methods return
// the apitypes values the server writes, and a refusal comes back as an
// *Error carrying the API's JSON error (status, message, rule code). The
// CLI, the tests and the node's peer-by-URL resolver use it, so no response
// shape is copied by hand anywhere.
//
// A Client is safe for concurrent use.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/apitypes"
)

// Defaults of a Client.
const (
	// DefaultTimeout bounds one request of a Client made without
	// WithHTTPClient. Mining requests (Generate, Mine) can take longer: give
	// them a context with the deadline you want and a client without a
	// timeout, or accept it.
	DefaultTimeout = 5 * time.Minute
	// DefaultMaxResponse bounds the answer read from a node.
	DefaultMaxResponse = 256 << 20
	// maxErrorBody bounds the body read from an error answer.
	maxErrorBody = 64 << 10
)

// Client talks to one node's API.
type Client struct {
	base    string
	http    *http.Client
	maxResp int64
	cred    func(context.Context, *Client) string

	mu     sync.Mutex
	token  string
	looked bool // cred was asked
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends "Authorization: Bearer token" with every request (the
// routes that mine, spend the node's coins or change its peers need it
// when the API listens beyond loopback).
func WithToken(token string) Option { return func(c *Client) { c.token = strings.TrimSpace(token) } }

// WithCredential gives the client a way to find the token when a route
// answers 401 and no token was given: cred is asked once (it may query the
// node through the client it is given, e.g. for its network) and, when it
// returns a token, the request is sent again with it, as are later ones.
func WithCredential(cred func(ctx context.Context, c *Client) string) Option {
	return func(c *Client) { c.cred = cred }
}

// WithHTTPClient uses hc for the requests (its transport, timeout, ...).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithMaxResponse bounds the size of an answer read (DefaultMaxResponse).
func WithMaxResponse(n int64) Option { return func(c *Client) { c.maxResp = n } }

// New returns a client of the API at base, e.g. "http://127.0.0.1:3001".
func New(base string, opts ...Option) *Client {
	c := &Client{
		base:    strings.TrimRight(base, "/"),
		http:    &http.Client{Timeout: DefaultTimeout},
		maxResp: DefaultMaxResponse,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Base returns the API's base URL.
func (c *Client) Base() string { return c.base }

// Error is an answer other than success: the HTTP status and the API's
// JSON error.
type Error struct {
	Method, Path string
	Status       int
	Body         apitypes.Error // the API's JSON error: message, rule code, transaction id
}

func (e *Error) Error() string {
	msg := e.Body.Error
	if msg == "" {
		msg = "(no message)"
	}
	return fmt.Sprintf("node refused %s %s (%d %s): %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), msg)
}

// StatusOf returns the HTTP status of an *Error in err's chain, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// ErrUnreachable wraps failures to reach the node at all (connection
// refused, DNS, timeouts), as opposed to answers.
var ErrUnreachable = errors.New("cannot reach the node")

// Do sends method path with body (JSON-encoded unless nil) and decodes a
// 2xx JSON answer into out (unless nil). Another status is an *Error.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var enc []byte
	if body != nil {
		var err error
		if enc, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: encode body: %w", method, path, err)
		}
	}
	resp, err := c.send(ctx, method, path, enc)
	if StatusOf(err) == http.StatusUnauthorized && c.credential(ctx) {
		resp, err = c.send(ctx, method, path, enc)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResp+1))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if int64(len(data)) > c.maxResp {
		return fmt.Errorf("%s %s: answer larger than %d bytes", method, path, c.maxResp)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
	}
	return nil
}

// credential asks WithCredential's function for a token, once, when the
// client has none; it reports whether a token was found.
func (c *Client) credential(ctx context.Context) bool {
	c.mu.Lock()
	if c.cred == nil || c.token != "" || c.looked {
		c.mu.Unlock()
		return false
	}
	c.looked = true
	c.mu.Unlock()
	tok := strings.TrimSpace(c.cred(ctx, c))
	if tok == "" {
		return false
	}
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
	return true
}

// send makes the request and turns a non-2xx answer into an *Error. The
// caller closes the body of a 2xx answer.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %w", ErrUnreachable, c.base, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	return nil, errorOf(method, path, resp)
}

// errorOf reads a non-2xx answer into an *Error and closes its body.
func errorOf(method, path string, resp *http.Response) *Error {
	defer resp.Body.Close()
	e := &Error{Method: method, Path: path, Status: resp.StatusCode}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(data, &e.Body) != nil || e.Body.Error == "" {
		e.Body.Error = strings.TrimSpace(string(data))
	}
	return e
}

// get is Do for a GET that decodes into a new T.
func get[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var v T
	if err := c.Do(ctx, http.MethodGet, path, nil, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// post is Do for a POST that decodes into a new T.
func post[T any](ctx context.Context, c *Client, path string, body any) (*T, error) {
	var v T
	if err := c.Do(ctx, http.MethodPost, path, body, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// Status is GET /api/v1/status.
func (c *Client) Status(ctx context.Context) (*apitypes.Status, error) {
	return get[apitypes.Status](ctx, c, "/api/v1/status")
}

// Node is GET /api/v1/node.
func (c *Client) Node(ctx context.Context) (*apitypes.NodeInfo, error) {
	return get[apitypes.NodeInfo](ctx, c, "/api/v1/node")
}

// Health is GET /healthz.
func (c *Client) Health(ctx context.Context) (*apitypes.Health, error) {
	return get[apitypes.Health](ctx, c, "/healthz")
}

// BlocksQuery selects a page of GET /api/v1/blocks; zero fields take the
// server's defaults.
type BlocksQuery struct {
	From  *uint32 // first height
	Limit int     // page size
	Order string  // "asc" or "desc"
}

// Blocks is GET /api/v1/blocks.
func (c *Client) Blocks(ctx context.Context, q BlocksQuery) (*apitypes.BlocksPage, error) {
	v := url.Values{}
	if q.From != nil {
		v.Set("from", strconv.FormatUint(uint64(*q.From), 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Order != "" {
		v.Set("order", q.Order)
	}
	return get[apitypes.BlocksPage](ctx, c, withQuery("/api/v1/blocks", v))
}

func withQuery(path string, v url.Values) string {
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// Block is GET /api/v1/blocks/{id}: id is a height (decimal) or a hash.
func (c *Client) Block(ctx context.Context, id string) (*apitypes.BlockDetail, error) {
	return get[apitypes.BlockDetail](ctx, c, "/api/v1/blocks/"+url.PathEscape(id))
}

// Tx is GET /api/v1/txs/{id}.
func (c *Client) Tx(ctx context.Context, id string) (*apitypes.TxDetail, error) {
	return get[apitypes.TxDetail](ctx, c, "/api/v1/txs/"+url.PathEscape(id))
}

// Account is GET /api/v1/accounts/{address}.
func (c *Client) Account(ctx context.Context, address string) (*apitypes.Account, error) {
	return get[apitypes.Account](ctx, c, "/api/v1/accounts/"+url.PathEscape(address))
}

// HistoryQuery selects a page of an address's history; zero fields take
// the server's defaults.
type HistoryQuery struct {
	Limit  int    // page size
	Before string // the Next of the previous page
}

// AddressTxs is GET /api/v1/addresses/{address}/txs: the address's
// main-chain transactions, newest first, one page.
func (c *Client) AddressTxs(ctx context.Context, address string, q HistoryQuery) (*apitypes.History, error) {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Before != "" {
		v.Set("before", q.Before)
	}
	return get[apitypes.History](ctx, c, withQuery("/api/v1/addresses/"+url.PathEscape(address)+"/txs", v))
}

// Tree is GET /api/v1/tree: every known block with a height in
// (to-heights, to]; zero to and heights take the server's defaults.
func (c *Client) Tree(ctx context.Context, to *uint32, heights int) (*apitypes.Tree, error) {
	v := url.Values{}
	if to != nil {
		v.Set("to", strconv.FormatUint(uint64(*to), 10))
	}
	if heights > 0 {
		v.Set("heights", strconv.Itoa(heights))
	}
	return get[apitypes.Tree](ctx, c, withQuery("/api/v1/tree", v))
}

// ChainTips is GET /api/v1/chaintips; limit 0 takes the server's default.
func (c *Client) ChainTips(ctx context.Context, limit int) (*apitypes.ChainTips, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	return get[apitypes.ChainTips](ctx, c, withQuery("/api/v1/chaintips", v))
}

// Mempool is GET /api/v1/mempool; limit 0 takes the server's default.
func (c *Client) Mempool(ctx context.Context, limit int) (*apitypes.Mempool, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	return get[apitypes.Mempool](ctx, c, withQuery("/api/v1/mempool", v))
}

// Peers is GET /api/v1/peers.
func (c *Client) Peers(ctx context.Context) (*apitypes.Peers, error) {
	return get[apitypes.Peers](ctx, c, "/api/v1/peers")
}

// AddPeer is POST /api/v1/peers: connect to addr (a multiaddr or another
// node's API URL) and keep it connected.
func (c *Client) AddPeer(ctx context.Context, addr string) (*apitypes.AddPeerAnswer, error) {
	return post[apitypes.AddPeerAnswer](ctx, c, "/api/v1/peers", apitypes.AddPeerRequest{Peer: addr})
}

// SubmitTx is POST /api/v1/txs with one signed transaction. A refusal is
// an *Error whose Code names the rule.
func (c *Client) SubmitTx(ctx context.Context, tx apitypes.Tx) (*apitypes.TxResult, error) {
	return post[apitypes.TxResult](ctx, c, "/api/v1/txs", tx)
}

// SubmitTxs is POST /api/v1/txs with a batch; each transaction's outcome is
// in the answer's results.
func (c *Client) SubmitTxs(ctx context.Context, txs []apitypes.Tx) (*apitypes.Batch, error) {
	if txs == nil {
		txs = []apitypes.Tx{}
	}
	return post[apitypes.Batch](ctx, c, "/api/v1/txs", txs)
}

// Generate is POST /api/v1/generate: mine n blocks now, paying their
// rewards to address ("" for the node's miner address).
func (c *Client) Generate(ctx context.Context, n int, address string) (*apitypes.GenerateAnswer, error) {
	return post[apitypes.GenerateAnswer](ctx, c, "/api/v1/generate", apitypes.GenerateRequest{Blocks: n, Address: address})
}

// Faucet is POST /api/v1/faucet: pay amount base units to address from the
// node's development key (development networks only).
func (c *Client) Faucet(ctx context.Context, address string, amount uint64) (*apitypes.FaucetAnswer, error) {
	return post[apitypes.FaucetAnswer](ctx, c, "/api/v1/faucet", apitypes.FaucetRequest{Address: address, Amount: apitypes.Uint64(amount)})
}

// SendFromNode is the Flask tutorial's POST /transactions/new: the node
// signs a transfer from one of its own keys. Amount and fee are in coins
// (decimal text, e.g. "5" or "0.5"; fee "" for none).
func (c *Client) SendFromNode(ctx context.Context, sender, recipient, amount, fee string) (*apitypes.NewTxAnswer, error) {
	req := apitypes.NewTxRequest{Sender: sender, Recipient: recipient, Amount: json.Number(amount), Fee: json.Number(fee)}
	return post[apitypes.NewTxAnswer](ctx, c, "/transactions/new", req)
}

// Mine is the Flask tutorial's GET /mine: mine one block now.
func (c *Client) Mine(ctx context.Context) (*apitypes.MineAnswer, error) {
	return get[apitypes.MineAnswer](ctx, c, "/mine")
}

// MineBlock is naivechain's POST /mineBlock: mine a block with a data note.
func (c *Client) MineBlock(ctx context.Context, data string) (*apitypes.Block, error) {
	return post[apitypes.Block](ctx, c, "/mineBlock", apitypes.MineBlockRequest{Data: data})
}

// Chain is the Flask tutorial's GET /chain: the whole main chain.
func (c *Client) Chain(ctx context.Context) (*apitypes.ChainAnswer, error) {
	return get[apitypes.ChainAnswer](ctx, c, "/chain")
}

// ChainBlocks is naivechain's GET /blocks: the whole main chain as an array.
func (c *Client) ChainBlocks(ctx context.Context) ([]apitypes.Block, error) {
	v, err := get[[]apitypes.Block](ctx, c, "/blocks")
	if err != nil {
		return nil, err
	}
	return *v, nil
}
