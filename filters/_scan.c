/* genoscrub._scan (filters/_scan.c): the byte loops of the record commands, in C.
 *
 * Most records pass through a genoscrub filter unchanged, so the time of a filter
 * is the time it takes to find, in a block of text, the few bytes it must look at:
 * where each VCF record's columns are, where each FASTQ record's name line is, where
 * each BAM record's fields and aux values are, where any of many strings occurs.
 * numpy does that in several passes over a block and allocates an index per tab;
 * these functions do it in one pass with memchr, at memory speed. One of them,
 * read_into, also fills a buffer from a file descriptor (the commands' stdin) with
 * the GIL released; the others work on buffers in memory only.
 *
 * Commands do not call this module: filters/scan.py picks, at import, this module
 * (adapted to numpy by filters/scan_compiled.py) or the pure-Python twins of every
 * function (filters/scan_python.py), used where this module is not built or with
 * GENOSCRUB_PURE_PYTHON=1. tests/test_scan.py holds each function to its twin on the
 * same bytes; filters/_scan.pyi gives the signatures to mypy. Nothing here knows a
 * command line or keeps state between calls.
 *
 * Offsets are returned as bytearrays of native int64, for numpy.frombuffer: that
 * keeps this module free of numpy's C API, so it builds with a C compiler and the
 * Python headers alone.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The number of newlines in [p, end). */
static Py_ssize_t
count_newlines(const char *p, const char *end)
{
    Py_ssize_t count = 0;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        count++;
        p++;
    }
    return count;
}

/* An int64 buffer argument (a contiguous numpy array): its values and how many. */
static int
int64_buffer(PyObject *object, Py_buffer *view, const char *what)
{
    if (PyObject_GetBuffer(object, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != (Py_ssize_t)sizeof(int64_t) || view->format == NULL || strchr("qlL", view->format[0]) == NULL
        || view->format[1] != '\0') {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous int64 array", what);
        return -1;
    }
    return 0;
}

/* Counts per line that share out items in order: each one 0 or more, adding up to the items. */
static int
counts_add_up(const int64_t *per_line, Py_ssize_t line_count, Py_ssize_t item_count, const char *message)
{
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < line_count; i++) {
        if (per_line[i] < 0 || per_line[i] > item_count - total) {
            PyErr_SetString(PyExc_ValueError, message);
            return -1;
        }
        total += per_line[i];
    }
    if (total != item_count) {
        PyErr_SetString(PyExc_ValueError, message);
        return -1;
    }
    return 0;
}

/* Check that spans [starts[i], ends[i]) lie inside a text of size bytes. */
static int
spans_inside(const int64_t *starts, const int64_t *ends, Py_ssize_t count, Py_ssize_t size)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        if (starts[i] < 0 || ends[i] < starts[i] || ends[i] > size) {
            PyErr_SetString(PyExc_IndexError, "span outside the text");
            return -1;
        }
    }
    return 0;
}

/* The (starts, ends) arguments of a span function: two int64 buffers of one length whose
 * spans lie inside a text of text_length bytes. On failure nothing is held and -1 returned. */
static int
span_buffers(PyObject *starts_object, PyObject *ends_object, Py_ssize_t text_length, Py_buffer *starts, Py_buffer *ends,
             Py_ssize_t *count)
{
    if (int64_buffer(starts_object, starts, "starts") < 0)
        return -1;
    if (int64_buffer(ends_object, ends, "ends") < 0) {
        PyBuffer_Release(starts);
        return -1;
    }
    *count = starts->len / (Py_ssize_t)sizeof(int64_t);
    if (ends->len != starts->len) {
        PyErr_SetString(PyExc_ValueError, "starts and ends must have one length");
    } else if (spans_inside(starts->buf, ends->buf, *count, text_length) == 0) {
        return 0;
    }
    PyBuffer_Release(starts);
    PyBuffer_Release(ends);
    return -1;
}

static PyObject *
int64_array(Py_ssize_t length)
{
    return PyByteArray_FromStringAndSize(NULL, length * (Py_ssize_t)sizeof(int64_t));
}

enum { VCF_GOOD = 0, VCF_COLUMNS = 1, VCF_EMPTY_CHROM = 2, VCF_BAD_POS = 3 };

PyDoc_STRVAR(vcf_columns_doc,
"vcf_columns(text, column_count, tabs_kept) -> (count, starts, ends, tabs, bad_row, problem, columns_found)\n"
"\n"
"Locate the records of a block of VCF record lines, each ending in a newline:\n"
"line starts and ends (the newline's offset), and the offsets of the first\n"
"tabs_kept tabs of each line, as bytearrays of int64. Checks, as\n"
"scan_python.vcf_columns does, that every line has column_count columns, a CHROM and a\n"
"POS of digits. problem is 0 when all lines pass; otherwise bad_row is the first\n"
"failing line (0-based) and problem says why: 1 the column count (columns_found\n"
"columns), 2 an empty CHROM, 3 a POS that is not digits. A wrong column count\n"
"anywhere in the block wins over the other two, as in the Python version.");

static PyObject *
vcf_columns(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t column_count, tabs_kept;
    if (!PyArg_ParseTuple(args, "y*nn", &view, &column_count, &tabs_kept))
        return NULL;
    const Py_ssize_t tabs_per_line = column_count - 1;
    if (tabs_kept < 2 || tabs_kept > tabs_per_line) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "tabs_kept must be at least 2 and at most column_count - 1");
        return NULL;
    }
    const char *text = view.buf;
    const char *text_end = text + view.len;
    const Py_ssize_t lines = count_newlines(text, text_end);
    PyObject *starts = int64_array(lines), *ends = int64_array(lines), *tabs = int64_array(lines * tabs_kept);
    if (starts == NULL || ends == NULL || tabs == NULL) {
        Py_XDECREF(starts);
        Py_XDECREF(ends);
        Py_XDECREF(tabs);
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *start_out = (int64_t *)PyByteArray_AS_STRING(starts);
    int64_t *end_out = (int64_t *)PyByteArray_AS_STRING(ends);
    int64_t *tab_out = (int64_t *)PyByteArray_AS_STRING(tabs);
    Py_ssize_t bad_row = -1, found_columns = 0;
    int problem = VCF_GOOD;

    Py_BEGIN_ALLOW_THREADS
    const char *line = text;
    for (Py_ssize_t row = 0; row < lines; row++) {
        const char *line_end = memchr(line, '\n', (size_t)(text_end - line));
        int64_t *row_tabs = tab_out + row * tabs_kept;
        Py_ssize_t found = 0;
        const char *p = line;
        while (found < tabs_kept && (p = memchr(p, '\t', (size_t)(line_end - p))) != NULL) {
            row_tabs[found++] = p - text;
            p++;
        }
        if (found == tabs_kept) {
            while ((p = memchr(p, '\t', (size_t)(line_end - p))) != NULL) {
                found++;
                p++;
            }
        }
        start_out[row] = line - text;
        end_out[row] = line_end - text;
        if (found != tabs_per_line) {
            bad_row = row;
            problem = VCF_COLUMNS;
            found_columns = found + 1;
            break;
        }
        if (problem == VCF_GOOD) {
            const char *pos = text + row_tabs[0] + 1, *pos_end = text + row_tabs[1];
            if (row_tabs[0] == line - text) {
                problem = VCF_EMPTY_CHROM;
            } else if (pos == pos_end) {
                problem = VCF_BAD_POS;
            } else {
                for (; pos < pos_end; pos++) {
                    if (*pos < '0' || *pos > '9') {
                        problem = VCF_BAD_POS;
                        break;
                    }
                }
            }
            if (problem != VCF_GOOD)
                bad_row = row;
        }
        line = line_end + 1;
    }
    Py_END_ALLOW_THREADS

    PyBuffer_Release(&view);
    return Py_BuildValue("nNNNnin", lines, starts, ends, tabs, bad_row, problem, found_columns);
}

PyDoc_STRVAR(count_lines_doc,
"count_lines(text) -> int\n"
"\n"
"The number of newlines in text: bytes.count(b'\\n'), in a loop the compiler vectorizes.");

static PyObject *
count_lines(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    const unsigned char *p = view.buf;
    Py_ssize_t count = 0;
    Py_BEGIN_ALLOW_THREADS
    const Py_ssize_t size = view.len;
    Py_ssize_t i = 0;
    while (i < size) { /* in runs short enough for an 8-bit counter per lane */
        const Py_ssize_t stop = size - i > 255 * 64 ? i + 255 * 64 : size;
        unsigned int run = 0;
        for (; i < stop; i++)
            run += p[i] == '\n';
        count += run;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(count);
}

PyDoc_STRVAR(first_of_strings_doc,
"first_of_strings(text, needles) -> int\n"
"\n"
"The offset of the first place in text where one of needles (a list of at most 64 non-empty\n"
"bytes, matched exactly) starts, or -1: one pass over text, a needle compared only where\n"
"the text holds its first byte.");

/* 0 when every item of the list ``needles`` is bytes and not empty; else -1, with TypeError
   or ValueError set (first_of_strings and find_strings take the same list). */
static int
needles_checked(PyObject *needles)
{
    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(needles); k++) {
        PyObject *needle = PyList_GET_ITEM(needles, k);
        if (!PyBytes_Check(needle)) {
            PyErr_SetString(PyExc_TypeError, "needles must be a list of bytes");
            return -1;
        }
        if (PyBytes_GET_SIZE(needle) == 0) {
            PyErr_SetString(PyExc_ValueError, "a needle is empty");
            return -1;
        }
    }
    return 0;
}

#define FIRST_OF_NEEDLES 64

static PyObject *
first_of_strings(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    PyObject *needles_object;
    if (!PyArg_ParseTuple(args, "y*O!", &view, &PyList_Type, &needles_object))
        return NULL;
    const Py_ssize_t needle_count = PyList_GET_SIZE(needles_object);
    const unsigned char *needles[FIRST_OF_NEEDLES];
    Py_ssize_t lengths[FIRST_OF_NEEDLES];
    uint64_t starting[256] = {0}; /* for each byte, the needles that start with it */
    if (needle_count > FIRST_OF_NEEDLES) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "too many needles");
        return NULL;
    }
    if (needles_checked(needles_object) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < needle_count; k++) {
        PyObject *needle = PyList_GET_ITEM(needles_object, k);
        needles[k] = (const unsigned char *)PyBytes_AS_STRING(needle);
        lengths[k] = PyBytes_GET_SIZE(needle);
        starting[needles[k][0]] |= (uint64_t)1 << k;
    }
    /* A necessary condition, without branches: for each of the first three bytes of a window,
       the needles that hold that byte there (a needle shorter than three holds any byte past its
       end). A chunk where no window meets it for any needle holds no needle start. */
    uint64_t second[256], third[256];
    for (int b = 0; b < 256; b++)
        second[b] = third[b] = 0;
    for (Py_ssize_t k = 0; k < needle_count; k++) {
        const uint64_t bit = (uint64_t)1 << k;
        for (int b = 0; b < 256; b++) {
            if (lengths[k] < 2 || needles[k][1] == b)
                second[b] |= bit;
            if (lengths[k] < 3 || needles[k][2] == b)
                third[b] |= bit;
        }
    }
    const unsigned char *p = view.buf;
    const Py_ssize_t size = view.len;
    Py_ssize_t found = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t chunk = 0; chunk < size && found < 0; chunk += 4096) {
        const Py_ssize_t chunk_end = size - chunk > 4096 ? chunk + 4096 : size;
        const Py_ssize_t windows_end = chunk_end < size - 2 ? chunk_end : size - 2;
        uint64_t seen = 0;
        for (Py_ssize_t i = chunk; i < windows_end; i++)
            seen |= starting[p[i]] & second[p[i + 1]] & third[p[i + 2]];
        if (seen == 0 && windows_end == chunk_end)
            continue;
        for (Py_ssize_t i = chunk; i < chunk_end && found < 0; i++) {
            uint64_t candidates = starting[p[i]];
            while (candidates) {
                const int k = __builtin_ctzll(candidates);
                candidates &= candidates - 1;
                if (lengths[k] <= size - i && memcmp(p + i, needles[k], (size_t)lengths[k]) == 0) {
                    found = i;
                    break;
                }
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(found);
}

PyDoc_STRVAR(spans_within_doc,
"spans_within(text, starts, ends, allowed) -> bytearray\n"
"\n"
"For each span text[starts[i]:ends[i]] (int64 arrays), 1 if every byte of it is\n"
"allowed (allowed: 256 bytes, nonzero for an allowed byte), else 0. An empty span\n"
"is within anything.");

static PyObject *
spans_within(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, table;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &table))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "allowed must hold 256 bytes");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    result = PyByteArray_FromStringAndSize(NULL, count);
    if (result == NULL)
        goto release_all;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *allowed = table.buf;
    Py_BEGIN_ALLOW_THREADS
    /* A table that allows one run of bytes and at most two more (printable ASCII and a tab or a
       newline, Phred+33 qualities) is tested 32 bytes at a time by comparisons, which the compiler
       turns into vector instructions; any other table, and the last bytes of a span, by lookups. */
    int low = 0, high = -1, extras = 0;
    unsigned char extra[2] = {0, 0};
    int run_low = 0, run_length = 0;
    for (int k = 0, at = -1; k <= 256; k++) {
        if (k < 256 && allowed[k]) {
            if (at < 0)
                at = k;
        } else if (at >= 0) {
            if (k - at > run_length)
                run_low = at, run_length = k - at;
            at = -1;
        }
    }
    if (run_length >= 16) {
        low = run_low, high = run_low + run_length - 1;
        for (int k = 0; k < 256; k++)
            if (allowed[k] && (k < low || k > high)) {
                if (extras < 2)
                    extra[extras] = (unsigned char)k;
                extras++;
            }
        if (extras > 2)
            high = -1;
        for (int k = extras; k < 2 && k >= 0; k++)
            extra[k] = (unsigned char)low;
    }
    const unsigned char span = (unsigned char)(high - low);
    for (Py_ssize_t i = 0; i < count; i++) {
        unsigned char within = 1;
        int64_t j = start[i];
        if (high >= 0)
            for (; within && j + 32 <= end[i]; j += 32) {
                const unsigned char *b = bytes + j;
                unsigned char all = 1;
                for (int k = 0; k < 32; k++)
                    all &= (unsigned char)((unsigned char)(b[k] - low) <= span) | (b[k] == extra[0]) | (b[k] == extra[1]);
                within = all;
            }
        for (; within && j < end[i]; j++)
            within = allowed[bytes[j]] != 0;
        out[i] = within;
    }
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&table);
    return result;
}

PyDoc_STRVAR(replace_spans_doc,
"replace_spans(text, starts, ends, replacement) -> bytes\n"
"\n"
"text with each span text[starts[i]:ends[i]] replaced by replacement. The spans\n"
"(int64 arrays) must be in order and not overlap.");

static PyObject *
replace_spans(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, replacement;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &replacement))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    Py_ssize_t size = text.len;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i > 0 && start[i] < end[i - 1]) {
            PyErr_SetString(PyExc_ValueError, "spans out of order or overlapping");
            goto release_all;
        }
        size += replacement.len - (Py_ssize_t)(end[i] - start[i]);
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        goto release_all;
    char *out = PyBytes_AS_STRING(result);
    const char *bytes = text.buf;
    Py_BEGIN_ALLOW_THREADS
    int64_t copied = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(out, bytes + copied, (size_t)(start[i] - copied));
        out += start[i] - copied;
        memcpy(out, replacement.buf, (size_t)replacement.len);
        out += replacement.len;
        copied = end[i];
    }
    memcpy(out, bytes + copied, (size_t)(text.len - copied));
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&replacement);
    return result;
}

PyDoc_STRVAR(join_spans_doc,
"join_spans(text, starts, ends) -> bytes\n"
"\n"
"The spans text[starts[i]:ends[i]] (int64 arrays) one after the other, as\n"
"b''.join of the slices would give them.");

static PyObject *
join_spans(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OO", &text, &starts_object, &ends_object))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    Py_ssize_t size = 0;
    for (Py_ssize_t i = 0; i < count; i++)
        size += (Py_ssize_t)(end[i] - start[i]);
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        goto release_all;
    char *out = PyBytes_AS_STRING(result);
    const char *bytes = text.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        memcpy(out, bytes + start[i], (size_t)(end[i] - start[i]));
        out += end[i] - start[i];
    }
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

PyDoc_STRVAR(span_list_doc,
"span_list(text, starts, ends) -> list\n"
"\n"
"The spans text[starts[i]:ends[i]] (int64 arrays) as a list of bytes objects:\n"
"what slicing each would give, without a slice object per span.");

static PyObject *
span_list(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OO", &text, &starts_object, &ends_object))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    result = PyList_New(count);
    if (result == NULL)
        goto release_all;
    const int64_t *start = starts.buf, *end = ends.buf;
    const char *bytes = text.buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *value = PyBytes_FromStringAndSize(bytes + start[i], (Py_ssize_t)(end[i] - start[i]));
        if (value == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, value);
    }
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

PyDoc_STRVAR(info_values_doc,
"info_values(text, info_starts, info_ends, key) -> (found, value_starts, value_ends)\n"
"\n"
"Where the value of INFO key is in each record's INFO span (int64 arrays): the\n"
"first 'key=' at the start of the span or after a ';', as the regex\n"
"(?:^|;)key=([^;]*) finds it; the value ends at the next ';' or the span's end.\n"
"found is a bytearray of 0/1, the offsets bytearrays of int64 (0 where not found).");

static PyObject *
info_values(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, key;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &key))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL, *found = NULL, *value_starts = NULL, *value_ends = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    found = PyByteArray_FromStringAndSize(NULL, count);
    value_starts = int64_array(count);
    value_ends = int64_array(count);
    if (found == NULL || value_starts == NULL || value_ends == NULL)
        goto release_all;
    unsigned char *found_out = (unsigned char *)PyByteArray_AS_STRING(found);
    int64_t *start_out = (int64_t *)PyByteArray_AS_STRING(value_starts);
    int64_t *end_out = (int64_t *)PyByteArray_AS_STRING(value_ends);
    const char *bytes = text.buf, *needle = key.buf;
    const size_t needle_length = (size_t)key.len;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const char *p = bytes + start[i], *info_end = bytes + end[i];
        found_out[i] = 0;
        start_out[i] = end_out[i] = 0;
        while (p != NULL && p <= info_end) {
            if ((size_t)(info_end - p) > needle_length && memcmp(p, needle, needle_length) == 0 && p[needle_length] == '=') {
                const char *value = p + needle_length + 1;
                const char *value_end = memchr(value, ';', (size_t)(info_end - value));
                found_out[i] = 1;
                start_out[i] = value - bytes;
                end_out[i] = (value_end != NULL ? value_end : info_end) - bytes;
                break;
            }
            p = memchr(p, ';', (size_t)(info_end - p));
            if (p != NULL)
                p++;
        }
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("OOO", found, value_starts, value_ends);
release_all:
    Py_XDECREF(found);
    Py_XDECREF(value_starts);
    Py_XDECREF(value_ends);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&key);
    return result;
}

PyDoc_STRVAR(read_into_doc,
"read_into(fd, buffer) -> int\n"
"\n"
"Read from file descriptor fd until buffer (writable) is full or the input ends;\n"
"the number of bytes read. One call releases the GIL once: a producer that writes\n"
"a pipe 4 KiB at a time (bcftools view, samtools view) costs one read(2) per 4 KiB\n"
"but no longer one wake-up of a Python thread, which would have to win the GIL back\n"
"from the thread doing the work. Raises OSError on a read error.");

/* At 100 MB/s a 1 MiB pipe fills in 10 ms: waiting 1 ms after a short read leaves
 * the producer room, and makes a read take ~100 KiB instead of one 4 KiB write. */
#define SHORT_READ (64 * 1024)
#define PIPE_BIG_ENOUGH (512 * 1024) /* a pipe of 64 KiB (F_SETPIPE_SZ refused) would stall a 100 MB/s producer */
static const struct timespec PIPE_FILL_WAIT = {0, 1000000};

static PyObject *
read_into(PyObject *Py_UNUSED(module), PyObject *args)
{
    int fd;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "iw*", &fd, &view))
        return NULL;
    char *buffer = view.buf;
    Py_ssize_t filled = 0;
    int error = 0;
    Py_BEGIN_ALLOW_THREADS
    int wait = 0; /* only on a pipe large enough to take the producer's writes meanwhile */
#ifdef F_GETPIPE_SZ
    wait = fcntl(fd, F_GETPIPE_SZ) >= PIPE_BIG_ENOUGH;
#endif
    while (filled < view.len) {
        ssize_t got = read(fd, buffer + filled, (size_t)(view.len - filled));
        if (got > 0) {
            filled += got;
            /* A short read means the producer is slower than this process: let the
             * pipe fill for a moment rather than wake up at its every write. */
            if (wait && got < SHORT_READ && filled < view.len)
                nanosleep(&PIPE_FILL_WAIT, NULL);
        } else if (got == 0) {
            break;
        } else if (errno != EINTR) {
            error = errno;
            break;
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (error != 0 && filled == 0) {
        errno = error;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSsize_t(filled);
}

/* The end of the line starting at p (its newline), or NULL if it has none before end. */
static inline const char *
line_end(const char *p, const char *end)
{
    return memchr(p, '\n', (size_t)(end - p));
}

PyDoc_STRVAR(fastq_scan_doc,
"fastq_scan(text) -> (count, end, heads, plus_named)\n"
"\n"
"The plain 4-line FASTQ records at the start of text: a name line starting with\n"
"'@', a sequence line, a '+' line and a quality line as long as the sequence,\n"
"each ending in a newline (scan_python.first_irregular_record's rule).\n"
"Stops at the first record that breaks the rule or lacks a line. count: how many\n"
"records; end: the offset just past them; heads: their name lines joined by\n"
"newlines; plus_named: how many '+' lines hold more than '+'.");

static PyObject *
fastq_scan(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    const char *text = view.buf, *text_end = text + view.len;
    Py_ssize_t count = 0, heads_size = 0, plus_named = 0;
    const char *p = text;
    Py_BEGIN_ALLOW_THREADS
    for (;;) { /* first pass: how many records, and how long their name lines are */
        const char *head_end, *sequence_end, *plus_end, *quality_end;
        if (p >= text_end || *p != '@' || (head_end = line_end(p, text_end)) == NULL)
            break;
        if ((sequence_end = line_end(head_end + 1, text_end)) == NULL)
            break;
        if (sequence_end + 1 >= text_end || sequence_end[1] != '+' || (plus_end = line_end(sequence_end + 1, text_end)) == NULL)
            break;
        if ((quality_end = line_end(plus_end + 1, text_end)) == NULL)
            break;
        if (quality_end - plus_end != sequence_end - head_end)
            break;
        count++;
        heads_size += head_end - p + 1;
        plus_named += plus_end - sequence_end > 2;
        p = quality_end + 1;
    }
    Py_END_ALLOW_THREADS
    const Py_ssize_t end = p - text;
    PyObject *heads = PyBytes_FromStringAndSize(NULL, heads_size > 0 ? heads_size - 1 : 0);
    if (heads == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    char *out = PyBytes_AS_STRING(heads);
    p = text;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) { /* second pass: copy the name lines */
        const char *head_end = line_end(p, text_end);
        memcpy(out, p, (size_t)(head_end - p));
        out += head_end - p;
        if (i + 1 < count)
            *out++ = '\n';
        const char *sequence_end = line_end(head_end + 1, text_end);
        const char *plus_end = line_end(sequence_end + 1, text_end);
        p = plus_end + 1 + (sequence_end - head_end);
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return Py_BuildValue("nnNn", count, end, heads, plus_named);
}

PyDoc_STRVAR(fastq_rebuild_doc,
"fastq_rebuild(text, count, heads) -> bytes\n"
"\n"
"text (count plain 4-line records, as fastq_scan found them) with each name line\n"
"replaced by the matching line of heads (count lines joined by newlines) and each\n"
"'+' line by '+'; sequences and qualities are copied as they are.");

static PyObject *
fastq_rebuild(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view, heads;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "y*ny*", &view, &count, &heads))
        return NULL;
    PyObject *result = NULL;
    const char *text = view.buf, *text_end = text + view.len;
    const char *head = heads.buf, *heads_end = head + heads.len;
    if (count < 0 || (count == 0) != (heads.len == 0) || count_newlines(head, heads_end) != (count > 0 ? count - 1 : 0)) {
        PyErr_SetString(PyExc_ValueError, "heads must hold count lines");
        goto release;
    }
    /* Bounded above by the records with every name line replaced by an empty one. */
    result = PyBytes_FromStringAndSize(NULL, view.len + heads.len + 1);
    if (result == NULL)
        goto release;
    char *out = PyBytes_AS_STRING(result);
    const char *p = text;
    int broken = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const char *head_end = line_end(p, text_end);
        const char *sequence_end = head_end ? line_end(head_end + 1, text_end) : NULL;
        const char *plus_end = sequence_end ? line_end(sequence_end + 1, text_end) : NULL;
        const char *quality_end = plus_end ? line_end(plus_end + 1, text_end) : NULL;
        if (quality_end == NULL || *p != '@' || sequence_end[1] != '+' || quality_end - plus_end != sequence_end - head_end) {
            broken = 1; /* not a plain record: fastq_scan would not have taken it */
            break;
        }
        const char *new_head_end = memchr(head, '\n', (size_t)(heads_end - head));
        if (new_head_end == NULL)
            new_head_end = heads_end;
        memcpy(out, head, (size_t)(new_head_end - head));
        out += new_head_end - head;
        head = new_head_end + 1;
        memcpy(out, head_end, (size_t)(sequence_end - head_end + 1)); /* newline, sequence, newline */
        out += sequence_end - head_end + 1;
        *out++ = '+';
        memcpy(out, plus_end, (size_t)(quality_end - plus_end + 1)); /* newline, quality, newline */
        out += quality_end - plus_end + 1;
        p = quality_end + 1;
    }
    Py_END_ALLOW_THREADS
    if (broken || p != text_end) {
        Py_CLEAR(result);
        PyErr_SetString(PyExc_ValueError, "text must hold exactly count plain 4-line records");
        goto release;
    }
    if (_PyBytes_Resize(&result, out - PyBytes_AS_STRING(result)) < 0)
        result = NULL;
release:
    PyBuffer_Release(&view);
    PyBuffer_Release(&heads);
    return result;
}

PyDoc_STRVAR(fastq_kseq_block_doc,
"fastq_kseq_block(lines, count) -> bool\n"
"\n"
"Whether lines[:4 * count] (a list of bytes, lines without their newlines) are count\n"
"FASTQ records of four lines each as kseq reads them: every name line starts with '@',\n"
"no sequence line does with '+', every '+' line does, and each quality line is as long\n"
"as its sequence line, neither holding a byte bytes.strip takes off (space, \\t, \\r, \\v,\n"
"\\f). The audit's rule (audit_fastq.FourLineBlock), stricter than fastq_scan's.\n"
"ValueError when count is negative or lines hold fewer than 4 * count; TypeError when\n"
"one of those lines is not bytes.");

/* Whether a line holds a byte that bytes.strip() takes off besides the newline (the lines have
 * none): space, \t, \r, \v, \f. All are at most ' ', below every base letter and quality
 * character, so the line's least byte is found first (a loop the compiler vectorizes) and the
 * bytes are looked at one by one only when it is that low. */
static int
has_strippable(const char *p, Py_ssize_t length)
{
    const unsigned char *q = (const unsigned char *)p;
    unsigned char least = 0xFF;
    for (Py_ssize_t i = 0; i < length; i++)
        least = q[i] < least ? q[i] : least;
    if (least > ' ')
        return 0;
    for (Py_ssize_t i = 0; i < length; i++)
        if (q[i] == ' ' || q[i] == '\t' || q[i] == '\r' || q[i] == '\v' || q[i] == '\f')
            return 1;
    return 0;
}

static PyObject *
fastq_kseq_block(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *lines;
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "O!n", &PyList_Type, &lines, &count))
        return NULL;
    if (count < 0 || count > PyList_GET_SIZE(lines) / 4) {
        PyErr_SetString(PyExc_ValueError, "lines must hold 4 * count lines");
        return NULL;
    }
    const Py_ssize_t total = 4 * count;
    Py_ssize_t at = 0;
    int kseq = 1;
    /* The list holds its items and the GIL is held: no thread can change them here. */
    for (; at < total; at += 4) {
        PyObject *name = PyList_GET_ITEM(lines, at), *sequence = PyList_GET_ITEM(lines, at + 1);
        PyObject *plus = PyList_GET_ITEM(lines, at + 2), *quality = PyList_GET_ITEM(lines, at + 3);
        if (!PyBytes_Check(name) || !PyBytes_Check(sequence) || !PyBytes_Check(plus) || !PyBytes_Check(quality))
            goto not_bytes;
        const Py_ssize_t length = PyBytes_GET_SIZE(sequence);
        const char *bases = PyBytes_AS_STRING(sequence);
        if (PyBytes_GET_SIZE(name) == 0 || PyBytes_AS_STRING(name)[0] != '@' || PyBytes_GET_SIZE(plus) == 0
            || PyBytes_AS_STRING(plus)[0] != '+' || (length > 0 && bases[0] == '+') || PyBytes_GET_SIZE(quality) != length
            || has_strippable(bases, length) || has_strippable(PyBytes_AS_STRING(quality), length)) {
            kseq = 0;
            at += 4;
            break;
        }
    }
    for (; at < total; at++) /* the rest is not read, only held to be bytes, as the twin's join does */
        if (!PyBytes_Check(PyList_GET_ITEM(lines, at)))
            goto not_bytes;
    return PyBool_FromLong(kseq);
not_bytes:
    PyErr_SetString(PyExc_TypeError, "lines must be a list of bytes");
    return NULL;
}

/* --- identifiers in VCF record text (record_values.py) ---------------------------------------- */

/* Bytes of the ID grammars of vcf_header: FIELD_ID (INFO and FORMAT keys), FILTER_ID, ALT_ID. */
enum { ID_FIELD = 1, ID_FILTER = 2, ID_ALT = 4 };

static int
id_byte(unsigned char c, int kind)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' || c == '-')
        return 1;
    if (c == '*')
        return kind != ID_FIELD;
    if (c == ':')
        return kind != ID_FIELD;
    return 0;
}

static int
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
is_word(unsigned char c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.';
}

enum { MAX_RANGE_SPAN = 1000, MAX_RANGE_DIGITS = 18 };

/* Digits joined by single hyphens from p (a digit), longest: where the run ends, its digit
 * count, and whether it is a range (two groups without a leading zero, the second from the
 * first to MAX_RANGE_SPAN above it: VEP's 999-1000). */
typedef struct {
    const unsigned char *end;
    Py_ssize_t digits;
    int range;
} DigitRun;

static DigitRun
digit_run(const unsigned char *p, const unsigned char *end)
{
    DigitRun run = {p, 0, 0};
    const unsigned char *group[2] = {NULL, NULL};
    Py_ssize_t length[2] = {0, 0};
    uint64_t value[2] = {0, 0};
    int groups = 0;
    for (;;) {
        const unsigned char *start = p;
        while (p < end && is_digit(*p))
            p++;
        if (groups < 2) {
            group[groups] = start;
            length[groups] = p - start;
            for (const unsigned char *digit = start; digit < p && digit - start < MAX_RANGE_DIGITS; digit++)
                value[groups] = value[groups] * 10 + (uint64_t)(*digit - '0');
        }
        groups++;
        run.digits += p - start;
        if (p + 1 < end && *p == '-' && is_digit(p[1])) {
            p++;
            continue;
        }
        break;
    }
    run.end = p;
    run.range = groups == 2 && length[0] <= MAX_RANGE_DIGITS && length[1] <= MAX_RANGE_DIGITS && *group[0] != '0'
                && *group[1] != '0' && value[1] >= value[0] && value[1] - value[0] <= MAX_RANGE_SPAN;
    return run;
}

/* Three groups of digits from p, separated by '-', '.' or '/' (each perhaps followed by a blank),
 * a blank, '_' or ':': any date's shape, and a phone number's written with blanks or dots
 * (identifiers.PERSONAL: 1990-01-01, 1990. 01. 01., 2023_10_29, 01 01 1990, 02 1234 5678). */
static int
date_like(const unsigned char *p, const unsigned char *end)
{
    for (int part = 0;; part++) {
        const unsigned char *start = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == start)
            return 0;
        if (part == 2)
            return 1;
        if (p >= end || (*p != '-' && *p != '.' && *p != '/' && *p != ' ' && *p != '_' && *p != ':'))
            return 0;
        p++;
        if (p < end && *p == ' ' && (p[-1] == '-' || p[-1] == '.' || p[-1] == '/'))
            p++;
    }
}

/* Whether digits from p may start a phone number written with a separator date_like does not take
 * ('~', '+', '|', ',' or " - ": identifiers.PHONE, 010~1234~5678, 010 - 1234 - 5678) or a date
 * whose parts a list's separator joins ('|', ';', ',', '~' or '+': identifiers.DELIMITED_DATE,
 * 1990|01|01, 01;01;1990). A superset: the groups' lengths only (a phone's 0 and 2 or 3 digits, 3
 * or 4, 4 or more; a date's 4, 2, 2 or more, or 2, 2, 4 or more), any of those separators. */
static int
delimited_number(const unsigned char *p, const unsigned char *end)
{
    Py_ssize_t length[3] = {0, 0, 0};
    int listed = 0; /* a separator a date may have: '|', ';', ',', '~' or '+' */
    const unsigned char *q = p;
    for (int part = 0;; part++) {
        const unsigned char *start = q;
        while (q < end && is_digit(*q))
            q++;
        length[part] = q - start;
        if (length[part] == 0)
            return 0;
        if (part == 2)
            break;
        if (q < end && (*q == '|' || *q == ';' || *q == ',' || *q == '~' || *q == '+')) {
            listed = 1;
            q++;
        } else if (end - q >= 3 && q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
            q += 3;
        } else if (q < end && (*q == ' ' || *q == '.' || *q == '_')) {
            q++;
        } else {
            return 0;
        }
    }
    if (*p == '0' && (length[0] == 2 || length[0] == 3) && (length[1] == 3 || length[1] == 4) && length[2] >= 4)
        return 1;
    return listed && ((length[0] == 4 && length[1] == 2 && length[2] >= 2) || (length[0] == 2 && length[1] == 2 && length[2] >= 4));
}

/* Whether an ID may fail the ID rule: off its grammar's bytes, empty, '%', 7+ digits, a date. */
/* Whether a symbolic allele's ID may name a place (identifiers.PATHS within the ALT grammar): a host
   name or an IP address holds a dot, a scheme without slashes is a word such as file or http and a
   colon. A superset: the one-record path decides. */
static int
alt_place_candidate(const unsigned char *p, const unsigned char *end)
{
    static const char *const schemes[] = {"file:", "http:", "https:", "ftp:", "sftp:", "smb:", "s3:", "gs:"};
    for (const unsigned char *q = p; q < end; q++) {
        if (*q == '.')
            return 1;
        for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
            size_t length = strlen(schemes[i]);
            if ((size_t)(end - q) >= length && strncasecmp((const char *)q, schemes[i], length) == 0)
                return 1;
        }
    }
    return 0;
}

static int month_date_candidate(const unsigned char *p, const unsigned char *end);

static int
id_candidate(const unsigned char *p, const unsigned char *end, int kind)
{
    if (p == end)
        return 1;
    if (kind == ID_ALT && alt_place_candidate(p, end))
        return 1;
    if (kind == ID_FIELD && !(is_word(*p) && *p != '.') && *p != '_')
        return 1;
    if (kind == ID_ALT && (*p == ':' || end[-1] == ':'))
        return 1;
    if (month_date_candidate(p, end))
        return 1;
    for (const unsigned char *q = p; q < end; q++) {
        if (!id_byte(*q, kind) || *q == '%')
            return 1;
        if (kind == ID_ALT && *q == ':' && q + 1 < end && q[1] == ':')
            return 1;
        if (is_digit(*q) && (q == p || !is_digit(q[-1]))) {
            if (digit_run(q, end).digits >= 7 || date_like(q, end) || delimited_number(q, end))
                return 1;
        }
    }
    return 0;
}

static int
is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_alnum(unsigned char c)
{
    return is_digit(c) || is_alpha(c);
}

static const char *const MONTH_NAMES[12] = {"january", "february", "march",     "april",   "may",      "june",
                                            "july",    "august",   "september", "october", "november", "december"};

/* How long the name of a month (its three letters, "sept", or its whole name, in any case) that
 * starts [q, end) is, no letter after it; 0 where none does. */
static const unsigned char MONTH_LENGTHS[12] = {7, 8, 5, 5, 3, 4, 4, 6, 9, 7, 8, 8};
static const unsigned char MONTH_INITIAL[256] = {['j'] = 1, ['f'] = 1, ['m'] = 1, ['a'] = 1, ['s'] = 1, ['o'] = 1, ['n'] = 1, ['d'] = 1};

static Py_ssize_t
month_name_length(const unsigned char *q, const unsigned char *end)
{
    if (end - q < 3 || !MONTH_INITIAL[*q | 0x20])
        return 0;
    for (int month = 0; month < 12; month++) {
        const char *name = MONTH_NAMES[month];
        if ((q[0] | 0x20) != (unsigned char)name[0] || (q[1] | 0x20) != (unsigned char)name[1])
            continue;
        const Py_ssize_t length = MONTH_LENGTHS[month];
        Py_ssize_t same = 0;
        while (same < length && q + same < end && (q[same] | 0x20) == (unsigned char)name[same])
            same++;
        if (same >= 3 && (same == 3 || same == length || (month == 8 && same == 4))
            && !(q + same < end && is_alpha(q[same])))
            return same;
    }
    return 0;
}

/* One of the separators a date with a month's name may have between its parts, skipped. */
static const unsigned char *
after_date_separator(const unsigned char *r, const unsigned char *end)
{
    return r < end && (*r == '-' || *r == '/' || *r == '.' || *r == '_' || *r == ' ' || *r == '+' || *r == '~') ? r + 1 : r;
}

static Py_ssize_t
digits_from(const unsigned char *r, const unsigned char *end)
{
    const unsigned char *q = r;
    while (q < end && is_digit(*q))
        q++;
    return q - r;
}

/* [r, end) past an ordinal's letters ("st", "nd", "rd" or "th", any case) when it starts with them. */
static const unsigned char *
after_ordinal(const unsigned char *r, const unsigned char *end)
{
    if (end - r >= 2) {
        const unsigned char first = r[0] | 0x20, second = r[1] | 0x20;
        if ((first == 's' && second == 't') || (first == 'n' && second == 'd') || (first == 'r' && second == 'd')
            || (first == 't' && second == 'h'))
            return r + 2;
    }
    return r;
}

/* [r, end) past " of " (any case, "1st of January") or one separator. */
static const unsigned char *
after_day_separator(const unsigned char *r, const unsigned char *end)
{
    if (end - r >= 4 && r[0] == ' ' && (r[1] | 0x20) == 'o' && (r[2] | 0x20) == 'f' && r[3] == ' ')
        return r + 4;
    return after_date_separator(r, end);
}

/* [r, end) past a period (an abbreviation's: "Dec.") and a comma written after a month's name, if there. */
static const unsigned char *
after_month_period(const unsigned char *r, const unsigned char *end)
{
    if (r < end && *r == '.')
        r++;
    if (r < end && *r == ',')
        r++;
    return r;
}

/* [r, end) past one separator and an apostrophe ("Dec 1 '90") before a year. */
static const unsigned char *
after_year_separator(const unsigned char *r, const unsigned char *end)
{
    r = after_date_separator(r, end);
    return r < end && *r == '\'' ? r + 1 : r;
}

/* Where a date with a month's name may start (identifiers.MONTH_DATE, a superset): a day of one
 * or two digits, perhaps "st", "nd", "rd" or "th", perhaps a separator or " of ", a month's name,
 * perhaps a period, a comma, a separator and an apostrophe, two digits or more (the year); a year
 * of four digits, perhaps a separator, a month's name, perhaps a period and a separator, a digit
 * (the day); or a month's name, perhaps a period and a separator, a day of one or two digits,
 * perhaps an ordinal's letters, a comma, a separator and an apostrophe, then two digits (or five
 * digits or more straight after the month: a day and a year run together). A month's name beside
 * a lone number (Dec1, a gene's alias) is none. q starts an alphanumeric token or digits written
 * onto letters (DOB01JAN1990). */
static int
month_date_at(const unsigned char *q, const unsigned char *end)
{
    const unsigned char *r = q;
    if (is_digit(*q)) {
        const Py_ssize_t day = digits_from(q, end);
        if (day == 4) {
            r = after_date_separator(q + day, end);
            const Py_ssize_t month = month_name_length(r, end);
            return month > 0 && digits_from(after_date_separator(after_month_period(r + month, end), end), end) >= 1;
        }
        if (day > 2)
            return 0;
        r = after_day_separator(after_ordinal(q + day, end), end);
        const Py_ssize_t month = month_name_length(r, end);
        if (month == 0)
            return 0;
        return digits_from(after_year_separator(after_month_period(r + month, end), end), end) >= 2;
    }
    const Py_ssize_t month = month_name_length(q, end);
    if (month == 0)
        return 0;
    r = after_date_separator(after_month_period(q + month, end), end);
    const Py_ssize_t day = digits_from(r, end);
    if (day >= 5)
        return 1;
    if (day == 0 || day > 2)
        return 0;
    r = after_ordinal(r + day, end);
    if (r < end && *r == ',')
        r++;
    return digits_from(after_year_separator(r, end), end) >= 2;
}

/* Whether the digits at q (after p) follow a month's name written onto letters, not after a digit,
 * perhaps with a period and a separator between, and are a day of two digits, perhaps an ordinal's
 * letters, a comma and a separator, and four digits or more (ctgJAN011990, DOBJan-01-1990:
 * identifiers.MONTH_DATE). A superset: the rule weighs the year's end. */
static int
month_written_before(const unsigned char *p, const unsigned char *q, const unsigned char *end)
{
    const Py_ssize_t day = digits_from(q, end);
    if (day < 2)
        return 0;
    if (day == 2) {
        const unsigned char *year = after_ordinal(q + 2, end);
        if (year < end && *year == ',')
            year++;
        if (digits_from(after_date_separator(year, end), end) < 4)
            return 0;
    } else if (day < 6) {
        return 0;
    }
    const unsigned char *r = q;
    if (r > p && (r[-1] == '-' || r[-1] == '/' || r[-1] == '.' || r[-1] == '_' || r[-1] == ' ' || r[-1] == '+' || r[-1] == '~'))
        r--;
    if (r > p && r[-1] == '.')
        r--;
    if (r == p || !is_alpha(r[-1]))
        return 0;
    for (Py_ssize_t length = 3; length <= 9 && r - length >= p; length++) {
        if (month_name_length(r - length, r) == length && (r - length == p || !is_digit(r[-length - 1])))
            return 1;
    }
    return 0;
}

/* Whether a date with a month's name may start in [p, end): at a token's first byte, not after a
 * letter or digit, or at digits written onto letters (DOB01JAN1990) or after a month's name
 * written onto them (ctgJAN011990). */
static int
month_date_candidate(const unsigned char *p, const unsigned char *end)
{
    int after_alnum = 0, after_alpha = 0;
    for (const unsigned char *q = p; q < end; q++) {
        const int alnum = is_alnum(*q);
        if (alnum && (!after_alnum || (after_alpha && is_digit(*q))) && month_date_at(q, end))
            return 1;
        if (is_digit(*q) && (q == p || !is_digit(q[-1])) && month_written_before(p, q, end))
            return 1;
        after_alnum = alnum;
        after_alpha = is_alpha(*q);
    }
    return 0;
}

static int
token_edge(unsigned char c)
{
    return c == '|' || c == ',' || c == '&' || c == ':' || c == '=' || c == '(' || c == ')' || c == ' ';
}

/* A list of keys (bytes), and for the keys with subfields, the public-number bits of each. */
typedef struct {
    Py_ssize_t count;
    const char **bytes;
    Py_ssize_t *lengths;
    uint64_t *masks;
} KeyList;

static int
key_list(PyObject *list, PyObject *masks, KeyList *keys)
{
    keys->count = PyList_GET_SIZE(list);
    keys->bytes = malloc(sizeof(char *) * (size_t)(keys->count + 1));
    keys->lengths = malloc(sizeof(Py_ssize_t) * (size_t)(keys->count + 1));
    keys->masks = malloc(sizeof(uint64_t) * (size_t)(keys->count + 1));
    if (keys->bytes == NULL || keys->lengths == NULL || keys->masks == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (masks != NULL && PyList_GET_SIZE(masks) != keys->count) {
        PyErr_SetString(PyExc_ValueError, "the subfield keys and masks must have one length");
        return -1;
    }
    for (Py_ssize_t i = 0; i < keys->count; i++) {
        PyObject *key = PyList_GET_ITEM(list, i);
        if (!PyBytes_Check(key)) {
            PyErr_SetString(PyExc_TypeError, "keys must be bytes");
            return -1;
        }
        keys->bytes[i] = PyBytes_AS_STRING(key);
        keys->lengths[i] = PyBytes_GET_SIZE(key);
        keys->masks[i] = 0;
        if (masks != NULL) {
            keys->masks[i] = PyLong_AsUnsignedLongLongMask(PyList_GET_ITEM(masks, i));
            if (PyErr_Occurred())
                return -1;
        }
    }
    return 0;
}

static void
free_keys(KeyList *keys)
{
    free(keys->bytes);
    free(keys->lengths);
    free(keys->masks);
}

/* The index of [p, end) in keys, or -1. */
static Py_ssize_t
listed(const KeyList *keys, const unsigned char *p, const unsigned char *end)
{
    const Py_ssize_t length = end - p;
    for (Py_ssize_t i = 0; i < keys->count; i++) {
        if (keys->lengths[i] == length && memcmp(keys->bytes[i], p, (size_t)length) == 0)
            return i;
    }
    return -1;
}

/* The names a number may follow: contigs before ':' (a position, chr1:12345678), contigs and
 * accession prefixes before '_' (chr1_12345678_A_G, NM_001009931). */
typedef struct {
    KeyList colon;
    KeyList underscore;
} Prefixes;

static int
prefix_byte(unsigned char c, unsigned char separator)
{
    return is_word(c) || (separator == ':' && (c == '_' || c == '*' || c == '+' || c == '-'));
}

/* Whether the number at q (after p) follows one of the names of prefixes and its separator. */
static int
after_public_prefix(const unsigned char *p, const unsigned char *q, const Prefixes *prefixes)
{
    if (q == p || (q[-1] != ':' && q[-1] != '_'))
        return 0;
    const unsigned char separator = q[-1];
    const unsigned char *name = q - 1;
    while (name > p && prefix_byte(name[-1], separator))
        name--;
    return name < q - 1 && listed(separator == ':' ? &prefixes->colon : &prefixes->underscore, name, q - 1) >= 0;
}

/* Whether q (after p) is an 'e' or 'E' after a digit or '.' and before an exponent that is not
 * negative: a number written with an exponent may be 1,000,000 or more (1.9900101e7, 1e+06;
 * record_values.EXPONENT). A superset: record_values.py weighs the number. */
static int
exponent_candidate(const unsigned char *p, const unsigned char *q, const unsigned char *end)
{
    if ((*q | 0x20) != 'e' || q == p || !(is_digit(q[-1]) || q[-1] == '.'))
        return 0;
    if (q + 1 < end && q[1] == '+')
        q++;
    return q + 1 < end && is_digit(q[1]);
}

/* Whether q, an '&', starts an HTML character reference: '#', an invisible one a browser reads
 * without its ';' (shy, nbsp, any case: &shyJ), or a named one (a letter, letters and digits, ';':
 * &shy;, &ZeroWidthSpace;, as record_values.VALUE_SHAPES; VEP's '&' joins no ';'). */
static int
html_reference(const unsigned char *q, const unsigned char *end)
{
    if (q + 1 < end && q[1] == '#')
        return 1;
    if (end - q >= 4 && (q[1] | 0x20) == 's' && (q[2] | 0x20) == 'h' && (q[3] | 0x20) == 'y')
        return 1;
    if (end - q >= 5 && (q[1] | 0x20) == 'n' && (q[2] | 0x20) == 'b' && (q[3] | 0x20) == 's' && (q[4] | 0x20) == 'p')
        return 1;
    if (!(q + 1 < end && ((q[1] | 0x20) >= 'a' && (q[1] | 0x20) <= 'z')))
        return 0;
    for (q += 2; q < end && (is_digit(*q) || ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z')); q++)
        ;
    return q < end && *q == ';';
}

/* Whether a String value may hold what the value rule finds (a superset: record_values.py weighs
 * each number again). public_numbers: the subfields (counted by '|', from 0 again after each ',')
 * whose numbers are public IDs (a bit each). */
static int
value_candidate(const unsigned char *p, const unsigned char *end, uint64_t public_numbers, const Prefixes *prefixes)
{
    if (month_date_candidate(p, end))
        return 1;
    int slashes = 0, subfield = 0;
    for (const unsigned char *q = p; q < end; q++) {
        const unsigned char c = *q;
        if (is_word(c) && !is_digit(c)) { /* a word (ENSG00000227232, c.1234A): no number starts inside it */
            for (;; q++) {                 /* but an exponent ends one (1.5e+07) */
                if (exponent_candidate(p, q, end))
                    return 1;
                if (!(q + 1 < end && is_word(q[1])))
                    break;
            }
            continue;
        }
        if (c >= 0x80 || c == '\\' || c == '@')
            return 1;
        if (q + 1 < end && ((c == '%' && ((q[1] >= '8' && q[1] <= '9') || (q[1] >= 'A' && q[1] <= 'F') || (q[1] >= 'a' && q[1] <= 'f')))
                            || (c == '&' && html_reference(q, end)) || (c == ':' && q[1] == '/')))
            return 1;
        if (c == '/' || c == '~') {
            if (q == p || token_edge(q[-1]) || (c == '/' && ++slashes >= 2))
                return 1;
        } else if (token_edge(c)) {
            slashes = 0;
            subfield = c == '|' ? subfield + 1 : c == ',' ? 0 : subfield;
        } else if (is_digit(c) && (q == p || !is_word(q[-1]))) {
            if (date_like(q, end) || delimited_number(q, end))
                return 1;
            const DigitRun run = digit_run(q, end);
            const int public_number = subfield < 64 && (public_numbers >> subfield) & 1;
            if (run.digits >= 7 && !run.range && !public_number && !after_public_prefix(p, q, prefixes)
                && !(run.end + 1 < end && (*run.end == '_' || *run.end == '-') && memchr("ACGTN", run.end[1], 5) != NULL))
                return 1;
            q = run.end - 1;
        }
    }
    return 0;
}

static const unsigned char *
until(const unsigned char *p, const unsigned char *end, unsigned char c)
{
    const unsigned char *found = memchr(p, c, (size_t)(end - p));
    return found == NULL ? end : found;
}

/* The bytes of numbers (and of a genotype's separators): record_values.NUMBERS. 2 marks a digit. */
static const unsigned char NUMBER_BYTE[256] = {
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2, ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
    ['.'] = 1, [','] = 1, ['+'] = 1, ['-'] = 1, ['e'] = 1, ['E'] = 1, ['/'] = 1, ['|'] = 1,
};

enum { LONGEST_INTEGER = 10 }; /* digits of the largest 32-bit Integer, 2147483647 */

/* Whether [p, end) has no run of more digits than an Integer has, but a fraction's (after a '.'). */
static int
digit_runs_fit(const unsigned char *p, const unsigned char *end)
{
    int run = 0;
    for (const unsigned char *q = p; q < end; q++) {
        if (is_digit(*q)) {
            if (run == 0 && q > p && q[-1] == '.')
                run = INT_MIN / 2; /* a fraction: no bound */
            if (++run > LONGEST_INTEGER)
                return 0;
        } else {
            run = 0;
        }
    }
    return 1;
}

/* Whether a GT value [p, end) of a numeric FORMAT list holds a genotype's bytes only, and no run of
 * more digits than an Integer has (record_values.RecordValues.checked with genotype). */
static int
genotype_bytes_only(const unsigned char *p, const unsigned char *end)
{
    for (const unsigned char *q = p; q < end; q++) {
        if (!NUMBER_BYTE[*q])
            return 0;
    }
    return digit_runs_fit(p, end);
}

/* Whether [p, end) spells word (lower case), in any case. */
static int
same_word(const unsigned char *p, const unsigned char *end, const char *word)
{
    const size_t length = strlen(word);
    if ((size_t)(end - p) != length)
        return 0;
    for (size_t i = 0; i < length; i++) {
        if ((p[i] | 0x20) != (unsigned char)word[i])
            return 0;
    }
    return 1;
}

/* Whether [p, end) is one VCF number (VCF 4.4, 1.3; fields.FLOAT_TEXT, an Integer is one too), or a
 * word bcftools reads as an infinite or undefined number (Inf, infinity, NaN). */
static int
vcf_number(const unsigned char *p, const unsigned char *end)
{
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    if (same_word(p, end, "inf") || same_word(p, end, "infinity") || same_word(p, end, "nan"))
        return 1;
    const unsigned char *start = p;
    while (p < end && is_digit(*p))
        p++;
    int digits = p > start;
    if (p < end && *p == '.') {
        const unsigned char *fraction = ++p;
        while (p < end && is_digit(*p))
            p++;
        digits |= p > fraction;
    }
    if (!digits)
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '-' || *p == '+'))
            p++;
        const unsigned char *exponent = p;
        while (p < end && is_digit(*p))
            p++;
        if (p == exponent)
            return 0;
    }
    return p == end;
}

/* Whether [p, end) is numbers a numeric key holds (record_values.numbers_fit): each comma-separated
 * element '.' or a VCF number without a leading zero (010), and no run of more digits than an
 * Integer has but a fraction's. */
static int
numbers_only(const unsigned char *p, const unsigned char *end)
{
    for (const unsigned char *element = p;;) {
        const unsigned char *next = until(element, end, ',');
        if (!(next - element == 1 && *element == '.') && !vcf_number(element, next))
            return 0;
        const unsigned char *digits = element < next && (*element == '-' || *element == '+') ? element + 1 : element;
        if (next - digits > 1 && digits[0] == '0' && is_digit(digits[1]))
            return 0;
        if (next == end)
            break;
        element = next + 1;
    }
    return digit_runs_fit(p, end);
}

enum { MAX_FORMAT_KEYS = 64, MAX_SEEN_ITEMS = 64 };

/* The key lists and names a call is given. */
typedef struct {
    KeyList info;     /* INFO keys whose numbers are not checked */
    KeyList format;   /* FORMAT keys whose numbers are not checked */
    KeyList layouts;  /* INFO keys with gene ID subfields, and their masks */
    KeyList links;    /* INFO keys that link records (MATEID, PARID, EVENT): such a record is picked */
    Prefixes prefixes;
    int definitions;         /* whether the keys and FILTER IDs must be defined by the header (below) */
    KeyList info_defined;    /* INFO keys the header defines */
    KeyList format_defined;  /* FORMAT keys the header defines */
    KeyList filters;         /* FILTER IDs the header declares (PASS is always declared) */
} Lists;

/* What the previous records' keys were found to be, so that the next record, which mostly has the
 * same INFO keys in the same places and the same FORMAT, compares bytes instead of deciding again:
 * a key seen at an item's place passed the ID rule and was looked up in the key lists. */
typedef struct {
    const unsigned char *key[MAX_SEEN_ITEMS];
    Py_ssize_t length[MAX_SEEN_ITEMS];
    uint64_t mask[MAX_SEEN_ITEMS]; /* public-number subfields of a checked value */
    unsigned char checked[MAX_SEEN_ITEMS];
    const unsigned char *format;
    Py_ssize_t format_length;
    int format_keys;
    int genotype; /* the index of GT among the FORMAT keys, or -1 */
    unsigned char format_checked[MAX_FORMAT_KEYS];
} Seen;

static int
seen_before(const unsigned char *seen, Py_ssize_t seen_length, const unsigned char *p, const unsigned char *end)
{
    return seen != NULL && seen_length == end - p && memcmp(seen, p, (size_t)seen_length) == 0;
}

/* A symbolic allele's ID off the ALT grammar, or a breakend (a link), in an ALT column [p, end). */
static int
alt_candidate(const unsigned char *p, const unsigned char *end)
{
    if (memchr(p, '[', (size_t)(end - p)) != NULL || memchr(p, ']', (size_t)(end - p)) != NULL)
        return 1;
    for (const unsigned char *allele = p; allele < end;) {
        const unsigned char *next = until(allele, end, ',');
        const unsigned char *inner_end = next[-1] == '>' && next - allele > 1 ? next - 1 : next;
        if (*allele == '<' && (inner_end == allele + 1 || id_candidate(allele + 1, inner_end, ID_ALT)))
            return 1;
        allele = next + 1;
    }
    return 0;
}

/* A FILTER ID off the FILTER grammar, or (with definitions) one the header does not declare, in a
 * FILTER column [p, end). */
static int
filter_candidate(const unsigned char *p, const unsigned char *end, const Lists *lists)
{
    if (end - p == 1 && *p == '.')
        return 0;
    for (const unsigned char *id = p; id <= end;) {
        const unsigned char *next = until(id, end, ';');
        if (next > id && id_candidate(id, next, ID_FILTER))
            return 1;
        if (next > id && lists->definitions && !(next - id == 4 && memcmp(id, "PASS", 4) == 0)
            && listed(&lists->filters, id, next) < 0)
            return 1;
        id = next + 1;
    }
    return 0;
}

/* A key off the INFO grammar, or a value the value rule may find, in an INFO column [p, end). */
static int
info_candidate(const unsigned char *p, const unsigned char *end, const Lists *lists, Seen *seen)
{
    if (end - p == 1 && *p == '.')
        return 0;
    int place = 0;
    for (const unsigned char *item = p; item <= end; place++) {
        const unsigned char *next = until(item, end, ';');
        const unsigned char *equals = until(item, next, '=');
        int checked;
        uint64_t mask;
        if (next == item)
            return 1; /* an empty item (a ';' at the end, or ";;") goes */
        if (place < MAX_SEEN_ITEMS && seen_before(seen->key[place], seen->length[place], item, equals)) {
            checked = seen->checked[place];
            mask = seen->mask[place];
        } else {
            if (id_candidate(item, equals, ID_FIELD) || listed(&lists->links, item, equals) >= 0)
                return 1; /* a link is picked (never remembered) */
            if (lists->definitions && listed(&lists->info_defined, item, equals) < 0)
                return 1; /* a key the header does not define */
            checked = listed(&lists->info, item, equals) < 0;
            const Py_ssize_t layout = checked ? listed(&lists->layouts, item, equals) : -1;
            mask = layout < 0 ? 0 : lists->layouts.masks[layout];
            if (place < MAX_SEEN_ITEMS) {
                seen->key[place] = item;
                seen->length[place] = equals - item;
                seen->checked[place] = (unsigned char)checked;
                seen->mask[place] = mask;
            }
        }
        if (equals < next && (checked || !numbers_only(equals + 1, next))
            && value_candidate(equals + 1, next, mask, &lists->prefixes))
            return 1;
        item = next + 1;
    }
    return 0;
}

/* The FORMAT keys of [p, end) into seen (which keys' values are checked); 1 if a key is off the grammar
 * or given before (record_values.repeated_keys: the later copy goes). */
static int
format_keys_candidate(const unsigned char *p, const unsigned char *end, const Lists *lists, Seen *seen)
{
    if (seen_before(seen->format, seen->format_length, p, end))
        return 0;
    seen->format = NULL;
    seen->genotype = -1;
    const unsigned char *starts[MAX_FORMAT_KEYS];
    Py_ssize_t lengths[MAX_FORMAT_KEYS];
    int keys = 0;
    for (const unsigned char *key = p; key <= end; keys++) {
        const unsigned char *next = until(key, end, ':');
        if (keys == MAX_FORMAT_KEYS || id_candidate(key, next, ID_FIELD))
            return 1;
        for (int before = 0; before < keys; before++)
            if (lengths[before] == next - key && memcmp(starts[before], key, (size_t)(next - key)) == 0)
                return 1;
        starts[keys] = key;
        lengths[keys] = next - key;
        if (lists->definitions && listed(&lists->format_defined, key, next) < 0)
            return 1;
        if (next - key == 2 && key[0] == 'G' && key[1] == 'T' && seen->genotype < 0)
            seen->genotype = keys;
        seen->format_checked[keys] = listed(&lists->format, key, next) < 0;
        key = next + 1;
    }
    seen->format = p;
    seen->format_length = end - p;
    seen->format_keys = keys;
    return 0;
}

enum { MAX_ALLELE_DIGITS = 9, MAX_PLOIDY = 8 };

/* Whether a GT value [p, end) is off the genotype grammar (record_values.genotype_off_grammar):
 * '.' or allele numbers up to alleles without a leading zero, at most MAX_PLOIDY of them, joined by
 * '/' or '|', a phase marker may lead (VCF 4.4). */
static int
genotype_off_grammar(const unsigned char *p, const unsigned char *end, Py_ssize_t alleles)
{
    if (p < end && (*p == '/' || *p == '|'))
        p++;
    for (int ploidy = 1;; ploidy++) {
        if (ploidy > MAX_PLOIDY)
            return 1;
        if (p < end && *p == '.') {
            p++;
        } else {
            const unsigned char *start = p;
            Py_ssize_t value = 0;
            while (p < end && is_digit(*p)) {
                if (p - start < MAX_ALLELE_DIGITS)
                    value = value * 10 + (*p - '0');
                p++;
            }
            if (p == start || p - start > MAX_ALLELE_DIGITS || value > alleles || (p - start > 1 && *start == '0'))
                return 1;
        }
        if (p == end)
            return 0;
        if (*p != '/' && *p != '|')
            return 1;
        p++;
    }
}

/* The GT value of a sample column [p, end), the seen FORMAT's key genotype, off its grammar. */
static int
sample_genotype_off(const unsigned char *p, const unsigned char *end, const Seen *seen, Py_ssize_t alleles)
{
    const unsigned char *value = p;
    for (int index = 0; index < seen->genotype; index++) {
        const unsigned char *next = until(value, end, ':');
        if (next == end)
            return 0; /* fewer values than keys: no GT written */
        value = next + 1;
    }
    return genotype_off_grammar(value, until(value, end, ':'), alleles);
}

/* A value the value rule may find, or a value beyond the FORMAT keys, in a sample column [p, end);
 * with definitions, a GT value off its grammar (alleles: how many ALT alleles the record has). */
static int
sample_candidate(const unsigned char *p, const unsigned char *end, const Lists *lists, const Seen *seen, Py_ssize_t alleles)
{
    if (lists->definitions && seen->genotype >= 0 && sample_genotype_off(p, end, seen, alleles))
        return 1;
    int index = 0;
    for (const unsigned char *value = p; value <= end; index++) {
        const unsigned char *next = until(value, end, ':');
        if (index == seen->format_keys)
            return 1;
        const int numbers = index == seen->genotype ? genotype_bytes_only(value, next) : numbers_only(value, next);
        if ((seen->format_checked[index] || !numbers) && value_candidate(value, next, 0, &lists->prefixes))
            return 1;
        value = next + 1;
    }
    return 0;
}

/* Whether the record text from ALT (p) to the line's end may hold an identifier. */
static int
record_candidate(const unsigned char *p, const unsigned char *end, const Lists *lists, Seen *seen)
{
    const unsigned char *column = p, *tab = until(p, end, '\t');
    Py_ssize_t alleles = 0; /* ALT alleles: 0 for '.' */
    if (!(tab - column == 1 && *column == '.'))
        for (const unsigned char *q = column; q <= tab; q = until(q, tab, ',') + 1)
            alleles++;
    for (int index = 4;; index++) { /* the column from ALT on */
        if (index == 8 && tab - column == 1 && *column == '.')
            return 0; /* no FORMAT: the samples are not looked at */
        const int found = index == 4   ? alt_candidate(column, tab)
                          : index == 6 ? filter_candidate(column, tab, lists)
                          : index == 7 ? info_candidate(column, tab, lists, seen)
                          : index == 8 ? format_keys_candidate(column, tab, lists, seen)
                          : index > 8  ? sample_candidate(column, tab, lists, seen, alleles)
                                       : 0;
        if (found)
            return 1;
        if (tab == end)
            return 0;
        column = tab + 1;
        tab = until(column, end, '\t');
    }
}

PyDoc_STRVAR(vcf_identifier_candidates_doc,
"vcf_identifier_candidates(text, starts, ends, info_unchecked, format_unchecked, layout_keys, layout_masks,\n"
"                          colon_names, underscore_names, link_keys, definitions, info_defined,\n"
"                          format_defined, filters_declared) -> bytearray\n"
"\n"
"For each span text[starts[i]:ends[i]], a VCF record from its ALT column to its line's\n"
"end, 1 if it may hold what record_values.py removes (a superset of its two rules: the\n"
"ID rule over symbolic ALT IDs, FILTER IDs, INFO and FORMAT keys; the value rule over\n"
"INFO values and sample values, except numbers of the keys listed unchecked), else 0.\n"
"The INFO values of layout_keys[k] may hold numbers of 7+ digits in the '|'-separated\n"
"subfields whose bits are set in layout_masks[k] (public gene IDs of an annotation).\n"
"A number may follow a name of colon_names and ':' (contigs) or of underscore_names\n"
"and '_' (contigs, accession prefixes). A record that links to others (an INFO key of\n"
"link_keys, a breakend ALT) is picked too. With definitions true, so is a record with an\n"
"INFO key not in info_defined, a FORMAT key not in format_defined, a FILTER ID other than\n"
"PASS not in filters_declared, or a GT value off the genotype grammar (at most 8 allele\n"
"numbers up to the record's ALT count, no leading zero). A FORMAT naming a key twice is\n"
"picked too.");

static PyObject *
vcf_identifier_candidates(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object, *info_object, *format_object, *layout_object, *mask_object, *colon_object,
        *underscore_object, *link_object, *info_defined_object, *format_defined_object, *filters_object;
    int definitions;
    if (!PyArg_ParseTuple(args, "y*OOO!O!O!O!O!O!O!pO!O!O!", &text, &starts_object, &ends_object, &PyList_Type, &info_object,
                          &PyList_Type, &format_object, &PyList_Type, &layout_object, &PyList_Type, &mask_object, &PyList_Type,
                          &colon_object, &PyList_Type, &underscore_object, &PyList_Type, &link_object, &definitions, &PyList_Type,
                          &info_defined_object, &PyList_Type, &format_defined_object, &PyList_Type, &filters_object))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    Lists lists;
    memset(&lists, 0, sizeof lists);
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    if (key_list(info_object, NULL, &lists.info) < 0 || key_list(format_object, NULL, &lists.format) < 0
        || key_list(layout_object, mask_object, &lists.layouts) < 0 || key_list(colon_object, NULL, &lists.prefixes.colon) < 0
        || key_list(underscore_object, NULL, &lists.prefixes.underscore) < 0 || key_list(link_object, NULL, &lists.links) < 0
        || key_list(info_defined_object, NULL, &lists.info_defined) < 0 || key_list(format_defined_object, NULL, &lists.format_defined) < 0
        || key_list(filters_object, NULL, &lists.filters) < 0)
        goto release_all;
    lists.definitions = definitions;
    result = PyByteArray_FromStringAndSize(NULL, count);
    if (result == NULL)
        goto release_all;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf;
    const int64_t *start = starts.buf, *end = ends.buf;
    Seen seen;
    memset(&seen, 0, sizeof seen);
    for (Py_ssize_t i = 0; i < count; i++)
        out[i] = (unsigned char)record_candidate(bytes + start[i], bytes + end[i], &lists, &seen);
release_all:
    free_keys(&lists.info);
    free_keys(&lists.format);
    free_keys(&lists.layouts);
    free_keys(&lists.prefixes.colon);
    free_keys(&lists.prefixes.underscore);
    free_keys(&lists.links);
    free_keys(&lists.info_defined);
    free_keys(&lists.format_defined);
    free_keys(&lists.filters);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

/* --- SAM records ------------------------------------------------------------------------- */

/* Index of a SAM tag's two-letter name in a 65536-entry table. */
#define TAG_CODE(p) (((unsigned int)(unsigned char)(p)[0] << 8) | (unsigned char)(p)[1])

/* Append to out the tags of [tags, tags_end) (each led by a tab) whose name is in keep;
 * set *has_md / *has_nm when an MD or NM tag is among all of them. */
static char *
kept_tags(char *out, const char *tags, const char *tags_end, const unsigned char *keep, int *has_md, int *has_nm)
{
    const char *tag = tags;
    while (tag < tags_end) {
        const char *next = memchr(tag + 1, '\t', (size_t)(tags_end - tag - 1));
        if (next == NULL)
            next = tags_end;
        const Py_ssize_t length = next - tag - 1; /* without its tab */
        if (length >= 2) {
            const unsigned int code = TAG_CODE(tag + 1);
            *has_md |= code == TAG_CODE("MD");
            *has_nm |= code == TAG_CODE("NM");
            if (keep[code]) {
                memcpy(out, tag, (size_t)(next - tag));
                out += next - tag;
            }
        }
        tag = next;
    }
    return out;
}

PyDoc_STRVAR(sam_revert_matches_doc,
"sam_revert_matches(text, line_starts, sequence_starts, sequence_ends, quality_ends, line_ends,\n"
"                   reference, offsets, keep_unchanged, keep_changed) -> (lines, changed, bases)\n"
"\n"
"sam-revert-germline --all for records of one M run (CIGAR = SEQ length), as\n"
"scan_python.sam_revert_matches does it: each read's SEQ is compared with\n"
"reference[offsets[i]:offsets[i] + its length]. A read equal to it (ignoring case)\n"
"keeps its line up to QUAL and the tags named in keep_unchanged; another read gets\n"
"the reference as SEQ, the tags named in keep_changed, then MD:Z:<length> and NM:i:0\n"
"where it had MD or NM. A changed read over an N of the reference is left to the\n"
"general path: None in lines. keep_*: 65536 bytes, nonzero at (first letter << 8 |\n"
"second letter) of a tag to keep. changed and bases: reads changed and their bases\n"
"that differed (case counts), for the report.");

static PyObject *
sam_revert_matches(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, reference, keep_unchanged, keep_changed;
    PyObject *objects[6];
    if (!PyArg_ParseTuple(args, "y*OOOOOy*Oy*y*", &text, &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &reference, &objects[5], &keep_unchanged, &keep_changed))
        return NULL;
    static const char *names[6] = {"line_starts", "sequence_starts", "sequence_ends", "quality_ends", "line_ends", "offsets"};
    Py_buffer arrays[6];
    int got = 0;
    PyObject *lines = NULL, *result = NULL;
    for (; got < 6; got++) {
        if (int64_buffer(objects[got], &arrays[got], names[got]) < 0)
            goto release;
    }
    const Py_ssize_t count = arrays[0].len / (Py_ssize_t)sizeof(int64_t);
    for (int i = 1; i < 6; i++) {
        if (arrays[i].len != arrays[0].len) {
            PyErr_SetString(PyExc_ValueError, "the offset arrays must have one length");
            goto release;
        }
    }
    if (keep_unchanged.len != 65536 || keep_changed.len != 65536) {
        PyErr_SetString(PyExc_ValueError, "keep tables must hold 65536 bytes");
        goto release;
    }
    const int64_t *line_start = arrays[0].buf, *sequence_start = arrays[1].buf, *sequence_end = arrays[2].buf;
    const int64_t *quality_end = arrays[3].buf, *line_stop = arrays[4].buf, *offset = arrays[5].buf;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (line_start[i] < 0 || line_start[i] > sequence_start[i] || sequence_start[i] > sequence_end[i]
            || sequence_end[i] >= quality_end[i] || quality_end[i] > line_stop[i] || line_stop[i] > text.len || offset[i] < 0
            || offset[i] + (sequence_end[i] - sequence_start[i]) > reference.len) {
            PyErr_SetString(PyExc_IndexError, "a record's offsets lie outside the text or the reference");
            goto release;
        }
    }
    lines = PyList_New(count);
    if (lines == NULL)
        goto release;
    const char *bytes = text.buf, *bases = reference.buf;
    const unsigned char *keep_same = keep_unchanged.buf, *keep_new = keep_changed.buf;
    Py_ssize_t changed = 0, differing_bases = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const char *read = bytes + sequence_start[i], *target = bases + offset[i];
        const Py_ssize_t size = (Py_ssize_t)(sequence_end[i] - sequence_start[i]);
        Py_ssize_t raw = 0;
        int differs = 0, unknown = 0;
        for (Py_ssize_t j = 0; j < size; j++) {
            const unsigned char base = (unsigned char)read[j], wanted = (unsigned char)target[j];
            raw += base != wanted;
            differs |= (base >= 'a' && base <= 'z' ? base - 32 : base) != wanted;
            unknown |= wanted == 'N';
        }
        PyObject *line;
        if (differs && unknown) {
            line = Py_NewRef(Py_None);
        } else {
            /* the longest line: the record up to QUAL, its tags, and "\tMD:Z:<digits>\tNM:i:0" */
            const Py_ssize_t bound = (Py_ssize_t)(line_stop[i] - line_start[i]) + 40;
            line = PyBytes_FromStringAndSize(NULL, bound);
            if (line == NULL)
                goto release;
            char *out = PyBytes_AS_STRING(line);
            int has_md = 0, has_nm = 0;
            if (!differs) {
                memcpy(out, bytes + line_start[i], (size_t)(quality_end[i] - line_start[i]));
                out += quality_end[i] - line_start[i];
                out = kept_tags(out, bytes + quality_end[i], bytes + line_stop[i], keep_same, &has_md, &has_nm);
            } else {
                memcpy(out, bytes + line_start[i], (size_t)(sequence_start[i] - line_start[i]));
                out += sequence_start[i] - line_start[i];
                memcpy(out, target, (size_t)size);
                out += size;
                memcpy(out, bytes + sequence_end[i], (size_t)(quality_end[i] - sequence_end[i]));
                out += quality_end[i] - sequence_end[i];
                out = kept_tags(out, bytes + quality_end[i], bytes + line_stop[i], keep_new, &has_md, &has_nm);
                if (has_md)
                    out += sprintf(out, "\tMD:Z:%zd", size);
                if (has_nm) {
                    memcpy(out, "\tNM:i:0", 7);
                    out += 7;
                }
                changed++;
                differing_bases += raw;
            }
            if (_PyBytes_Resize(&line, out - PyBytes_AS_STRING(line)) < 0)
                goto release;
        }
        PyList_SET_ITEM(lines, i, line);
    }
    result = Py_BuildValue("Onn", lines, changed, differing_bases);
release:
    Py_XDECREF(lines);
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&arrays[i]);
    PyBuffer_Release(&text);
    PyBuffer_Release(&reference);
    PyBuffer_Release(&keep_unchanged);
    PyBuffer_Release(&keep_changed);
    return result;
}

PyDoc_STRVAR(splice_lines_doc,
"splice_lines(text, line_starts, line_ends, rows, lines) -> bytes\n"
"\n"
"text (whole lines; line_ends: each line's newline) with line rows[k] replaced by\n"
"lines[k], or removed with its newline where lines[k] is None. rows: increasing\n"
"int64; lines: a list as long. Every other line is copied as it is.");

static PyObject *
splice_lines(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *objects[3], *lines;
    if (!PyArg_ParseTuple(args, "y*OOOO!", &text, &objects[0], &objects[1], &objects[2], &PyList_Type, &lines))
        return NULL;
    static const char *names[3] = {"line_starts", "line_ends", "rows"};
    Py_buffer arrays[3];
    int got = 0;
    PyObject *result = NULL;
    for (; got < 3; got++) {
        if (int64_buffer(objects[got], &arrays[got], names[got]) < 0)
            goto release;
    }
    const Py_ssize_t line_count = arrays[0].len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t count = arrays[2].len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *start = arrays[0].buf, *end = arrays[1].buf, *row = arrays[2].buf;
    if (arrays[1].len != arrays[0].len || PyList_GET_SIZE(lines) != count) {
        PyErr_SetString(PyExc_ValueError, "line_starts and line_ends, rows and lines must have one length each");
        goto release;
    }
    Py_ssize_t size = text.len;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *line = PyList_GET_ITEM(lines, k);
        if (row[k] < 0 || row[k] >= line_count || (k > 0 && row[k] <= row[k - 1]) || end[row[k]] >= text.len
            || start[row[k]] > end[row[k]] || start[row[k]] < 0 || (k > 0 && start[row[k]] <= end[row[k - 1]])) {
            PyErr_SetString(PyExc_IndexError, "rows must increase and name lines of the text");
            goto release;
        }
        if (line != Py_None && !PyBytes_Check(line)) {
            PyErr_SetString(PyExc_TypeError, "lines must hold bytes or None");
            goto release;
        }
        size -= (Py_ssize_t)(end[row[k]] - start[row[k]]) + (line == Py_None);
        if (line != Py_None)
            size += PyBytes_GET_SIZE(line);
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        goto release;
    char *out = PyBytes_AS_STRING(result);
    const char *bytes = text.buf;
    int64_t copied = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *line = PyList_GET_ITEM(lines, k);
        memcpy(out, bytes + copied, (size_t)(start[row[k]] - copied));
        out += start[row[k]] - copied;
        if (line != Py_None) {
            memcpy(out, PyBytes_AS_STRING(line), (size_t)PyBytes_GET_SIZE(line));
            out += PyBytes_GET_SIZE(line);
            copied = end[row[k]];       /* its newline comes with the next copy */
        } else {
            copied = end[row[k]] + 1;   /* the line and its newline go */
        }
    }
    memcpy(out, bytes + copied, (size_t)(text.len - copied));
release:
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&arrays[i]);
    PyBuffer_Release(&text);
    return result;
}

/* --- SAM-like lines: the first tabs of each line and the fields after them ------------------ */

PyDoc_STRVAR(line_fields_doc,
"line_fields(text, tabs_kept) -> (count, starts, ends, tabs, extra_starts, extra_ends, extra_counts, bad_row)\n"
"\n"
"Locate, in one pass, the lines of text that end in a newline (bytes after the last\n"
"newline are no line): each line's start and end (its newline's offset), the offsets\n"
"of its first tabs_kept tabs (count x tabs_kept), and the fields after them: for each\n"
"further tab, its offset (extra_starts) and that of the next tab or newline of its line\n"
"(extra_ends), with extra_counts such fields a line. All as bytearrays of int64.\n"
"bad_row is -1, or the first line with fewer than tabs_kept tabs: the lines from it\n"
"on are then left out (count is bad_row).");

/* Append one int64 to a growing malloc'd pair of arrays; 0 on success, -1 out of memory. */
static int
grow_pair(int64_t **first, int64_t **second, Py_ssize_t *capacity)
{
    const Py_ssize_t larger = *capacity * 2 + 64;
    int64_t *a = realloc(*first, (size_t)larger * sizeof(int64_t));
    if (a == NULL)
        return -1;
    *first = a;
    int64_t *b = realloc(*second, (size_t)larger * sizeof(int64_t));
    if (b == NULL)
        return -1;
    *second = b;
    *capacity = larger;
    return 0;
}

static PyObject *
line_fields(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t tabs_kept;
    if (!PyArg_ParseTuple(args, "y*n", &view, &tabs_kept))
        return NULL;
    if (tabs_kept < 1) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "tabs_kept must be at least 1");
        return NULL;
    }
    const char *text = view.buf;
    const char *text_end = text + view.len;
    const Py_ssize_t lines = count_newlines(text, text_end);
    PyObject *starts = int64_array(lines), *ends = int64_array(lines), *tabs = int64_array(lines * tabs_kept);
    PyObject *counts = int64_array(lines), *extra_starts = NULL, *extra_ends = NULL, *result = NULL;
    Py_ssize_t capacity = lines * 8, extra = 0, count = lines, bad_row = -1;
    int64_t *extra_start = malloc((size_t)(capacity + 1) * sizeof(int64_t));
    int64_t *extra_end = malloc((size_t)(capacity + 1) * sizeof(int64_t));
    int failed = extra_start == NULL || extra_end == NULL;
    if (starts == NULL || ends == NULL || tabs == NULL || counts == NULL || failed)
        goto done;
    int64_t *start_out = (int64_t *)PyByteArray_AS_STRING(starts);
    int64_t *end_out = (int64_t *)PyByteArray_AS_STRING(ends);
    int64_t *tab_out = (int64_t *)PyByteArray_AS_STRING(tabs);
    int64_t *count_out = (int64_t *)PyByteArray_AS_STRING(counts);

    Py_BEGIN_ALLOW_THREADS
    const char *line = text;
    for (Py_ssize_t row = 0; row < lines && !failed; row++) {
        const char *line_end = memchr(line, '\n', (size_t)(text_end - line));
        int64_t *row_tabs = tab_out + row * tabs_kept;
        Py_ssize_t found = 0;
        const char *p = line;
        while (found < tabs_kept && (p = memchr(p, '\t', (size_t)(line_end - p))) != NULL) {
            row_tabs[found++] = p - text;
            p++;
        }
        if (found < tabs_kept) {
            bad_row = count = row;
            break;
        }
        start_out[row] = line - text;
        end_out[row] = line_end - text;
        const Py_ssize_t first = extra;
        while ((p = memchr(p, '\t', (size_t)(line_end - p))) != NULL) {
            if (extra == capacity && grow_pair(&extra_start, &extra_end, &capacity) < 0) {
                failed = 1;
                break;
            }
            extra_start[extra++] = p - text;
            p++;
        }
        for (Py_ssize_t k = first; k + 1 < extra; k++)
            extra_end[k] = extra_start[k + 1];
        if (extra > first)
            extra_end[extra - 1] = line_end - text;
        count_out[row] = extra - first;
        line = line_end + 1;
    }
    Py_END_ALLOW_THREADS

    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    if (count < lines
        && (PyByteArray_Resize(starts, count * (Py_ssize_t)sizeof(int64_t)) < 0
            || PyByteArray_Resize(ends, count * (Py_ssize_t)sizeof(int64_t)) < 0
            || PyByteArray_Resize(tabs, count * tabs_kept * (Py_ssize_t)sizeof(int64_t)) < 0
            || PyByteArray_Resize(counts, count * (Py_ssize_t)sizeof(int64_t)) < 0))
        goto done;
    extra_starts = PyByteArray_FromStringAndSize((const char *)extra_start, extra * (Py_ssize_t)sizeof(int64_t));
    extra_ends = PyByteArray_FromStringAndSize((const char *)extra_end, extra * (Py_ssize_t)sizeof(int64_t));
    if (extra_starts == NULL || extra_ends == NULL)
        goto done;
    result = Py_BuildValue("nOOOOOOn", count, starts, ends, tabs, extra_starts, extra_ends, counts, bad_row);
done:
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    Py_XDECREF(tabs);
    Py_XDECREF(counts);
    Py_XDECREF(extra_starts);
    Py_XDECREF(extra_ends);
    free(extra_start);
    free(extra_end);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(splice_spans_doc,
"splice_spans(text, starts, ends, pieces, choices) -> bytes\n"
"\n"
"text with each span text[starts[i]:ends[i]] replaced by pieces[choices[i]]. The spans\n"
"(int64 arrays) must be in order and not overlap; pieces is a list of bytes and\n"
"choices an int64 array as long as starts, each an index into pieces.");

static PyObject *
splice_spans(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object, *pieces, *choices_object;
    if (!PyArg_ParseTuple(args, "y*OOO!O", &text, &starts_object, &ends_object, &PyList_Type, &pieces, &choices_object))
        return NULL;
    Py_buffer starts, ends, choices;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    if (int64_buffer(choices_object, &choices, "choices") < 0)
        goto release_spans;
    const int64_t *start = starts.buf, *end = ends.buf, *choice = choices.buf;
    const Py_ssize_t piece_count = PyList_GET_SIZE(pieces);
    if (choices.len != starts.len) {
        PyErr_SetString(PyExc_ValueError, "choices must be as long as starts");
        goto release_all;
    }
    for (Py_ssize_t k = 0; k < piece_count; k++) {
        if (!PyBytes_Check(PyList_GET_ITEM(pieces, k))) {
            PyErr_SetString(PyExc_TypeError, "pieces must hold bytes");
            goto release_all;
        }
    }
    Py_ssize_t size = text.len;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i > 0 && start[i] < end[i - 1]) {
            PyErr_SetString(PyExc_ValueError, "spans out of order or overlapping");
            goto release_all;
        }
        if (choice[i] < 0 || choice[i] >= piece_count) {
            PyErr_SetString(PyExc_IndexError, "choice outside pieces");
            goto release_all;
        }
        size += PyBytes_GET_SIZE(PyList_GET_ITEM(pieces, choice[i])) - (Py_ssize_t)(end[i] - start[i]);
    }
    result = PyBytes_FromStringAndSize(NULL, size);
    if (result == NULL)
        goto release_all;
    char *out = PyBytes_AS_STRING(result);
    const char *bytes = text.buf;
    int64_t copied = 0;
    for (Py_ssize_t i = 0; i < count; i++) {  /* with the GIL: the list's items are read */
        PyObject *piece = PyList_GET_ITEM(pieces, choice[i]);
        memcpy(out, bytes + copied, (size_t)(start[i] - copied));
        out += start[i] - copied;
        memcpy(out, PyBytes_AS_STRING(piece), (size_t)PyBytes_GET_SIZE(piece));
        out += PyBytes_GET_SIZE(piece);
        copied = end[i];
    }
    memcpy(out, bytes + copied, (size_t)(text.len - copied));
release_all:
    PyBuffer_Release(&choices);
release_spans:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

/* --- MD strings (SAM optional fields, MD:Z) --------------------------------------------------- */

PyDoc_STRVAR(md_lengths_doc,
"md_lengths(text, starts, ends, letters) -> bytearray\n"
"\n"
"The reference bases each MD string text[starts[i]:ends[i]] describes (its numbers,\n"
"its mismatched and deleted bases), as int64, or -1 where the span is off the MD\n"
"grammar [0-9]{1,9}(([L]|\\^[L]+)[0-9]{1,9})*, L the bytes nonzero in letters\n"
"(256 entries). A number's digits add up as written (leading zeros allowed).");

/* The length an MD string describes, or -1 off the grammar. */
static int64_t
md_length(const unsigned char *p, const unsigned char *end, const unsigned char *letters)
{
    int64_t total = 0;
    for (;;) {
        int64_t number = 0;
        int digits = 0;
        while (p < end && *p >= '0' && *p <= '9') {
            if (++digits > 9)
                return -1;
            number = number * 10 + (*p++ - '0');
        }
        if (digits == 0)
            return -1;
        total += number;
        if (p == end)
            return total;
        if (*p == '^') {
            p++;
            if (p == end || !letters[*p])
                return -1;
            while (p < end && letters[*p]) {
                total++;
                p++;
            }
        } else if (letters[*p]) {
            total++;
            p++;
        } else {
            return -1;
        }
    }
}

static PyObject *
md_lengths(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, letters;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &letters))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (letters.len != 256) {
        PyErr_SetString(PyExc_ValueError, "letters must have 256 entries");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    result = int64_array(count);
    if (result == NULL)
        goto release_all;
    const int64_t *start = starts.buf, *end = ends.buf;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *table = letters.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++)
        out[i] = md_length(bytes + start[i], bytes + end[i], table);
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&letters);
    return result;
}

PyDoc_STRVAR(md_bases_at_doc,
"md_bases_at(text, starts, ends, letters, offsets) -> bytearray\n"
"\n"
"What each MD string text[starts[i]:ends[i]] says of the reference base at offset\n"
"offsets[i] of the bases it describes, as int64: 0 a match, the letter's byte for a\n"
"mismatch, 256 plus the letter's byte for a deleted base; -1 where the offset is\n"
"negative or past what the string describes, or the span is off the MD grammar\n"
"(md_lengths, L the bytes nonzero in letters, 256 entries).");

/* What an MD string says at one offset of the bases it describes (md_bases_at). */
static int64_t
md_base_at(const unsigned char *p, const unsigned char *end, const unsigned char *letters, int64_t offset)
{
    if (offset < 0 || md_length(p, end, letters) < 0)
        return -1;
    int64_t at = 0;
    for (;;) {
        int64_t number = 0;
        while (p < end && *p >= '0' && *p <= '9')
            number = number * 10 + (*p++ - '0');
        if (offset < at + number)
            return 0;
        at += number;
        if (p == end)
            return -1;
        if (*p == '^') {
            p++;
            while (p < end && letters[*p]) {
                if (at++ == offset)
                    return 256 + *p;
                p++;
            }
        } else {
            if (at++ == offset)
                return *p;
            p++;
        }
    }
}

static PyObject *
md_bases_at(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, letters, offsets;
    PyObject *starts_object, *ends_object, *offsets_object;
    if (!PyArg_ParseTuple(args, "y*OOy*O", &text, &starts_object, &ends_object, &letters, &offsets_object))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (letters.len != 256) {
        PyErr_SetString(PyExc_ValueError, "letters must have 256 entries");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    if (int64_buffer(offsets_object, &offsets, "offsets") < 0)
        goto release_spans;
    if (offsets.len != starts.len) {
        PyErr_SetString(PyExc_ValueError, "offsets and starts must have one length");
        goto release_all;
    }
    result = int64_array(count);
    if (result == NULL)
        goto release_all;
    const int64_t *start = starts.buf, *end = ends.buf, *offset = offsets.buf;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *table = letters.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++)
        out[i] = md_base_at(bytes + start[i], bytes + end[i], table, offset[i]);
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&offsets);
release_spans:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&letters);
    return result;
}

PyDoc_STRVAR(cigar_lengths_doc,
"cigar_lengths(text, starts, ends, operations, counted) -> bytearray\n"
"\n"
"For each span text[starts[i]:ends[i]]: the sum of the lengths of its operations\n"
"whose letter is nonzero in counted, as int64, or -1 where the span is off the CIGAR\n"
"grammar ([0-9]{1,9}[O])+, O the letters nonzero in operations (both 256 entries).");

static PyObject *
cigar_lengths(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, operations, counted;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*y*", &text, &starts_object, &ends_object, &operations, &counted))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (operations.len != 256 || counted.len != 256) {
        PyErr_SetString(PyExc_ValueError, "operations and counted must have 256 entries");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    result = int64_array(count);
    if (result == NULL)
        goto release_all;
    const int64_t *start = starts.buf, *end = ends.buf;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *allowed = operations.buf, *summed = counted.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *p = bytes + start[i], *stop = bytes + end[i];
        int64_t total = 0;
        if (p == stop)
            total = -1;
        while (p < stop) {
            int64_t number = 0;
            int digits = 0;
            while (p < stop && *p >= '0' && *p <= '9' && digits < 10) {
                number = number * 10 + (*p++ - '0');
                digits++;
            }
            if (digits == 0 || digits > 9 || p == stop || !allowed[*p]) {
                total = -1;
                break;
            }
            if (summed[*p])
                total += number;
            p++;
        }
        out[i] = total;
    }
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&operations);
    PyBuffer_Release(&counted);
    return result;
}

PyDoc_STRVAR(keyed_name_hashes_doc,
"keyed_name_hashes(text, starts, ends, key) -> bytearray\n"
"\n"
"A keyed 64-bit hash of each span text[starts[i]:ends[i]] (a read name), as native uint64:\n"
"h = length * k[0]; for each 8 bytes of the span (little-endian, the last zero-padded)\n"
"h = (h ^ word) * k[1 + column], h ^= h >> 32; then h * k[n - 3] through MurmurHash3's\n"
"finalizer. key holds n uint64 multipliers (8 n bytes); a span of more than 8 (n - 4) bytes\n"
"is a ValueError.");

static PyObject *
keyed_name_hashes(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, key;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &key))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    Py_ssize_t words = key.len / 8;
    if (key.len % 8 != 0 || words < 5) {
        PyErr_SetString(PyExc_ValueError, "key must hold 5 or more uint64 words");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    for (Py_ssize_t i = 0; i < count; i++)
        if (end[i] - start[i] > 8 * (words - 4)) {
            PyErr_SetString(PyExc_ValueError, "a span longer than the key covers");
            goto release_all;
        }
    result = PyByteArray_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint64_t));
    if (result == NULL)
        goto release_all;
    uint64_t multipliers[64];
    Py_ssize_t kept = words < 64 ? words : 64;
    for (Py_ssize_t k = 0; k < kept; k++) {
        const unsigned char *w = (const unsigned char *)key.buf + 8 * k;
        uint64_t value = 0;
        for (int b = 7; b >= 0; b--)
            value = (value << 8) | w[b];
        multipliers[k] = value;
    }
    const uint64_t final = multipliers[(words < 64 ? words : 64) - 3];
    uint64_t *out = (uint64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *p = bytes + start[i];
        int64_t length = end[i] - start[i];
        uint64_t h = (uint64_t)length * multipliers[0];
        for (int64_t column = 0; 8 * column < length; column++) {
            int64_t left = length - 8 * column;
            uint64_t word = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            if (left >= 8)
                memcpy(&word, p + 8 * column, 8);
            else
#endif
                for (int b = (int)(left < 8 ? left : 8) - 1; b >= 0; b--)
                    word = (word << 8) | p[8 * column + b];
            h = (h ^ word) * multipliers[1 + column];
            h ^= h >> 32;
        }
        h *= final;
        h ^= h >> 33;
        h *= UINT64_C(0xFF51AFD7ED558CCD);
        h ^= h >> 33;
        h *= UINT64_C(0xC4CEB9FE1A85EC53);
        h ^= h >> 33;
        out[i] = h;
    }
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&key);
    return result;
}

/* --- BAM records (SAM 1.6, section 4.2) ------------------------------------------------------ */

enum {
    BAM_OFFSET, BAM_REF_ID, BAM_POS, BAM_FLAG, BAM_NAME_LENGTH, BAM_CIGAR_COUNT, BAM_SEQUENCE_LENGTH, BAM_END,
    BAM_REFERENCE_LENGTH, BAM_FIRST_OPERATION, BAM_CONTIGUOUS, BAM_LEADING_CLIP, BAM_LAID_LENGTH, BAM_CIGAR_START,
    BAM_SEQUENCE_START, BAM_OFF_GRAMMAR, BAM_RECORD_FIELDS
};
enum { TAG_RECORD, TAG_CODE, TAG_TYPE, TAG_START, TAG_END, TAG_FIELDS };

static inline int64_t
le16(const unsigned char *p)
{
    return (int64_t)((uint32_t)p[0] | (uint32_t)p[1] << 8);
}

static inline uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Bytes of one aux value of a fixed-size type (SAM 1.6, section 4.2.4); 0 for any other byte. */
static inline int64_t
aux_value_size(unsigned char type)
{
    switch (type) {
    case 'A': case 'c': case 'C': return 1;
    case 's': case 'S': return 2;
    case 'i': case 'I': case 'f': return 4;
    default: return 0;
    }
}

/* Walk the whole records of data[at:] and their aux fields, checking each as
 * scan_python.bam_records does. With records == NULL only count them (records, tags); else
 * fill the field-major tables records (BAM_RECORD_FIELDS x record_count) and tags
 * (TAG_FIELDS x tag_count), whose sizes the counting walk gave. Returns the offset of the
 * first incomplete record, or -1 for a corrupt one. */
static Py_ssize_t
walk_bam(const unsigned char *d, Py_ssize_t size, Py_ssize_t at, Py_ssize_t *record_count, Py_ssize_t *tag_count,
         int64_t *records, int64_t *tags)
{
    const Py_ssize_t record_total = *record_count, tag_total = *tag_count;
    Py_ssize_t row = 0, tag = 0;
    while (at + 4 <= size) {
        const unsigned char *r = d + at;
        const int64_t block_size = (int32_t)le32(r);
        if (block_size < 32)
            return -1;
        const int64_t end = at + 4 + block_size;
        if (end > size)
            break;
        const int64_t name_length = r[12], cigar_count = le16(r + 16), sequence_length = (int32_t)le32(r + 20);
        const int64_t cigar_start = at + 36 + name_length, sequence_start = cigar_start + 4 * cigar_count;
        if (name_length < 1 || sequence_length < 0)
            return -1;
        const int64_t aux_start = sequence_start + (sequence_length + 1) / 2 + sequence_length;
        if (aux_start > end || d[cigar_start - 1] != 0)
            return -1;
        int64_t field = aux_start, long_cigar = -1, long_count = 0;
        int seen_cg = 0;
        while (field < end) {
            if (field + 3 > end)
                return -1;
            const unsigned char type = d[field + 2];
            const int64_t value = field + 3;
            int64_t value_end, following;
            if (type == 'Z' || type == 'H') {
                const unsigned char *nul = memchr(d + value, 0, (size_t)(end - value));
                if (nul == NULL)
                    return -1;
                value_end = nul - d;
                following = value_end + 1;
            } else if (type == 'B') {
                if (value + 5 > end)
                    return -1;
                const int64_t element = aux_value_size(d[value]);
                if (element == 0 || d[value] == 'A')
                    return -1;
                value_end = following = value + 5 + (int64_t)le32(d + value + 1) * element;
            } else {
                const int64_t element = aux_value_size(type);
                if (element == 0)
                    return -1;
                value_end = following = value + element;
            }
            if (following > end)
                return -1;
            if (!seen_cg && d[field] == 'C' && d[field + 1] == 'G') {  /* the first CG, as bam_aux_get finds it */
                seen_cg = 1;
                if (type == 'B' && (d[value] == 'I' || d[value] == 'i')) {
                    long_cigar = value + 5;
                    long_count = (int64_t)le32(d + value + 1);
                }
            }
            if (tags != NULL) {
                if (tag >= tag_total)  /* the data changed between the walks (a shared bytearray) */
                    return -1;
                tags[TAG_RECORD * tag_total + tag] = row;
                tags[TAG_CODE * tag_total + tag] = (int64_t)d[field] << 8 | d[field + 1];
                tags[TAG_TYPE * tag_total + tag] = type;
                tags[TAG_START * tag_total + tag] = value;
                tags[TAG_END * tag_total + tag] = value_end;
            }
            tag++;
            field = following;
        }
        if (records != NULL) {
            if (row >= record_total)
                return -1;
            /* The CIGAR readers see: a placeholder <l_seq>S<n>N (or any CIGAR opening with a soft
             * clip of l_seq bases) on a placed record is replaced by the first CG:B:I (or B:i) when
             * that holds as many operations at least, fewer than 2^29: htslib's bam_tag2cigar,
             * for CIGARs of more than 65535 operations (SAM 1.6, section 4.2.2). */
            int64_t words = cigar_start, used = cigar_count;
            if (cigar_count > 0 && long_cigar >= 0 && (int32_t)le32(r + 4) >= 0 && (int32_t)le32(r + 8) >= 0
                && long_count >= cigar_count && long_count < ((int64_t)1 << 29)) {
                const uint32_t first = le32(d + cigar_start);
                if ((first & 0xF) == 4 && (int64_t)(first >> 4) == sequence_length) {
                    words = long_cigar;
                    used = long_count;
                }
            }
            int64_t reference_length = 0, first_operation = -1, kept = 0, off_grammar = 0;
            for (int64_t k = 0; k < used; k++) {
                const uint32_t word = le32(d + words + 4 * k);
                const uint32_t operation = word & 0xF;
                if (k == 0)
                    first_operation = operation;
                if (operation == 0 || operation == 2 || operation == 3 || operation == 7 || operation == 8)
                    reference_length += word >> 4;
                kept += operation != 5 && operation != 6;
                off_grammar |= operation > 8;
            }
            /* Laid out without gaps: hard clips and padding aside, aligned operations (M = X) with
             * at most a soft clip at either end, and one aligned operation at least. */
            int64_t rank = 0, aligned = 0, breaking = 0, leading = 0, laid_length = 0;
            for (int64_t k = 0; k < used; k++) {
                const uint32_t word = le32(d + words + 4 * k);
                const uint32_t operation = word & 0xF;
                if (operation == 5 || operation == 6)
                    continue;
                const int is_aligned = operation == 0 || operation == 7 || operation == 8;
                const int edge_clip = operation == 4 && (rank == 0 || rank == kept - 1);
                aligned += is_aligned;
                breaking += !is_aligned && !edge_clip;
                if (edge_clip && rank == 0)
                    leading = word >> 4;
                if (is_aligned || edge_clip)
                    laid_length += word >> 4;
                rank++;
            }
            int64_t *column = records + row;
            column[BAM_OFFSET * record_total] = at;
            column[BAM_REF_ID * record_total] = (int32_t)le32(r + 4);
            column[BAM_POS * record_total] = (int32_t)le32(r + 8);
            column[BAM_FLAG * record_total] = le16(r + 18);
            column[BAM_NAME_LENGTH * record_total] = name_length;
            column[BAM_CIGAR_COUNT * record_total] = used;
            column[BAM_SEQUENCE_LENGTH * record_total] = sequence_length;
            column[BAM_END * record_total] = end;
            column[BAM_REFERENCE_LENGTH * record_total] = reference_length;
            column[BAM_FIRST_OPERATION * record_total] = first_operation;
            column[BAM_CONTIGUOUS * record_total] = breaking == 0 && aligned > 0;
            column[BAM_LEADING_CLIP * record_total] = leading;
            column[BAM_LAID_LENGTH * record_total] = laid_length;
            column[BAM_CIGAR_START * record_total] = words;
            column[BAM_SEQUENCE_START * record_total] = sequence_start;
            column[BAM_OFF_GRAMMAR * record_total] = off_grammar;
        }
        row++;
        at = end;
    }
    *record_count = row;
    *tag_count = tag;
    return at;
}

PyDoc_STRVAR(bam_records_doc,
"bam_records(data, start) -> (count, stop, records, tags)\n"
"\n"
"The whole BAM records of data[start:] (uncompressed), walked once, with their aux\n"
"fields. count: how many; stop: where the first incomplete record begins. records:\n"
"int64, field-major, 16 rows of count (offset, ref_id, pos, flag, l_read_name,\n"
"n_cigar_op, l_seq, end, reference length of the CIGAR, first CIGAR operation or -1,\n"
"1 if its bases lie without gaps, leading soft clip, bases laid, where the CIGAR's\n"
"words start, where SEQ starts, 1 if an operation is off MIDNSHP=X; the CIGAR is CG's\n"
"where htslib takes it from there: see scan_python);\n"
"tags: int64, field-major, 5 rows of one entry an aux field in file order (record,\n"
"tag code first letter << 8 | second, type letter, value start, value end; a text\n"
"value ends at its NUL, an array's starts at its subtype letter). ValueError for a\n"
"record shorter than 32 bytes, whose fields overrun it, whose read name lacks its\n"
"NUL, or whose aux fields do not parse, as scan_python.bam_records.");

static PyObject *
bam_records(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "y*n", &view, &start))
        return NULL;
    if (start < 0 || start > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_IndexError, "start outside the data");
        return NULL;
    }
    const unsigned char *d = view.buf;
    Py_ssize_t record_count = 0, tag_count = 0, stop;
    Py_BEGIN_ALLOW_THREADS
    stop = walk_bam(d, view.len, start, &record_count, &tag_count, NULL, NULL);
    Py_END_ALLOW_THREADS
    if (stop < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "corrupt BAM record");
        return NULL;
    }
    PyObject *records = int64_array(record_count * BAM_RECORD_FIELDS), *tags = int64_array(tag_count * TAG_FIELDS);
    if (records == NULL || tags == NULL) {
        Py_XDECREF(records);
        Py_XDECREF(tags);
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *record_table = (int64_t *)PyByteArray_AS_STRING(records), *tag_table = (int64_t *)PyByteArray_AS_STRING(tags);
    const Py_ssize_t counted_records = record_count, counted_tags = tag_count;
    Py_ssize_t second_stop;
    Py_BEGIN_ALLOW_THREADS
    second_stop = walk_bam(d, view.len, start, &record_count, &tag_count, record_table, tag_table);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (second_stop != stop || record_count != counted_records || tag_count != counted_tags) {
        Py_DECREF(records);
        Py_DECREF(tags);
        PyErr_SetString(PyExc_ValueError, "the data changed while it was walked");
        return NULL;
    }
    return Py_BuildValue("nnNN", record_count, stop, records, tags);
}

/* --- many strings in one pass ----------------------------------------------------------------- */

static inline unsigned char
folded(unsigned char byte)
{
    return byte >= 'A' && byte <= 'Z' ? (unsigned char)(byte + ('a' - 'A')) : byte;
}

/* Matches found so far: (needle, start) pairs in text order, and how many per needle. */
typedef struct {
    int64_t *pairs;
    Py_ssize_t count, capacity;
    int64_t *per_needle;
} Matches;

static int
add_match(Matches *matches, int32_t needle, Py_ssize_t at)
{
    if (matches->count == matches->capacity) {
        const Py_ssize_t capacity = matches->capacity ? 2 * matches->capacity : 1024;
        int64_t *grown = realloc(matches->pairs, (size_t)capacity * 2 * sizeof(int64_t));
        if (grown == NULL)
            return -1;
        matches->pairs = grown;
        matches->capacity = capacity;
    }
    matches->pairs[2 * matches->count] = needle;
    matches->pairs[2 * matches->count + 1] = at;
    matches->count++;
    matches->per_needle[needle]++;
    return 0;
}

/* Needles of two bytes or more are chained by a hash of their first two bytes (PAIR_HEADS chains,
 * small enough to clear on every call), one-byte needles by their byte. */
enum { PAIR_HEADS = 4096, HEADS = PAIR_HEADS + 256 };

static inline size_t
pair_head(unsigned char first, unsigned char second)
{
    return ((size_t)first << 4 ^ second) & (PAIR_HEADS - 1);
}

typedef struct {
    int32_t *heads, *next;
    Py_ssize_t *offsets;
    unsigned char *letters;
} NeedleTable;
/* The needles of find_strings and find_spread_strings, folded one after the other in letters
   (needle k at offsets[k] to offsets[k + 1]), and the heads of the chains of needles whose first
   two bytes hash alike (next links a chain; -1 ends it), empty until the caller fills them. */

static void
needle_table_free(NeedleTable *table)
{
    free(table->heads);
    free(table->next);
    free(table->offsets);
    free(table->letters);
}

static int
needle_table_build(PyObject *needles, NeedleTable *table)
{
    const Py_ssize_t count = PyList_GET_SIZE(needles);
    if (count >= INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "too many needles");
        return -1;
    }
    if (needles_checked(needles) < 0)
        return -1;
    Py_ssize_t total = 0;
    for (Py_ssize_t k = 0; k < count; k++)
        total += PyBytes_GET_SIZE(PyList_GET_ITEM(needles, k));
    table->heads = malloc(HEADS * sizeof(int32_t));
    table->next = malloc((size_t)(count + 1) * sizeof(int32_t));
    table->offsets = malloc((size_t)(count + 1) * sizeof(Py_ssize_t));
    table->letters = malloc((size_t)total + 1);
    if (table->heads == NULL || table->next == NULL || table->offsets == NULL || table->letters == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(table->heads, 0xFF, HEADS * sizeof(int32_t));
    table->offsets[0] = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *needle = PyList_GET_ITEM(needles, k);
        const unsigned char *bytes = (const unsigned char *)PyBytes_AS_STRING(needle);
        for (Py_ssize_t j = 0; j < PyBytes_GET_SIZE(needle); j++)
            table->letters[table->offsets[k] + j] = folded(bytes[j]);
        table->offsets[k + 1] = table->offsets[k] + PyBytes_GET_SIZE(needle);
    }
    return 0;
}

/* Which bytes text holds, each marked under its folded form too (fold: the folded byte of each).
   With a table (256 bytes, else NULL), text is read through it: each byte stands for the table's
   entry, and present and fold are of the entries (the raw bytes are not marked). */
static void
bytes_present(const unsigned char *text, Py_ssize_t size, const unsigned char *table, unsigned char present[256],
              unsigned char fold[256])
{
    unsigned char seen[256] = {0};
    for (Py_ssize_t at = 0; at < size; at++)
        seen[text[at]] = 1;
    if (table == NULL)
        memcpy(present, seen, 256);
    else
        memset(present, 0, 256);
    for (int byte = 0; byte < 256; byte++) {
        fold[byte] = folded(table == NULL ? (unsigned char)byte : table[byte]);
        present[fold[byte]] |= seen[byte];
    }
}

/* Chains the needles whose every byte text holds (present) by their first two bytes' hash (one
   byte: PAIR_HEADS + the byte), from the last so each chain is in needle order, and marks those two
   bytes in pairs (a bit a pair); returns whether a needle of one byte was chained. */
static int
needles_chained(NeedleTable *table, Py_ssize_t count, const unsigned char present[256], unsigned char pairs[65536 / 8])
{
    int singles = 0;
    for (Py_ssize_t k = count - 1; k >= 0; k--) {
        const unsigned char *needle = table->letters + table->offsets[k];
        const Py_ssize_t length = table->offsets[k + 1] - table->offsets[k];
        Py_ssize_t j = 0;
        while (j < length && present[needle[j]])
            j++;
        if (j < length)
            continue;
        size_t head = (size_t)PAIR_HEADS + needle[0];
        if (length == 1) {
            singles = 1;
        } else {
            head = pair_head(needle[0], needle[1]);
            const unsigned pair = (unsigned)needle[0] << 8 | needle[1];
            pairs[pair >> 3] |= (unsigned char)(1u << (pair & 7));
        }
        table->next[k] = table->heads[head];
        table->heads[head] = (int32_t)k;
    }
    return singles;
}

/* The arguments of find_strings and any_strings: text, a list of needles and an optional table
   of 256 bytes; -1 with an exception set (and nothing held) when they do not parse. */
static int
text_needles_table(PyObject *args, Py_buffer *view, PyObject **needles, Py_buffer *table_view)
{
    if (!PyArg_ParseTuple(args, "y*O!|y*", view, &PyList_Type, needles, table_view))
        return -1;
    if (table_view->buf != NULL && table_view->len != 256) {
        PyErr_SetString(PyExc_ValueError, "the table must hold 256 bytes");
        PyBuffer_Release(view);
        PyBuffer_Release(table_view);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(find_strings_doc,
"find_strings(text, needles[, table]) -> (count, needle_indexes, starts)\n"
"\n"
"Every occurrence of each needle (a list of non-empty bytes) in text, ASCII letters\n"
"matched in either case, overlapping occurrences included: count, then which needle\n"
"and where each starts, as bytearrays of int64, ordered by needle, then by start. One\n"
"pass over text whatever the number of needles, after one that finds which bytes it\n"
"holds (a needle with another byte is left out): each position whose two bytes, folded,\n"
"start a needle is compared with the needles whose first two bytes hash as its own do.\n"
"With table (256 bytes), text is read through it, each byte as its entry there: a\n"
"translation without a copy. ValueError for an empty needle or a table of another\n"
"length, TypeError for a needle that is not bytes.");

static PyObject *
find_strings(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view, table_view = {0};
    PyObject *needles_object;
    if (text_needles_table(args, &view, &needles_object, &table_view) < 0)
        return NULL;
    const unsigned char *through = table_view.buf;
    const Py_ssize_t needle_count = PyList_GET_SIZE(needles_object);
    PyObject *result = NULL, *indexes = NULL, *starts = NULL;
    Matches matches = {NULL, 0, 0, NULL};
    NeedleTable table = {NULL, NULL, NULL, NULL};
    if (needle_table_build(needles_object, &table) < 0)
        goto done;
    int32_t *heads = table.heads, *next = table.next;
    const Py_ssize_t *offsets = table.offsets;
    const unsigned char *letters = table.letters;
    matches.per_needle = calloc((size_t)needle_count + 1, sizeof(int64_t));
    if (matches.per_needle == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *text = view.buf;
    const Py_ssize_t size = view.len;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    /* A needle with a byte the text lacks cannot occur: most of a long list, in clean text. */
    unsigned char present[256], fold[256];
    bytes_present(text, size, through, present, fold);
    unsigned char pairs[65536 / 8] = {0}; /* the first two bytes of the needles left */
    const int singles = needles_chained(&table, needle_count, present, pairs);
    for (Py_ssize_t at = 0; singles && at < size && !failed; at++)
        for (int32_t k = heads[PAIR_HEADS + fold[text[at]]]; k >= 0 && !failed; k = next[k])
            failed = add_match(&matches, k, at) < 0;
    for (Py_ssize_t at = 0; at + 1 < size && !failed; at++) {
        const unsigned char first = fold[text[at]], second = fold[text[at + 1]];
        const unsigned pair = (unsigned)first << 8 | second;
        if (!(pairs[pair >> 3] & (1u << (pair & 7))))
            continue;
        for (int32_t k = heads[pair_head(first, second)]; k >= 0 && !failed; k = next[k]) {
            const unsigned char *needle = letters + offsets[k];
            const Py_ssize_t length = offsets[k + 1] - offsets[k];
            if (length > size - at || needle[0] != first || needle[1] != second)
                continue;
            Py_ssize_t j = 2;
            while (j < length && fold[text[at + j]] == needle[j])
                j++;
            if (j == length)
                failed = add_match(&matches, k, at) < 0;
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    indexes = int64_array(matches.count);
    starts = int64_array(matches.count);
    if (indexes == NULL || starts == NULL)
        goto done;
    int64_t *index_out = (int64_t *)PyByteArray_AS_STRING(indexes), *start_out = (int64_t *)PyByteArray_AS_STRING(starts);
    int64_t placed = 0;
    for (Py_ssize_t k = 0; k < needle_count; k++) { /* a counting sort by needle: starts stay in text order */
        const int64_t count = matches.per_needle[k];
        matches.per_needle[k] = placed;
        placed += count;
    }
    for (Py_ssize_t m = 0; m < matches.count; m++) {
        const int64_t slot = matches.per_needle[matches.pairs[2 * m]]++;
        index_out[slot] = matches.pairs[2 * m];
        start_out[slot] = matches.pairs[2 * m + 1];
    }
    result = Py_BuildValue("nOO", matches.count, indexes, starts);
done:
    Py_XDECREF(indexes);
    Py_XDECREF(starts);
    needle_table_free(&table);
    free(matches.per_needle);
    free(matches.pairs);
    PyBuffer_Release(&view);
    PyBuffer_Release(&table_view);
    return result;
}

/* bytes_present, its pass over text marking four tables in turn (a byte, then the next in
   another): about twice as fast as one table, whose stores to one place wait on each other. */
static void
bytes_present_unrolled(const unsigned char *text, Py_ssize_t size, const unsigned char *table, unsigned char present[256],
                       unsigned char fold[256])
{
    unsigned char seen[4][256];
    memset(seen, 0, sizeof seen);
    Py_ssize_t at = 0;
    for (; at + 4 <= size; at += 4) {
        seen[0][text[at]] = 1;
        seen[1][text[at + 1]] = 1;
        seen[2][text[at + 2]] = 1;
        seen[3][text[at + 3]] = 1;
    }
    for (; at < size; at++)
        seen[0][text[at]] = 1;
    memset(present, 0, 256);
    for (int byte = 0; byte < 256; byte++) {
        const unsigned char any = seen[0][byte] | seen[1][byte] | seen[2][byte] | seen[3][byte];
        if (table == NULL)
            present[byte] |= any;
        fold[byte] = folded(table == NULL ? (unsigned char)byte : table[byte]);
        present[fold[byte]] |= any;
    }
}

PyDoc_STRVAR(any_strings_doc,
"any_strings(text, needles[, table]) -> bool\n"
"\n"
"Whether find_strings(text, needles[, table]) finds an occurrence, asked without listing\n"
"them (most texts hold none). After find_strings' pass that finds which bytes the text\n"
"holds, the needles left (every byte of theirs in the text) are m bytes long at least, and\n"
"an occurrence of one covers the pair of bytes at exactly one position p that is a\n"
"multiple of m - 1, at its offset p - start below m - 1: only those positions are looked\n"
"at, each pair compared with the pairs the needles left hold at those offsets, a needle\n"
"compared whole only where one is the same. ValueError and TypeError as find_strings.");

static PyObject *
any_strings(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view, table_view = {0};
    PyObject *needles_object;
    if (text_needles_table(args, &view, &needles_object, &table_view) < 0)
        return NULL;
    const unsigned char *through = table_view.buf;
    const Py_ssize_t needle_count = PyList_GET_SIZE(needles_object);
    PyObject *result = NULL;
    NeedleTable table = {NULL, NULL, NULL, NULL};
    unsigned char *alive = NULL;
    int64_t *heads = NULL, *next = NULL, *owner = NULL, *offset_of = NULL;
    if (needle_table_build(needles_object, &table) < 0)
        goto done;
    const Py_ssize_t *offsets = table.offsets;
    const unsigned char *letters = table.letters;
    const unsigned char *text = view.buf;
    const Py_ssize_t size = view.len;
    unsigned char present[256], fold[256];
    int found = 0, failed = 0;
    Py_BEGIN_ALLOW_THREADS
    bytes_present_unrolled(text, size, through, present, fold);
    /* The needles that may occur (every byte in the text), and the shortest of them. */
    Py_ssize_t shortest = 0, left = 0;
    alive = calloc((size_t)needle_count + 1, 1);
    if (alive == NULL)
        failed = 1;
    for (Py_ssize_t k = 0; k < needle_count && !failed; k++) {
        const Py_ssize_t length = offsets[k + 1] - offsets[k];
        Py_ssize_t j = 0;
        while (j < length && present[letters[offsets[k] + j]])
            j++;
        if (j < length)
            continue;
        alive[k] = 1;
        left++;
        if (shortest == 0 || length < shortest)
            shortest = length;
    }
    if (!failed && left > 0 && shortest == 1) {
        found = 1; /* a one-byte needle whose byte the text holds */
    } else if (!failed && left > 0 && size >= shortest) {
        const Py_ssize_t step = shortest - 1, entries = left * step;
        unsigned char pairs[65536 / 8] = {0}; /* the pairs the needles left hold at offsets below step */
        heads = malloc(PAIR_HEADS * sizeof(int64_t));
        next = malloc((size_t)entries * sizeof(int64_t));
        owner = malloc((size_t)entries * sizeof(int64_t));
        offset_of = malloc((size_t)entries * sizeof(int64_t));
        if (heads == NULL || next == NULL || owner == NULL || offset_of == NULL) {
            failed = 1;
        } else {
            for (Py_ssize_t h = 0; h < PAIR_HEADS; h++)
                heads[h] = -1;
            Py_ssize_t entry = 0;
            for (Py_ssize_t k = 0; k < needle_count; k++) {
                if (!alive[k])
                    continue;
                for (Py_ssize_t j = 0; j < step; j++) {
                    const unsigned char first = letters[offsets[k] + j], second = letters[offsets[k] + j + 1];
                    const unsigned pair = (unsigned)first << 8 | second;
                    pairs[pair >> 3] |= (unsigned char)(1u << (pair & 7));
                    const size_t head = pair_head(first, second);
                    owner[entry] = k;
                    offset_of[entry] = j;
                    next[entry] = heads[head];
                    heads[head] = entry;
                    entry++;
                }
            }
            for (Py_ssize_t at = 0; at + 1 < size && !found; at += step) {
                const unsigned char first = fold[text[at]], second = fold[text[at + 1]];
                const unsigned pair = (unsigned)first << 8 | second;
                if (!(pairs[pair >> 3] & (1u << (pair & 7))))
                    continue;
                for (int64_t e = heads[pair_head(first, second)]; e >= 0 && !found; e = next[e]) {
                    const Py_ssize_t k = (Py_ssize_t)owner[e], j = (Py_ssize_t)offset_of[e];
                    const unsigned char *needle = letters + offsets[k];
                    const Py_ssize_t length = offsets[k + 1] - offsets[k], start = at - j;
                    if (needle[j] != first || needle[j + 1] != second || start < 0 || length > size - start)
                        continue;
                    Py_ssize_t i = 0;
                    while (i < length && fold[text[start + i]] == needle[i])
                        i++;
                    found = i == length;
                }
            }
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    result = PyBool_FromLong(found);
done:
    needle_table_free(&table);
    free(alive);
    free(heads);
    free(next);
    free(owner);
    free(offset_of);
    PyBuffer_Release(&view);
    PyBuffer_Release(&table_view);
    return result;
}

PyDoc_STRVAR(find_spread_strings_doc,
"find_spread_strings(text, needles, skipped) -> (count, needle_indexes, starts, ends)\n"
"\n"
"Every occurrence of each needle (a list of non-empty bytes) in text read without the bytes\n"
"of skipped (separators), ASCII letters matched in either case, overlapping occurrences\n"
"included: an occurrence starts on a byte not skipped, and its needle's bytes are compared\n"
"with the text's next bytes not skipped, so it may hold skipped bytes between them (a needle\n"
"holding a skipped byte is never found). Count, then which needle, where each starts and\n"
"where it ends (after its last byte), as bytearrays of int64, ordered by needle, then by\n"
"start. find_strings' pass over text, each position's pair the byte there and the next byte\n"
"not skipped. ValueError for an empty needle, TypeError for one that is not bytes.");

/* Matches with their ends: (needle, start, end) triples in text order, and how many per needle. */
typedef struct {
    int64_t *triples;
    Py_ssize_t count, capacity;
    int64_t *per_needle;
} SpreadMatches;

static int
add_spread_match(SpreadMatches *matches, int32_t needle, Py_ssize_t at, Py_ssize_t end)
{
    if (matches->count == matches->capacity) {
        const Py_ssize_t capacity = matches->capacity ? 2 * matches->capacity : 1024;
        int64_t *grown = realloc(matches->triples, (size_t)capacity * 3 * sizeof(int64_t));
        if (grown == NULL)
            return -1;
        matches->triples = grown;
        matches->capacity = capacity;
    }
    matches->triples[3 * matches->count] = needle;
    matches->triples[3 * matches->count + 1] = at;
    matches->triples[3 * matches->count + 2] = end;
    matches->count++;
    matches->per_needle[needle]++;
    return 0;
}

static PyObject *
find_spread_strings(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view, skipped_view;
    PyObject *needles_object;
    if (!PyArg_ParseTuple(args, "y*O!y*", &view, &PyList_Type, &needles_object, &skipped_view))
        return NULL;
    const Py_ssize_t needle_count = PyList_GET_SIZE(needles_object);
    PyObject *result = NULL, *indexes = NULL, *starts = NULL, *ends = NULL;
    SpreadMatches matches = {NULL, 0, 0, NULL};
    unsigned char skip[256] = {0};
    for (Py_ssize_t k = 0; k < skipped_view.len; k++)
        skip[((const unsigned char *)skipped_view.buf)[k]] = 1;
    NeedleTable table = {NULL, NULL, NULL, NULL};
    if (needle_table_build(needles_object, &table) < 0)
        goto done;
    int32_t *heads = table.heads, *next = table.next;
    const Py_ssize_t *offsets = table.offsets;
    const unsigned char *letters = table.letters;
    matches.per_needle = calloc((size_t)needle_count + 1, sizeof(int64_t));
    if (matches.per_needle == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    const unsigned char *text = view.buf;
    const Py_ssize_t size = view.len;
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS
    /* A needle with a byte the text lacks, or a skipped byte, cannot occur. */
    unsigned char present[256], fold[256];
    bytes_present(text, size, NULL, present, fold);
    for (int byte = 0; byte < 256; byte++)
        if (skip[byte])
            present[byte] = 0;
    unsigned char pairs[65536 / 8] = {0}; /* the first two bytes of the needles left */
    const int singles = needles_chained(&table, needle_count, present, pairs);
    for (Py_ssize_t at = 0; singles && at < size && !failed; at++)
        if (!skip[text[at]])
            for (int32_t k = heads[PAIR_HEADS + fold[text[at]]]; k >= 0 && !failed; k = next[k])
                failed = add_spread_match(&matches, k, at, at + 1) < 0;
    /* Where a position's pair with the byte after it is no needle's start, and that byte is not
       skipped, nothing starts there: one look-up, as in find_strings. Needles hold no skipped
       byte, so a needle's pair never holds one. */
    unsigned char looked[65536 / 8];
    memcpy(looked, pairs, sizeof looked);
    for (int other = 0; other < 256; other++)
        if (skip[other])
            for (int byte = 0; byte < 256; byte++) {
                const unsigned pair = (unsigned)byte << 8 | fold[other];
                looked[pair >> 3] |= (unsigned char)(1u << (pair & 7));
            }
    for (Py_ssize_t at = 0; at + 1 < size && !failed; at++) {
        const unsigned near = (unsigned)fold[text[at]] << 8 | fold[text[at + 1]];
        if (!(looked[near >> 3] & (1u << (near & 7))) || skip[text[at]])
            continue;
        Py_ssize_t second_at = at + 1; /* the next byte not skipped */
        while (second_at < size && skip[text[second_at]])
            second_at++;
        if (second_at >= size)
            break;
        const unsigned char first = fold[text[at]], second = fold[text[second_at]];
        const unsigned pair = (unsigned)first << 8 | second;
        if (!(pairs[pair >> 3] & (1u << (pair & 7))))
            continue;
        for (int32_t k = heads[pair_head(first, second)]; k >= 0 && !failed; k = next[k]) {
            const unsigned char *needle = letters + offsets[k];
            const Py_ssize_t length = offsets[k + 1] - offsets[k];
            if (length > size - at || needle[0] != first || needle[1] != second)
                continue;
            Py_ssize_t j = 2, place = second_at + 1;
            while (j < length) {
                while (place < size && skip[text[place]])
                    place++;
                if (place >= size || fold[text[place]] != needle[j])
                    break;
                j++;
                place++;
            }
            if (j == length)
                failed = add_spread_match(&matches, k, at, length == 2 ? second_at + 1 : place) < 0;
        }
    }
    Py_END_ALLOW_THREADS
    if (failed) {
        PyErr_NoMemory();
        goto done;
    }
    indexes = int64_array(matches.count);
    starts = int64_array(matches.count);
    ends = int64_array(matches.count);
    if (indexes == NULL || starts == NULL || ends == NULL)
        goto done;
    int64_t *index_out = (int64_t *)PyByteArray_AS_STRING(indexes), *start_out = (int64_t *)PyByteArray_AS_STRING(starts);
    int64_t *end_out = (int64_t *)PyByteArray_AS_STRING(ends);
    int64_t placed = 0;
    for (Py_ssize_t k = 0; k < needle_count; k++) { /* a counting sort by needle: starts stay in text order */
        const int64_t count = matches.per_needle[k];
        matches.per_needle[k] = placed;
        placed += count;
    }
    for (Py_ssize_t m = 0; m < matches.count; m++) {
        const int64_t slot = matches.per_needle[matches.triples[3 * m]]++;
        index_out[slot] = matches.triples[3 * m];
        start_out[slot] = matches.triples[3 * m + 1];
        end_out[slot] = matches.triples[3 * m + 2];
    }
    result = Py_BuildValue("nOOO", matches.count, indexes, starts, ends);
done:
    Py_XDECREF(indexes);
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    needle_table_free(&table);
    free(matches.per_needle);
    free(matches.triples);
    PyBuffer_Release(&skipped_view);
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(md_and_nm_doc,
"md_and_nm(position, operations, sequence, reference, reference_offset) -> (md, nm)\n"
"\n"
"MD and NM of an alignment as samtools calmd computes them: operations is a sequence\n"
"of (operation letter as an int, length) pairs, reference the uppercase reference from\n"
"reference_offset on. A read base is a mismatch where it is N, or differs from the\n"
"reference (either case) and is not =. ValueError where a run lies outside the\n"
"sequence or the reference, as in cigar.md_and_nm.");

/* A growing byte buffer for the MD string. */
struct md_text {
    char *bytes;
    size_t length, size;
};

static int
md_reserve(struct md_text *md, size_t more)
{
    if (md->length + more <= md->size)
        return 0;
    size_t size = md->size ? md->size : 64;
    while (size < md->length + more)
        size *= 2;
    char *grown = realloc(md->bytes, size);
    if (grown == NULL)
        return -1;
    md->bytes = grown;
    md->size = size;
    return 0;
}

/* Append the decimal digits of number (>= 0). */
static int
md_number(struct md_text *md, int64_t number)
{
    char digits[24];
    int count = 0;
    do {
        digits[count++] = (char)('0' + number % 10);
        number /= 10;
    } while (number > 0);
    if (md_reserve(md, (size_t)count) < 0)
        return -1;
    while (count > 0)
        md->bytes[md->length++] = digits[--count];
    return 0;
}

static int
md_bytes(struct md_text *md, const char *bytes, size_t length)
{
    if (md_reserve(md, length) < 0)
        return -1;
    memcpy(md->bytes + md->length, bytes, length);
    md->length += length;
    return 0;
}

static PyObject *
md_and_nm(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_ssize_t position, reference_offset;
    PyObject *operations_object;
    Py_buffer sequence, reference;
    if (!PyArg_ParseTuple(args, "nOy*y*n", &position, &operations_object, &sequence, &reference, &reference_offset))
        return NULL;
    PyObject *result = NULL, *operations = PySequence_Fast(operations_object, "operations must be a sequence of (op, length) pairs");
    struct md_text md = {NULL, 0, 0};
    if (operations == NULL)
        goto release;
    const unsigned char *read = sequence.buf, *bases = reference.buf;
    int64_t matches = 0, distance = 0, reference_position = (int64_t)position - (int64_t)reference_offset, query_position = 0;
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(operations);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *pair = PySequence_Fast(PySequence_Fast_GET_ITEM(operations, i), "each operation must be an (op, length) pair");
        if (pair == NULL)
            goto release;
        if (PySequence_Fast_GET_SIZE(pair) != 2) {
            Py_DECREF(pair);
            PyErr_SetString(PyExc_ValueError, "each operation must be an (op, length) pair");
            goto release;
        }
        const long op = PyLong_AsLong(PySequence_Fast_GET_ITEM(pair, 0));
        const Py_ssize_t length = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(pair, 1));
        Py_DECREF(pair);
        if (PyErr_Occurred())
            goto release;
        const int aligned = op == 'M' || op == '=' || op == 'X';
        if (length < 0 || ((aligned || op == 'I' || op == 'S') && query_position + length > sequence.len)
            || ((aligned || op == 'D') && (reference_position < 0 || reference_position + length > reference.len))) {
            PyErr_SetString(PyExc_ValueError, "a CIGAR run lies outside the sequence or the reference");
            goto release;
        }
        if (aligned) {
            for (Py_ssize_t k = 0; k < length; k++) {
                unsigned char base = read[query_position + k];
                if (base >= 'a' && base <= 'z')
                    base -= 'a' - 'A';
                const unsigned char expected = bases[reference_position + k];
                if (base == 'N' || (base != expected && base != '=')) {
                    if (md_number(&md, matches) < 0 || md_bytes(&md, (const char *)&expected, 1) < 0)
                        goto memory;
                    matches = 0;
                    distance++;
                } else {
                    matches++;
                }
            }
            reference_position += length;
            query_position += length;
        } else if (op == 'D') {
            if (md_number(&md, matches) < 0 || md_bytes(&md, "^", 1) < 0
                || md_bytes(&md, (const char *)bases + reference_position, (size_t)length) < 0)
                goto memory;
            matches = 0;
            distance += length;
            reference_position += length;
        } else if (op == 'I') {
            distance += length;
            query_position += length;
        } else if (op == 'S') {
            query_position += length;
        } else if (op == 'N') {
            reference_position += length;
        }
    }
    if (md_number(&md, matches) < 0)
        goto memory;
    result = Py_BuildValue("y#L", md.bytes ? md.bytes : "", (Py_ssize_t)md.length, (long long)distance);
    goto release;
memory:
    PyErr_NoMemory();
release:
    free(md.bytes);
    Py_XDECREF(operations);
    PyBuffer_Release(&sequence);
    PyBuffer_Release(&reference);
    return result;
}

PyDoc_STRVAR(tag_codes_doc,
"tag_codes(text, starts, ends, types) -> bytearray or None\n"
"\n"
"The code of each optional field text[starts[i]:ends[i]] (its tab, TAG:TYPE:VALUE):\n"
"the tag's two bytes as 16 bits, then types[TYPE] (256 bytes, 7 or more for a byte\n"
"that is no type) in the low 3, as int64; None when a field is shorter than\n"
"'\\tXX:T:', lacks a colon there, or its type is none.");

static PyObject *
tag_codes(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, table;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OOy*", &text, &starts_object, &ends_object, &table))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (table.len != 256) {
        PyErr_SetString(PyExc_ValueError, "types must hold 256 bytes");
        goto release_text;
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    const int64_t *start = starts.buf, *end = ends.buf;
    result = PyByteArray_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    if (result == NULL)
        goto release_all;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *types = table.buf;
    int regular = 1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && regular; i++) {
        const unsigned char *field = bytes + start[i];
        if (end[i] - start[i] < 6 || field[3] != ':' || field[5] != ':' || types[field[4]] >= 7) {
            regular = 0;
            break;
        }
        out[i] = (int64_t)field[1] << 11 | (int64_t)field[2] << 3 | types[field[4]];
    }
    Py_END_ALLOW_THREADS
    if (!regular) {
        Py_DECREF(result);
        result = Py_NewRef(Py_None);
    }
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&table);
    return result;
}

PyDoc_STRVAR(span_choices_doc,
"span_choices(text, starts, ends, values) -> bytearray\n"
"\n"
"For each span text[starts[i]:ends[i]], the index in values (a list of bytes, a few:\n"
"each span is compared with each) of the first one equal to it, or -1; as int64.");

static PyObject *
span_choices(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object, *values;
    if (!PyArg_ParseTuple(args, "y*OOO!", &text, &starts_object, &ends_object, &PyList_Type, &values))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    const Py_ssize_t value_count = PyList_GET_SIZE(values);
    for (Py_ssize_t k = 0; k < value_count; k++) {
        if (!PyBytes_Check(PyList_GET_ITEM(values, k))) {
            PyErr_SetString(PyExc_TypeError, "values must be a list of bytes");
            PyBuffer_Release(&text);
            return NULL;
        }
    }
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0) {
        PyBuffer_Release(&text);
        return NULL;
    }
    const int64_t *start = starts.buf, *end = ends.buf;
    result = PyByteArray_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(int64_t));
    if (result != NULL) {
        int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
        const char *bytes = text.buf;
        /* The values are held by the list, which holds the GIL: no thread can change it here. */
        for (Py_ssize_t i = 0; i < count; i++) {
            const Py_ssize_t length = (Py_ssize_t)(end[i] - start[i]);
            int64_t found = -1;
            for (Py_ssize_t k = 0; k < value_count; k++) {
                PyObject *value = PyList_GET_ITEM(values, k);
                if (PyBytes_GET_SIZE(value) == length && memcmp(PyBytes_AS_STRING(value), bytes + start[i], (size_t)length) == 0) {
                    found = k;
                    break;
                }
            }
            out[i] = found;
        }
    }
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&text);
    return result;
}

/* --- SAM columns of the bulk reverter: numbers and optional-field names, one pass -------------- */

PyDoc_STRVAR(span_numbers_doc,
"span_numbers(text, starts, ends) -> bytearray\n"
"\n"
"For each span text[starts[i]:ends[i]]: its value as int64 when it is 1 to 10 ASCII\n"
"digits (a SAM FLAG or POS), else -1.");

static PyObject *
span_numbers(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object;
    if (!PyArg_ParseTuple(args, "y*OO", &text, &starts_object, &ends_object))
        return NULL;
    Py_buffer starts, ends;
    Py_ssize_t count;
    PyObject *result = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &count) < 0)
        goto release_text;
    result = int64_array(count);
    if (result == NULL)
        goto release_all;
    const int64_t *start = starts.buf, *end = ends.buf;
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const unsigned char *p = bytes + start[i], *stop = bytes + end[i];
        int64_t number = 0;
        if (stop - p < 1 || stop - p > 10)
            number = -1;
        for (; number >= 0 && p < stop; p++) {
            if (*p < '0' || *p > '9')
                number = -1;
            else
                number = number * 10 + (*p - '0');
        }
        out[i] = number;
    }
    Py_END_ALLOW_THREADS
release_all:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

PyDoc_STRVAR(repeated_tags_doc,
"repeated_tags(text, starts, ends, counts) -> bytearray\n"
"\n"
"One byte a field text[starts[i]:ends[i]] (an optional field from the tab before it to the\n"
"tab or newline after it; counts[k] of them, in order, to line k): 1 where an earlier field\n"
"of its line starts with the same two bytes, a tag given twice in one record (SAM allows one\n"
"of each); 0 else. A field of fewer than two bytes names nothing and is never repeated.");

static PyObject *
repeated_tags(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    PyObject *starts_object, *ends_object, *counts_object;
    if (!PyArg_ParseTuple(args, "y*OOO", &text, &starts_object, &ends_object, &counts_object))
        return NULL;
    Py_buffer starts, ends, counts;
    Py_ssize_t field_count;
    PyObject *result = NULL;
    Py_ssize_t *seen = NULL;
    if (span_buffers(starts_object, ends_object, text.len, &starts, &ends, &field_count) < 0)
        goto release_text;
    if (int64_buffer(counts_object, &counts, "counts") < 0)
        goto release_spans;
    const Py_ssize_t line_count = counts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *start = starts.buf, *end = ends.buf, *per_line = counts.buf;
    if (counts_add_up(per_line, line_count, field_count, "counts must add up to the number of fields") < 0)
        goto release_all;
    result = PyByteArray_FromStringAndSize(NULL, field_count);
    seen = PyMem_RawCalloc(65536, sizeof(Py_ssize_t)); /* per name: 1 + the last line that had it */
    if (result == NULL || seen == NULL) {
        Py_CLEAR(result);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto release_all;
    }
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t next = 0;
    for (Py_ssize_t line = 0; line < line_count; line++) {
        const Py_ssize_t stamp = line + 1;
        for (int64_t k = 0; k < per_line[line]; k++, next++) {
            out[next] = 0;
            if (end[next] - start[next] < 3)
                continue;
            const unsigned int name = (unsigned int)bytes[start[next] + 1] << 8 | bytes[start[next] + 2];
            out[next] = seen[name] == stamp;
            seen[name] = stamp;
        }
    }
    Py_END_ALLOW_THREADS
release_all:
    PyMem_RawFree(seen);
    PyBuffer_Release(&counts);
release_spans:
    PyBuffer_Release(&ends);
    PyBuffer_Release(&starts);
release_text:
    PyBuffer_Release(&text);
    return result;
}

enum { TAG_LINE_NAMED = 1, TAG_LINE_MATE_CIGAR = 2, TAG_LINE_PLACE = 4 };

PyDoc_STRVAR(sam_tag_lines_doc,
"sam_tag_lines(text, tag_tabs, tag_counts, codes, letters, width) -> bytearray\n"
"\n"
"One byte a line: the lines own tag_counts[i] of the tab offsets tag_tabs (in order),\n"
"each the tab before an optional field. The bits codes (65536 entries) gives a field's\n"
"first two bytes, as first << 8 | second, for each of its fields (bit 1 for the names asked\n"
"for, bit 4 for the positions held to a contig). Bit 2: an MC:Z field whose\n"
"value holds a byte nonzero in letters (256 entries) within its first width bytes, or\n"
"runs past them. A byte past the text's end reads as its last byte.");

static PyObject *
sam_tag_lines(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, codes, letters;
    PyObject *tabs_object, *counts_object;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "y*OOy*y*n", &text, &tabs_object, &counts_object, &codes, &letters, &width))
        return NULL;
    Py_buffer tabs, counts;
    PyObject *result = NULL;
    if (codes.len != 65536 || letters.len != 256 || width < 1) {
        PyErr_SetString(PyExc_ValueError, "codes must have 65536 entries, letters 256, width at least 1");
        goto release_text;
    }
    if (int64_buffer(tabs_object, &tabs, "tag_tabs") < 0)
        goto release_text;
    if (int64_buffer(counts_object, &counts, "tag_counts") < 0)
        goto release_tabs;
    Py_ssize_t tab_count = tabs.len / (Py_ssize_t)sizeof(int64_t), line_count = counts.len / (Py_ssize_t)sizeof(int64_t);
    const int64_t *tab = tabs.buf, *per_line = counts.buf;
    if (counts_add_up(per_line, line_count, tab_count, "tag_counts must add up to the number of tag_tabs") < 0)
        goto release_all;
    for (Py_ssize_t i = 0; i < tab_count; i++) {
        if (tab[i] < 0 || tab[i] >= text.len) {
            PyErr_SetString(PyExc_IndexError, "tag tab outside the text");
            goto release_all;
        }
    }
    result = PyByteArray_FromStringAndSize(NULL, line_count);
    if (result == NULL)
        goto release_all;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(result);
    const unsigned char *bytes = text.buf, *named = codes.buf, *letter = letters.buf;
    const int64_t last = (int64_t)text.len - 1;
#define AT(offset) bytes[(offset) < last ? (offset) : last]
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t next = 0;
    for (Py_ssize_t line = 0; line < line_count; line++) {
        unsigned char found = 0;
        for (int64_t k = 0; k < per_line[line]; k++) {
            int64_t t = tab[next++];
            unsigned char first = AT(t + 1), second = AT(t + 2);
            found |= named[(unsigned)first << 8 | second];
            if (first == 'M' && second == 'C' && AT(t + 3) == ':' && AT(t + 4) == 'Z' && AT(t + 5) == ':') {
                Py_ssize_t j = 0;
                for (; j < width; j++) {
                    unsigned char c = AT(t + 6 + j);
                    if (c == '\t' || c == '\n')
                        break;
                    if (letter[c]) {
                        found |= TAG_LINE_MATE_CIGAR;
                        break;
                    }
                }
                if (j == width)
                    found |= TAG_LINE_MATE_CIGAR;
            }
        }
        out[line] = found;
    }
    Py_END_ALLOW_THREADS
#undef AT
release_all:
    PyBuffer_Release(&counts);
release_tabs:
    PyBuffer_Release(&tabs);
release_text:
    PyBuffer_Release(&text);
    PyBuffer_Release(&codes);
    PyBuffer_Release(&letters);
    return result;
}

PyDoc_STRVAR(sam_revert_windows_doc,
"sam_revert_windows(text, line_starts, sequence_starts, sequence_ends, quality_ends, line_ends,\n"
"                   positions, reference, offsets, window_starts, window_ends, window_counts,\n"
"                   keep_changed) -> (lines, changed, bases)\n"
"\n"
"sam-revert-germline -v for records of one M run (CIGAR = SEQ length) that touch a\n"
"window, as scan_python.sam_revert_windows does it: read i (0-based start positions[i],\n"
"the reference under it reference[offsets[i]:offsets[i] + its length]) owns the next\n"
"window_counts[i] windows [window_starts, window_ends); in each, in order, a stretch\n"
"that differs from the reference (but for case) becomes the reference. Its line: the\n"
"record up to QUAL with the new SEQ, the tags named in keep_changed (65536 bytes), then\n"
"MD and NM (as samtools calmd computes them) where it had them. changed and bases:\n"
"reads changed and the bases that differed in their reverted stretches.");

/* Write the MD of one M run (read against expected, size bases) at out, calmd's rule. */
static char *
match_run_md(char *out, const unsigned char *read, const unsigned char *expected, Py_ssize_t size, int64_t *distance)
{
    int64_t matches = 0;
    *distance = 0;
    for (Py_ssize_t k = 0; k < size; k++) {
        unsigned char base = read[k];
        if (base >= 'a' && base <= 'z')
            base -= 'a' - 'A';
        if (base == 'N' || (base != expected[k] && base != '=')) {
            out += sprintf(out, "%lld%c", (long long)matches, expected[k]);
            matches = 0;
            (*distance)++;
        } else {
            matches++;
        }
    }
    return out + sprintf(out, "%lld", (long long)matches);
}

static PyObject *
sam_revert_windows(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text, reference, keep_changed;
    PyObject *objects[10];
    if (!PyArg_ParseTuple(args, "y*OOOOOOy*OOOOy*", &text, &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &reference, &objects[6], &objects[7], &objects[8], &objects[9], &keep_changed))
        return NULL;
    static const char *names[10] = {"line_starts", "sequence_starts", "sequence_ends", "quality_ends", "line_ends", "positions",
                                    "offsets", "window_starts", "window_ends", "window_counts"};
    Py_buffer arrays[10];
    int got = 0;
    PyObject *lines = NULL, *result = NULL;
    char *sequence = NULL;
    for (; got < 10; got++) {
        if (int64_buffer(objects[got], &arrays[got], names[got]) < 0)
            goto release;
    }
    const Py_ssize_t count = arrays[0].len / (Py_ssize_t)sizeof(int64_t);
    const Py_ssize_t window_total = arrays[7].len / (Py_ssize_t)sizeof(int64_t);
    for (int i = 1; i < 10; i++) {
        if (i != 7 && i != 8 && arrays[i].len != arrays[0].len) {
            PyErr_SetString(PyExc_ValueError, "the per-read arrays must have one length");
            goto release;
        }
    }
    if (arrays[8].len != arrays[7].len) {
        PyErr_SetString(PyExc_ValueError, "window_starts and window_ends must have one length");
        goto release;
    }
    if (keep_changed.len != 65536) {
        PyErr_SetString(PyExc_ValueError, "keep_changed must hold 65536 bytes");
        goto release;
    }
    const int64_t *line_start = arrays[0].buf, *sequence_start = arrays[1].buf, *sequence_end = arrays[2].buf;
    const int64_t *quality_end = arrays[3].buf, *line_stop = arrays[4].buf, *position = arrays[5].buf, *offset = arrays[6].buf;
    const int64_t *window_start = arrays[7].buf, *window_end = arrays[8].buf, *window_count = arrays[9].buf;
    Py_ssize_t longest = 0;
    int64_t windows_owned = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (line_start[i] < 0 || line_start[i] > sequence_start[i] || sequence_start[i] > sequence_end[i]
            || sequence_end[i] >= quality_end[i] || quality_end[i] > line_stop[i] || line_stop[i] > text.len || offset[i] < 0
            || offset[i] + (sequence_end[i] - sequence_start[i]) > reference.len) {
            PyErr_SetString(PyExc_IndexError, "a record's offsets lie outside the text or the reference");
            goto release;
        }
        if (window_count[i] < 0 || window_count[i] > window_total - windows_owned) {
            PyErr_SetString(PyExc_ValueError, "window_counts must add up to the number of windows");
            goto release;
        }
        windows_owned += window_count[i];
        if (sequence_end[i] - sequence_start[i] > longest)
            longest = (Py_ssize_t)(sequence_end[i] - sequence_start[i]);
    }
    if (windows_owned != window_total) {
        PyErr_SetString(PyExc_ValueError, "window_counts must add up to the number of windows");
        goto release;
    }
    sequence = malloc((size_t)longest + 1);
    lines = PyList_New(count);
    if (sequence == NULL || lines == NULL) {
        if (sequence == NULL)
            PyErr_NoMemory();
        goto release;
    }
    const char *bytes = text.buf;
    const unsigned char *bases = reference.buf, *keep = keep_changed.buf;
    Py_ssize_t changed = 0, reverted_bases = 0, next_window = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        const Py_ssize_t size = (Py_ssize_t)(sequence_end[i] - sequence_start[i]);
        const unsigned char *target = bases + offset[i];
        memcpy(sequence, bytes + sequence_start[i], (size_t)size);
        Py_ssize_t reverted = 0;
        for (int64_t w = 0; w < window_count[i]; w++, next_window++) {
            int64_t first = (window_start[next_window] > position[i] ? window_start[next_window] : position[i]) - position[i];
            int64_t last = (window_end[next_window] < position[i] + size ? window_end[next_window] : position[i] + size) - position[i];
            if (first >= last)
                continue;
            Py_ssize_t raw = 0;
            int differs = 0;
            for (int64_t k = first; k < last; k++) {
                const unsigned char base = (unsigned char)sequence[k];
                raw += base != target[k];
                differs |= (base >= 'a' && base <= 'z' ? base - 32 : base) != target[k];
            }
            if (!differs)
                continue;
            reverted += raw;
            memcpy(sequence + first, target + first, (size_t)(last - first));
        }
        const Py_ssize_t bound = (Py_ssize_t)(line_stop[i] - line_start[i]) + 3 * size + 80;
        PyObject *line = PyBytes_FromStringAndSize(NULL, bound);
        if (line == NULL)
            goto release;
        char *out = PyBytes_AS_STRING(line);
        memcpy(out, bytes + line_start[i], (size_t)(sequence_start[i] - line_start[i]));
        out += sequence_start[i] - line_start[i];
        memcpy(out, sequence, (size_t)size);
        out += size;
        memcpy(out, bytes + sequence_end[i], (size_t)(quality_end[i] - sequence_end[i]));
        out += quality_end[i] - sequence_end[i];
        int has_md = 0, has_nm = 0;
        out = kept_tags(out, bytes + quality_end[i], bytes + line_stop[i], keep, &has_md, &has_nm);
        if (has_md || has_nm) {
            int64_t distance = 0;
            char *md_start = out + 6; /* after "\tMD:Z:" */
            if (has_md)
                memcpy(out, "\tMD:Z:", 6);
            int plain = memcmp(sequence, target, (size_t)size) == 0 && memchr(sequence, 'N', (size_t)size) == NULL;
            char *md_end = plain ? md_start + sprintf(md_start, "%zd", size)
                                 : match_run_md(md_start, (const unsigned char *)sequence, target, size, &distance);
            out = has_md ? md_end : out;
            if (has_nm)
                out += sprintf(out, "\tNM:i:%lld", (long long)distance);
        }
        if (reverted) {
            changed++;
            reverted_bases += reverted;
        }
        if (_PyBytes_Resize(&line, out - PyBytes_AS_STRING(line)) < 0)
            goto release;
        PyList_SET_ITEM(lines, i, line);
    }
    result = Py_BuildValue("Onn", lines, changed, reverted_bases);
release:
    free(sequence);
    Py_XDECREF(lines);
    for (int i = 0; i < got; i++)
        PyBuffer_Release(&arrays[i]);
    PyBuffer_Release(&text);
    PyBuffer_Release(&reference);
    PyBuffer_Release(&keep_changed);
    return result;
}

PyDoc_STRVAR(date_junctions_doc,
"date_junctions(text, info_column) -> bytearray\n"
"\n"
"Offsets (int64) in text, a block of VCF lines, from which every date or phone number of\n"
"the audit's value rule written with separators can be found (a superset; see\n"
"scan_python.date_junctions, its twin, for the rule). A ':' separates only in the\n"
"column after info_column tabs of its line. A phone number or a date joined by a\n"
"list's separator (010~1234, 1990|01|, 01;01;) is found at its first digit.");

static int
date_separator(unsigned char c)
{
    return c == '-' || c == '.' || c == '/' || c == '_' || c == ':' || c == ' ';
}

/* Whether the digit at j is followed by what joins a phone number's or a date's parts that
 * date_separator lacks (a list's separator, '|', ';', ',', '~' or '+', or " - "), then a digit. */
static int
list_junction(const unsigned char *t, Py_ssize_t n, Py_ssize_t j)
{
    const unsigned char c = t[j + 1];
    if (c == '|' || c == ';' || c == ',' || c == '~' || c == '+')
        return j + 2 < n && is_digit(t[j + 2]);
    return c == ' ' && j + 4 < n && t[j + 2] == '-' && t[j + 3] == ' ' && is_digit(t[j + 4]);
}

static PyObject *
date_junctions(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer text;
    int info_column;
    if (!PyArg_ParseTuple(args, "y*i", &text, &info_column))
        return NULL;
    const unsigned char *t = text.buf;
    const Py_ssize_t n = text.len;
#define DIGIT_AT(i) ((i) < n && is_digit(t[(i)]))
#define SPACE_AT(i) ((i) < n && t[(i)] == ' ')
    unsigned char *junction = PyMem_Calloc((size_t)n + 8, 1); /* 1: a junction; 2: one ending a date */
    int64_t *found = NULL;
    Py_ssize_t count = 0, capacity = 0;
    PyObject *result = NULL;
    if (junction == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    int tabs = 0; /* tabs before this byte in its line */
    for (Py_ssize_t j = 0; j < n; j++) {
        const unsigned char c = t[j];
        if (c == '\n') {
            tabs = 0;
            continue;
        }
        if (c == '\t')
            tabs++;
        if (!is_digit(c) || j + 1 >= n)
            continue;
        if (list_junction(t, n, j)) { /* a phone number's first part (010~), a date's (1990|01|, 01;01;) */
            Py_ssize_t start = j;
            while (start > 0 && is_digit(t[start - 1]))
                start--;
            const Py_ssize_t digits = j - start + 1;
            const int listed = t[j + 1] != ' ' && DIGIT_AT(j + 3) && j + 4 < n && t[j + 4] == t[j + 1];
            const int year_first = digits == 4 && (t[start] == '1' || t[start] == '2') && t[j + 2] <= '1';
            const int year_last = digits == 2 && t[start] <= '3' && t[j + 2] <= '3' && j + 5 < n && (t[j + 5] == '1' || t[j + 5] == '2')
                                  && DIGIT_AT(j + 6) && DIGIT_AT(j + 7) && DIGIT_AT(j + 8);
            if ((t[start] == '0' && (digits == 2 || digits == 3)) || (listed && (year_first || year_last)))
                junction[start] |= 4;
        }
        if (!date_separator(t[j + 1]))
            continue;
        if (!(DIGIT_AT(j + 2) || (SPACE_AT(j + 2) && DIGIT_AT(j + 3))))
            continue;
        if (t[j + 1] == ':' && tabs != info_column)
            continue; /* a ':' outside INFO splits a sample's values */
        const Py_ssize_t after = j + 2 + (SPACE_AT(j + 2) ? 1 : 0);
        junction[j] = 1 | ((DIGIT_AT(after) && DIGIT_AT(after + 1) && DIGIT_AT(after + 2) && DIGIT_AT(after + 3)) ? 2 : 0);
    }
    for (Py_ssize_t j = 0; j < n; j++) {
        if (!junction[j])
            continue;
        if (!(junction[j] & 4)) {
            int paired = 0, paired_end = 0;
            for (Py_ssize_t k = j + 2; k <= j + 6 && k < n; k++) {
                paired |= (junction[k] & 3) != 0;
                paired_end |= (junction[k] & 2) != 0;
            }
            const int two_before = is_digit(t[j > 0 ? j - 1 : 0]); /* 1990.01.01, 29.10.23 */
            if (!((paired && two_before) || paired_end))
                continue;
        }
        if (count == capacity) {
            capacity = capacity ? 2 * capacity : 256;
            int64_t *grown = PyMem_Realloc(found, (size_t)capacity * sizeof(int64_t));
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            found = grown;
        }
        found[count++] = (int64_t)j;
    }
    result = PyByteArray_FromStringAndSize((const char *)found, count * (Py_ssize_t)sizeof(int64_t));
done:
#undef DIGIT_AT
#undef SPACE_AT
    PyMem_Free(found);
    PyMem_Free(junction);
    PyBuffer_Release(&text);
    return result;
}

/* --- BCF records -------------------------------------------------------------------------------- */

/* The rows, fields, problems and key bits of scan_python.bcf_records (BCF_PROBLEM_FIELDS, BCF_FIELD_*,
 * BCF_PROBLEM_*, BCF_KEY_*): the two must agree, tests/test_audit_bcf.py holds them to one answer. */
enum { BCF_RECORD, BCF_ID, BCF_ALLELE, BCF_FILTER, BCF_INFO, BCF_FORMAT, BCF_QUAL, BCF_RLEN };
enum {
    BCF_AFTER_NUL = 1, BCF_AFTER_END, BCF_NAN_BITS, BCF_TYPE, BCF_UNDECLARED, BCF_SHARED_TAIL, BCF_INDIV_TAIL,
    BCF_SAMPLE_COUNT, BCF_UNPARSED, BCF_FORMAT_WITHOUT_SAMPLES, BCF_MISSING_CHAR, BCF_DECLARED_TYPE, BCF_PHASE,
    BCF_END_VALUE, BCF_RLEN_VALUE, BCF_REPEATED
};
enum { BCF_KEY_FILTER = 1, BCF_KEY_INFO = 2, BCF_KEY_FORMAT = 4, BCF_PROBLEM_FIELDS = 8 };
/* The Type a dictionary byte's INFO line declares (two bits from 3) and its FORMAT line's (from 5):
 * scan_python.BCF_DECLARED_*; and the type codes a VCF reader gives each (BCF_DECLARED_CODES), a bit a code. */
enum { BCF_DECLARED_INFO_SHIFT = 3, BCF_DECLARED_FORMAT_SHIFT = 5 };
static const unsigned bcf_declared_codes[4] = {1u << 0 | 1u << 1 | 1u << 2 | 1u << 3, 1u << 0 | 1u << 5, 1u << 0 | 1u << 7,
                                               1u << 0 | 1u << 7};
static const unsigned bcf_gt_codes = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 3;
/* How a walk of a part went: on, stopped where a field does not fit or parse (the part is unparsed),
 * or stopped at a problem already reported (a type code: the rest of the part is its span). */
enum { BCF_ON = 0, BCF_STOP = 1, BCF_STOP_REPORTED = 2 };

/* Bytes of a value of each BCF 2.2 type code (VCF 4.3, section 6.3.3); -1 for a reserved code. */
static const int bcf_sizes[16] = {0, 1, 2, 4, -1, 4, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1};

typedef struct {
    const unsigned char *d;
    const unsigned char *kinds;  /* BCF_KEY_* bits and declared Types of each dictionary index */
    Py_ssize_t kind_count;
    int64_t gt, end_key, svlen_key, length_key;  /* dictionary indexes of GT, END, SVLEN, LEN; -1 none */
    int phase_printed;           /* htslib prints GT's first phase bit (VCF 4.4, htslib 1.22 or later) */
    int64_t *rows;               /* BCF_PROBLEM_FIELDS int64 a problem, row-major */
    Py_ssize_t count, capacity;
    int out_of_memory;
    /* The record being walked, as scan_python._Record: what get_rlen reads of it. */
    int64_t pos, rlen, reference, end, svlen, length, n_allele;
    int end_given, svlen_given, block, any_measured;
    unsigned char *measured;     /* a byte an allele: SVLEN measures it */
    int64_t measured_capacity;
    int64_t *seen;               /* a dictionary index: the part (stamp) it was last a key of */
    int64_t stamp;               /* this part's: one more for each INFO or FORMAT part walked */
} BcfWalk;

/* Whether a declared key was a key of the part being walked already (marks it: a key given twice). */
static int
bcf_repeated(BcfWalk *w, int64_t key)
{
    if (w->seen == NULL || key < 0 || key >= w->kind_count)
        return 0;
    const int repeated = w->seen[key] == w->stamp;
    w->seen[key] = w->stamp;
    return repeated;
}

static void
bcf_problem(BcfWalk *w, int64_t record, int64_t field, int64_t key, int64_t problem, int64_t start, int64_t end, int64_t width,
            int64_t type)
{
    if (w->count == w->capacity) {
        Py_ssize_t capacity = w->capacity ? 2 * w->capacity : 64;
        int64_t *rows = PyMem_RawRealloc(w->rows, (size_t)capacity * BCF_PROBLEM_FIELDS * sizeof(int64_t));
        if (rows == NULL) {
            w->out_of_memory = 1;
            return;
        }
        w->rows = rows;
        w->capacity = capacity;
    }
    int64_t *row = w->rows + w->count * BCF_PROBLEM_FIELDS;
    row[0] = record, row[1] = field, row[2] = key, row[3] = problem, row[4] = start, row[5] = end, row[6] = width, row[7] = type;
    w->count++;
}

static inline int64_t
bcf_signed(const unsigned char *p, int size)
{
    return size == 1 ? (int64_t)(int8_t)p[0] : size == 2 ? (int64_t)(int16_t)le16(p) : (int64_t)(int32_t)le32(p);
}

/* A typed atomic integer (a key, a vector's size) at d[at]: an integer type, a count of 1. */
static int
bcf_key(BcfWalk *w, int64_t at, int64_t limit, int64_t record, int64_t field, int64_t key, int64_t *value, int64_t *next)
{
    if (at >= limit)
        return BCF_STOP;
    const int kind = w->d[at] & 15;
    if (kind < 1 || kind > 3) {
        bcf_problem(w, record, field, key, BCF_TYPE, at, limit, limit - at, kind);
        return BCF_STOP_REPORTED;
    }
    if (w->d[at] >> 4 != 1)
        bcf_problem(w, record, field, key, BCF_TYPE, at, at + 1, 1, kind);
    const int size = bcf_sizes[kind];
    if (at + 1 + size > limit)
        return BCF_STOP;
    *value = bcf_signed(w->d + at + 1, size);
    *next = at + 1 + size;
    return BCF_ON;
}

/* The type descriptor at d[at]: type, count (a count of 15 followed by a typed integer) and where
 * the values start; they must fit before limit. */
static int
bcf_typed(BcfWalk *w, int64_t at, int64_t limit, int64_t record, int64_t field, int64_t key, int *kind, int64_t *count,
          int64_t *next)
{
    if (at >= limit)
        return BCF_STOP;
    const unsigned char descriptor = w->d[at];
    *kind = descriptor & 15;
    *count = descriptor >> 4;
    int64_t following = at + 1;
    if (*count == 15) {
        const int status = bcf_key(w, following, limit, record, field, key, count, &following);
        if (status != BCF_ON)
            return status;
        if (*count < 0)
            return BCF_STOP;
    }
    if (bcf_sizes[*kind] < 0 || (*kind == 0 && *count)) {
        bcf_problem(w, record, field, key, BCF_TYPE, at, limit, limit - at, *kind);
        return BCF_STOP_REPORTED;
    }
    if (following + *count * bcf_sizes[*kind] > limit)
        return BCF_STOP;
    *next = following;
    return BCF_ON;
}

static inline int
bcf_odd_nan(uint32_t value)
{
    return (value & 0x7F800000u) == 0x7F800000u && (value & 0x7FFFFFu) && value != 0x7FC00000u && value != 0xFFC00000u
           && value != 0x7F800001u;
}

/* The problem of one value of count elements at d[at], 0 for none (scan_python._bcf_slot_problem). */
static int
bcf_slot_problem(const unsigned char *d, int64_t at, int kind, int64_t count)
{
    if (kind == 7) {
        const unsigned char *nul = memchr(d + at, 0, (size_t)count);
        if (nul != NULL)
            for (const unsigned char *p = nul + 1, *end = d + at + count; p < end; p++)
                if (*p)
                    return BCF_AFTER_NUL;
        const size_t printed = nul != NULL ? (size_t)(nul - (d + at)) : (size_t)count;
        return memchr(d + at, 7, printed) != NULL ? BCF_MISSING_CHAR : 0;
    }
    if (kind == 0)
        return 0;
    const int size = bcf_sizes[kind];
    const uint32_t marker = kind == 1 ? 0x81u : kind == 2 ? 0x8001u : kind == 3 ? 0x80000001u : 0x7F800002u;
    int found = 0, ended = 0;
    const unsigned char *p = d + at;
    for (int64_t element = 0; element < count; element++, p += size) {
        const uint32_t value = size == 1 ? p[0] : size == 2 ? (uint32_t)le16(p) : le32(p);
        if (ended) {
            if (value != marker)
                return BCF_AFTER_END;
        } else if (value == marker) {
            ended = 1;
        } else if (kind == 5 && bcf_odd_nan(value)) {
            found = BCF_NAN_BITS;
        }
    }
    return found;
}

static void
bcf_values(BcfWalk *w, int64_t at, int kind, int64_t count, int64_t slots, int64_t record, int64_t field, int64_t key)
{
    const int64_t width = count * bcf_sizes[kind];
    for (int64_t slot = 0; slot < slots; slot++) {
        const int found = bcf_slot_problem(w->d, at + slot * width, kind, count);
        if (found) {
            bcf_problem(w, record, field, key, found, at, at + slots * width, width, kind);
            return;
        }
    }
}

static inline int
bcf_declared(const BcfWalk *w, int64_t key, int bit)
{
    return key >= 0 && key < w->kind_count && (w->kinds[key] & bit);
}

/* A typed string (ID, an allele): a character type whatever its length. *printed and *length:
 * what htslib prints of it (up to its first NUL; nothing for another type). */
static int
bcf_string(BcfWalk *w, int64_t *at, int64_t limit, int64_t record, int64_t field, int64_t key, const unsigned char **printed,
           int64_t *length)
{
    int kind;
    int64_t count, value;
    const int status = bcf_typed(w, *at, limit, record, field, key, &kind, &count, &value);
    if (status != BCF_ON)
        return status;
    const int64_t width = count * bcf_sizes[kind];
    *printed = w->d + value;
    *length = 0;
    if (kind != 7) {
        bcf_problem(w, record, field, key, BCF_TYPE, value, value + width, width, kind);
    } else {
        bcf_values(w, value, kind, count, 1, record, field, key);
        const unsigned char *nul = memchr(w->d + value, 0, (size_t)count);
        *length = nul != NULL ? nul - (w->d + value) : count;
    }
    *at = value + width;
    return BCF_ON;
}

/* Whether SVLEN gives the reference length of a symbolic ALT allele (htslib's svlen_on_ref_for_vcf_alt;
 * scan_python._measured_allele). */
static int
bcf_measured_allele(const unsigned char *a, int64_t length)
{
    if (length < 5 || a[length - 1] != '>' || (a[4] != '>' && a[4] != ':'))
        return 0;
    return memcmp(a, "<CNV", 4) == 0 || memcmp(a, "<DEL", 4) == 0 || memcmp(a, "<DUP", 4) == 0 || memcmp(a, "<INV", 4) == 0;
}

/* The signed integer of type kind (1, 2, 3) at p. */
static inline int64_t
bcf_integer(const unsigned char *p, int kind)
{
    return bcf_signed(p, bcf_sizes[kind]);
}

static inline int64_t
bcf_integer_vector_end(int kind)
{
    return kind == 1 ? -127 : kind == 2 ? -32767 : -2147483647;
}

static inline int64_t
bcf_integer_missing(int kind)
{
    return kind == 1 ? -128 : kind == 2 ? -32768 : -2147483648LL;
}

/* The rules an INFO value is held to beyond its bytes (scan_python._bcf_info_rules): its declared
 * Type; END one integer, the end rlen gives; the first END and SVLEN gathered for rlen. */
static void
bcf_info_rules(BcfWalk *w, int64_t key, int kind, int64_t count, int64_t value, int64_t record)
{
    const int64_t width = count * bcf_sizes[kind];
    if (bcf_declared(w, key, BCF_KEY_INFO) && !(bcf_declared_codes[w->kinds[key] >> BCF_DECLARED_INFO_SHIFT & 3] >> kind & 1))
        bcf_problem(w, record, BCF_INFO, key, BCF_DECLARED_TYPE, value, value + width, width, kind);
    if (key == w->end_key) {
        int given = kind >= 1 && kind <= 3 && count == 1;
        const int64_t integer = given ? bcf_integer(w->d + value, kind) : 0;
        if (given && integer == bcf_integer_missing(kind))
            given = 0;
        if (!w->end_given) {
            w->end_given = 1;
            w->end = given ? integer : 0;
        }
        if (!given || integer != w->pos + w->rlen)
            bcf_problem(w, record, BCF_INFO, key, BCF_END_VALUE, value, value + width, width, kind);
    } else if (key == w->svlen_key && !w->svlen_given && w->any_measured) {
        w->svlen_given = 1;
        w->svlen = 0;
        if (kind >= 1 && kind <= 3) {
            const int64_t elements = count < w->n_allele - 1 ? count : w->n_allele - 1;
            for (int64_t element = 0; element < elements; element++) {
                const int64_t number = bcf_integer(w->d + value + element * bcf_sizes[kind], kind);
                if (number == bcf_integer_vector_end(kind))
                    break;
                const int64_t allele = (element & ~(int64_t)7) | ((element + 1) & 7);
                if (w->measured[allele] && number != bcf_integer_missing(kind)) {
                    const int64_t size = number < 0 ? -number : number;
                    if (size > w->svlen)
                        w->svlen = size;
                }
            }
        }
    }
}

/* Whether a GT value's first phase bit is one a VCF reader writes for the alleles htslib prints
 * (scan_python._gt_canonical). */
static int
bcf_gt_canonical(const unsigned char *p, int kind, int64_t count)
{
    const int size = bcf_sizes[kind];
    const int64_t vector_end = bcf_integer_vector_end(kind);
    int64_t ploidy = 0;
    int all_phased = 1;
    if (kind == 1) {  /* the common type, read without bcf_integer's switch */
        for (; ploidy < count && (int8_t)p[ploidy] != -127; ploidy++)
            all_phased &= ploidy == 0 || (p[ploidy] & 1);
    } else {
        for (; ploidy < count; ploidy++) {
            const int64_t element = bcf_integer(p + ploidy * size, kind);
            if (element == vector_end)
                break;
            all_phased &= ploidy == 0 || (element & 1);
        }
    }
    if (ploidy == 0)
        return 0;
    const int64_t first = bcf_integer(p, kind);
    const int64_t inferred = ploidy == 1 ? (first >> 1) != 0 : all_phased;
    return (first & 1) == 0 || (first & 1) == inferred;
}

/* The rules a FORMAT value is held to beyond its bytes (scan_python._bcf_format_rules): its declared
 * Type (GT: integers), GT's first phase bit where htslib does not print it, LEN gathered for rlen. */
static void
bcf_format_rules(BcfWalk *w, int64_t key, int kind, int64_t count, int64_t value, int64_t n_sample, int64_t record)
{
    const int64_t width = count * bcf_sizes[kind];
    if (key == w->gt) {
        if (!(bcf_gt_codes >> kind & 1)) {
            bcf_problem(w, record, BCF_FORMAT, key, BCF_DECLARED_TYPE, value, value + n_sample * width, width, kind);
        } else if (kind && !w->phase_printed) {
            /* A first element with its phase bit clear is canonical (END_OF_VECTOR has it set). Diploid
             * 8-bit values, the most common, are judged without a branch: a phased first allele needs a
             * phased second, or, haploid, an allele other than '.'; END_OF_VECTOR first is never canonical. */
            const unsigned char *p = w->d + value;
            int odd = 0;
            if (kind == 1 && count == 2) {
                for (int64_t sample = 0; sample < n_sample; sample++, p += 2) {
                    const unsigned a = p[0], b = p[1];
                    odd |= (a & 1) & ((a == 0x81) | ((b == 0x81) & (a == 1)) | ((b != 0x81) & ~b & 1));
                }
            } else {
                for (int64_t sample = 0; sample < n_sample && !odd; sample++, p += width)
                    odd = count == 0 || ((p[0] & 1) && !bcf_gt_canonical(p, kind, count));
            }
            if (odd)
                bcf_problem(w, record, BCF_FORMAT, key, BCF_PHASE, value, value + n_sample * width, width, kind);
        }
    } else if (bcf_declared(w, key, BCF_KEY_FORMAT)
               && !(bcf_declared_codes[w->kinds[key] >> BCF_DECLARED_FORMAT_SHIFT & 3] >> kind & 1)) {
        bcf_problem(w, record, BCF_FORMAT, key, BCF_DECLARED_TYPE, value, value + n_sample * width, width, kind);
    }
    if (key == w->length_key && w->block && kind >= 1 && kind <= 3)
        for (int64_t element = 0; element < count * n_sample; element++) {
            const int64_t number = bcf_integer(w->d + value + element * bcf_sizes[kind], kind);
            if (number > w->length)
                w->length = number;
        }
}

/* The rlen a VCF reader gives the record as htslib prints it, before htslib 1.22 and since
 * (scan_python._bcf_rlen): whether rlen is one of the two. */
static int
bcf_rlen_canonical(const BcfWalk *w)
{
    const int64_t pos = w->pos, end = w->end_given ? w->end : 0;
    const int64_t before = w->end_given && end > pos ? end - pos : w->reference;
    int64_t svlen = w->svlen_given ? w->svlen : 0, length = w->length;
    if (!svlen && end)
        svlen = end > pos ? end - pos - 1 : 0;
    if (!length && end)
        length = end > pos ? end - pos : 0;
    int64_t furthest = end;
    if (pos + svlen + 1 > furthest)
        furthest = pos + svlen + 1;
    if (pos + length > furthest)
        furthest = pos + length;
    const int64_t since = furthest - pos > w->reference ? furthest - pos : w->reference;
    return w->rlen == before || w->rlen == since;
}

/* A record's shared part after its fixed 24 bytes: ID, alleles, FILTER, INFO. */
static int
bcf_shared(BcfWalk *w, int64_t *at, int64_t end, int64_t n_info, int64_t n_allele, int64_t record)
{
    const unsigned char *printed;
    int64_t length;
    int status = bcf_string(w, at, end, record, BCF_ID, -1, &printed, &length);
    if (n_allele > w->measured_capacity) {
        unsigned char *measured = PyMem_RawRealloc(w->measured, (size_t)n_allele);
        if (measured == NULL) {
            w->out_of_memory = 1;
            return BCF_STOP_REPORTED;
        }
        w->measured = measured;
        w->measured_capacity = n_allele;
    }
    w->n_allele = n_allele;
    for (int64_t allele = 0; status == BCF_ON && allele < n_allele; allele++) {
        status = bcf_string(w, at, end, record, BCF_ALLELE, allele, &printed, &length);
        if (status != BCF_ON)
            break;
        if (allele == 0)
            w->reference = length;
        w->measured[allele] = allele > 0 && bcf_measured_allele(printed, length);
        w->any_measured |= w->measured[allele];
        if (allele > 0 && ((length == 3 && memcmp(printed, "<*>", 3) == 0) || (length == 9 && memcmp(printed, "<NON_REF>", 9) == 0)))
            w->block = 1;
    }
    if (status != BCF_ON)
        return status;
    int kind;
    int64_t count, value;
    status = bcf_typed(w, *at, end, record, BCF_FILTER, -1, &kind, &count, &value);
    if (status != BCF_ON)
        return status;
    const int size = bcf_sizes[kind];
    if (count && (kind < 1 || kind > 3)) {
        bcf_problem(w, record, BCF_FILTER, -1, BCF_TYPE, value, value + count * size, count * size, kind);
    } else {
        for (int64_t element = 0; element < count; element++) {
            const int64_t index = bcf_signed(w->d + value + element * size, size);
            if (!bcf_declared(w, index, BCF_KEY_FILTER)) {
                bcf_problem(w, record, BCF_FILTER, index, BCF_UNDECLARED, value, value + count * size, count * size, kind);
                break;
            }
        }
    }
    *at = value + count * size;
    w->stamp++;
    for (int64_t i = 0; i < n_info; i++) {
        int64_t key;
        status = bcf_key(w, *at, end, record, BCF_INFO, -1, &key, at);
        if (status != BCF_ON)
            return status;
        status = bcf_typed(w, *at, end, record, BCF_INFO, key, &kind, &count, &value);
        if (status != BCF_ON)
            return status;
        const int64_t width = count * bcf_sizes[kind];
        if (!bcf_declared(w, key, BCF_KEY_INFO))
            bcf_problem(w, record, BCF_INFO, key, BCF_UNDECLARED, value, value + width, width, kind);
        else if (bcf_repeated(w, key))
            bcf_problem(w, record, BCF_INFO, key, BCF_REPEATED, value, value + width, width, kind);
        bcf_values(w, value, kind, count, 1, record, BCF_INFO, key);
        bcf_info_rules(w, key, kind, count, value, record);
        *at = value + width;
    }
    return BCF_ON;
}

/* A record's FORMAT fields, each key's values for every sample. */
static int
bcf_indiv(BcfWalk *w, int64_t *at, int64_t end, int64_t n_fmt, int64_t n_sample, int64_t record)
{
    w->stamp++;
    for (int64_t i = 0; i < n_fmt; i++) {
        int64_t key, count, value;
        int kind;
        int status = bcf_key(w, *at, end, record, BCF_FORMAT, -1, &key, at);
        if (status != BCF_ON)
            return status;
        status = bcf_typed(w, *at, end, record, BCF_FORMAT, key, &kind, &count, &value);
        if (status != BCF_ON)
            return status;
        const int64_t width = count * bcf_sizes[kind];
        if (value + n_sample * width > end)
            return BCF_STOP;
        if (!bcf_declared(w, key, BCF_KEY_FORMAT))
            bcf_problem(w, record, BCF_FORMAT, key, BCF_UNDECLARED, value, value + n_sample * width, width, kind);
        else if (bcf_repeated(w, key))
            bcf_problem(w, record, BCF_FORMAT, key, BCF_REPEATED, value, value + n_sample * width, width, kind);
        bcf_values(w, value, kind, count, n_sample, record, BCF_FORMAT, key);
        bcf_format_rules(w, key, kind, count, value, n_sample, record);
        *at = value + n_sample * width;
    }
    return BCF_ON;
}

/* Returns whether the walk read every field of the part. */
static int
bcf_part_end(BcfWalk *w, int status, int64_t start, int64_t at, int64_t end, int tail, int64_t record)
{
    if (status == BCF_STOP)
        bcf_problem(w, record, BCF_RECORD, -1, BCF_UNPARSED, start, end, end - start, 0);
    else if (status == BCF_ON && at < end)
        bcf_problem(w, record, BCF_RECORD, -1, tail, at, end, end - at, 0);
    return status == BCF_ON;
}

/* Walk the whole records of d[at:size] (scan_python.bcf_records); returns where the first
 * incomplete one begins, its count in *records. */
static Py_ssize_t
walk_bcf(BcfWalk *w, Py_ssize_t size, Py_ssize_t at, int64_t samples, int64_t *records)
{
    const unsigned char *d = w->d;
    int64_t row = 0;
    while (at + 8 <= size && !w->out_of_memory) {
        const int64_t shared = at + 8, indiv = shared + le32(d + at), end = indiv + le32(d + at + 4);
        if (end > size)
            break;
        if (indiv - shared < 24) {
            bcf_problem(w, row, BCF_RECORD, -1, BCF_UNPARSED, shared, end, end - shared, 0);
        } else {
            if (bcf_odd_nan(le32(d + shared + 12)))
                bcf_problem(w, row, BCF_QUAL, -1, BCF_NAN_BITS, shared + 12, shared + 16, 4, 5);
            const int64_t n_info = le16(d + shared + 16), n_allele = le16(d + shared + 18);
            const int64_t n_sample = le32(d + shared + 20) & 0xFFFFFF, n_fmt = d[shared + 23];
            if (n_sample != samples)
                bcf_problem(w, row, BCF_RECORD, -1, BCF_SAMPLE_COUNT, shared + 20, shared + 23, 3, 0);
            w->pos = (int32_t)le32(d + shared + 4), w->rlen = (int32_t)le32(d + shared + 8);
            w->reference = w->end = w->svlen = w->length = 0;
            w->end_given = w->svlen_given = w->block = w->any_measured = 0;
            int64_t walked = shared + 24;
            int status = bcf_shared(w, &walked, indiv, n_info, n_allele, row);
            int read = bcf_part_end(w, status, shared + 24, walked, indiv, BCF_SHARED_TAIL, row);
            if (n_fmt && n_sample && end > indiv) {
                walked = indiv;
                status = bcf_indiv(w, &walked, end, n_fmt, n_sample, row);
                read &= bcf_part_end(w, status, indiv, walked, end, BCF_INDIV_TAIL, row);
            } else {
                if (n_fmt)
                    bcf_problem(w, row, BCF_RECORD, -1, BCF_FORMAT_WITHOUT_SAMPLES, shared + 23, shared + 24, 1, 0);
                if (end > indiv)
                    bcf_problem(w, row, BCF_RECORD, -1, BCF_INDIV_TAIL, indiv, end, end - indiv, 0);
            }
            if (read && !bcf_rlen_canonical(w))
                bcf_problem(w, row, BCF_RLEN, -1, BCF_RLEN_VALUE, shared + 8, shared + 12, 4, 3);
        }
        row++;
        at = end;
    }
    *records = row;
    return at;
}

PyDoc_STRVAR(bcf_records_doc,
"bcf_records(data, start, samples, kinds, keys, phase_printed) -> (count, stop, problems)\n"
"\n"
"The whole BCF records of data[start:] (uncompressed, after the header) walked field by\n"
"field through the layout of BCF 2.2, as scan_python.bcf_records: count, where the first\n"
"incomplete record begins, and the problems found, 8 int64 each in file order (record,\n"
"field, key, problem, start, end, width, type): a string's bytes after its NUL, a vector's\n"
"values after its END_OF_VECTOR, an odd NaN, a 0x07 byte of a string, a type code off the\n"
"specification, an INFO or FORMAT key or FILTER value that kinds (one byte a dictionary\n"
"index: BCF_KEY_* bits and BCF_DECLARED_* Types) does not declare so, a value of another\n"
"type than its declared Type, bytes after a part's fields, a sample count other than\n"
"samples, a part that does not parse, a declared INFO or FORMAT key given again in one record;\n"
"GT's first phase bit unless phase_printed, INFO/END\n"
"and rlen where a VCF reader would not write them again (keys: the dictionary indexes of\n"
"GT, END, SVLEN and LEN, -1 for none).");

static PyObject *
bcf_records(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view, kinds;
    Py_ssize_t start;
    long long samples, gt, end_key, svlen_key, length_key;
    int phase_printed;
    if (!PyArg_ParseTuple(args, "y*nLy*(LLLL)p", &view, &start, &samples, &kinds, &gt, &end_key, &svlen_key, &length_key,
                          &phase_printed))
        return NULL;
    if (start < 0 || start > view.len) {
        PyBuffer_Release(&view);
        PyBuffer_Release(&kinds);
        PyErr_SetString(PyExc_IndexError, "start outside the data");
        return NULL;
    }
    BcfWalk w = {.d = view.buf, .kinds = kinds.buf, .kind_count = kinds.len, .gt = gt, .end_key = end_key,
                 .svlen_key = svlen_key, .length_key = length_key, .phase_printed = phase_printed};
    int64_t records = 0;
    Py_ssize_t stop;
    Py_BEGIN_ALLOW_THREADS
    w.seen = kinds.len ? PyMem_RawCalloc((size_t)kinds.len, sizeof(int64_t)) : NULL;
    w.out_of_memory = kinds.len && w.seen == NULL;
    stop = walk_bcf(&w, view.len, start, samples, &records);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyBuffer_Release(&kinds);
    PyMem_RawFree(w.measured);
    PyMem_RawFree(w.seen);
    if (w.out_of_memory) {
        PyMem_RawFree(w.rows);
        return PyErr_NoMemory();
    }
    PyObject *problems = int64_array(w.count * BCF_PROBLEM_FIELDS);
    if (problems != NULL && w.count)
        memcpy(PyByteArray_AS_STRING(problems), w.rows, (size_t)w.count * BCF_PROBLEM_FIELDS * sizeof(int64_t));
    PyMem_RawFree(w.rows);
    if (problems == NULL)
        return NULL;
    return Py_BuildValue("LnN", (long long)records, stop, problems);
}

static PyMethodDef scan_methods[] = {
    {"sam_revert_matches", sam_revert_matches, METH_VARARGS, sam_revert_matches_doc},
    {"splice_lines", splice_lines, METH_VARARGS, splice_lines_doc},
    {"fastq_scan", fastq_scan, METH_VARARGS, fastq_scan_doc},
    {"fastq_rebuild", fastq_rebuild, METH_VARARGS, fastq_rebuild_doc},
    {"fastq_kseq_block", fastq_kseq_block, METH_VARARGS, fastq_kseq_block_doc},
    {"read_into", read_into, METH_VARARGS, read_into_doc},
    {"join_spans", join_spans, METH_VARARGS, join_spans_doc},
    {"info_values", info_values, METH_VARARGS, info_values_doc},
    {"vcf_columns", vcf_columns, METH_VARARGS, vcf_columns_doc},
    {"count_lines", count_lines, METH_VARARGS, count_lines_doc},
    {"spans_within", spans_within, METH_VARARGS, spans_within_doc},
    {"replace_spans", replace_spans, METH_VARARGS, replace_spans_doc},
    {"bam_records", bam_records, METH_VARARGS, bam_records_doc},
    {"find_strings", find_strings, METH_VARARGS, find_strings_doc},
    {"any_strings", any_strings, METH_VARARGS, any_strings_doc},
    {"find_spread_strings", find_spread_strings, METH_VARARGS, find_spread_strings_doc},
    {"first_of_strings", first_of_strings, METH_VARARGS, first_of_strings_doc},
    {"line_fields", line_fields, METH_VARARGS, line_fields_doc},
    {"splice_spans", splice_spans, METH_VARARGS, splice_spans_doc},
    {"md_lengths", md_lengths, METH_VARARGS, md_lengths_doc},
    {"md_bases_at", md_bases_at, METH_VARARGS, md_bases_at_doc},
    {"cigar_lengths", cigar_lengths, METH_VARARGS, cigar_lengths_doc},
    {"keyed_name_hashes", keyed_name_hashes, METH_VARARGS, keyed_name_hashes_doc},
    {"span_list", span_list, METH_VARARGS, span_list_doc},
    {"vcf_identifier_candidates", vcf_identifier_candidates, METH_VARARGS, vcf_identifier_candidates_doc},
    {"md_and_nm", md_and_nm, METH_VARARGS, md_and_nm_doc},
    {"tag_codes", tag_codes, METH_VARARGS, tag_codes_doc},
    {"span_choices", span_choices, METH_VARARGS, span_choices_doc},
    {"span_numbers", span_numbers, METH_VARARGS, span_numbers_doc},
    {"sam_tag_lines", sam_tag_lines, METH_VARARGS, sam_tag_lines_doc},
    {"repeated_tags", repeated_tags, METH_VARARGS, repeated_tags_doc},
    {"sam_revert_windows", sam_revert_windows, METH_VARARGS, sam_revert_windows_doc},
    {"date_junctions", date_junctions, METH_VARARGS, date_junctions_doc},
    {"bcf_records", bcf_records, METH_VARARGS, bcf_records_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef scan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "genoscrub._scan",
    .m_doc = "The byte loops of the record commands, in C (see filters/_scan.c).",
    .m_size = 0,
    .m_methods = scan_methods,
};

PyMODINIT_FUNC
PyInit__scan(void)
{
    return PyModule_Create(&scan_module);
}
