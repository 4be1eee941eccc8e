/*
 * Shared mappings of temporary files for Node.js, which cannot map files itself.
 *
 * ClamAV writes a large decompressed object to a temporary file and reads it through a map whose
 * pages it lets go of once they have been scanned. This addon gives ClamTS the same: the engine
 * writes into and reads from a mapping of an (unlinked) temporary file as from any ArrayBuffer;
 * pages it has finished with are given back to the kernel, which keeps their contents in the
 * file's page cache (writing them to disk under memory pressure) and maps them in again if they
 * are touched once more. So giving pages back is always safe; it only costs a page fault later.
 *
 * - mapShared(fd, length): an ArrayBuffer over the first `length` bytes of the file, read and
 *   write, shared with the file. Unmapped when the ArrayBuffer is garbage collected.
 * - allocate(fd, offset, length): reserves disk blocks (posix_fallocate). A page written where
 *   the file has no block and the disk is full would kill the process with SIGBUS: the engine
 *   reserves blocks before it writes there, and gets an errno it can report instead.
 * - releasePages(buffer, offset, length): gives back the whole pages inside the range.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <node_api.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        if ((call) != napi_ok) {                                                    \
            napi_throw_error(env, NULL, "filemap: N-API call failed: " #call);      \
            return NULL;                                                            \
        }                                                                           \
    } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err)
{
    char message[256];
    snprintf(message, sizeof(message), "%s: %s", what, strerror(err));
    napi_throw_error(env, NULL, message);
    return NULL;
}

static int get_number(napi_env env, napi_value value, double *out)
{
    return napi_get_value_double(env, value, out) == napi_ok && *out >= 0 && *out <= (double)SIZE_MAX;
}

static void unmap(napi_env env, void *data, void *hint)
{
    if (data != NULL) munmap(data, (size_t)(uintptr_t)hint);
}

/* mapShared(fd, length) -> ArrayBuffer */
static napi_value map_shared(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2], result;
    int32_t fd;
    double length;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !get_number(env, argv[1], &length) || length < 1) {
        napi_throw_type_error(env, NULL, "mapShared(fd, length): a descriptor and a positive length");
        return NULL;
    }
    void *data = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (data == MAP_FAILED) return throw_errno(env, "mmap", errno);
    if (napi_create_external_arraybuffer(env, data, (size_t)length, unmap, (void *)(uintptr_t)length, &result) != napi_ok) {
        munmap(data, (size_t)length);
        napi_throw_error(env, NULL, "filemap: cannot create an external ArrayBuffer");
        return NULL;
    }
    return result;
}

/* allocate(fd, offset, length) -> 0 or an errno */
static napi_value allocate(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3], result;
    int32_t fd;
    double offset, length;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || !get_number(env, argv[1], &offset) || !get_number(env, argv[2], &length)) {
        napi_throw_type_error(env, NULL, "allocate(fd, offset, length): a descriptor and two sizes");
        return NULL;
    }
    int err = length > 0 ? posix_fallocate(fd, (off_t)offset, (off_t)length) : 0;
    CHECK(napi_create_int32(env, err, &result));
    return result;
}

/* releasePages(buffer, offset, length): MADV_DONTNEED on the whole pages inside the range. */
static napi_value release_pages(napi_env env, napi_callback_info info)
{
    size_t argc = 3, length;
    napi_value argv[3];
    void *base;
    bool is_arraybuffer = false;
    double offset, count;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 3 || napi_is_arraybuffer(env, argv[0], &is_arraybuffer) != napi_ok || !is_arraybuffer ||
        napi_get_arraybuffer_info(env, argv[0], &base, &length) != napi_ok || !get_number(env, argv[1], &offset) ||
        !get_number(env, argv[2], &count)) {
        napi_throw_type_error(env, NULL, "releasePages(buffer, offset, length): an ArrayBuffer and two sizes");
        return NULL;
    }
    /* The range is clamped to the buffer, then shrunk to whole pages. */
    size_t from = offset < (double)length ? (size_t)offset : length;
    size_t to = count < (double)(length - from) ? from + (size_t)count : length;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = ((uintptr_t)base + from + page - 1) & ~(page - 1);
    uintptr_t end = ((uintptr_t)base + to) & ~(page - 1);
    if (end > start && madvise((void *)start, end - start, MADV_DONTNEED) != 0) return throw_errno(env, "madvise", errno);
    return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor functions[] = {
        {"mapShared", NULL, map_shared, NULL, NULL, NULL, napi_default, NULL},
        {"allocate", NULL, allocate, NULL, NULL, NULL, napi_default, NULL},
        {"releasePages", NULL, release_pages, NULL, NULL, NULL, napi_default, NULL},
    };
    CHECK(napi_define_properties(env, exports, 3, functions));
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
