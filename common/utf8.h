/*
 * utf8.h: UTF-8 sequences, read strictly and written.
 *
 * Strict is RFC 3629: no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no stray continuation bytes.  The JSON and XML
 * readers and the JSON writers of proto/ use these, so every codec of
 * drover agrees on what UTF-8 is.
 *
 * Callers: any process; pure functions.
 */
#ifndef DROVER_UTF8_H
#define DROVER_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of the sequence a lead byte starts: 2..4, or 0 if it starts none. */
size_t	utf8_need(unsigned char lead);

/*
 * Length of the valid sequence at s (n bytes available, s[0] >= 0x80)
 * with its code point in *cp; 0 when invalid or cut short.
 */
size_t	utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* Write code point c (<= U+10FFFF) at o: 1..4 bytes, the count returned. */
size_t	utf8_put(char *o, uint32_t c);

/* Whether s[0..n) is all valid UTF-8 (NUL bytes included). */
int	utf8_valid(const char *s, size_t n);

#endif /* DROVER_UTF8_H */
