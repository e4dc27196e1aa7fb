package web_test

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"testing"

	"github.com/chaind/chaind/web"
)

func fsReadDir(dir string) ([]fs.DirEntry, error) { return fs.ReadDir(web.Files(), dir) }

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(web.Files(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func gzipLen(b []byte) int {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Len()
}

// filesB lists the explorer's files (index.html included once, as "/").
func filesB(b *testing.B) []string {
	var out []string
	err := fs.WalkDir(web.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != "index.html" {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return out
}
