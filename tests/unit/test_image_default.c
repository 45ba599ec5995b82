#include "image_test_util.h"

#include <sys/wait.h>
#include <unistd.h>

static struct tstore ts;

static void setup(void)
{
    tstore_open(&ts);
}

static void teardown(void)
{
    tstore_close(&ts);
}

TestSuite(image_default, .init = setup, .fini = teardown);

static void require_host_binaries(void)
{
    /* criterion skips .fini after cr_skip_test */
    if (access("/bin/busybox", X_OK) != 0 && access("/usr/bin/busybox", X_OK) != 0) {
        teardown();
        cr_skip_test("busybox-static is not installed");
    }
    if (access("/bin/bash", X_OK) != 0) {
        teardown();
        cr_skip_test("/bin/bash is missing");
    }
}

static void expect_type(const char *hex, const char *path, mode_t type)
{
    char *p = layer_file(&ts, hex, path);
    struct stat st;
    cr_expect_eq(lstat(p, &st), 0, "%s missing from the default image", path);
    cr_expect_eq(st.st_mode & S_IFMT, type, "%s has the wrong type", path);
    free(p);
}

Test(image_default, builds_busybox_bash_and_a_worker_user)
{
    require_host_binaries();
    struct berr err = {0};
    cr_assert_eq(image_ensure_default(&ts.s, &err), 0, "%s", err.msg);
    char hex[65];
    only_layer(&ts, IMAGE_DEFAULT_REF, hex);
    expect_type(hex, "bin/busybox", S_IFREG);
    expect_type(hex, "bin/sh", S_IFLNK);
    expect_type(hex, "bin/bash", S_IFREG);
    expect_type(hex, "bin/ls", S_IFLNK);
#if defined(__x86_64__)
    expect_type(hex, "lib64/ld-linux-x86-64.so.2", S_IFREG);
    expect_type(hex, "lib/x86_64-linux-gnu/libc.so.6", S_IFREG);
#endif
    expect_type(hex, "tmp", S_IFDIR);
    expect_type(hex, "proc", S_IFDIR);

    char *p = layer_file(&ts, hex, "etc/passwd");
    char *text = read_text(p);
    cr_assert_not_null(text);
    cr_expect(strstr(text, "worker:x:1000:1000:worker:/home/worker:/bin/bash\n"), "%s", text);
    cr_expect(strstr(text, "root:x:0:0:root:/root:/bin/sh\n"), "%s", text);
    free(text);
    free(p);
    p = layer_file(&ts, hex, "etc/group");
    text = read_text(p);
    cr_expect(text && strstr(text, "worker:x:1000:worker\n"));
    free(text);
    free(p);

    struct stat st;
    p = layer_file(&ts, hex, "tmp");
    cr_assert_eq(stat(p, &st), 0);
    cr_expect_eq(st.st_mode & 07777, 01777);
    free(p);
    if (geteuid() == 0) {
        p = layer_file(&ts, hex, "home/worker");
        cr_assert_eq(stat(p, &st), 0);
        cr_expect_eq(st.st_uid, 1000);
        cr_expect_eq(st.st_gid, 1000);
        free(p);
        p = layer_file(&ts, hex, "bin/bash");
        cr_assert_eq(stat(p, &st), 0);
        cr_expect_eq(st.st_uid, 0);
        free(p);
    }
}

Test(image_default, resolving_the_default_name_builds_it_once)
{
    require_host_binaries();
    struct image a, b;
    struct berr err = {0};
    cr_assert_eq(image_resolve(&ts.s, "berth/worker", &a, &err), 0, "%s", err.msg);
    cr_expect_str_eq(a.ref, IMAGE_DEFAULT_REF);
    cr_expect_eq(a.layers.n, 1);
    cr_assert_eq(image_ensure_default(&ts.s, &err), 0, "%s", err.msg);
    cr_assert_eq(image_resolve(&ts.s, IMAGE_DEFAULT_REF, &b, &err), 0, "%s", err.msg);
    cr_expect_str_eq(a.id, b.id, "default image rebuilt although present");
    image_free(&a);
    image_free(&b);
}

/* The image is only useful if its bash finds its libraries: run it chrooted in the layer. */
Test(image_default, bash_and_sh_run_inside_the_layer)
{
    require_host_binaries();
    if (geteuid() != 0) {
        teardown();
        cr_skip_test("needs root for chroot");
    }
    struct berr err = {0};
    cr_assert_eq(image_ensure_default(&ts.s, &err), 0, "%s", err.msg);
    char hex[65];
    only_layer(&ts, IMAGE_DEFAULT_REF, hex);
    char *root = xasprintf("%s/layers/%s", ts.root, hex);
    const char *shells[] = {"/bin/bash", "/bin/sh"};
    for (size_t i = 0; i < 2; i++) {
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 1);
            dup2(devnull, 2);
            if (chroot(root) < 0 || chdir("/") < 0)
                _exit(100);
            execl(shells[i], shells[i], "-c", "test -f /etc/passwd && exit 42", (char *)NULL);
            _exit(101);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 42, "%s in the image: status 0x%x",
                  shells[i], (unsigned)status);
    }
    free(root);
}
