{
  "targets": [
    {
      "target_name": "fdpass",
      "sources": ["src/fdpass.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
