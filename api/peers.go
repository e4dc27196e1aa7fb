package api

import "net/http"

// peerRoutes registers the routes that list or change peers: naivechain's
// GET /peers and POST /addPeer, the Flask tutorial's POST /nodes/register
// and GET /nodes/resolve, and GET/POST /api/v1/peers. This build has no
// peer-to-peer network, so they answer 501; the network layer replaces
// this file. The routes that change peers (or, for /nodes/resolve, may
// replace the chain) are protected.
func (s *Server) peerRoutes() {
	s.handle("GET /peers", s.noNetwork)
	s.handle("POST /addPeer", s.protect(s.noNetwork))
	s.handle("POST /nodes/register", s.protect(s.noNetwork))
	s.handle("GET /nodes/resolve", s.protect(s.noNetwork))
	s.handle("GET /api/v1/peers", s.noNetwork)
	s.handle("POST /api/v1/peers", s.protect(s.noNetwork))
}

func (s *Server) noNetwork(w http.ResponseWriter, r *http.Request) error {
	return &Error{Status: http.StatusNotImplemented, Msg: "peer-to-peer networking is not available in this build yet"}
}
