package web

import (
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var embedded embed.FS

// Prefix is the URL path under which the explorer's files are served; the
// shell itself is served at "/".
const Prefix = "/explorer/"

// ContentSecurityPolicy is sent with every explorer file: scripts, styles,
// images and connections from this origin only, no inline script, no
// plugins, no framing by other sites.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Files returns the explorer's files, rooted at the static directory.
func Files() fs.FS {
	sub, err := fs.Sub(embedded, "static")
	if err != nil { // cannot happen: "static" is embedded above
		panic(err)
	}
	return sub
}

// Size returns the total size in bytes of the explorer's files, as served
// (uncompressed).
func Size() (int64, error) {
	var total int64
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	return total, err
}

// Handler serves the shell at "/" and the files under Prefix, with the
// security headers. Unknown files get notFound.
func Handler(notFound http.Handler) http.Handler {
	files := Files()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "index.html"
		if r.URL.Path != "/" {
			rel, ok := strings.CutPrefix(r.URL.Path, Prefix)
			clean := path.Clean("/" + rel)[1:]
			if !ok || rel == "" || clean != rel || !fs.ValidPath(clean) {
				notFound.ServeHTTP(w, r)
				return
			}
			name = clean
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			notFound.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		ctype := mime.TypeByExtension(path.Ext(name))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		h.Set("Content-Type", ctype)
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		// The files change only with the binary; revalidate cheaply.
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b) // a client that left cannot be told
	})
}
