/*
 * Hyperscan behind ir's keyword prefilter (src/detect/prefilter.ts): a database of literal
 * keywords, ASCII case-insensitive, and a block scan that writes every occurrence as
 * (keyword index, end offset) pairs. Built only where Hyperscan is installed; without it ir uses
 * its WebAssembly loop, which finds the same occurrences.
 *
 *   compile(keywords: Buffer[]) -> handle       (throws with Hyperscan's message)
 *   scan(handle, bytes: Uint8Array, from, to, out: Int32Array) -> n
 *     n >= 0: pairs written to out[0, 2n); n < 0: -n pairs found, out too small: call take(handle, out)
 *   take(handle, out: Int32Array) -> n         the pairs of the last scan
 */
#include <hs.h>
#include <node_api.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  hs_database_t *db;
  hs_scratch_t *scratch;
  int32_t *pairs;
  size_t count, cap;
} Prefilter;

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "hs_prefilter: bad arguments"); return NULL; } } while (0)

static void finalize(napi_env env, void *data, void *hint) {
  Prefilter *p = data;
  (void)env; (void)hint;
  hs_free_scratch(p->scratch);
  hs_free_database(p->db);
  free(p->pairs);
  free(p);
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags, void *ctx) {
  Prefilter *p = ctx;
  (void)from; (void)flags;
  if (p->count + 2 > p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 4096;
    int32_t *grown = realloc(p->pairs, cap * sizeof(int32_t));
    if (!grown) return 1; /* stops the scan; reported as an error */
    p->pairs = grown;
    p->cap = cap;
  }
  p->pairs[p->count++] = (int32_t)id;
  p->pairs[p->count++] = (int32_t)to;
  return 0;
}

static napi_value compile(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result = NULL;
  uint32_t n = 0;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_array_length(env, argv[0], &n));
  if (n == 0) { napi_throw_range_error(env, NULL, "hs_prefilter: no keywords"); return NULL; }
  const char **exprs = calloc(n, sizeof(char *));
  size_t *lens = calloc(n, sizeof(size_t));
  unsigned *flags = calloc(n, sizeof(unsigned));
  unsigned *ids = calloc(n, sizeof(unsigned));
  Prefilter *p = calloc(1, sizeof(Prefilter));
  const char *problem = NULL;
  if (!exprs || !lens || !flags || !ids || !p) problem = "hs_prefilter: out of memory";
  for (uint32_t i = 0; !problem && i < n; i++) {
    napi_value item;
    void *data;
    size_t len;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || napi_get_buffer_info(env, item, &data, &len) != napi_ok) {
      problem = "hs_prefilter: keywords must be Buffers";
      break;
    }
    exprs[i] = data;
    lens[i] = len;
    flags[i] = HS_FLAG_CASELESS;
    ids[i] = i;
  }
  hs_compile_error_t *err = NULL;
  if (!problem && hs_compile_lit_multi(exprs, flags, ids, lens, n, HS_MODE_BLOCK, NULL, &p->db, &err) != HS_SUCCESS) {
    problem = err && err->message ? err->message : "hs_compile_lit_multi failed";
  }
  if (!problem && hs_alloc_scratch(p->db, &p->scratch) != HS_SUCCESS) problem = "hs_alloc_scratch failed";
  if (!problem && napi_create_external(env, p, finalize, NULL, &result) != napi_ok) problem = "hs_prefilter: cannot wrap the database";
  if (problem) {
    napi_throw_error(env, NULL, problem);
    if (p) {
      hs_free_scratch(p->scratch);
      hs_free_database(p->db);
      free(p);
    }
    result = NULL;
  }
  if (err) hs_free_compile_error(err);
  free(exprs); free(lens); free(flags); free(ids);
  return result;
}

static napi_value copy_out(napi_env env, Prefilter *p, napi_value out) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  napi_value result;
  CHECK(napi_get_typedarray_info(env, out, &type, &length, &data, NULL, NULL));
  if (type != napi_int32_array) { napi_throw_type_error(env, NULL, "hs_prefilter: out must be an Int32Array"); return NULL; }
  int64_t pairs = (int64_t)(p->count / 2);
  if (p->count > length) pairs = -pairs;
  else {
    memcpy(data, p->pairs, p->count * sizeof(int32_t));
    /* a keyword-dense window grew the list: give the memory back */
    if (p->cap > 65536) {
      free(p->pairs);
      p->pairs = NULL;
      p->cap = 0;
    }
  }
  CHECK(napi_create_int64(env, pairs, &result));
  return result;
}

static napi_value scan(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  Prefilter *p;
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value arraybuffer;
  int64_t from, to;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_external(env, argv[0], (void **)&p));
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arraybuffer, &offset));
  CHECK(napi_get_value_int64(env, argv[2], &from));
  CHECK(napi_get_value_int64(env, argv[3], &to));
  if (type != napi_uint8_array || from < 0 || to < from || (size_t)to > length) {
    napi_throw_range_error(env, NULL, "hs_prefilter: bytes must be a Uint8Array and 0 <= from <= to <= length");
    return NULL;
  }
  p->count = 0;
  hs_error_t rc = hs_scan(p->db, (const char *)data + from, (unsigned int)(to - from), 0, p->scratch, on_match, p);
  if (rc != HS_SUCCESS) {
    napi_throw_error(env, NULL, rc == HS_SCAN_TERMINATED ? "hs_prefilter: out of memory" : "hs_scan failed");
    return NULL;
  }
  return copy_out(env, p, argv[4]);
}

static napi_value take(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  Prefilter *p;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_external(env, argv[0], (void **)&p));
  return copy_out(env, p, argv[1]);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
    {"compile", NULL, compile, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scan", NULL, scan, NULL, NULL, NULL, napi_enumerable, NULL},
    {"take", NULL, take, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof *props, props);
  return exports;
}
