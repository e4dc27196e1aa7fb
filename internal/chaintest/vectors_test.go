package chaintest

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/rule_vectors.json")

// TestVectorsAreCurrent checks that the committed vectors are exactly what
// the generator makes, so they stay data that other tests (and other
// implementations) can trust.
func TestVectorsAreCurrent(t *testing.T) {
	got := GenerateVectors().Marshal()
	if *update {
		if err := os.WriteFile("testdata/rule_vectors.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, VectorFile()) {
		t.Fatal("testdata/rule_vectors.json is stale: run go test ./internal/chaintest -update")
	}
	if _, vs, err := LoadVectors(); err != nil || len(vs) < 20 {
		t.Fatalf("LoadVectors: %d vectors, %v", len(vs), err)
	}
}
