package chain

import "crypto/sha256"

// MerkleRoot returns the merkle root of ids. Each inner node is
// SHA-256(0x01 || left || right); an odd node at the end of a level moves up
// unchanged (it is not paired with itself, so no two different id lists share
// a root, unlike Bitcoin's tree). The root of no ids is the zero hash and the
// root of one id is that id.
func MerkleRoot(ids []Hash) Hash {
	if len(ids) == 0 {
		return ZeroHash
	}
	level := append([]Hash(nil), ids...)
	var buf [1 + 2*HashSize]byte
	buf[0] = 0x01
	for len(level) > 1 {
		next := level[:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			copy(buf[1:], level[i][:])
			copy(buf[1+HashSize:], level[i+1][:])
			next = append(next, sha256.Sum256(buf[:]))
		}
		level = next
	}
	return level[0]
}
