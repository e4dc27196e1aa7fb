package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/chaind/chaind/apitypes"
	"github.com/chaind/chaind/chain"
	"github.com/chaind/chaind/consensus"
	"github.com/chaind/chaind/wallet"
)

// The OpenAPI description, loaded and checked once for all tests.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	spec.once.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(OpenAPI())
		if err != nil {
			spec.err = fmt.Errorf("load: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			spec.err = fmt.Errorf("validate: %w", err)
			return
		}
		// Route on paths alone: the tests' servers listen on random ports.
		routed := *doc
		routed.Servers = openapi3.Servers{{URL: "/"}}
		spec.doc = doc
		spec.router, spec.err = gorillamux.NewRouter(&routed)
	})
	if spec.err != nil {
		t.Fatalf("OpenAPI description: %v", spec.err)
	}
	return spec.doc, spec.router
}

func init() {
	// Streams and metrics are checked for their status and media type; their
	// bodies are text.
	// The explorer's files are text or images.
	for _, ct := range []string{"text/event-stream", "text/html", "text/javascript", "text/css", "image/svg+xml", "image/png"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// specCheck is the api tests' round-tripper: every request a test makes
// and every answer it gets is validated against the OpenAPI description,
// failing the test on a mismatch:
//   - a request the description allows must get an answer it describes;
//   - a request it forbids must be refused (4xx), with a described error;
//   - a request to no described route must get a JSON 4xx (404, 405, or a
//     refusal that comes before routing) or a redirect;
//   - every integer of a JSON answer must be exact as a JavaScript number.
type specCheck struct {
	t    testing.TB
	base http.RoundTripper

	mu        sync.Mutex
	testPaths map[string]bool // routes a test registered itself: not described
}

// testOnly exempts path, a route a test registered on the server itself,
// from the description; its answers must still be JSON errors or JSON.
func (c *specCheck) testOnly(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.testPaths == nil {
		c.testPaths = make(map[string]bool)
	}
	c.testPaths[path] = true
}

func newSpecCheck(t testing.TB) http.RoundTripper {
	loadSpec(t)
	return &specCheck{t: t, base: http.DefaultTransport}
}

func (c *specCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	what := req.Method + " " + req.URL.RequestURI()
	stream := strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream")
	var answer []byte
	if !stream {
		answer, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(answer))
	}
	if msg := c.check(req, body, resp, answer, stream); msg != "" {
		c.t.Errorf("OpenAPI: %s -> %d: %s\nanswer: %.400s", what, resp.StatusCode, msg, answer)
	}
	if !stream && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(answer) > 0 {
		if err := jsSafe(answer); err != nil {
			c.t.Errorf("%s: answer not exact in JavaScript: %v", what, err)
		}
	}
	return resp, nil
}

// check validates one exchange and returns what is wrong, or "".
func (c *specCheck) check(req *http.Request, body []byte, resp *http.Response, answer []byte, stream bool) string {
	_, router := loadSpec(c.t)
	ctx := context.Background()
	find := req.Clone(ctx)
	head := req.Method == http.MethodHead
	if head { // net/http answers HEAD on every GET route
		find.Method = http.MethodGet
	}
	c.mu.Lock()
	testOnly := c.testPaths[req.URL.Path]
	c.mu.Unlock()
	if testOnly {
		return ""
	}
	route, params, err := router.FindRoute(find)
	if err != nil {
		// 404 and 405 from routing; other refusals (the Host check, the
		// limits) come before routing.
		if resp.StatusCode/100 == 4 || resp.StatusCode/100 == 3 {
			return jsonErrorBody(answer, head)
		}
		return fmt.Sprintf("no described route (%v), yet answered %d", err, resp.StatusCode)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: false, MultiError: true}
	find.Body = io.NopCloser(bytes.NewReader(body))
	in := &openapi3filter.RequestValidationInput{Request: find, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if reqErr != nil && resp.StatusCode/100 != 4 {
		return fmt.Sprintf("the description forbids this request (%v), yet it was answered %d", reqErr, resp.StatusCode)
	}
	if head {
		return ""
	}
	ropts := *opts
	ropts.ExcludeResponseBody = stream
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(answer)), Options: &ropts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Sprintf("answer does not match the description: %v", err)
	}
	if _, described := route.Operation.Responses.Map()[fmt.Sprint(resp.StatusCode)]; !described && resp.StatusCode/100 == 2 {
		return fmt.Sprintf("success status %d is not described", resp.StatusCode)
	}
	return ""
}

// jsonErrorBody checks that answer is the API's JSON error.
func jsonErrorBody(answer []byte, head bool) string {
	if head {
		return ""
	}
	var e apitypes.Error
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		return fmt.Sprintf("not a JSON error: %v", err)
	}
	return ""
}

// jsSafe reports an integer in the JSON document b that a JavaScript
// number cannot hold exactly (above 2^53-1 in magnitude).
func jsSafe(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	limit := big.NewInt(apitypes.MaxSafeInteger)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		n, ok := tok.(json.Number)
		if !ok || strings.ContainsAny(n.String(), ".eE") {
			continue
		}
		v, ok := new(big.Int).SetString(n.String(), 10)
		if !ok || v.CmpAbs(limit) > 0 {
			return fmt.Errorf("integer %s exceeds 2^53-1", n)
		}
	}
}

func TestOpenAPIDescriptionValid(t *testing.T) {
	doc, _ := loadSpec(t)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
}

// TestOpenAPICoversEveryRoute: every route the server registers is
// described, and every described path and method is served.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc, _ := loadSpec(t)
	e := newEnv(t, consensus.Regtest(), Config{})
	described := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	// ServeMux patterns that OpenAPI writes otherwise: the explorer's root
	// and its file tree.
	asDescribed := map[string][]string{
		"GET /{$}":       {"GET /"},
		"GET /explorer/": {"GET /explorer/{file}", "GET /explorer/pages/{file}"},
	}
	for pattern := range e.s.patterns {
		names, ok := asDescribed[pattern]
		if !ok {
			names = []string{pattern}
		}
		for _, name := range names {
			if !described[name] {
				t.Errorf("route %q is not in the OpenAPI description", name)
			}
			delete(described, name)
		}
	}
	for d := range described {
		t.Errorf("described %q is not served", d)
	}
	// The server serves the embedded document.
	var got map[string]any
	e.call("GET", "/api/v1/openapi.json", nil, http.StatusOK, &got)
	if got["openapi"] != "3.1.0" {
		t.Fatalf("served document: openapi %v", got["openapi"])
	}
}

// TestSigningVector checks the description's worked example of signing a
// transaction: the signing message, signature, id and addresses it gives
// are what chaind computes, and the view it implies is accepted by a node.
func TestSigningVector(t *testing.T) {
	doc, _ := loadSpec(t)
	var v struct {
		Network   string `json:"network"`
		NetworkID string `json:"network_id"`
		Seed      string `json:"private_key_seed"`
		Tx        struct {
			Recipient string `json:"recipient"`
			Amount    uint64 `json:"amount"`
			Fee       uint64 `json:"fee"`
			Nonce     uint64 `json:"nonce"`
			Memo      string `json:"memo"`
		} `json:"tx"`
		PublicKey      string `json:"public_key"`
		Sender         string `json:"sender"`
		SigningMessage string `json:"signing_message"`
		Signature      string `json:"signature"`
		ID             string `json:"id"`
	}
	raw, err := json.Marshal(doc.Extensions["x-signing-test-vector"])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	p, err := consensus.Network(v.Network)
	if err != nil {
		t.Fatal(err)
	}
	if p.GenesisHash().String() != v.NetworkID {
		t.Fatalf("network id %s, %s's genesis is %s", v.NetworkID, v.Network, p.GenesisHash())
	}
	seed, err := hex.DecodeString(v.Seed)
	if err != nil {
		t.Fatal(err)
	}
	k, err := wallet.KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	to, err := chain.ParseAddress(p.AddressPrefix, v.Tx.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	tx := &chain.Tx{To: to, Amount: v.Tx.Amount, Fee: v.Tx.Fee, Nonce: v.Tx.Nonce, Memo: []byte(v.Tx.Memo)}
	k.SignTx(tx, p.GenesisHash())
	view := apitypes.TxOf(p.AddressPrefix, tx)
	for _, c := range []struct{ name, got, want string }{
		{"signing message", hex.EncodeToString(tx.SigningMessage(p.GenesisHash())), v.SigningMessage},
		{"public key", view.PublicKey, v.PublicKey},
		{"sender", view.Sender, v.Sender},
		{"signature", view.Signature, v.Signature},
		{"id", view.ID.String(), v.ID},
	} {
		if c.got != c.want {
			t.Errorf("%s: chaind computes %s, the description says %s", c.name, c.got, c.want)
		}
	}
	// The message is built as the description says, byte by byte.
	msg := []byte("chaind/tx/v1")
	netID := p.GenesisHash()
	msg = append(msg, netID[:]...)
	pub, _ := hex.DecodeString(v.PublicKey)
	msg = append(msg, pub...)
	msg = append(msg, to[:]...)
	for _, x := range []uint64{v.Tx.Amount, v.Tx.Fee, v.Tx.Nonce} {
		msg = append(msg, byte(x>>56), byte(x>>48), byte(x>>40), byte(x>>32), byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
	}
	msg = append(msg, byte(len(v.Tx.Memo)))
	msg = append(msg, v.Tx.Memo...)
	if got := hex.EncodeToString(msg); got != v.SigningMessage {
		t.Errorf("the steps of the description give %s, the vector says %s", got, v.SigningMessage)
	}
	if !consensus.VerifyTx(tx, p.GenesisHash()) {
		t.Fatal("the vector's signature does not verify")
	}
}
