package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chaind/chaind/web"
)

// MaxServedSize is the explorer's size budget, as served (uncompressed).
const MaxServedSize = 200 << 10

func TestHandler(t *testing.T) {
	h := web.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	}))
	for _, c := range []struct {
		path, ctype string
		status      int
		contains    string
	}{
		{"/", "text/html; charset=utf-8", 200, `<script type="module" src="/explorer/app.js">`},
		{"/explorer/app.js", "text/javascript; charset=utf-8", 200, "EventSource"},
		{"/explorer/pages/forks.js", "text/javascript; charset=utf-8", 200, "export async function render"},
		{"/explorer/style.css", "text/css; charset=utf-8", 200, ":root"},
		{"/explorer/icon.svg", "image/svg+xml", 200, "<svg"},
		{"/explorer/", "", 404, ""},
		{"/explorer/nope.js", "", 404, ""},
		{"/explorer/../web.go", "", 404, ""},
		{"/explorer//app.js", "", 404, ""},
		{"/explorer/./app.js", "", 404, ""},
		{"/explorer/pages/../app.js", "", 404, ""},
		{"/index.html", "", 404, ""},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = c.path // unclean paths as sent, not as parsed
		h.ServeHTTP(rec, req)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, rec.Code, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		hdr := rec.Header()
		if hdr.Get("Content-Type") != c.ctype || !strings.Contains(string(body), c.contains) {
			t.Errorf("GET %s: %s, body without %q", c.path, hdr.Get("Content-Type"), c.contains)
		}
		if csp := hdr.Get("Content-Security-Policy"); csp != web.ContentSecurityPolicy || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP %q", c.path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: headers %v", c.path, hdr)
		}
	}
}

// TestNoHTMLFromData keeps the pages' rule: nothing is inserted as HTML.
func TestNoHTMLFromData(t *testing.T) {
	for _, name := range files(t) {
		b := read(t, name)
		for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
			if strings.Contains(b, bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
		for _, remote := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(b, remote) && !strings.Contains(b, "http://www.w3.org/2000/svg") {
				t.Errorf("%s refers to %q: the explorer fetches nothing from other sites", name, remote)
			}
		}
	}
}

func TestSize(t *testing.T) {
	n, err := web.Size()
	if err != nil {
		t.Fatal(err)
	}
	if n > MaxServedSize {
		t.Fatalf("the explorer is %d bytes, over its budget of %d", n, MaxServedSize)
	}
	t.Logf("explorer: %d bytes in %d files", n, len(files(t)))
}

func files(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range []string{".", "pages"} {
		ents, err := fsReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if !e.IsDir() {
				out = append(out, strings.TrimPrefix(dir+"/"+e.Name(), "./"))
			}
		}
	}
	return out
}

// BenchmarkExplorerSize serves every explorer file through Handler and
// reports the bytes a first visit downloads (all files, as served, and
// what gzip would make of them; the server does not compress) and the
// time to serve them.
func BenchmarkExplorerSize(b *testing.B) {
	h := web.Handler(http.NotFoundHandler())
	var paths []string
	for _, name := range filesB(b) {
		paths = append(paths, web.Prefix+name)
	}
	paths = append(paths, "/")
	var raw, gz int
	bodies := make([][]byte, len(paths))
	for range b.N {
		raw = 0
		for i, p := range paths {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			if rec.Code != 200 {
				b.Fatalf("GET %s: %d", p, rec.Code)
			}
			raw += rec.Body.Len()
			bodies[i] = rec.Body.Bytes()
		}
	}
	b.StopTimer()
	for _, body := range bodies {
		gz += gzipLen(body)
	}
	b.ReportMetric(float64(raw), "bytes")
	b.ReportMetric(float64(gz), "gzip-bytes")
	b.ReportMetric(float64(len(paths)), "files")
}
