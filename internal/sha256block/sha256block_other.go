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

func blockWordsX2(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32) {
	blockWordsX2Generic(h, w, out)
}
