//go:build !amd64 || purego

package sha256block

// useSHANI is always false where there is no assembly; it exists so the
// tests read the same on every architecture.
var useSHANI = false

// accelerated is what Accelerated reports.
const accelerated = false

func block(h *[StateWords]uint32, p []byte) {
	blockGeneric(h, p)
}
