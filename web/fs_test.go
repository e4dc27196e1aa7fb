package web_test

import (
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
