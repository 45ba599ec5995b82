/* probe — reports facts from inside a container, for the integration tests.
 *
 * Usage: probe COMMAND [ARG] [COMMAND [ARG]...]
 * Commands run left to right; each prints one or more `key=value` lines on stdout, where the
 * key names the command and its argument (`write:/etc/x=EROFS`), so one container start can
 * answer several questions and the output stays unambiguous. A failed look-up prints the errno
 * name as the value instead of aborting. Static, no NSS, no locale: only syscalls and /proc.
 *
 *   status            CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp Seccomp_filters
 *                     SigIgn SigBlk
 *   fds               fds=<open fd numbers, space separated>
 *   fdlinks           fdlink:N=<target of /proc/self/fd/N>, one line per open fd
 *   session           sid=<getsid(0)> pgid=<getpgrp()>
 *   tiocsti FD        tiocsti:FD=ok or the errno name (pushes one '#' into FD's input queue)
 *   tiocsctty FD      tiocsctty:FD=ok or the errno name (take FD as controlling terminal)
 *   id                uid euid gid egid groups
 *   cwd pid hostname  cwd=  pid= ppid=  hostname=
 *   env               env=K=V, one line per variable, in order
 *   ns                ns:<name>=<link target> for each namespace link in /proc/self/ns
 *   ifaces            ifaces=<names>, iface:<name>=up|down
 *   mountinfo         mountinfo=<raw line>, one per mount
 *   mount PATH        mount:PATH=<fstype> <mount options> <super options>  (topmost, or "none")
 *   stat PATH         stat:PATH=<type> <mode> <major>:<minor> <uid>:<gid>  (lstat)
 *   inode PATH        inode:PATH=<dev>:<ino>  (stat, follows links)
 *   readlink PATH     readlink:PATH=<target>
 *   ls PATH           ls:PATH=<sorted names>
 *   read PATH         read:PATH=<bytes read, at most 1 MiB>
 *   cat PATH          cat:PATH=<content, \n escaped, at most 4 KiB>
 *   write PATH        write:PATH=ok  (open O_WRONLY|O_CREAT|O_APPEND, writes nothing)
 *   mkdir PATH        mkdir:PATH=ok  (and removes it again)
 *   statfs PATH       statfs:PATH=<total bytes> <ro|rw>
 *   args              argv=<every argument, space separated>; consumes the rest
 *   kill SIG          kill(getpid(), SIG); prints kill:SIG=survived if still alive
 *   segv              dies of a real SIGSEGV (which kills even a pid-namespace init)
 *   syscall WHAT      syscall:WHAT=ok or the errno name; WHAT is clone3, clone (fork-like),
 *                     clone_newns, unshare0 (flags 0), unshare_newns, thread (pthread_create),
 *                     mount_missing (tmpfs on a missing dir: ENOENT unless a filter refuses
 *                     first), personality:N, nr:N (raw syscall N, no arguments)
 *   sendfds PATH      sendfds:PATH=ok  (connects to the unix socket PATH and passes it fds 1
 *                     and 2 with SCM_RIGHTS: a holder outside keeps the output pipes open)
 *   deeptree N        deeptree:N=ok  (/deeptree/d/d/... N directories deep, one fd at a time)
 *   send-exe SOCK:NAME  waits (20 s at most) for another process with an argument equal to
 *                     NAME whose /proc/<pid>/exe opens with O_PATH and passes that fd over the
 *                     unix socket SOCK: send-exe:SOCK:NAME=ok, or the errno of the last try
 *                     (CVE-2019-5736's first half)
 *   reopen-exe SOCK   listens on SOCK (60 s at most) for one such fd, reopens it for writing
 *                     through /proc/self/fd/N (retrying 30 s while it is busy, ETXTBSY) and
 *                     overwrites its first 5 bytes: reopen-exe:SOCK=<open> <write>, each ok or
 *                     the errno name, "-" for a write not tried (the second half)
 *   sleep N           sleeps N seconds
 *   exit N            flushes and exits with N
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "EUNKNOWN";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cmd_status(void)
{
    static const char *keys[] = {"CapInh",     "CapPrm",  "CapEff",          "CapBnd", "CapAmb",
                                 "NoNewPrivs", "Seccomp", "Seccomp_filters", "SigIgn", "SigBlk"};
    FILE *f = fopen("/proc/self/status", "re");
    if (!f) {
        printf("status=%s\n", errname(errno));
        return;
    }
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            if (strcmp(line, keys[i]) != 0)
                continue;
            char *v = colon + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            printf("%s=%s\n", line, v);
        }
    }
    fclose(f);
}

static void cmd_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        printf("fds=%s\n", errname(errno));
        return;
    }
    int self = dirfd(d);
    int fds[1024];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd != self)
            fds[n++] = fd;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort: tiny n */
        for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
            int t = fds[j];
            fds[j] = fds[j - 1];
            fds[j - 1] = t;
        }
    printf("fds=");
    for (size_t i = 0; i < n; i++)
        printf("%s%d", i ? " " : "", fds[i]);
    printf("\n");
}

static void cmd_fdlinks(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        printf("fdlink=%s\n", errname(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        char path[300], target[4096];
        snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        target[n < 0 ? 0 : n] = '\0';
        printf("fdlink:%s=%s\n", e->d_name, n < 0 ? errname(errno) : target);
    }
    closedir(d);
}

static void cmd_tty_ioctl(const char *name, unsigned long req, const char *fdarg)
{
    char c = '#';
    int rc = req == TIOCSTI ? ioctl(atoi(fdarg), TIOCSTI, &c) : ioctl(atoi(fdarg), req, 0);
    printf("%s:%s=%s\n", name, fdarg, rc < 0 ? errname(errno) : "ok");
}

static void cmd_id(void)
{
    gid_t groups[1024];
    int n = getgroups(1024, groups);
    printf("uid=%u\neuid=%u\ngid=%u\negid=%u\ngroups=", (unsigned)getuid(), (unsigned)geteuid(),
           (unsigned)getgid(), (unsigned)getegid());
    for (int i = 0; i < n; i++)
        printf("%s%u", i ? " " : "", (unsigned)groups[i]);
    printf("\n");
}

static void cmd_cwd(void)
{
    char buf[4096];
    if (getcwd(buf, sizeof(buf)))
        printf("cwd=%s\n", buf);
    else
        printf("cwd=%s\n", errname(errno));
}

static void cmd_env(void)
{
    for (char **e = environ; e && *e; e++)
        printf("env=%s\n", *e);
}

static void cmd_ns(void)
{
    static const char *names[] = {"mnt", "pid", "uts", "ipc", "net", "user", "cgroup", "time"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char path[64], target[128];
        snprintf(path, sizeof(path), "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(path, target, sizeof(target) - 1);
        if (n < 0) {
            printf("ns:%s=%s\n", names[i], errname(errno));
            continue;
        }
        target[n] = '\0';
        printf("ns:%s=%s\n", names[i], target);
    }
}

/* Interface names from /proc/net/dev (network-namespace aware, no netlink needed). */
static void cmd_ifaces(void)
{
    FILE *f = fopen("/proc/net/dev", "re");
    if (!f) {
        printf("ifaces=%s\n", errname(errno));
        return;
    }
    char line[512], names[64][IFNAMSIZ + 1];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) && n < 64) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue; /* the two header lines */
        *colon = '\0';
        char *name = line + strspn(line, " ");
        snprintf(names[n++], IFNAMSIZ + 1, "%s", name);
    }
    fclose(f);
    printf("ifaces=");
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? " " : "", names[i]);
    printf("\n");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    for (size_t i = 0; i < n; i++) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, names[i], strnlen(names[i], IFNAMSIZ - 1));
        if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            printf("iface:%s=%s\n", names[i], errname(errno));
        else
            printf("iface:%s=%s\n", names[i], (ifr.ifr_flags & IFF_UP) ? "up" : "down");
    }
    if (s >= 0)
        close(s);
}

static void cmd_mountinfo(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        printf("mountinfo=%s\n", errname(errno));
        return;
    }
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        printf("mountinfo=%s\n", line);
    }
    fclose(f);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] && r[3]) {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 3;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* The last mountinfo entry at PATH is the one on top, the one a lookup sees. */
static void cmd_mount(const char *path)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f) {
        printf("mount:%s=%s\n", path, errname(errno));
        return;
    }
    char line[4096], found[4096] = "none";
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
        char *fields[8] = {0};
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        int i = 0;
        while (tok && i < 6) {
            fields[i++] = tok;
            tok = strtok_r(NULL, " ", &save);
        }
        while (tok && strcmp(tok, "-") != 0)
            tok = strtok_r(NULL, " ", &save);
        if (i < 6 || !tok)
            continue;
        char *fstype = strtok_r(NULL, " ", &save);
        char *source = strtok_r(NULL, " ", &save);
        char *super = strtok_r(NULL, " ", &save);
        (void)source;
        unescape(fields[4]);
        if (strcmp(fields[4], path) == 0)
            snprintf(found, sizeof(found), "%s %s %s", fstype ? fstype : "?", fields[5],
                     super ? super : "");
    }
    fclose(f);
    printf("mount:%s=%s\n", path, found);
}

static void cmd_stat(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        printf("stat:%s=%s\n", path, errname(errno));
        return;
    }
    const char *type = S_ISREG(st.st_mode)    ? "reg"
                       : S_ISDIR(st.st_mode)  ? "dir"
                       : S_ISCHR(st.st_mode)  ? "chr"
                       : S_ISBLK(st.st_mode)  ? "blk"
                       : S_ISLNK(st.st_mode)  ? "lnk"
                       : S_ISFIFO(st.st_mode) ? "fifo"
                                              : "sock";
    printf("stat:%s=%s %04o %u:%u %u:%u\n", path, type, (unsigned)(st.st_mode & 07777),
           major(st.st_rdev), minor(st.st_rdev), (unsigned)st.st_uid, (unsigned)st.st_gid);
}

static void cmd_inode(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        printf("inode:%s=%s\n", path, errname(errno));
    else
        printf("inode:%s=%llu:%llu\n", path, (unsigned long long)st.st_dev,
               (unsigned long long)st.st_ino);
}

static void cmd_readlink(const char *path)
{
    char buf[4096];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);
    if (n < 0) {
        printf("readlink:%s=%s\n", path, errname(errno));
        return;
    }
    buf[n] = '\0';
    printf("readlink:%s=%s\n", path, buf);
}

static void cmd_ls(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        printf("ls:%s=%s\n", path, errname(errno));
        return;
    }
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    printf("ls:%s=", path);
    for (size_t i = 0; i < n; i++) {
        printf("%s%s", i ? " " : "", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void cmd_read(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("read:%s=%s\n", path, errname(errno));
        return;
    }
    char buf[65536];
    long total = 0;
    ssize_t n;
    while (total < (1 << 20) && (n = read(fd, buf, sizeof(buf))) > 0)
        total += n;
    if (n < 0 && total == 0)
        printf("read:%s=%s\n", path, errname(errno));
    else
        printf("read:%s=%ld\n", path, total);
    close(fd);
}

static void cmd_cat(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("cat:%s=%s\n", path, errname(errno));
        return;
    }
    char buf[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
        len += (size_t)n;
    close(fd);
    printf("cat:%s=", path);
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            fputs("\\n", stdout);
        else if (buf[i] == '\\')
            fputs("\\\\", stdout);
        else
            putchar(buf[i]);
    }
    printf("\n");
}

static void cmd_write(const char *path)
{
    /* No O_TRUNC and no bytes written: probing /etc/hosts or /proc/sysrq-trigger must not
     * change them even when the mount wrongly is writable. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0) {
        printf("write:%s=%s\n", path, errname(errno));
        return;
    }
    close(fd);
    printf("write:%s=ok\n", path);
}

static void cmd_mkdir(const char *path)
{
    if (mkdir(path, 0755) < 0) {
        printf("mkdir:%s=%s\n", path, errname(errno));
        return;
    }
    rmdir(path);
    printf("mkdir:%s=ok\n", path);
}

static void cmd_sendfds(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (strlen(path) >= sizeof(sa.sun_path) || s < 0) {
        printf("sendfds:%s=%s\n", path, s < 0 ? errname(errno) : "ENAMETOOLONG");
        return;
    }
    strcpy(sa.sun_path, path);
    int fds[2] = {1, 2};
    char cbuf[CMSG_SPACE(sizeof(fds))] = {0};
    char byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cm), fds, sizeof(fds));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || sendmsg(s, &mh, 0) != 1)
        printf("sendfds:%s=%s\n", path, errname(errno));
    else
        printf("sendfds:%s=ok\n", path);
    close(s);
}

static void cmd_deeptree(const char *arg)
{
    int n = atoi(arg);
    int fd = -1;
    if (mkdir("/deeptree", 0755) == 0)
        fd = open("/deeptree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int i = 0; fd >= 0 && i < n; i++) {
        int next = -1;
        if (mkdirat(fd, "d", 0755) == 0)
            next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int e = errno;
        close(fd);
        fd = next;
        errno = e;
    }
    if (fd < 0) {
        printf("deeptree:%s=%s\n", arg, errname(errno));
        return;
    }
    close(fd);
    printf("deeptree:%s=ok\n", arg);
}

/* What a profiler's attach needs (jstack, strace): ptrace of another process of the
 * container, here as PTRACE_SEIZE + detach. */
static void cmd_ptrace(const char *arg)
{
    pid_t pid = (pid_t)atoi(arg);
    if (syscall(SYS_ptrace, PTRACE_SEIZE, pid, 0, 0) < 0) {
        printf("ptrace:%d=%s\n", (int)pid, strerror(errno));
        return;
    }
    syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
    printf("ptrace:%d=ok\n", (int)pid);
}

static void cmd_statfs(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) < 0) {
        printf("statfs:%s=%s\n", path, errname(errno));
        return;
    }
    printf("statfs:%s=%llu %s\n", path, (unsigned long long)sv.f_blocks * sv.f_frsize,
           (sv.f_flag & ST_RDONLY) ? "ro" : "rw");
}

/* An argument of pid's command line equals name. */
static int cmdline_has(const char *pid, const char *name)
{
    char path[300], buf[4096];
    snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
        buf[n] = '\0';
        if (strcmp(buf + i, name) == 0)
            return 1;
    }
    return 0;
}

/* The fd of /proc/<pid>/exe of another process whose command line has name, as an attacker
 * would take it: retried over every such process until one opens (a process that is not
 * dumpable refuses), or the last errno. */
static int open_exe_of(const char *name)
{
    char self[16];
    snprintf(self, sizeof(self), "%d", (int)getpid());
    int last = ESRCH;
    for (int tries = 0; tries < 2000; tries++) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0 ||
                !cmdline_has(e->d_name, name))
                continue;
            char path[300];
            snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
            int fd = open(path, O_PATH | O_CLOEXEC);
            if (fd >= 0) {
                closedir(d);
                return fd;
            }
            last = errno;
        }
        if (d)
            closedir(d);
        usleep(10000);
    }
    errno = last;
    return -1;
}

static void unix_addr(struct sockaddr_un *a, const char *path, size_t len)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path, path, len < sizeof(a->sun_path) - 1 ? len : sizeof(a->sun_path) - 1);
}

static void cmd_send_exe(const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (!colon) {
        printf("send-exe:%s=EINVAL\n", arg);
        return;
    }
    int fd = open_exe_of(colon + 1);
    if (fd < 0) {
        printf("send-exe:%s=%s\n", arg, errname(errno));
        return;
    }
    struct sockaddr_un a;
    unix_addr(&a, arg, (size_t)(colon - arg));
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char byte = 'x';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } c = {0};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET;
    h->cmsg_type = SCM_RIGHTS;
    h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof(int));
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 || sendmsg(s, &m, 0) != 1)
        printf("send-exe:%s=%s\n", arg, errname(errno));
    else
        printf("send-exe:%s=ok\n", arg);
    if (s >= 0)
        close(s);
    close(fd);
}

static int receive_fd(const char *path)
{
    struct sockaddr_un a;
    unix_addr(&a, path, strlen(path));
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
        return -1;
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, 60000) != 1) {
        close(s);
        errno = ETIMEDOUT;
        return -1;
    }
    int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    close(s);
    if (conn < 0)
        return -1;
    char byte;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } c;
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf)};
    int fd = -1;
    if (recvmsg(conn, &m, MSG_CMSG_CLOEXEC) == 1 && CMSG_FIRSTHDR(&m) &&
        CMSG_FIRSTHDR(&m)->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
    else
        errno = EPROTO;
    close(conn);
    return fd;
}

static void cmd_reopen_exe(const char *sock)
{
    int held = receive_fd(sock);
    if (held < 0) {
        printf("reopen-exe:%s=%s -\n", sock, errname(errno));
        return;
    }
    char via[64];
    snprintf(via, sizeof(via), "/proc/self/fd/%d", held);
    int fd = -1;
    for (int tries = 0; tries < 3000; tries++) {
        fd = open(via, O_WRONLY | O_CLOEXEC);
        if (fd >= 0 || errno != ETXTBSY)
            break;
        usleep(10000);
    }
    if (fd < 0) {
        printf("reopen-exe:%s=%s -\n", sock, errname(errno));
        return;
    }
    const char *w = pwrite(fd, "PWNED", 5, 0) == 5 ? "ok" : errname(errno);
    printf("reopen-exe:%s=ok %s\n", sock, w);
    close(fd);
}

static void cmd_hostname(void)
{
    struct utsname u;
    if (uname(&u) < 0)
        printf("hostname=%s\n", errname(errno));
    else
        printf("hostname=%s\n", u.nodename);
}

/* A child that exits at once: its exit status is the call's success. */
static long reap_clone(long pid)
{
    if (pid == 0)
        _exit(0);
    if (pid > 0)
        waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
}

static void *thread_main(void *arg)
{
    return arg;
}

static long try_syscall(const char *what)
{
    if (strcmp(what, "clone3") == 0) {
        struct clone_args ca = {.exit_signal = SIGCHLD};
        return reap_clone(syscall(SYS_clone3, &ca, sizeof(ca)));
    }
    if (strcmp(what, "clone") == 0)
        return reap_clone(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    if (strcmp(what, "clone_newns") == 0)
        return reap_clone(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0));
    if (strcmp(what, "unshare0") == 0)
        return unshare(0);
    if (strcmp(what, "unshare_newns") == 0)
        return unshare(CLONE_NEWNS);
    if (strcmp(what, "mount_missing") == 0)
        return mount("none", "/probe-missing-dir", "tmpfs", 0, NULL);
    if (strcmp(what, "thread") == 0) {
        pthread_t t;
        int e = pthread_create(&t, NULL, thread_main, NULL);
        if (e) {
            errno = e;
            return -1;
        }
        return pthread_join(t, NULL) ? -1 : 0;
    }
    if (strncmp(what, "personality:", 12) == 0)
        return syscall(SYS_personality, strtoul(what + 12, NULL, 0));
    if (strncmp(what, "nr:", 3) == 0)
        return syscall(atol(what + 3), 0, 0, 0, 0, 0, 0);
    errno = EINVAL;
    return -1;
}

static void cmd_syscall(const char *what)
{
    fflush(stdout);
    errno = 0;
    long rc = try_syscall(what);
    printf("syscall:%s=%s\n", what, rc < 0 ? errname(errno) : "ok");
}

static void crash(void)
{
    fflush(stdout);
    /* A fault-generated SIGSEGV is forced: it kills a pid-namespace init, a kill() would not. */
    volatile int *p = NULL;
    *p = 1;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        const char *c = argv[i];
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        int one = 1; /* commands that take an argument */
        if (strcmp(c, "status") == 0)
            cmd_status(), one = 0;
        else if (strcmp(c, "fds") == 0)
            cmd_fds(), one = 0;
        else if (strcmp(c, "fdlinks") == 0)
            cmd_fdlinks(), one = 0;
        else if (strcmp(c, "session") == 0)
            printf("sid=%d\npgid=%d\n", (int)getsid(0), (int)getpgrp()), one = 0;
        else if (strcmp(c, "id") == 0)
            cmd_id(), one = 0;
        else if (strcmp(c, "cwd") == 0)
            cmd_cwd(), one = 0;
        else if (strcmp(c, "env") == 0)
            cmd_env(), one = 0;
        else if (strcmp(c, "ns") == 0)
            cmd_ns(), one = 0;
        else if (strcmp(c, "ifaces") == 0)
            cmd_ifaces(), one = 0;
        else if (strcmp(c, "mountinfo") == 0)
            cmd_mountinfo(), one = 0;
        else if (strcmp(c, "hostname") == 0)
            cmd_hostname(), one = 0;
        else if (strcmp(c, "pid") == 0)
            printf("pid=%d\nppid=%d\n", (int)getpid(), (int)getppid()), one = 0;
        else if (strcmp(c, "segv") == 0)
            crash(), one = 0;
        else if (strcmp(c, "args") == 0) {
            printf("argv=");
            for (int j = 0; j < argc; j++)
                printf("%s%s", j ? " " : "", argv[j]);
            printf("\n");
            return 0;
        } else if (!arg) {
            fprintf(stderr, "probe: %s: unknown command or missing argument\n", c);
            return 2;
        } else if (strcmp(c, "mount") == 0)
            cmd_mount(arg);
        else if (strcmp(c, "stat") == 0)
            cmd_stat(arg);
        else if (strcmp(c, "inode") == 0)
            cmd_inode(arg);
        else if (strcmp(c, "readlink") == 0)
            cmd_readlink(arg);
        else if (strcmp(c, "ls") == 0)
            cmd_ls(arg);
        else if (strcmp(c, "read") == 0)
            cmd_read(arg);
        else if (strcmp(c, "cat") == 0)
            cmd_cat(arg);
        else if (strcmp(c, "write") == 0)
            cmd_write(arg);
        else if (strcmp(c, "mkdir") == 0)
            cmd_mkdir(arg);
        else if (strcmp(c, "statfs") == 0)
            cmd_statfs(arg);
        else if (strcmp(c, "tiocsti") == 0)
            cmd_tty_ioctl("tiocsti", TIOCSTI, arg);
        else if (strcmp(c, "tiocsctty") == 0)
            cmd_tty_ioctl("tiocsctty", TIOCSCTTY, arg);
        else if (strcmp(c, "syscall") == 0)
            cmd_syscall(arg);
        else if (strcmp(c, "sendfds") == 0)
            cmd_sendfds(arg);
        else if (strcmp(c, "deeptree") == 0)
            cmd_deeptree(arg);
        else if (strcmp(c, "ptrace") == 0)
            cmd_ptrace(arg);
        else if (strcmp(c, "send-exe") == 0)
            cmd_send_exe(arg);
        else if (strcmp(c, "reopen-exe") == 0)
            cmd_reopen_exe(arg);
        else if (strcmp(c, "sleep") == 0)
            sleep((unsigned)atoi(arg));
        else if (strcmp(c, "exit") == 0) {
            fflush(stdout);
            return atoi(arg);
        } else if (strcmp(c, "kill") == 0) {
            int sig = atoi(arg);
            fflush(stdout);
            kill(getpid(), sig);
            printf("kill:%d=survived\n", sig);
        } else {
            fprintf(stderr, "probe: %s: unknown command\n", c);
            return 2;
        }
        i += one;
    }
    return 0;
}
