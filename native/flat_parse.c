// Parses Rust text and hands the whole tree to JavaScript as typed arrays in one call.
//
// The tree-sitter Node binding answers one node question per native call; copying a tree into
// dmalint's flat arrays through it costs about as much as the parse. This addon runs the same
// tree-sitter core (compiled from the binding's vendored sources) on the same language object
// (the one `require('tree-sitter-rust')` loaded), walks the tree with a cursor in C and writes
// every visible node's columns at once. See src/syntax/native-parse.ts for the JavaScript side.
//
//   init(language) -> { abi, treeSitter, names, named, fields }   once per thread: language tables
//   parse(text)    -> { count, type, field, parent, firstChild, nextSibling, prevSibling,
//                       start, end, missing?, error? }
//
// Offsets are in UTF-16 code units: the text is parsed as UTF-16, so byte offsets / 2.
// `missing` and `error` (one byte per node) are present only when the root has an error.
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tree_sitter/api.h>

// "tree-sitter", "language" hashed with BLAKE2: the tag grammar bindings put on their language.
static const napi_type_tag LANGUAGE_TYPE_TAG = {0x8AF2E5212AD58ABFULL, 0xD5006CAD83ABBA16ULL};

#define NONE (-1)

// Per JavaScript environment (the main thread and each worker have their own).
typedef struct {
  TSParser *parser;
  const TSLanguage *language;
} Instance;

#define CHECK(call)                                                                        \
  do {                                                                                     \
    if ((call) != napi_ok) return fail(env, "flat_parse: N-API call failed: " #call);      \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, message);
  return NULL;
}

static void free_instance(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  Instance *instance = data;
  if (instance->parser) ts_parser_delete(instance->parser);
  free(instance);
}

static Instance *instance_of(napi_env env) {
  void *data = NULL;
  if (napi_get_instance_data(env, &data) != napi_ok) return NULL;
  return data;
}

static int little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

static napi_value set_string(napi_env env, napi_value array, uint32_t index, const char *s) {
  napi_value value;
  if (s) {
    CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &value));
  } else {
    CHECK(napi_get_null(env, &value));
  }
  CHECK(napi_set_element(env, array, index, value));
  return array;
}

// init(language): takes the grammar's language (the module or its `language` External), sets it
// on this thread's parser and returns the language tables. Throws on a language this core cannot run.
static napi_value init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1) return fail(env, "flat_parse.init: expected a language");
  napi_value value = argv[0];
  napi_valuetype kind;
  CHECK(napi_typeof(env, value, &kind));
  if (kind == napi_object) {
    bool has = false;
    CHECK(napi_has_named_property(env, value, "language", &has));
    if (has) {
      CHECK(napi_get_named_property(env, value, "language", &value));
      CHECK(napi_typeof(env, value, &kind));
    }
  }
  bool tagged = false;
  if (kind == napi_external) CHECK(napi_check_object_type_tag(env, value, &LANGUAGE_TYPE_TAG, &tagged));
  if (!tagged) return fail(env, "flat_parse.init: not a tree-sitter language");
  void *pointer = NULL;
  CHECK(napi_get_value_external(env, value, &pointer));
  const TSLanguage *language = pointer;
  uint32_t abi = ts_language_version(language);
  if (abi < TREE_SITTER_MIN_COMPATIBLE_LANGUAGE_VERSION || abi > TREE_SITTER_LANGUAGE_VERSION) {
    return fail(env, "flat_parse.init: the language's ABI version is outside what this tree-sitter core runs");
  }

  Instance *instance = instance_of(env);
  if (!instance) {
    instance = calloc(1, sizeof(Instance));
    if (!instance) return fail(env, "flat_parse.init: out of memory");
    if (napi_set_instance_data(env, instance, free_instance, NULL) != napi_ok) {
      free(instance);
      return fail(env, "flat_parse.init: cannot keep per-thread data");
    }
  }
  if (!instance->parser) instance->parser = ts_parser_new();
  if (!ts_parser_set_language(instance->parser, language)) return fail(env, "flat_parse.init: the parser refused the language");
  instance->language = language;

  // Symbol names and named-ness by id, plus the ERROR symbol (id 65535, past the table).
  uint32_t symbols = ts_language_symbol_count(language);
  napi_value names, named_buffer, named, fields, result, number;
  uint8_t *named_data = NULL;
  CHECK(napi_create_array_with_length(env, symbols, &names));
  CHECK(napi_create_arraybuffer(env, 65536, (void **)&named_data, &named_buffer));
  memset(named_data, 0, 65536);
  for (uint32_t id = 0; id < symbols; id++) {
    if (!set_string(env, names, id, ts_language_symbol_name(language, (TSSymbol)id))) return NULL;
    named_data[id] = ts_language_symbol_type(language, (TSSymbol)id) == TSSymbolTypeRegular;
  }
  const TSSymbol error = (TSSymbol)-1;
  if (!set_string(env, names, error, ts_language_symbol_name(language, error))) return NULL;
  named_data[error] = ts_language_symbol_type(language, error) == TSSymbolTypeRegular;
  CHECK(napi_create_typedarray(env, napi_uint8_array, 65536, named_buffer, 0, &named));

  // Field names by id; id 0 is no field.
  uint32_t field_count = ts_language_field_count(language);
  CHECK(napi_create_array_with_length(env, field_count + 1, &fields));
  for (uint32_t id = 0; id <= field_count; id++) {
    if (!set_string(env, fields, id, id == 0 ? NULL : ts_language_field_name_for_id(language, (TSFieldId)id))) return NULL;
  }

  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_uint32(env, abi, &number));
  CHECK(napi_set_named_property(env, result, "abi", number));
  // The tree-sitter package whose vendored core this addon was compiled from.
  napi_value version;
  CHECK(napi_create_string_utf8(env, TREE_SITTER_BINDING_VERSION, NAPI_AUTO_LENGTH, &version));
  CHECK(napi_set_named_property(env, result, "treeSitter", version));
  CHECK(napi_set_named_property(env, result, "names", names));
  CHECK(napi_set_named_property(env, result, "named", named));
  CHECK(napi_set_named_property(env, result, "fields", fields));
  return result;
}

// The columns of one tree, pointing into one ArrayBuffer.
typedef struct {
  int32_t *parent, *first_child, *next_sibling, *prev_sibling;
  uint32_t *start, *end;
  uint16_t *type, *field;
  uint8_t *missing, *error;
} Columns;

// Walks the tree in preorder, writing node `i`'s columns while i < cap; returns the number of
// nodes (which may exceed cap: the caller then walks again with room for all of them).
// `stack` has room for cap + 1 ancestors.
static uint32_t walk(TSTree *tree, Columns *c, uint32_t cap, int32_t *stack) {
  TSTreeCursor cursor = ts_tree_cursor_new(ts_tree_root_node(tree));
  uint32_t n = 0;
  uint32_t depth = 0;  // stack[0 .. depth-1]: the open ancestors of the node being visited
  int32_t prev = NONE; // the previous sibling of the node being visited
  for (;;) {
    uint32_t i = n++;
    if (i < cap) {
      TSNode node = ts_tree_cursor_current_node(&cursor);
      int32_t up = depth > 0 ? stack[depth - 1] : NONE;
      c->type[i] = ts_node_symbol(node);
      c->field[i] = ts_tree_cursor_current_field_id(&cursor);
      c->parent[i] = up;
      c->prev_sibling[i] = prev;
      c->next_sibling[i] = NONE;
      c->first_child[i] = NONE;
      if (prev != NONE) c->next_sibling[prev] = (int32_t)i;
      else if (up != NONE) c->first_child[up] = (int32_t)i;
      c->start[i] = ts_node_start_byte(node) >> 1;
      c->end[i] = ts_node_end_byte(node) >> 1;
      if (c->missing) {
        c->missing[i] = ts_node_is_missing(node);
        c->error[i] = ts_node_has_error(node);
      }
    }
    if (ts_tree_cursor_goto_first_child(&cursor)) {
      if (depth <= cap) stack[depth] = (int32_t)i;
      depth++;
      prev = NONE;
      continue;
    }
    prev = (int32_t)i;
    for (;;) {
      if (ts_tree_cursor_goto_next_sibling(&cursor)) break;
      if (depth == 0) {
        ts_tree_cursor_delete(&cursor);
        return n;
      }
      depth--;
      prev = depth <= cap ? stack[depth] : NONE; // (past cap only counted, never written)
      ts_tree_cursor_goto_parent(&cursor);
    }
  }
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

// Makes the ArrayBuffer for `count` nodes and points the columns into it.
static napi_value allocate(napi_env env, uint32_t count, bool with_errors, Columns *c, napi_value *buffer, size_t *offsets) {
  size_t n = count;
  size_t at = 0;
  size_t sizes[10] = {4, 4, 4, 4, 4, 4, 2, 2, 1, 1};
  size_t columns = with_errors ? 10 : 8;
  for (size_t k = 0; k < columns; k++) {
    offsets[k] = at;
    at = align8(at + sizes[k] * n);
  }
  void *data = NULL;
  CHECK(napi_create_arraybuffer(env, at > 0 ? at : 8, &data, buffer));
  uint8_t *base = data;
  c->parent = (int32_t *)(base + offsets[0]);
  c->first_child = (int32_t *)(base + offsets[1]);
  c->next_sibling = (int32_t *)(base + offsets[2]);
  c->prev_sibling = (int32_t *)(base + offsets[3]);
  c->start = (uint32_t *)(base + offsets[4]);
  c->end = (uint32_t *)(base + offsets[5]);
  c->type = (uint16_t *)(base + offsets[6]);
  c->field = (uint16_t *)(base + offsets[7]);
  c->missing = with_errors ? base + offsets[8] : NULL;
  c->error = with_errors ? base + offsets[9] : NULL;
  return *buffer;
}

static napi_value view(napi_env env, napi_value result, const char *name, napi_typedarray_type type, uint32_t count,
                       napi_value buffer, size_t offset) {
  napi_value array;
  CHECK(napi_create_typedarray(env, type, count, buffer, offset, &array));
  CHECK(napi_set_named_property(env, result, name, array));
  return result;
}

// parse(text): parses `text` and returns the columns of every visible node, in preorder.
static napi_value parse(napi_env env, napi_callback_info info) {
  Instance *instance = instance_of(env);
  if (!instance || !instance->language) return fail(env, "flat_parse.parse: init was not called");
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype kind = napi_undefined;
  if (argc >= 1) CHECK(napi_typeof(env, argv[0], &kind));
  if (kind != napi_string) return fail(env, "flat_parse.parse: expected a string");

  size_t length = 0;
  CHECK(napi_get_value_string_utf16(env, argv[0], NULL, 0, &length));
  if (length > UINT32_MAX / 2 - 1) return fail(env, "flat_parse.parse: text too long");
  char16_t *units = malloc((length + 1) * sizeof(char16_t));
  if (!units) return fail(env, "flat_parse.parse: out of memory");
  size_t copied = 0;
  if (napi_get_value_string_utf16(env, argv[0], units, length + 1, &copied) != napi_ok || copied != length) {
    free(units);
    return fail(env, "flat_parse.parse: cannot read the text");
  }
  TSTree *tree = ts_parser_parse_string_encoding(instance->parser, NULL, (const char *)units, (uint32_t)(length * 2),
                                                 little_endian() ? TSInputEncodingUTF16LE : TSInputEncodingUTF16BE);
  free(units);
  if (!tree) return fail(env, "flat_parse.parse: the parser gave no tree");

  TSNode root = ts_tree_root_node(tree);
  bool with_errors = ts_node_has_error(root);
  uint32_t count = ts_node_descendant_count(root);
  napi_value buffer = NULL;
  size_t offsets[10];
  Columns c;
  int32_t *stack = NULL;
  for (int attempt = 0; attempt < 2; attempt++) {
    // Every open ancestor is a node, so `count` bounds the depth too.
    free(stack);
    stack = malloc(((size_t)count + 1) * sizeof(int32_t));
    if (!stack) {
      ts_tree_delete(tree);
      return fail(env, "flat_parse.parse: out of memory");
    }
    if (!allocate(env, count, with_errors, &c, &buffer, offsets)) {
      free(stack);
      ts_tree_delete(tree);
      return NULL;
    }
    uint32_t visited = walk(tree, &c, count, stack);
    if (visited <= count) {
      count = visited;
      break;
    }
    // More nodes than tree-sitter's count of visible descendants: room for all, walk again.
    count = visited;
    buffer = NULL;
  }
  free(stack);
  ts_tree_delete(tree);
  if (!buffer) return fail(env, "flat_parse.parse: the node count kept changing");

  napi_value result, number;
  CHECK(napi_create_object(env, &result));
  CHECK(napi_create_uint32(env, count, &number));
  CHECK(napi_set_named_property(env, result, "count", number));
  if (!view(env, result, "parent", napi_int32_array, count, buffer, offsets[0])) return NULL;
  if (!view(env, result, "firstChild", napi_int32_array, count, buffer, offsets[1])) return NULL;
  if (!view(env, result, "nextSibling", napi_int32_array, count, buffer, offsets[2])) return NULL;
  if (!view(env, result, "prevSibling", napi_int32_array, count, buffer, offsets[3])) return NULL;
  if (!view(env, result, "start", napi_uint32_array, count, buffer, offsets[4])) return NULL;
  if (!view(env, result, "end", napi_uint32_array, count, buffer, offsets[5])) return NULL;
  if (!view(env, result, "type", napi_uint16_array, count, buffer, offsets[6])) return NULL;
  if (!view(env, result, "field", napi_uint16_array, count, buffer, offsets[7])) return NULL;
  if (with_errors) {
    if (!view(env, result, "missing", napi_uint8_array, count, buffer, offsets[8])) return NULL;
    if (!view(env, result, "error", napi_uint8_array, count, buffer, offsets[9])) return NULL;
  }
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"init", NULL, init, NULL, NULL, NULL, napi_default, NULL},
      {"parse", NULL, parse, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 2, methods) != napi_ok) return NULL;
  return exports;
}
