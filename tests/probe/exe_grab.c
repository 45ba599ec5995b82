/* exe-grab — a hostile image's dynamic loader, for the CVE-2019-5736 tests.
 *
 * berth is linked dynamically, so when a container process runs berth's own binary (an image
 * whose command is a `#!/proc/self/exe` script, run while the entering process is still berth),
 * the kernel loads the interpreter berth names (/lib64/ld-linux-x86-64.so.2) from the image:
 * this file, installed there. It then runs inside the container with berth's binary as its
 * /proc/self/exe, which is the position runc's attackers were in. It does what they did and
 * nothing more harmful: it opens /proc/self/exe and /proc/<pid>/exe for writing (closing at
 * once, writing nothing), opens an O_PATH handle of it and passes that handle with SCM_RIGHTS to
 * the test, listening on /grab/sock, which then tries to reopen it for writing once berth has
 * exited (the attack's second step).
 *
 * Message: "write-self=<errno name or ok> write-pid=<...> path=<...>" plus the handle.
 * Freestanding (no libc: a loader has none to use), x86_64 only. */
#include <asm/unistd.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>

#ifndef __x86_64__
#error "exe-grab is written for x86_64"
#endif

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define sys3(nr, a, b, c) sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)

/* the compiler may call these for struct copies and initialisers */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static char *put(char *at, const char *s)
{
    while (*s)
        *at++ = *s++;
    return at;
}

static char *put_num(char *at, long v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *at++ = tmp[--n];
    return at;
}

/* The few errno values an open of /proc/.../exe for writing can meet. */
static const char *errname(long e)
{
    switch (e) {
    case 1:
        return "EPERM";
    case 2:
        return "ENOENT";
    case 13:
        return "EACCES";
    case 26:
        return "ETXTBSY";
    case 30:
        return "EROFS";
    default:
        return "EOTHER";
    }
}

/* "ok" (closed again at once, nothing written) or the errno name */
static char *try_write_open(char *at, const char *key, const char *path)
{
    at = put(at, key);
    long fd = sys3(__NR_open, path, O_WRONLY | O_CLOEXEC, 0);
    if (fd >= 0) {
        sys3(__NR_close, fd, 0, 0);
        at = put(at, "ok");
    } else {
        at = put(at, errname(-fd));
    }
    return put(at, " ");
}

__attribute__((used)) static void grab_main(void)
{
    char msg[256], pidpath[64];
    char *at = msg;
    at = try_write_open(at, "write-self=", "/proc/self/exe");
    long pid = sys3(__NR_getpid, 0, 0, 0);
    *put(put_num(put(pidpath, "/proc/"), pid), "/exe") = '\0';
    at = try_write_open(at, "write-pid=", pidpath);
    long held = sys3(__NR_open, "/proc/self/exe", O_PATH | O_CLOEXEC, 0);
    at = put(at, "path=");
    at = put(at, held >= 0 ? "ok" : errname(-held));
    size_t len = (size_t)(at - msg);

    long s = sys3(__NR_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    const char *sock = "/grab/sock";
    memcpy(sa.sun_path, sock, slen(sock));
    if (s < 0 || sys3(__NR_connect, s, &sa, sizeof(sa)) < 0)
        sys3(__NR_exit_group, 3, 0, 0);
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } c;
    memset(&c, 0, sizeof(c));
    struct iovec iov = {.iov_base = msg, .iov_len = len};
    struct msghdr mh;
    memset(&mh, 0, sizeof(mh));
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (held >= 0) {
        mh.msg_control = c.buf;
        mh.msg_controllen = sizeof(c.buf);
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        int h = (int)held;
        memcpy(CMSG_DATA(cm), &h, sizeof(h));
    }
    long sent = sys3(__NR_sendmsg, s, &mh, 0);
    sys3(__NR_exit_group, sent == (long)len ? 0 : 4, 0, 0);
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  and $-16, %rsp\n"
        "  call grab_main\n"
        "  hlt\n");
