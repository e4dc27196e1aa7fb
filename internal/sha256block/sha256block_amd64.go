//go:build amd64 && !purego

package sha256block

// CPUID feature bits that the SHA-NI path needs (Intel SDM vol. 2A, CPUID).
const (
	cpuidLeafFeatures = 1 // leaf 1: processor feature flags
	cpuidLeafExtended = 7 // leaf 7, sub-leaf 0: structured extended features

	ecx1SSSE3  = 1 << 9  // leaf 1 ECX: SSSE3 (PSHUFB, PALIGNR)
	ecx1SSE41  = 1 << 19 // leaf 1 ECX: SSE4.1 (PBLENDW)
	ebx7SHA    = 1 << 29 // leaf 7 EBX: SHA extensions
	ecx1Needed = ecx1SSSE3 | ecx1SSE41
)

// cpuid executes the CPUID instruction (implemented in sha256block_amd64.s).
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func blockSHANI(h *[StateWords]uint32, p []byte)

//go:noescape
func blockWordsX2SHANI(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32)

// useSHANI selects the SHA-NI path; tests turn it off to exercise the
// generic path on machines that have SHA-NI.
var useSHANI = detectSHANI()

// accelerated is what Accelerated reports: whether the CPU has SHA-NI.
var accelerated = useSHANI

// detectSHANI asks the CPU whether it supports every instruction that
// blockSHANI uses.
func detectSHANI() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	_, _, ecx1, _ := cpuid(cpuidLeafFeatures, 0)
	var ebx7 uint32
	if maxLeaf >= cpuidLeafExtended {
		_, ebx7, _, _ = cpuid(cpuidLeafExtended, 0)
	}
	return shaNISupported(maxLeaf, ecx1, ebx7)
}

// shaNISupported decides from the CPUID results whether blockSHANI can run:
// the CPU must report leaf 7 at all, the SHA extensions in it, and SSSE3 and
// SSE4.1 in leaf 1. SSE2 is part of the amd64 baseline.
func shaNISupported(maxLeaf, ecx1, ebx7 uint32) bool {
	return maxLeaf >= cpuidLeafExtended && ebx7&ebx7SHA != 0 && ecx1&ecx1Needed == ecx1Needed
}

func block(h *[StateWords]uint32, p []byte) {
	if useSHANI {
		blockSHANI(h, p)
		return
	}
	blockGeneric(h, p)
}

func blockWordsX2(h *[StateWords]uint32, w *[2][BlockWords]uint32, out *[2][StateWords]uint32) {
	if useSHANI {
		blockWordsX2SHANI(h, w, out)
		return
	}
	blockWordsX2Generic(h, w, out)
}
