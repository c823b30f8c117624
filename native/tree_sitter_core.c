// The tree-sitter core, from the sources the tree-sitter binding vendors (binding.gyp puts their
// directory on the include path), so this addon parses exactly as the binding does.
#include "lib.c"
