//go:build amd64 && !purego

package sha256block

import (
	"os"
	"strings"
	"testing"
)

// platformImpls adds the SHA-NI routine when this CPU can run it.
func platformImpls() []impl {
	if !detectSHANI() {
		return nil
	}
	return []impl{{"shani", blockSHANI}}
}

func TestSHANISupportedDecision(t *testing.T) {
	const all = ecx1SSSE3 | ecx1SSE41
	cases := []struct {
		name                string
		maxLeaf, ecx1, ebx7 uint32
		want                bool
	}{
		{"everything", cpuidLeafExtended, all, ebx7SHA, true},
		{"everything, higher max leaf", 0x20, all | 1<<0, ebx7SHA | 1<<5, true},
		{"no SHA bit", cpuidLeafExtended, all, ^uint32(ebx7SHA), false},
		{"no SSSE3", cpuidLeafExtended, ecx1SSE41, ebx7SHA, false},
		{"no SSE4.1", cpuidLeafExtended, ecx1SSSE3, ebx7SHA, false},
		{"leaf 7 missing", cpuidLeafExtended - 1, all, ebx7SHA, false},
		{"nothing", 0, 0, 0, false},
	}
	for _, c := range cases {
		if got := shaNISupported(c.maxLeaf, c.ecx1, c.ebx7); got != c.want {
			t.Errorf("%s: shaNISupported(%#x, %#x, %#x) = %v, want %v", c.name, c.maxLeaf, c.ecx1, c.ebx7, got, c.want)
		}
	}
}

func TestDetectionMatchesKernel(t *testing.T) {
	// The kernel's view of the CPU flags is an independent reading of the
	// same CPUID bits: sha_ni, ssse3 and sse4_1 in /proc/cpuinfo.
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo to compare with: %v", err)
	}
	var flags []string
	for line := range strings.SplitSeq(string(raw), "\n") {
		if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			flags = strings.Fields(value)
			break
		}
	}
	if flags == nil {
		t.Skip("/proc/cpuinfo has no flags line")
	}
	has := func(f string) bool {
		for _, x := range flags {
			if x == f {
				return true
			}
		}
		return false
	}
	want := has("sha_ni") && has("ssse3") && has("sse4_1")
	if got := detectSHANI(); got != want {
		t.Errorf("detectSHANI() = %v, but /proc/cpuinfo flags say sha_ni&&ssse3&&sse4_1 = %v", got, want)
	}
	if Accelerated() != want {
		t.Errorf("Accelerated() = %v, want %v", Accelerated(), want)
	}
	t.Logf("SHA-NI path in use: %v", want)
}

// platformImplsX2 adds the interleaved SHA-NI routine when this CPU can
// run it.
func platformImplsX2() []implX2 {
	if !detectSHANI() {
		return nil
	}
	return []implX2{{"shani", blockWordsX2SHANI}}
}
