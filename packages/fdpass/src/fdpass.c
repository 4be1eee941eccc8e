/*
 * Descriptor passing over Unix sockets (SCM_RIGHTS) for Node.js, which cannot do it natively.
 *
 * - sendFd(socketFd, fd): sends one byte carrying `fd`, as clamdscan --fdpass does.
 * - Reader: reads a Unix socket with recvmsg() so that descriptors sent along with the data are
 *   received instead of being dropped. libuv reads sockets with read(), and a read() that reaches
 *   data carrying descriptors discards (closes) them; so a socket whose peer may pass descriptors
 *   must never be read by libuv. The Reader watches a dup() of the socket with its own uv_poll
 *   handle (a separate descriptor, so it cannot clash with the watcher libuv keeps for writes on
 *   the original one) and hands each read to JavaScript as (error, data, fd, truncated).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        if ((call) != napi_ok) {                                                    \
            napi_throw_error(env, NULL, "fdpass: N-API call failed: " #call);       \
            return NULL;                                                            \
        }                                                                           \
    } while (0)

/* How long sendFd waits for room in a full socket buffer. */
#define SEND_TIMEOUT_MS 10000

static napi_value throw_errno(napi_env env, const char *what, int err)
{
    char message[256];
    napi_value error, code, text;
    const char *name = err == EAGAIN ? "EAGAIN" : err == EBADF ? "EBADF" : err == EPIPE ? "EPIPE" : err == ENOTSOCK ? "ENOTSOCK" : "EIO";
    snprintf(message, sizeof(message), "%s: %s", what, strerror(err));
    napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &text);
    napi_create_error(env, NULL, text, &error);
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
    napi_set_named_property(env, error, "code", code);
    napi_throw(env, error);
    return NULL;
}

static int get_int(napi_env env, napi_value value, int32_t *out)
{
    return napi_get_value_int32(env, value, out) == napi_ok;
}

/* sendFd(socketFd, fd): one NUL byte with `fd` attached. */
static napi_value send_fd(napi_env env, napi_callback_info info)
{
    size_t argc = 2;
    napi_value argv[2];
    int32_t sock, fd;
    CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
    if (argc < 2 || !get_int(env, argv[0], &sock) || !get_int(env, argv[1], &fd)) {
        napi_throw_type_error(env, NULL, "sendFd(socketFd, fd) takes two descriptors");
        return NULL;
    }

    char dummy = '\0';
    struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    msg.msg_iov        = &iov;
    msg.msg_iovlen     = 1;
    msg.msg_control    = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level     = SOL_SOCKET;
    cmsg->cmsg_type      = SCM_RIGHTS;
    cmsg->cmsg_len       = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

    for (;;) {
        ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (sent == 1) return NULL;
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* Node's sockets are non-blocking: wait for room, as a blocking sendmsg would. */
            struct pollfd pfd = {.fd = sock, .events = POLLOUT};
            int ready = poll(&pfd, 1, SEND_TIMEOUT_MS);
            if (ready > 0 || (ready < 0 && errno == EINTR)) continue;
            return throw_errno(env, "sendFd", ready == 0 ? EAGAIN : errno);
        }
        return throw_errno(env, "sendFd", sent < 0 ? errno : EIO);
    }
}

typedef struct {
    napi_env env;
    napi_ref callback;
    uv_poll_t poll;
    int fd; /* our dup() of the socket */
    int watching;
    int closed;
    size_t max_read;
    char *buffer;
} reader_t;

static void reader_closed(uv_handle_t *handle)
{
    reader_t *reader = handle->data;
    close(reader->fd);
    free(reader->buffer);
    free(reader);
}

/* Releases the native side; the JS object may outlive it (calls then throw or do nothing). */
static void reader_shutdown(reader_t *reader)
{
    if (reader->closed) return;
    reader->closed = 1;
    if (reader->watching) uv_poll_stop(&reader->poll);
    reader->watching = 0;
    napi_delete_reference(reader->env, reader->callback);
    uv_close((uv_handle_t *)&reader->poll, reader_closed);
}

static void call_js(reader_t *reader, int argc, napi_value *argv)
{
    napi_env env = reader->env;
    napi_handle_scope scope;
    napi_value callback, global, result;
    napi_async_context context;
    napi_value resource_name;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_get_reference_value(env, reader->callback, &callback);
    napi_get_global(env, &global);
    napi_create_string_utf8(env, "fdpass.Reader", NAPI_AUTO_LENGTH, &resource_name);
    if (napi_async_init(env, NULL, resource_name, &context) == napi_ok) {
        /* make_callback runs the microtask queue afterwards, as Node does for its own I/O. */
        napi_make_callback(env, context, global, callback, argc, argv, &result);
        napi_async_destroy(env, context);
    }
    bool pending = false;
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
        napi_value exception;
        napi_get_and_clear_last_exception(env, &exception);
        napi_fatal_exception(env, exception);
    }
    napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *handle, int status, int events)
{
    reader_t *reader = handle->data;
    napi_env env     = reader->env;
    (void)events;
    if (reader->closed) return;

    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value argv[4];
    napi_get_null(env, &argv[0]);
    napi_get_null(env, &argv[1]);
    napi_create_int32(env, -1, &argv[2]);
    napi_get_boolean(env, false, &argv[3]);

    if (status < 0) {
        napi_value text;
        napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &text);
        napi_create_error(env, NULL, text, &argv[0]);
        call_js(reader, 4, argv);
        napi_close_handle_scope(env, scope);
        return;
    }

    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = reader->buffer, .iov_len = reader->max_read};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov        = &iov;
    msg.msg_iovlen     = 1;
    msg.msg_control    = control.buf;
    msg.msg_controllen = sizeof(control.buf);

    ssize_t n;
    do {
        n = recvmsg(reader->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            napi_value text, code;
            napi_create_string_utf8(env, strerror(errno), NAPI_AUTO_LENGTH, &text);
            napi_create_error(env, NULL, text, &argv[0]);
            napi_create_string_utf8(env, errno == ECONNRESET ? "ECONNRESET" : "EIO", NAPI_AUTO_LENGTH, &code);
            napi_set_named_property(env, argv[0], "code", code);
            call_js(reader, 4, argv);
        }
        napi_close_handle_scope(env, scope);
        return;
    }

    int received = -1;
    for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            /* Only one descriptor fits the control buffer; anything else would be a leak. */
            if (received == -1) received = fd;
            else close(fd);
        }
    }
    napi_create_int32(env, received, &argv[2]);
    napi_get_boolean(env, (msg.msg_flags & MSG_CTRUNC) != 0, &argv[3]);
    if (n == 0) {
        napi_get_undefined(env, &argv[1]); /* end of stream */
    } else {
        void *unused;
        napi_create_buffer_copy(env, (size_t)n, reader->buffer, &unused, &argv[1]);
    }
    call_js(reader, 4, argv);
    napi_close_handle_scope(env, scope);
}

static reader_t *unwrap_reader(napi_env env, napi_callback_info info, napi_value *self)
{
    size_t argc = 0;
    napi_value this_arg;
    void *data = NULL;
    if (napi_get_cb_info(env, info, &argc, NULL, &this_arg, NULL) != napi_ok) return NULL;
    if (napi_unwrap(env, this_arg, &data) != napi_ok) return NULL;
    if (self) *self = this_arg;
    return data;
}

static void reader_finalize(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)hint;
    reader_shutdown(data);
}

/* new Reader(socketFd, maxRead, callback) */
static napi_value reader_new(napi_env env, napi_callback_info info)
{
    size_t argc = 3;
    napi_value argv[3], this_arg;
    int32_t sock, max_read;
    napi_valuetype type;
    CHECK(napi_get_cb_info(env, info, &argc, argv, &this_arg, NULL));
    if (argc < 3 || !get_int(env, argv[0], &sock) || !get_int(env, argv[1], &max_read) || max_read <= 0 ||
        napi_typeof(env, argv[2], &type) != napi_ok || type != napi_function) {
        napi_throw_type_error(env, NULL, "new Reader(socketFd, maxRead, callback)");
        return NULL;
    }
    int fd = fcntl(sock, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return throw_errno(env, "Reader", errno);

    uv_loop_t *loop;
    reader_t *reader = calloc(1, sizeof(*reader));
    char *buffer     = malloc((size_t)max_read);
    if (!reader || !buffer || napi_get_uv_event_loop(env, &loop) != napi_ok ||
        uv_poll_init(loop, &reader->poll, fd) != 0) {
        free(reader);
        free(buffer);
        close(fd);
        napi_throw_error(env, NULL, "fdpass: cannot set up the reader");
        return NULL;
    }
    reader->env       = env;
    reader->fd        = fd;
    reader->max_read  = (size_t)max_read;
    reader->buffer    = buffer;
    reader->poll.data = reader;
    CHECK(napi_create_reference(env, argv[2], 1, &reader->callback));
    CHECK(napi_wrap(env, this_arg, reader, reader_finalize, NULL, NULL));
    return this_arg;
}

static napi_value reader_start(napi_env env, napi_callback_info info)
{
    reader_t *reader = unwrap_reader(env, info, NULL);
    if (reader && !reader->closed && !reader->watching) {
        uv_poll_start(&reader->poll, UV_READABLE | UV_DISCONNECT, on_readable);
        reader->watching = 1;
    }
    return NULL;
}

static napi_value reader_stop(napi_env env, napi_callback_info info)
{
    reader_t *reader = unwrap_reader(env, info, NULL);
    if (reader && !reader->closed && reader->watching) {
        uv_poll_stop(&reader->poll);
        reader->watching = 0;
    }
    return NULL;
}

static napi_value reader_close(napi_env env, napi_callback_info info)
{
    napi_value self;
    reader_t *reader = unwrap_reader(env, info, &self);
    if (reader) {
        napi_remove_wrap(env, self, NULL);
        reader_shutdown(reader);
    }
    return NULL;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_value fn, reader_class;
    napi_property_descriptor methods[] = {
        {"start", NULL, reader_start, NULL, NULL, NULL, napi_default, NULL},
        {"stop", NULL, reader_stop, NULL, NULL, NULL, napi_default, NULL},
        {"close", NULL, reader_close, NULL, NULL, NULL, napi_default, NULL},
    };
    CHECK(napi_create_function(env, "sendFd", NAPI_AUTO_LENGTH, send_fd, NULL, &fn));
    CHECK(napi_set_named_property(env, exports, "sendFd", fn));
    CHECK(napi_define_class(env, "Reader", NAPI_AUTO_LENGTH, reader_new, NULL, 3, methods, &reader_class));
    CHECK(napi_set_named_property(env, exports, "Reader", reader_class));
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
