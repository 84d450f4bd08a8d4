/* nofunc.s - code whose debug info is a compile unit with no functions
 * (no .type, so the assembler writes no DW_TAG_subprogram): see
 * test_symbolize.c. */
	.text
	.globl	nofunc_code
nofunc_code:
	nop
	nop
	ret
	.section .note.GNU-stack,"",@progbits
