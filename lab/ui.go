package lab

import (
	"embed"
	"io/fs"
	"net/http"
)

// The network view: a page that draws the devnet and steers it through
// the controller's API (lab/ui; plain HTML, CSS and JavaScript modules,
// no build step).
//
//go:embed ui
var uiFiles embed.FS

// UIContentSecurityPolicy is sent with the network view: scripts, styles,
// images and requests from the controller itself only.
const UIContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// uiHandler serves the network view's files at /.
func uiHandler() http.Handler {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embedded tree always has ui/
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", UIContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
