#ifndef CLERK_TEXT_SHIM_H
#define CLERK_TEXT_SHIM_H

#include <stdint.h>

/// Folds UTF-8 text for matching: NFKC, full case folding, combining marks removed, and a few letters
/// without a decomposition mapped to their base (ø→o, ł→l, đ→d, ı→i, æ→ae, œ→oe, þ→th).
/// Writes UTF-8 to `out` (no terminator) and returns its length in bytes, or -1 on an ICU error,
/// or -(needed) - 2 when `capacity` is too small.
int32_t clerk_fold(const char *utf8, int32_t length, char *out, int32_t capacity);

/// An ICU word-break iterator; not thread-safe, so each thread (or scratch buffer) owns one.
typedef struct clerk_word_breaker clerk_word_breaker;

/// Opens a word breaker for a locale such as "en"; NULL on failure.
clerk_word_breaker *clerk_word_breaker_open(const char *locale);
void clerk_word_breaker_close(clerk_word_breaker *breaker);

/// Segments UTF-8 text into words. Writes pairs of byte offsets (start, end) into `spans` for each segment
/// that is a word, number or ideograph (spaces and punctuation are skipped). Returns the number of pairs
/// written (at most `max_pairs`), or -1 on an ICU error.
int32_t clerk_word_breaker_split(clerk_word_breaker *breaker, const char *utf8, int32_t length, int32_t *spans,
                                 int32_t max_pairs);

#endif
