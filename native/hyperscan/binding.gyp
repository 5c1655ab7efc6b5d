{
  "targets": [{
    "target_name": "hs_prefilter",
    "sources": ["hs-prefilter.c"],
    "include_dirs": ["/usr/include/hs", "/usr/local/include/hs", "/opt/homebrew/include/hs"],
    "library_dirs": ["/usr/local/lib", "/opt/homebrew/lib"],
    "libraries": ["-lhs"],
    "cflags": ["-O2"]
  }]
}
