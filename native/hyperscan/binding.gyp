{
  "targets": [{
    "target_name": "hs_prefilter",
    "sources": ["hs-prefilter.c"],
    "include_dirs": ["/usr/include/hs"],
    "libraries": ["-lhs"],
    "cflags": ["-O2"]
  }]
}
