//go:build !amd64 || purego

package sha256block

import "testing"

// platformImpls is empty: only the generic path exists here.
func platformImpls() []impl { return nil }

func TestNotAccelerated(t *testing.T) {
	if Accelerated() {
		t.Error("Accelerated() = true on a build without assembly")
	}
}

// platformImplsX2 is empty: only the generic path exists here.
func platformImplsX2() []implX2 { return nil }
