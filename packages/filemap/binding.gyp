{
  "targets": [
    {
      "target_name": "filemap",
      "sources": ["src/filemap.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
