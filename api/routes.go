package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// routes registers every route. Protected routes (see protect) mine, spend
// the node's coins or change its peers.
func (s *Server) routes() {
	// Native.
	s.handle("GET /api/v1/status", s.getStatus)
	s.handle("GET /api/v1/blocks", s.getBlocks)
	s.handle("GET /api/v1/blocks/{id}", s.getBlock)
	s.handle("GET /api/v1/txs/{id}", s.getTx)
	s.handle("POST /api/v1/txs", s.postTxs)
	s.handle("GET /api/v1/accounts/{address}", s.getAccount)
	s.handle("GET /api/v1/mempool", s.getMempool)
	s.handle("GET /api/v1/node", s.getNode)
	s.handle("GET /api/v1/events", s.getEvents)
	s.handle("GET /api/v1/tree", s.getTree)
	s.handle("GET /api/v1/chaintips", s.getChainTips)
	s.handle("GET /api/v1/addresses/{address}/txs", s.getAddressHistory)
	s.handle("POST /api/v1/generate", s.protect(s.postGenerate))
	s.handle("POST /api/v1/faucet", s.protect(s.postFaucet))
	s.handle("GET /api/v1/openapi.json", s.getOpenAPI)
	s.handle("GET /healthz", s.getHealthz)
	s.handle("GET /metrics", s.getMetrics)

	// The tutorials'.
	s.handle("GET /blocks", s.getChainArray)
	s.handle("POST /mineBlock", s.protect(s.postMineBlock))
	s.handle("GET /chain", s.getChainObject)
	s.handle("GET /mine", s.protect(s.getMine))
	s.handle("POST /transactions/new", s.protect(s.postTransactionNew))

	s.peerRoutes()
	s.explorerRoutes()
}

// protect guards a route that mines, spends the node's coins or changes
// its peers: a browser may not reach it from another site (for GET routes,
// which http.CrossOriginProtection leaves alone), and with RequireToken the
// request must carry the bearer token.
func (s *Server) protect(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		switch r.Header.Get("Sec-Fetch-Site") {
		case "cross-site", "same-site":
			return &Error{Status: http.StatusForbidden, Msg: "cross-origin request refused: this route mines, spends or changes peers"}
		}
		if s.cfg.RequireToken && !s.tokenOK(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chaind"`)
			return &Error{Status: http.StatusUnauthorized, Msg: "this route needs the API token: send Authorization: Bearer <token>, the token being the contents of the node's <datadir>/.cookie (rewritten at each start) or <datadir>/api.token; the chaind command line reads them itself"}
		}
		return fn(w, r)
	}
}

// tokenOK reports whether r carries the configured token or cookie. The
// comparisons are over SHA-256 digests, so they take the same time
// whatever the lengths.
func (s *Server) tokenOK(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(auth) < len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(auth[len(scheme):])))
	ok := 0
	for _, cred := range []string{s.cfg.Token, s.cfg.Cookie} {
		if cred == "" {
			continue
		}
		want := sha256.Sum256([]byte(cred))
		ok |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return ok == 1
}
