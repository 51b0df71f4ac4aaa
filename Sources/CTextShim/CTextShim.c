#include "CTextShim.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

#define STACK_UNITS 512

struct clerk_word_breaker {
    UBreakIterator *iterator;
    UText *text;
};

/// Letters that have no canonical decomposition but that citizens type without their stroke or ligature.
static int32_t base_letter(UChar32 c, UChar *out) {
    switch (c) {
    case 0x00F8: out[0] = 'o'; return 1;               // ø
    case 0x0142: out[0] = 'l'; return 1;               // ł
    case 0x0111: out[0] = 'd'; return 1;               // đ
    case 0x0127: out[0] = 'h'; return 1;               // ħ
    case 0x0131: out[0] = 'i'; return 1;               // dotless ı
    case 0x00E6: out[0] = 'a'; out[1] = 'e'; return 2; // æ
    case 0x0153: out[0] = 'o'; out[1] = 'e'; return 2; // œ
    case 0x00FE: out[0] = 't'; out[1] = 'h'; return 2; // þ
    case 0x2019: case 0x2018: case 0x02BC: case 0x00B4: case 0x0060:
        out[0] = '\''; return 1;                       // typographic apostrophes
    default: return 0;
    }
}

int32_t clerk_fold(const char *utf8, int32_t length, char *out, int32_t capacity) {
    UErrorCode status = U_ZERO_ERROR;
    UChar stackA[STACK_UNITS], stackB[STACK_UNITS];
    UChar *a = stackA, *b = stackB;
    int32_t capA = STACK_UNITS, capB = STACK_UNITS;
    int32_t result = -1;

    // Worst-case growth: UTF-16 never needs more units than UTF-8 bytes; NFKC can expand up to 18x,
    // so size heap buffers generously when the input is long.
    if (length * 4 + 16 > STACK_UNITS) {
        capA = capB = length * 18 + 16;
        a = malloc(sizeof(UChar) * capA);
        b = malloc(sizeof(UChar) * capB);
        if (!a || !b) goto done;
    }
    int32_t n = 0;
    u_strFromUTF8WithSub(a, capA, &n, utf8, length, 0xFFFD, NULL, &status);
    if (U_FAILURE(status)) goto done;

    const UNormalizer2 *casefold = unorm2_getNFKCCasefoldInstance(&status);
    const UNormalizer2 *nfd = unorm2_getNFDInstance(&status);
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&status);
    if (U_FAILURE(status)) goto done;

    int32_t m = unorm2_normalize(casefold, a, n, b, capB, &status);
    if (U_FAILURE(status)) goto done;
    n = unorm2_normalize(nfd, b, m, a, capA, &status);
    if (U_FAILURE(status)) goto done;

    // Drop accents (combining marks on Latin, Greek and Cyrillic letters) and map the few stroke letters;
    // keep marks in other scripts, where they change the letter (Japanese voicing marks, Indic vowel signs).
    m = 0;
    UScriptCode base = USCRIPT_COMMON;
    for (int32_t i = 0; i < n;) {
        UChar32 c;
        U16_NEXT(a, i, n, c);
        if (u_charType(c) == U_NON_SPACING_MARK) {
            if (base == USCRIPT_LATIN || base == USCRIPT_GREEK || base == USCRIPT_CYRILLIC ||
                base == USCRIPT_COMMON) {
                continue;
            }
        } else {
            UErrorCode scriptStatus = U_ZERO_ERROR;
            base = uscript_getScript(c, &scriptStatus);
            if (U_FAILURE(scriptStatus)) base = USCRIPT_COMMON;
        }
        UChar mapped[2];
        int32_t k = base_letter(c, mapped);
        if (m + 2 >= capB) { status = U_BUFFER_OVERFLOW_ERROR; goto done; }
        if (k > 0) {
            for (int32_t j = 0; j < k; j++) b[m++] = mapped[j];
        } else {
            U16_APPEND_UNSAFE(b, m, c);
        }
    }
    n = unorm2_normalize(nfc, b, m, a, capA, &status);
    if (U_FAILURE(status)) goto done;

    int32_t written = 0;
    u_strToUTF8(out, capacity, &written, a, n, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        result = -written - 2;
    } else if (U_FAILURE(status) && status != U_STRING_NOT_TERMINATED_WARNING) {
        result = -1;
    } else {
        result = written;
    }
done:
    if (a != stackA) free(a);
    if (b != stackB) free(b);
    return result;
}

clerk_word_breaker *clerk_word_breaker_open(const char *locale) {
    UErrorCode status = U_ZERO_ERROR;
    clerk_word_breaker *breaker = calloc(1, sizeof(clerk_word_breaker));
    if (!breaker) return NULL;
    breaker->iterator = ubrk_open(UBRK_WORD, locale, NULL, 0, &status);
    if (U_FAILURE(status)) {
        free(breaker);
        return NULL;
    }
    return breaker;
}

void clerk_word_breaker_close(clerk_word_breaker *breaker) {
    if (!breaker) return;
    if (breaker->iterator) ubrk_close(breaker->iterator);
    if (breaker->text) utext_close(breaker->text);
    free(breaker);
}

int32_t clerk_word_breaker_split(clerk_word_breaker *breaker, const char *utf8, int32_t length, int32_t *spans,
                                 int32_t max_pairs) {
    UErrorCode status = U_ZERO_ERROR;
    breaker->text = utext_openUTF8(breaker->text, utf8, length, &status);
    if (U_FAILURE(status)) return -1;
    ubrk_setUText(breaker->iterator, breaker->text, &status);
    if (U_FAILURE(status)) return -1;
    int32_t count = 0;
    int32_t start = ubrk_first(breaker->iterator);
    for (int32_t end = ubrk_next(breaker->iterator); end != UBRK_DONE && count < max_pairs;
         start = end, end = ubrk_next(breaker->iterator)) {
        int32_t rule = ubrk_getRuleStatus(breaker->iterator);
        if (rule >= UBRK_WORD_NONE && rule < UBRK_WORD_NONE_LIMIT) continue;
        spans[2 * count] = start;
        spans[2 * count + 1] = end;
        count++;
    }
    return count;
}
