/**
 * Test oracle: runs patterns through the system's real PCRE2 (libpcre2-8.so.0, the library
 * ClamAV 1.4.6 links against) with the exact calls ClamAV makes: pcre2_compile() with the
 * signature's options, pcre2_match() (no JIT) with a match limit and a depth limit, optionally
 * PCRE2_ANCHORED at match time. It drives the library through python3's ctypes, so the tests
 * need python3 and libpcre2-8; `openOracle()` returns null when either is missing and the
 * tests that need it skip.
 */
import { spawnSync } from 'node:child_process';

export interface OracleCase {
  pattern: string; // one character per byte
  flags: string; // ClamAV regex flags: i s m x A E U
  subject?: Uint8Array;
  from?: number;
  anchored?: boolean;
  matchLimit?: number;
  depthLimit?: number;
}

export type OracleResult =
  | { compileError: string; offset: number }
  | { rc: number; start: number; end: number }; // rc > 0 match, -1 no match, < -1 error

const SCRIPT = String.raw`
import ctypes, json, sys
lib = ctypes.CDLL("libpcre2-8.so.0")
lib.pcre2_compile_8.restype = ctypes.c_void_p
lib.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
    ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
lib.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
lib.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
lib.pcre2_match_context_create_8.restype = ctypes.c_void_p
lib.pcre2_match_context_create_8.argtypes = [ctypes.c_void_p]
lib.pcre2_set_match_limit_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.pcre2_set_depth_limit_8.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
lib.pcre2_match_8.restype = ctypes.c_int
lib.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
    ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
lib.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
lib.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
lib.pcre2_get_error_message_8.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t]
lib.pcre2_code_free_8.argtypes = [ctypes.c_void_p]
lib.pcre2_match_data_free_8.argtypes = [ctypes.c_void_p]
FLAGS = {"i": 0x8, "s": 0x20, "m": 0x400, "x": 0x80, "A": 0x80000000, "E": 0x10, "U": 0x40000}
cache = {}
mctx = lib.pcre2_match_context_create_8(None)
out = []
for line in sys.stdin:
    c = json.loads(line)
    key = (c["p"], c["f"])
    if key not in cache:
        opts = 0
        for ch in c["f"]:
            opts |= FLAGS[ch]
        pat = bytes.fromhex(c["p"])
        if b"\0" in pat:
            pat = pat[:pat.index(b"\0")]
        err = ctypes.c_int(0)
        off = ctypes.c_size_t(0)
        code = lib.pcre2_compile_8(pat, len(pat), opts, ctypes.byref(err), ctypes.byref(off), None)
        if not code:
            buf = ctypes.create_string_buffer(256)
            lib.pcre2_get_error_message_8(err.value, buf, 256)
            cache[key] = (None, buf.value.decode("latin-1"), off.value)
        else:
            cache[key] = (code, lib.pcre2_match_data_create_from_pattern_8(code, None), 0)
    code, md, off = cache[key]
    if code is None:
        out.append({"compileError": md, "offset": off})
        continue
    if "s" not in c:
        out.append({"rc": 0, "start": -1, "end": -1})
        continue
    subject = bytes.fromhex(c["s"])
    lib.pcre2_set_match_limit_8(mctx, c["ml"])
    lib.pcre2_set_depth_limit_8(mctx, c["dl"])
    rc = lib.pcre2_match_8(code, subject, len(subject), c["from"], 0x80000000 if c["a"] else 0, md, mctx)
    if rc > 0:
        ov = lib.pcre2_get_ovector_pointer_8(md)
        out.append({"rc": rc, "start": ov[0], "end": ov[1]})
    else:
        out.append({"rc": rc, "start": -1, "end": -1})
sys.stdout.write(json.dumps(out))
`;

export interface Oracle {
  run(cases: OracleCase[]): OracleResult[];
}

let available: boolean | undefined;

export function openOracle(): Oracle | null {
  if (available === undefined) {
    const probe = spawnSync('python3', ['-c', SCRIPT], { input: '', encoding: 'utf8' });
    available = probe.status === 0;
  }
  return available ? { run: runOracle } : null;
}

function runOracle(cases: OracleCase[]): OracleResult[] {
  const input = cases
    .map((c) =>
      JSON.stringify({
        p: Buffer.from(c.pattern, 'latin1').toString('hex'),
        f: c.flags,
        ...(c.subject
          ? {
              s: Buffer.from(c.subject).toString('hex'),
              from: c.from ?? 0,
              a: c.anchored ?? false,
              ml: c.matchLimit ?? 100000,
              dl: c.depthLimit ?? 2000,
            }
          : {}),
      }),
    )
    .join('\n');
  const result = spawnSync('python3', ['-c', SCRIPT], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`PCRE2 oracle failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as OracleResult[];
}
