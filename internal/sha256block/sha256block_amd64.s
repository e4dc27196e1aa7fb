// Copyright 2024 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file
// (https://go.dev/LICENSE; reproduced in this package's LICENSE file).
//
// blockSHANI below is adapted from blockSHANI in the Go standard library,
// src/crypto/internal/fips140/sha256/sha256block_amd64.s (Go 1.26),
// generated there from _asm/sha256block_amd64_shani.go. Changes for chaind:
// the digest pointer is a *[8]uint32, AVX-encoded moves are replaced by
// their SSE forms (so only SHA, SSE2, SSSE3 and SSE4.1 are required), and
// the round constants live in a compact 16-byte-stride table.
//
// blockWordsX2SHANI is derived from blockSHANI: the same SHA-NI round and
// message schedule sequence, written as macros and run for two independent
// message blocks at once so that the latency of one stream's SHA256RNDS2
// is hidden behind the other's. It takes message words instead of bytes,
// and both blocks start from one chaining state. The interleaving, and
// cpuid, are chaind's.

//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func blockSHANI(h *[8]uint32, p []byte)
// Requires: SHA, SSE2, SSE4.1, SSSE3
TEXT ·blockSHANI(SB), NOSPLIT, $0-32
	MOVQ    h+0(FP), DI
	MOVQ    p_base+8(FP), SI
	MOVQ    p_len+16(FP), DX
	SHRQ    $0x06, DX
	SHLQ    $0x06, DX
	CMPQ    DX, $0x00
	JEQ     done
	ADDQ    SI, DX
	MOVOU   (DI), X1
	MOVOU   16(DI), X2
	PSHUFD  $0xb1, X1, X1
	PSHUFD  $0x1b, X2, X2
	MOVO    X1, X7
	PALIGNR $0x08, X2, X1
	PBLENDW $0xf0, X7, X2
	MOVOU   flipMask<>+0(SB), X8
	LEAQ    k256<>+0(SB), AX

roundLoop:
	// save hash values for addition after rounds
	MOVO    X1, X9
	MOVO    X2, X10

	// do rounds 0-59
	MOVOU       (SI), X0
	PSHUFB      X8, X0
	MOVO        X0, X3
	PADDD       (AX), X0
	SHA256RNDS2 X0, X1, X2
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	MOVOU       16(SI), X0
	PSHUFB      X8, X0
	MOVO        X0, X4
	PADDD       16(AX), X0
	SHA256RNDS2 X0, X1, X2
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X4, X3
	MOVOU       32(SI), X0
	PSHUFB      X8, X0
	MOVO        X0, X5
	PADDD       32(AX), X0
	SHA256RNDS2 X0, X1, X2
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X5, X4
	MOVOU       48(SI), X0
	PSHUFB      X8, X0
	MOVO        X0, X6
	PADDD       48(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X6, X7
	PALIGNR     $0x04, X5, X7
	PADDD       X7, X3
	SHA256MSG2  X6, X3
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X6, X5
	MOVO        X3, X0
	PADDD       64(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X3, X7
	PALIGNR     $0x04, X6, X7
	PADDD       X7, X4
	SHA256MSG2  X3, X4
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X3, X6
	MOVO        X4, X0
	PADDD       80(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X4, X7
	PALIGNR     $0x04, X3, X7
	PADDD       X7, X5
	SHA256MSG2  X4, X5
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X4, X3
	MOVO        X5, X0
	PADDD       96(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X5, X7
	PALIGNR     $0x04, X4, X7
	PADDD       X7, X6
	SHA256MSG2  X5, X6
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X5, X4
	MOVO        X6, X0
	PADDD       112(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X6, X7
	PALIGNR     $0x04, X5, X7
	PADDD       X7, X3
	SHA256MSG2  X6, X3
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X6, X5
	MOVO        X3, X0
	PADDD       128(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X3, X7
	PALIGNR     $0x04, X6, X7
	PADDD       X7, X4
	SHA256MSG2  X3, X4
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X3, X6
	MOVO        X4, X0
	PADDD       144(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X4, X7
	PALIGNR     $0x04, X3, X7
	PADDD       X7, X5
	SHA256MSG2  X4, X5
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X4, X3
	MOVO        X5, X0
	PADDD       160(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X5, X7
	PALIGNR     $0x04, X4, X7
	PADDD       X7, X6
	SHA256MSG2  X5, X6
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X5, X4
	MOVO        X6, X0
	PADDD       176(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X6, X7
	PALIGNR     $0x04, X5, X7
	PADDD       X7, X3
	SHA256MSG2  X6, X3
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X6, X5
	MOVO        X3, X0
	PADDD       192(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X3, X7
	PALIGNR     $0x04, X6, X7
	PADDD       X7, X4
	SHA256MSG2  X3, X4
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	SHA256MSG1  X3, X6
	MOVO        X4, X0
	PADDD       208(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X4, X7
	PALIGNR     $0x04, X3, X7
	PADDD       X7, X5
	SHA256MSG2  X4, X5
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1
	MOVO        X5, X0
	PADDD       224(AX), X0
	SHA256RNDS2 X0, X1, X2
	MOVO        X5, X7
	PALIGNR     $0x04, X4, X7
	PADDD       X7, X6
	SHA256MSG2  X5, X6
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1

	// do rounds 60-63
	MOVO        X6, X0
	PADDD       240(AX), X0
	SHA256RNDS2 X0, X1, X2
	PSHUFD      $0x0e, X0, X0
	SHA256RNDS2 X0, X2, X1

	// add current hash values with previously saved
	PADDD X9, X1
	PADDD X10, X2

	// advance data pointer; loop until buffer empty
	ADDQ $0x40, SI
	CMPQ DX, SI
	JNE  roundLoop

	// write hash values back in the correct order
	PSHUFD  $0x1b, X1, X1
	PSHUFD  $0xb1, X2, X2
	MOVO    X1, X7
	PBLENDW $0xf0, X2, X1
	PALIGNR $0x08, X7, X2
	MOVOU   X1, (DI)
	MOVOU   X2, 16(DI)

done:
	RET

// State layout: SHA256RNDS2 keeps the working variables as two registers,
// ABEF = {F, E, B, A} and CDGH = {H, G, D, C} (lane 0 first).

// STATE_IN turns the state words at h into ABEF in abef and CDGH in cdgh
// (clobbers X7).
#define STATE_IN(h, abef, cdgh) \
	MOVOU   (h), abef; \
	MOVOU   16(h), cdgh; \
	PSHUFD  $0xb1, abef, abef; \
	PSHUFD  $0x1b, cdgh, cdgh; \
	MOVO    abef, X7; \
	PALIGNR $0x08, cdgh, abef; \
	PBLENDW $0xf0, X7, cdgh

// STATE_OUT stores abef and cdgh as the state words a..h at out
// (clobbers abef, cdgh and X7).
#define STATE_OUT(abef, cdgh, out) \
	PSHUFD  $0x1b, abef, abef; \
	PSHUFD  $0xb1, cdgh, cdgh; \
	MOVO    abef, X7; \
	PBLENDW $0xf0, cdgh, abef; \
	PALIGNR $0x08, X7, cdgh; \
	MOVOU   abef, (out); \
	MOVOU   cdgh, 16(out)

// QROUND does four rounds of one stream: X0 = its message words m plus the
// round constants at k(AX), then two SHA256RNDS2 of two rounds each.
#define QROUND(m, k, abef, cdgh) \
	MOVO        m, X0; \
	PADDD       k(AX), X0; \
	SHA256RNDS2 X0, abef, cdgh; \
	PSHUFD      $0x0e, X0, X0; \
	SHA256RNDS2 X0, cdgh, abef

// SCHED2 completes the next four message words in next from the current
// (cur) and previous (prev) four (clobbers X7).
#define SCHED2(cur, prev, next) \
	MOVO       cur, X7; \
	PALIGNR    $0x04, prev, X7; \
	PADDD      X7, next; \
	SHA256MSG2 cur, next

// SCHED1 starts the message words four groups ahead, in prev.
#define SCHED1(cur, prev) \
	SHA256MSG1 cur, prev

// Group i of four rounds for both streams. Stream A keeps its message
// words in X3..X6 and its state in X1 (ABEF), X2 (CDGH); stream B in
// X10..X13 and X8, X9. ROUNDS_ONLY is a group with no schedule work,
// WITH_MSG1 adds SCHED1, WITH_BOTH adds SCHED2 then SCHED1, WITH_MSG2 adds
// SCHED2 only.
#define ROUNDS_ONLY(ma, mb, k) \
	QROUND(ma, k, X1, X2); \
	QROUND(mb, k, X8, X9)

#define WITH_MSG1(ma, pa, mb, pb, k) \
	QROUND(ma, k, X1, X2); \
	QROUND(mb, k, X8, X9); \
	SCHED1(ma, pa); \
	SCHED1(mb, pb)

#define WITH_BOTH(ma, pa, na, mb, pb, nb, k) \
	QROUND(ma, k, X1, X2); \
	QROUND(mb, k, X8, X9); \
	SCHED2(ma, pa, na); \
	SCHED2(mb, pb, nb); \
	SCHED1(ma, pa); \
	SCHED1(mb, pb)

#define WITH_MSG2(ma, pa, na, mb, pb, nb, k) \
	QROUND(ma, k, X1, X2); \
	QROUND(mb, k, X8, X9); \
	SCHED2(ma, pa, na); \
	SCHED2(mb, pb, nb)

// func blockWordsX2SHANI(h *[8]uint32, w *[2][16]uint32, out *[2][8]uint32)
// Requires: SHA, SSE2, SSE4.1, SSSE3
TEXT ·blockWordsX2SHANI(SB), NOSPLIT, $0-24
	MOVQ h+0(FP), DI
	MOVQ w+8(FP), SI
	MOVQ out+16(FP), DX
	LEAQ k256<>+0(SB), AX

	// Both streams start from h; X14, X15 keep it for the final addition.
	STATE_IN(DI, X14, X15)
	MOVO X14, X1
	MOVO X15, X2
	MOVO X14, X8
	MOVO X15, X9

	MOVOU (SI), X3
	MOVOU 16(SI), X4
	MOVOU 32(SI), X5
	MOVOU 48(SI), X6
	MOVOU 64(SI), X10
	MOVOU 80(SI), X11
	MOVOU 96(SI), X12
	MOVOU 112(SI), X13

	// Groups 0..15 (rounds 4i..4i+3); group i reads message registers
	// M[i%4], schedules into M[(i+1)%4] and M[(i+3)%4].
	ROUNDS_ONLY(X3, X10, 0)
	WITH_MSG1(X4, X3, X11, X10, 16)
	WITH_MSG1(X5, X4, X12, X11, 32)
	WITH_BOTH(X6, X5, X3, X13, X12, X10, 48)
	WITH_BOTH(X3, X6, X4, X10, X13, X11, 64)
	WITH_BOTH(X4, X3, X5, X11, X10, X12, 80)
	WITH_BOTH(X5, X4, X6, X12, X11, X13, 96)
	WITH_BOTH(X6, X5, X3, X13, X12, X10, 112)
	WITH_BOTH(X3, X6, X4, X10, X13, X11, 128)
	WITH_BOTH(X4, X3, X5, X11, X10, X12, 144)
	WITH_BOTH(X5, X4, X6, X12, X11, X13, 160)
	WITH_BOTH(X6, X5, X3, X13, X12, X10, 176)
	WITH_BOTH(X3, X6, X4, X10, X13, X11, 192)
	WITH_MSG2(X4, X3, X5, X11, X10, X12, 208)
	WITH_MSG2(X5, X4, X6, X12, X11, X13, 224)
	ROUNDS_ONLY(X6, X13, 240)

	PADDD X14, X1
	PADDD X15, X2
	PADDD X14, X8
	PADDD X15, X9
	STATE_OUT(X1, X2, DX)
	ADDQ  $32, DX
	STATE_OUT(X8, X9, DX)
	RET

// flipMask byte-swaps each 32-bit word of an XMM register (PSHUFB).
DATA flipMask<>+0(SB)/8, $0x0405060700010203
DATA flipMask<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flipMask<>(SB), RODATA|NOPTR, $16

// k256 holds the SHA-256 round constants, four per 16 bytes.
DATA k256<>+0(SB)/4, $0x428a2f98
DATA k256<>+4(SB)/4, $0x71374491
DATA k256<>+8(SB)/4, $0xb5c0fbcf
DATA k256<>+12(SB)/4, $0xe9b5dba5
DATA k256<>+16(SB)/4, $0x3956c25b
DATA k256<>+20(SB)/4, $0x59f111f1
DATA k256<>+24(SB)/4, $0x923f82a4
DATA k256<>+28(SB)/4, $0xab1c5ed5
DATA k256<>+32(SB)/4, $0xd807aa98
DATA k256<>+36(SB)/4, $0x12835b01
DATA k256<>+40(SB)/4, $0x243185be
DATA k256<>+44(SB)/4, $0x550c7dc3
DATA k256<>+48(SB)/4, $0x72be5d74
DATA k256<>+52(SB)/4, $0x80deb1fe
DATA k256<>+56(SB)/4, $0x9bdc06a7
DATA k256<>+60(SB)/4, $0xc19bf174
DATA k256<>+64(SB)/4, $0xe49b69c1
DATA k256<>+68(SB)/4, $0xefbe4786
DATA k256<>+72(SB)/4, $0x0fc19dc6
DATA k256<>+76(SB)/4, $0x240ca1cc
DATA k256<>+80(SB)/4, $0x2de92c6f
DATA k256<>+84(SB)/4, $0x4a7484aa
DATA k256<>+88(SB)/4, $0x5cb0a9dc
DATA k256<>+92(SB)/4, $0x76f988da
DATA k256<>+96(SB)/4, $0x983e5152
DATA k256<>+100(SB)/4, $0xa831c66d
DATA k256<>+104(SB)/4, $0xb00327c8
DATA k256<>+108(SB)/4, $0xbf597fc7
DATA k256<>+112(SB)/4, $0xc6e00bf3
DATA k256<>+116(SB)/4, $0xd5a79147
DATA k256<>+120(SB)/4, $0x06ca6351
DATA k256<>+124(SB)/4, $0x14292967
DATA k256<>+128(SB)/4, $0x27b70a85
DATA k256<>+132(SB)/4, $0x2e1b2138
DATA k256<>+136(SB)/4, $0x4d2c6dfc
DATA k256<>+140(SB)/4, $0x53380d13
DATA k256<>+144(SB)/4, $0x650a7354
DATA k256<>+148(SB)/4, $0x766a0abb
DATA k256<>+152(SB)/4, $0x81c2c92e
DATA k256<>+156(SB)/4, $0x92722c85
DATA k256<>+160(SB)/4, $0xa2bfe8a1
DATA k256<>+164(SB)/4, $0xa81a664b
DATA k256<>+168(SB)/4, $0xc24b8b70
DATA k256<>+172(SB)/4, $0xc76c51a3
DATA k256<>+176(SB)/4, $0xd192e819
DATA k256<>+180(SB)/4, $0xd6990624
DATA k256<>+184(SB)/4, $0xf40e3585
DATA k256<>+188(SB)/4, $0x106aa070
DATA k256<>+192(SB)/4, $0x19a4c116
DATA k256<>+196(SB)/4, $0x1e376c08
DATA k256<>+200(SB)/4, $0x2748774c
DATA k256<>+204(SB)/4, $0x34b0bcb5
DATA k256<>+208(SB)/4, $0x391c0cb3
DATA k256<>+212(SB)/4, $0x4ed8aa4a
DATA k256<>+216(SB)/4, $0x5b9cca4f
DATA k256<>+220(SB)/4, $0x682e6ff3
DATA k256<>+224(SB)/4, $0x748f82ee
DATA k256<>+228(SB)/4, $0x78a5636f
DATA k256<>+232(SB)/4, $0x84c87814
DATA k256<>+236(SB)/4, $0x8cc70208
DATA k256<>+240(SB)/4, $0x90befffa
DATA k256<>+244(SB)/4, $0xa4506ceb
DATA k256<>+248(SB)/4, $0xbef9a3f7
DATA k256<>+252(SB)/4, $0xc67178f2
GLOBL k256<>(SB), RODATA|NOPTR, $256
