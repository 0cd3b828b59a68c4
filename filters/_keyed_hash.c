/* genoscrub._keyed_hash (filters/_keyed_hash.c): HMAC-SHA-256 of many read names in one call.
 *
 * With --key-file, every read name becomes the first hex digits of HMAC-SHA-256(key,
 * "read:" + name) (RFC 2104; ARCHITECTURE.md, "Pseudonyms"). hashlib computes it at about
 * 0.7 us a name, most of it the Python calls around two SHA-256 compressions; a BAM part and
 * a FASTQ pair hash every template. This module hashes a list of names in one call: the key
 * schedule once, then per name the inner hash (prefix and name, usually one block) and the
 * outer one (one block), with the CPU's SHA instructions where it has them.
 *
 * It is a twin, not a second definition: filters/keyed_hash.py uses hashlib where this
 * module is not built (or with GENOSCRUB_PURE_PYTHON=1), and tests/test_keyed_hash.py holds
 * both of this module's compressions (SHA extensions and portable C) to hashlib's digests.
 * SHA-256 is FIPS 180-4; the constants below are its section 4.2.2 and 5.3.3 values.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define KEYED_HASH_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t ROUND_CONSTANTS[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t INITIAL_STATE[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

typedef void (*compress_fn)(uint32_t state[8], const uint8_t *blocks, size_t count);

static inline uint32_t
rotate_right(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

/* SHA-256's compression of `count` 64-byte blocks into `state`, in portable C. */
static void
compress_portable(uint32_t state[8], const uint8_t *blocks, size_t count)
{
    uint32_t w[64];
    for (; count > 0; count--, blocks += 64) {
        for (int t = 0; t < 16; t++)
            w[t] = (uint32_t)blocks[4 * t] << 24 | (uint32_t)blocks[4 * t + 1] << 16 | (uint32_t)blocks[4 * t + 2] << 8
                   | (uint32_t)blocks[4 * t + 3];
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = rotate_right(w[t - 15], 7) ^ rotate_right(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = rotate_right(w[t - 2], 17) ^ rotate_right(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int t = 0; t < 64; t++) {
            uint32_t big1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
            uint32_t choose = (e & f) ^ (~e & g);
            uint32_t t1 = h + big1 + choose + ROUND_CONSTANTS[t] + w[t];
            uint32_t big0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
            uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = big0 + majority;
            h = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
        state[4] += e;
        state[5] += f;
        state[6] += g;
        state[7] += h;
    }
}

#ifdef KEYED_HASH_X86
/* The same compression with the SHA extensions (SHA-NI): four rounds a step, the
 * message schedule by sha256msg1/msg2. The state is held as ABEF and CDGH, the order
 * sha256rnds2 works in. */
__attribute__((target("sha,sse4.1,ssse3"))) static void
compress_sha_extensions(uint32_t state[8], const uint8_t *blocks, size_t count)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);
    for (; count > 0; count--, blocks += 64) {
        const __m128i abef_before = abef, cdgh_before = cdgh;
        __m128i w[16];
        for (int i = 0; i < 16; i++) {
            if (i < 4) {
                w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 16 * i)), byte_swap);
            } else {
                __m128i sum = _mm_sha256msg1_epu32(w[i - 4], w[i - 3]);
                sum = _mm_add_epi32(sum, _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
                w[i] = _mm_sha256msg2_epu32(sum, w[i - 1]);
            }
            __m128i message = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)&ROUND_CONSTANTS[4 * i]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message);
            message = _mm_shuffle_epi32(message, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, message);
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* Whether this CPU has the SHA extensions and the SSE levels the function above uses. */
static int
has_sha_extensions(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSSE3) || !(c & bit_SSE4_1))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b & (1u << 29)) != 0; /* CPUID.(EAX=7,ECX=0):EBX.SHA[bit 29] */
}
#endif

/* Zero what the key left in memory (volatile: not optimised away as a dead store). */
static void
forget(void *secret, size_t size)
{
    volatile uint8_t *byte = secret;
    while (size--)
        *byte++ = 0;
}

/* Hash `length` message bytes that follow `done` bytes already compressed into `state`
 * (a multiple of 64), and write the 32-byte digest. */
static void
finish(compress_fn compress, const uint32_t start[8], uint64_t done, const uint8_t *message, size_t length,
       uint8_t digest[32])
{
    uint32_t state[8];
    memcpy(state, start, sizeof state);
    size_t whole = length / 64 * 64;
    if (whole > 0)
        compress(state, message, whole / 64);
    uint8_t tail[128] = {0};
    size_t rest = length - whole;
    memcpy(tail, message + whole, rest);
    tail[rest] = 0x80;
    size_t tail_size = rest < 56 ? 64 : 128;
    uint64_t bits = (done + (uint64_t)length) * 8;
    for (int i = 0; i < 8; i++)
        tail[tail_size - 1 - i] = (uint8_t)(bits >> (8 * i));
    compress(state, tail, tail_size / 64);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)state[i];
    }
}

PyDoc_STRVAR(hmac_sha256_hex_doc,
"hmac_sha256_hex(key, prefix, messages, digits, accelerated) -> list\n"
"\n"
"The first `digits` lowercase hex digits (1 to 64) of HMAC-SHA-256(key, prefix + m), as\n"
"bytes, for each bytes m of the list `messages`. `accelerated`: use the CPU's SHA\n"
"extensions where it has them (false: portable C, for the tests).");

static PyObject *
hmac_sha256_hex(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer key, prefix;
    PyObject *messages;
    Py_ssize_t digits;
    int accelerated;
    if (!PyArg_ParseTuple(args, "y*y*O!np:hmac_sha256_hex", &key, &prefix, &PyList_Type, &messages, &digits,
                          &accelerated))
        return NULL;
    PyObject *result = NULL;
    uint8_t *joined = NULL;
    size_t capacity = 0;
    uint8_t block[64] = {0}, padded[64] = {0};
    uint32_t inner[8] = {0}, outer[8] = {0};
    if (digits < 1 || digits > 64) {
        PyErr_SetString(PyExc_ValueError, "digits must be 1 to 64");
        goto done;
    }
    compress_fn compress = compress_portable;
#ifdef KEYED_HASH_X86
    if (accelerated && has_sha_extensions())
        compress = compress_sha_extensions;
#endif
    /* The key schedule (RFC 2104): a key longer than a block is hashed first. */
    if (key.len > 64)
        finish(compress, INITIAL_STATE, 0, key.buf, (size_t)key.len, block);
    else
        memcpy(block, key.buf, (size_t)key.len);
    memcpy(inner, INITIAL_STATE, sizeof inner);
    memcpy(outer, INITIAL_STATE, sizeof outer);
    for (int i = 0; i < 64; i++)
        padded[i] = block[i] ^ 0x36;
    compress(inner, padded, 1);
    for (int i = 0; i < 64; i++)
        padded[i] = block[i] ^ 0x5C;
    compress(outer, padded, 1);

    Py_ssize_t count = PyList_GET_SIZE(messages);
    result = PyList_New(count);
    if (result == NULL)
        goto done;
    capacity = (size_t)prefix.len + 256;
    joined = PyMem_Malloc(capacity);
    if (joined == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    memcpy(joined, prefix.buf, (size_t)prefix.len);
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(messages, i);
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "messages must be a list of bytes");
            goto fail;
        }
        size_t length = (size_t)PyBytes_GET_SIZE(item);
        size_t total = (size_t)prefix.len + length;
        if (total > capacity) {
            uint8_t *larger = PyMem_Realloc(joined, total);
            if (larger == NULL) {
                PyErr_NoMemory();
                goto fail;
            }
            joined = larger;
            capacity = total;
        }
        memcpy(joined + prefix.len, PyBytes_AS_STRING(item), length);
        uint8_t digest[32];
        finish(compress, inner, 64, joined, total, digest);
        finish(compress, outer, 64, digest, sizeof digest, digest);
        PyObject *text = PyBytes_FromStringAndSize(NULL, digits);
        if (text == NULL)
            goto fail;
        char *out = PyBytes_AS_STRING(text);
        for (Py_ssize_t j = 0; j < digits; j++)
            out[j] = hex[(digest[j / 2] >> (j % 2 ? 0 : 4)) & 0xF];
        PyList_SET_ITEM(result, i, text);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    forget(block, sizeof block);
    forget(padded, sizeof padded);
    forget(inner, sizeof inner);
    forget(outer, sizeof outer);
    if (joined != NULL)
        forget(joined, capacity);
    PyMem_Free(joined);
    PyBuffer_Release(&key);
    PyBuffer_Release(&prefix);
    return result;
}

PyDoc_STRVAR(sha_extensions_doc, "sha_extensions() -> bool\n\nWhether hmac_sha256_hex uses the CPU's SHA extensions here.");

static PyObject *
sha_extensions(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
#ifdef KEYED_HASH_X86
    return PyBool_FromLong(has_sha_extensions());
#else
    Py_RETURN_FALSE;
#endif
}

static PyMethodDef keyed_hash_methods[] = {
    {"hmac_sha256_hex", hmac_sha256_hex, METH_VARARGS, hmac_sha256_hex_doc},
    {"sha_extensions", sha_extensions, METH_NOARGS, sha_extensions_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef keyed_hash_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "genoscrub._keyed_hash",
    .m_doc = "HMAC-SHA-256 of many read names in one call (see filters/_keyed_hash.c).",
    .m_size = 0,
    .m_methods = keyed_hash_methods,
};

PyMODINIT_FUNC
PyInit__keyed_hash(void)
{
    return PyModule_Create(&keyed_hash_module);
}
