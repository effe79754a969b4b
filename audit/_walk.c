/*
 * The audit walk's per-entry work in C (audit.verification._walk uses it when it is built):
 * for a batch of chain rows, check each entry's sequence number, link, time order and hash,
 * hash its Merkle leaf, and hash each full level-0 tile (its digest and its root).
 *
 * The pure-Python walk is the reference. This module only confirms that a batch holds: at the
 * first irregularity of any kind (a fault, a value of an unexpected type, a string that cannot
 * be encoded as UTF-8, a number out of range) walk_batch returns None and leaves the caller's
 * state untouched, and the caller walks that batch in Python, which names the faults.
 *
 * The canonical text is chain.entry_text's byte for byte: JSON strings escaped as
 * json.encoder.encode_basestring escapes them (\" \\ \n \r \t \b \f, other characters below
 * U+0020 as \u00xx in lower-case hexadecimal, everything else as is, then UTF-8). Escaping the
 * UTF-8 bytes is the same as escaping the characters: every byte of a multi-byte sequence is
 * 0x80 or above.
 *
 * SHA-256 through OpenSSL's low-level functions: with a context on the stack they cost
 * nothing per call beyond the compression itself, where EVP_Digest fetches and allocates.
 * They are deprecated in OpenSSL 3 but kept (and the same code as its provider's).
 */

#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED
#include <Python.h>
#include <openssl/sha.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HASH_SIZE 32
#define TILE_WIDTH 256
#define TILE_BYTES (TILE_WIDTH * HASH_SIZE)
#define FIELDS 11
#define GENESIS_LENGTH 64

typedef struct {
    const char *data;
    Py_ssize_t size;
} text_t;

/* One row, as pointers into the rows' own str objects (kept alive by the batch tuple). */
typedef struct {
    long long seq;
    text_t time, actor_type, actor_id, action, object_type, object_id, payload, prev, digest;
    int has_consortium;
    long long consortium;
} row_t;

/* A wanted tree size met in the batch: the row it ends at and its partial tile's leaves. */
typedef struct {
    Py_ssize_t row;
    Py_ssize_t leaves;
    unsigned char *snapshot;
} wanted_t;

static const char HEX[] = "0123456789abcdef";

static int
get_text(PyObject *value, text_t *out)
{
    if (!PyUnicode_CheckExact(value)) {
        return -1;
    }
    out->data = PyUnicode_AsUTF8AndSize(value, &out->size);
    if (out->data == NULL) {
        PyErr_Clear(); /* a lone surrogate: the Python walk raises on it */
        return -1;
    }
    return 0;
}

static int
get_integer(PyObject *value, long long *out)
{
    int overflow = 0;
    if (!PyLong_CheckExact(value)) {
        return -1;
    }
    *out = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (*out == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return -1;
    }
    return 0;
}

/* Read row ``item`` into ``row``; -1 when it is not as the walk expects. */
static int
read_row(PyObject *item, row_t *row)
{
    PyObject *cons;
    if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != FIELDS) {
        return -1;
    }
    if (get_integer(PyTuple_GET_ITEM(item, 0), &row->seq) < 0
        || get_text(PyTuple_GET_ITEM(item, 1), &row->time) < 0
        || get_text(PyTuple_GET_ITEM(item, 2), &row->actor_type) < 0
        || get_text(PyTuple_GET_ITEM(item, 3), &row->actor_id) < 0
        || get_text(PyTuple_GET_ITEM(item, 4), &row->action) < 0
        || get_text(PyTuple_GET_ITEM(item, 5), &row->object_type) < 0
        || get_text(PyTuple_GET_ITEM(item, 6), &row->object_id) < 0
        || get_text(PyTuple_GET_ITEM(item, 8), &row->payload) < 0
        || get_text(PyTuple_GET_ITEM(item, 9), &row->prev) < 0
        || get_text(PyTuple_GET_ITEM(item, 10), &row->digest) < 0) {
        return -1;
    }
    cons = PyTuple_GET_ITEM(item, 7);
    if (cons == Py_None) {
        row->has_consortium = 0;
        row->consortium = 0;
        return 0;
    }
    row->has_consortium = 1;
    return get_integer(cons, &row->consortium);
}

#define CANONICAL_TIME 27 /* YYYY-MM-DDTHH:MM:SS.ffffffZ */

/*
 * Write the canonical time of ``iso`` (PostgreSQL's ISO text of a UTC timestamp,
 * "YYYY-MM-DD HH:MM:SS" and up to six fraction digits, as selectors.canonical_time reads it)
 * to ``out``; -1 for any other text.
 */
static int
canonical_time(text_t iso, char *out)
{
    static const char pattern[] = "0000-00-00 00:00:00";
    const char *in = iso.data;
    Py_ssize_t i;
    if (iso.size != 19 && (iso.size < 21 || iso.size > 26)) {
        return -1;
    }
    for (i = 0; i < 19; i++) {
        if (pattern[i] == '0' ? (in[i] < '0' || in[i] > '9') : in[i] != pattern[i]) {
            return -1;
        }
    }
    if (iso.size > 19) {
        if (in[19] != '.') {
            return -1;
        }
        for (i = 20; i < iso.size; i++) {
            if (in[i] < '0' || in[i] > '9') {
                return -1;
            }
        }
    }
    memcpy(out, in, 10);
    out[10] = 'T';
    memcpy(out + 11, in + 11, 8);
    out[19] = '.';
    memset(out + 20, '0', 6);
    if (iso.size > 19) {
        memcpy(out + 20, in + 20, (size_t)(iso.size - 20));
    }
    out[26] = 'Z';
    return 0;
}

/* A growing byte buffer for the canonical text. */
typedef struct {
    unsigned char *data;
    size_t size, capacity;
} buffer_t;

static int
reserve(buffer_t *buffer, size_t more)
{
    size_t needed, capacity;
    unsigned char *grown;
    if (more > SIZE_MAX / 2 - buffer->size) {
        return -1;
    }
    needed = buffer->size + more;
    if (needed <= buffer->capacity) {
        return 0;
    }
    capacity = buffer->capacity ? buffer->capacity : 1024;
    while (capacity < needed) {
        capacity *= 2;
    }
    grown = realloc(buffer->data, capacity);
    if (grown == NULL) {
        return -1;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 0;
}

/* The bytes json.encoder.encode_basestring escapes: '"', '\\' and those below 0x20. */
static unsigned char ESCAPED[256];

static void
init_escaped(void)
{
    int c;
    for (c = 0; c < 0x20; c++) {
        ESCAPED[c] = 1;
    }
    ESCAPED['"'] = 1;
    ESCAPED['\\'] = 1;
}

/*
 * Append ``text`` as a JSON string, as json.encoder.encode_basestring writes it. The caller
 * has reserved room for the worst case, six bytes (\u00xx) per input byte and the quotes.
 */
static unsigned char *
write_string(unsigned char *out, text_t text)
{
    const unsigned char *in = (const unsigned char *)text.data, *end = in + text.size;
    *out++ = '"';
    while (in < end) {
        const unsigned char *plain = in;
        while (in < end && !ESCAPED[*in]) {
            in++;
        }
        memcpy(out, plain, (size_t)(in - plain));
        out += in - plain;
        if (in == end) {
            break;
        }
        *out++ = '\\';
        switch (*in) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\n': *out++ = 'n'; break;
        case '\r': *out++ = 'r'; break;
        case '\t': *out++ = 't'; break;
        case '\b': *out++ = 'b'; break;
        case '\f': *out++ = 'f'; break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = HEX[*in >> 4];
            *out++ = HEX[*in & 0xf];
        }
        in++;
    }
    *out++ = '"';
    return out;
}

/* Append the decimal form of ``value`` (at most 20 bytes), as str(int) writes it. */
static unsigned char *
write_integer(unsigned char *out, long long value)
{
    char digits[24];
    int size = 0;
    unsigned long long magnitude =
        value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[size++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0) {
        *out++ = '-';
    }
    while (size) {
        *out++ = (unsigned char)digits[--size];
    }
    return out;
}

#define WRITE_LITERAL(out, literal) \
    (memcpy((out), (literal), sizeof(literal) - 1), (out) + sizeof(literal) - 1)

/*
 * Write the canonical text of ``row`` after the leaf prefix byte at buffer->data[0], so that
 * the leaf hash covers the whole buffer and the entry hash all but its first byte.
 */
static int
build_text(buffer_t *buffer, const row_t *row)
{
    /* The members' names and punctuation, the two integers, and the strings escaped. */
    const size_t fixed = 200;
    size_t strings = (size_t)row->action.size + (size_t)row->actor_id.size
                     + (size_t)row->actor_type.size + (size_t)row->object_id.size
                     + (size_t)row->object_type.size + (size_t)row->prev.size
                     + (size_t)row->time.size;
    unsigned char *out;
    /* Each size is below PY_SSIZE_T_MAX: the sum of seven and the payload cannot wrap here. */
    if (strings > (SIZE_MAX - fixed) / 8 || (size_t)row->payload.size > SIZE_MAX / 4) {
        return -1;
    }
    buffer->size = 0;
    if (reserve(buffer, 1 + fixed + strings * 6 + (size_t)row->payload.size) < 0) {
        return -1;
    }
    out = buffer->data + 1;
    out = WRITE_LITERAL(out, "{\"action\":");
    out = write_string(out, row->action);
    out = WRITE_LITERAL(out, ",\"actor_id\":");
    out = write_string(out, row->actor_id);
    out = WRITE_LITERAL(out, ",\"actor_type\":");
    out = write_string(out, row->actor_type);
    out = WRITE_LITERAL(out, ",\"consortium_id\":");
    if (row->has_consortium) {
        out = write_integer(out, row->consortium);
    }
    else {
        out = WRITE_LITERAL(out, "null");
    }
    out = WRITE_LITERAL(out, ",\"object_id\":");
    out = write_string(out, row->object_id);
    out = WRITE_LITERAL(out, ",\"object_type\":");
    out = write_string(out, row->object_type);
    out = WRITE_LITERAL(out, ",\"payload\":");
    memcpy(out, row->payload.data, (size_t)row->payload.size);
    out += row->payload.size;
    out = WRITE_LITERAL(out, ",\"prev_hash\":");
    out = write_string(out, row->prev);
    out = WRITE_LITERAL(out, ",\"seq\":");
    out = write_integer(out, row->seq);
    out = WRITE_LITERAL(out, ",\"time\":");
    out = write_string(out, row->time);
    *out++ = '}';
    buffer->size = (size_t)(out - buffer->data);
    return 0;
}

static void
sha256(const unsigned char *data, size_t size, unsigned char *out)
{
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, size);
    SHA256_Final(out, &context);
}

/* RFC 6962 node hash: SHA-256(0x01 || left || right). */
static void
node_hash(const unsigned char *left, const unsigned char *right, unsigned char *out)
{
    unsigned char input[1 + 2 * HASH_SIZE];
    input[0] = 0x01;
    memcpy(input + 1, left, HASH_SIZE);
    memcpy(input + 1 + HASH_SIZE, right, HASH_SIZE);
    sha256(input, sizeof(input), out);
}

/* The root of the perfect subtree over the TILE_WIDTH leaf hashes of ``tile`` (merkle.perfect_root). */
static void
tile_root(const unsigned char *tile, unsigned char *out)
{
    unsigned char level[TILE_BYTES / 2];
    size_t width, i;
    for (i = 0; i < TILE_WIDTH / 2; i++) {
        node_hash(tile + 2 * i * HASH_SIZE, tile + (2 * i + 1) * HASH_SIZE, level + i * HASH_SIZE);
    }
    for (width = TILE_WIDTH / 2; width > 1; width /= 2) {
        for (i = 0; i < width / 2; i++) {
            node_hash(level + 2 * i * HASH_SIZE, level + (2 * i + 1) * HASH_SIZE,
                      level + i * HASH_SIZE);
        }
    }
    memcpy(out, level, HASH_SIZE);
}

static int
same(text_t a, text_t b)
{
    return a.size == b.size && memcmp(a.data, b.data, (size_t)a.size) == 0;
}

/* Whether ``a`` sorts before ``b`` as Python compares str (UTF-8 keeps code point order). */
static int
before(text_t a, text_t b)
{
    size_t common = (size_t)(a.size < b.size ? a.size : b.size);
    int order = memcmp(a.data, b.data, common);
    return order < 0 || (order == 0 && a.size < b.size);
}

static int
compare_sizes(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/*
 * The walk over the rows, without the GIL: 0 when every row holds, 1 at the first that does
 * not (or when memory runs out). ``leaves`` holds the partial tile (``*filled`` hashes) and
 * room for a full one; each full tile's digest and root go to ``tiles`` (64 bytes a tile).
 */
static int
walk_rows(const row_t *rows, Py_ssize_t count, long long expected_seq, text_t prev_hash,
          text_t prev_time, unsigned char *leaves, Py_ssize_t *filled, long long size,
          const long long *wanted, Py_ssize_t wanted_count, wanted_t *met, unsigned char *tiles,
          Py_ssize_t *tile_count)
{
    buffer_t buffer = {NULL, 0, 0};
    unsigned char digest[HASH_SIZE];
    char hex[2 * HASH_SIZE];
    Py_ssize_t i, j, next_wanted = 0;
    int irregular = 1;

    if (reserve(&buffer, 1024) < 0) {
        return 1;
    }
    buffer.data[0] = 0x00; /* the leaf prefix */
    for (i = 0; i < count; i++) {
        const row_t *row = &rows[i];
        if (row->seq != expected_seq || !same(row->prev, prev_hash)
            || before(row->time, prev_time) || row->digest.size != 2 * HASH_SIZE) {
            goto done;
        }
        if (build_text(&buffer, row) < 0) {
            goto done;
        }
        sha256(buffer.data + 1, buffer.size - 1, digest);
        for (j = 0; j < HASH_SIZE; j++) {
            hex[2 * j] = HEX[digest[j] >> 4];
            hex[2 * j + 1] = HEX[digest[j] & 0xf];
        }
        if (memcmp(hex, row->digest.data, sizeof(hex)) != 0) {
            goto done;
        }
        sha256(buffer.data, buffer.size, leaves + *filled * HASH_SIZE);
        *filled += 1;
        size += 1;
        if (*filled == TILE_WIDTH) {
            unsigned char *tile = tiles + *tile_count * 2 * HASH_SIZE;
            sha256(leaves, TILE_BYTES, tile);
            tile_root(leaves, tile + HASH_SIZE);
            *tile_count += 1;
            *filled = 0;
        }
        while (next_wanted < wanted_count && wanted[next_wanted] < size) {
            next_wanted++;
        }
        if (next_wanted < wanted_count && wanted[next_wanted] == size) {
            wanted_t *at = &met[next_wanted];
            at->row = i;
            at->leaves = *filled;
            at->snapshot = malloc(*filled ? (size_t)*filled * HASH_SIZE : 1);
            if (at->snapshot == NULL) {
                goto done;
            }
            memcpy(at->snapshot, leaves, (size_t)*filled * HASH_SIZE);
            next_wanted++;
        }
        if (row->seq == LLONG_MAX) {
            goto done;
        }
        expected_seq = row->seq + 1;
        prev_hash = row->digest;
        prev_time = row->time;
    }
    irregular = 0;
done:
    free(buffer.data);
    return irregular;
}

PyDoc_STRVAR(walk_batch_doc,
"walk_batch(rows, expected_seq, prev_hash, prev_time, leaves, size, wanted, iso_time)\n--\n\n"
"Walk ``rows`` (chain row tuples in sequence order) after the entry of ``prev_hash`` and\n"
"``prev_time``, expecting ``expected_seq`` first, at tree size ``size`` whose partial level-0\n"
"tile holds the leaf hashes ``leaves`` (bytes); ``wanted``: the tree sizes to record;\n"
"``iso_time``: the rows' times are PostgreSQL's ISO text, not the canonical one.\n\n"
"Return None when any row does not hold (or is not as expected); otherwise the tuple\n"
"(expected_seq, prev_hash, prev_time, leaves, tile_digests, tile_roots, at), where ``at``\n"
"lists (size, hash, leaves) for each wanted size met.");

static PyObject *
walk_batch(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *rows_arg, *expected_arg, *prev_hash_arg, *prev_time_arg, *wanted_arg, *size_arg;
    Py_buffer leaves_view;
    PyObject *rows = NULL, *wanted_seq = NULL, *result = NULL;
    PyObject *digests = NULL, *roots = NULL, *at = NULL, *out_leaves = NULL;
    PyObject *next_expected = NULL, *out_hash, *out_time = NULL;
    row_t *parsed = NULL;
    long long *wanted = NULL, expected_seq, size;
    wanted_t *met = NULL;
    unsigned char *leaves = NULL, *tiles = NULL;
    char *times = NULL;
    text_t prev_hash, prev_time;
    Py_ssize_t count, wanted_count = 0, filled, tile_count = 0, i;
    int irregular = 1, iso_time = 0;

    if (!PyArg_ParseTuple(args, "OOOOy*OO|p:walk_batch", &rows_arg, &expected_arg, &prev_hash_arg,
                          &prev_time_arg, &leaves_view, &size_arg, &wanted_arg, &iso_time)) {
        return NULL;
    }
    if (leaves_view.len % HASH_SIZE || leaves_view.len >= TILE_BYTES) {
        PyBuffer_Release(&leaves_view);
        PyErr_SetString(PyExc_ValueError, "leaves: fewer than a tile's 32-byte hashes");
        return NULL;
    }
    /* A tuple of our own: the rows and their strings stay alive while the GIL is released. */
    rows = PySequence_Tuple(rows_arg);
    wanted_seq = rows ? PySequence_Tuple(wanted_arg) : NULL;
    if (wanted_seq == NULL) {
        goto error;
    }
    count = PyTuple_GET_SIZE(rows);
    wanted_count = PyTuple_GET_SIZE(wanted_seq);
    if (get_integer(expected_arg, &expected_seq) < 0 || get_integer(size_arg, &size) < 0
        || size < 0 || size > LLONG_MAX - count || get_text(prev_hash_arg, &prev_hash) < 0
        || get_text(prev_time_arg, &prev_time) < 0) {
        goto irregular;
    }
    if (count == 0) {
        irregular = 0;
    }
    parsed = PyMem_RawMalloc(sizeof(row_t) * (size_t)(count ? count : 1));
    wanted = PyMem_RawMalloc(sizeof(long long) * (size_t)(wanted_count ? wanted_count : 1));
    met = PyMem_RawCalloc((size_t)(wanted_count ? wanted_count : 1), sizeof(wanted_t));
    leaves = PyMem_RawMalloc(TILE_BYTES);
    tiles = PyMem_RawMalloc((size_t)(count / TILE_WIDTH + 1) * 2 * HASH_SIZE);
    times = PyMem_RawMalloc((size_t)(iso_time ? count : 0) * CANONICAL_TIME + 1);
    if (!parsed || !wanted || !met || !leaves || !tiles || !times) {
        PyErr_NoMemory();
        goto error;
    }
    for (i = 0; i < wanted_count; i++) {
        if (get_integer(PyTuple_GET_ITEM(wanted_seq, i), &wanted[i]) < 0) {
            goto irregular;
        }
    }
    qsort(wanted, (size_t)wanted_count, sizeof(long long), compare_sizes);
    for (i = 0; i < count; i++) {
        if (read_row(PyTuple_GET_ITEM(rows, i), &parsed[i]) < 0) {
            goto irregular;
        }
        if (iso_time) {
            char *canonical = times + i * CANONICAL_TIME;
            if (canonical_time(parsed[i].time, canonical) < 0) {
                goto irregular;
            }
            parsed[i].time.data = canonical;
            parsed[i].time.size = CANONICAL_TIME;
        }
    }
    memcpy(leaves, leaves_view.buf, (size_t)leaves_view.len);
    filled = leaves_view.len / HASH_SIZE;
    if (count > 0) {
        Py_BEGIN_ALLOW_THREADS
        irregular = walk_rows(parsed, count, expected_seq, prev_hash, prev_time, leaves, &filled,
                              size, wanted, wanted_count, met, tiles, &tile_count);
        Py_END_ALLOW_THREADS
    }
    if (irregular) {
        goto irregular;
    }

    digests = PyList_New(tile_count);
    roots = PyList_New(tile_count);
    at = PyList_New(0);
    out_leaves = PyBytes_FromStringAndSize((const char *)leaves, filled * HASH_SIZE);
    if (!digests || !roots || !at || !out_leaves) {
        goto error;
    }
    for (i = 0; i < tile_count; i++) {
        PyObject *digest = PyBytes_FromStringAndSize((const char *)tiles + i * 2 * HASH_SIZE,
                                                     HASH_SIZE);
        PyObject *root = PyBytes_FromStringAndSize(
            (const char *)tiles + i * 2 * HASH_SIZE + HASH_SIZE, HASH_SIZE);
        if (!digest || !root) {
            Py_XDECREF(digest);
            Py_XDECREF(root);
            goto error;
        }
        PyList_SET_ITEM(digests, i, digest);
        PyList_SET_ITEM(roots, i, root);
    }
    for (i = 0; i < wanted_count; i++) {
        PyObject *record;
        if (met[i].snapshot == NULL) {
            continue;
        }
        record = Py_BuildValue("(LOy#)", wanted[i],
                               PyTuple_GET_ITEM(PyTuple_GET_ITEM(rows, met[i].row), 10),
                               (const char *)met[i].snapshot, met[i].leaves * HASH_SIZE);
        if (record == NULL || PyList_Append(at, record) < 0) {
            Py_XDECREF(record);
            goto error;
        }
        Py_DECREF(record);
    }
    if (count > 0) {
        PyObject *last = PyTuple_GET_ITEM(rows, count - 1);
        next_expected = PyLong_FromLongLong(parsed[count - 1].seq + 1);
        out_hash = PyTuple_GET_ITEM(last, 10);
        out_time = iso_time ? PyUnicode_FromStringAndSize(parsed[count - 1].time.data,
                                                          CANONICAL_TIME)
                            : Py_NewRef(PyTuple_GET_ITEM(last, 1));
    }
    else {
        next_expected = Py_NewRef(expected_arg);
        out_hash = prev_hash_arg;
        out_time = Py_NewRef(prev_time_arg);
    }
    if (next_expected == NULL || out_time == NULL) {
        Py_XDECREF(out_time);
        goto error;
    }
    result = Py_BuildValue("(NONOOOO)", next_expected, out_hash, out_time, out_leaves, digests,
                           roots, at);
    next_expected = NULL; /* stolen by "N", even on failure */
    goto error; /* release everything else; ``result`` is NULL on failure */

irregular:
    result = Py_NewRef(Py_None);
error:
    Py_XDECREF(next_expected);
    Py_XDECREF(digests);
    Py_XDECREF(roots);
    Py_XDECREF(at);
    Py_XDECREF(out_leaves);
    if (met != NULL) {
        for (i = 0; i < wanted_count; i++) {
            free(met[i].snapshot);
        }
    }
    PyMem_RawFree(parsed);
    PyMem_RawFree(wanted);
    PyMem_RawFree(met);
    PyMem_RawFree(leaves);
    PyMem_RawFree(tiles);
    PyMem_RawFree(times);
    Py_XDECREF(rows);
    Py_XDECREF(wanted_seq);
    PyBuffer_Release(&leaves_view);
    return result;
}

PyDoc_STRVAR(entry_text_doc,
"entry_text(row) -> bytes | None\n--\n\n"
"Return the canonical text (UTF-8) of a chain row tuple as the walk builds it, or None when\n"
"the row is not as the walk expects.");

static PyObject *
entry_text(PyObject *Py_UNUSED(module), PyObject *item)
{
    row_t row;
    buffer_t buffer = {NULL, 0, 0};
    PyObject *result;
    if (read_row(item, &row) < 0) {
        Py_RETURN_NONE;
    }
    if (reserve(&buffer, 1024) < 0 || build_text(&buffer, &row) < 0) {
        free(buffer.data);
        return PyErr_NoMemory();
    }
    result = PyBytes_FromStringAndSize((const char *)buffer.data + 1, (Py_ssize_t)buffer.size - 1);
    free(buffer.data);
    return result;
}

static PyMethodDef methods[] = {
    {"walk_batch", walk_batch, METH_VARARGS, walk_batch_doc},
    {"entry_text", entry_text, METH_O, entry_text_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_walk",
    .m_doc = "The audit walk's per-entry work in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__walk(void)
{
    init_escaped();
    return PyModule_Create(&module);
}
