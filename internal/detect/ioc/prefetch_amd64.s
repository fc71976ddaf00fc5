#include "textflag.h"

// func prefetchLines(ps []probe, words []uint64)
//
// For each probe, the line of filterLine: word (h>>32)*(len(words)/8)>>32*8,
// at byte offset that times 8.
TEXT ·prefetchLines(SB), NOSPLIT|NOFRAME, $0-48
	MOVQ ps_base+0(FP), SI
	MOVQ ps_len+8(FP), CX
	MOVQ words_base+24(FP), DI
	MOVQ words_len+32(FP), R8
	SHRQ $3, R8 // lines
	TESTQ CX, CX
	JLE done
loop:
	MOVQ (SI), AX
	SHRQ $32, AX
	IMULQ R8, AX
	SHRQ $32, AX
	SHLQ $6, AX
	PREFETCHT0 (DI)(AX*1)
	ADDQ $24, SI
	DECQ CX
	JNZ loop
done:
	RET
