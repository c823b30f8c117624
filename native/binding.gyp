{
  # The addon and the tree-sitter core it runs, compiled from the sources the tree-sitter
  # binding vendors (the same core version as the binding's, so the same trees).
  "variables": {
    "tsv": "<!(node -p \"require('tree-sitter/package.json').version\")",
    "ts": "<!(node -p \"require('path').join(require('path').dirname(require.resolve('tree-sitter/package.json')), 'vendor', 'tree-sitter', 'lib')\")",
  },
  "targets": [
    {
      "target_name": "flat_parse",
      "sources": ["flat_parse.c", "tree_sitter_core.c"],
      "include_dirs": ["<(ts)/include", "<(ts)/src"],
      "defines": ["_POSIX_C_SOURCE=200112L", "_DEFAULT_SOURCE", "TREE_SITTER_BINDING_VERSION=\"<(tsv)\""],
      "cflags_c": ["-std=c11"],
      "conditions": [
        ["OS=='mac'", {"xcode_settings": {"GCC_SYMBOLS_PRIVATE_EXTERN": "YES", "MACOSX_DEPLOYMENT_TARGET": "10.9"}}],
        ["OS=='win'", {"msvs_settings": {"VCCLCompilerTool": {"AdditionalOptions": ["/std:c11", "/utf-8"]}}}],
      ],
    },
  ],
}
