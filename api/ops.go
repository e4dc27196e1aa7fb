package api

import (
	"github.com/chaind/chaind/apitypes"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) getHealthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, apitypes.Health{Status: "ok", Height: s.n.Chain.Height()})
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) error {
	s.metrics.ServeHTTP(w, r)
	return nil
}

func (s *Server) newMetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.n.Registry(), promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
	})
}
