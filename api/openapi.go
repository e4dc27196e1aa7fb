package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3.1 description of every route, served at
// /api/v1/openapi.json. The tests validate every request they make and
// every answer they get against it, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the API's OpenAPI 3.1 description (JSON). The caller
// must not modify it.
func OpenAPI() []byte { return openAPI }

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	if _, err := query(r); err != nil {
		return err
	}
	writeRaw(w, http.StatusOK, openAPI)
	return nil
}
