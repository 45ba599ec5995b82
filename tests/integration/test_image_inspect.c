/* berth image inspect and berth inspect on images: docker's image object, field for field what
 * docker 20.10 prints for the same archive (a dockerd of the test's own loads it), docker's
 * lookup order (a container first, then an image) and --type, docker's errors, and
 * RepoDigests from the manifest an OCI layout was loaded from. */
#include "harness.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

H_SUITE(image_inspect);

#define ONE "it/saved:one"
#define TWO "it/saved:two"

static yajl_val parse_single(const char *text)
{
    yajl_val doc = NULL;
    struct berr err;
    cr_assert_eq(json_parse(text, &doc, &err), 0, "%s: %s", err.msg, text);
    cr_assert(YAJL_IS_ARRAY(doc) && doc->u.array.len == 1, "%s", text);
    return doc;
}

/* Equal values, object members in the same order. *where gets the path of a difference. */
static bool same_value(yajl_val a, yajl_val b, const char *path, char **where)
{
    bool same = a && b && a->type == b->type;
    if (same && YAJL_IS_STRING(a))
        same = !strcmp(a->u.string, b->u.string);
    else if (same && YAJL_IS_NUMBER(a))
        same = !strcmp(a->u.number.r, b->u.number.r);
    else if (same && YAJL_IS_OBJECT(a)) {
        same = a->u.object.len == b->u.object.len;
        for (size_t i = 0; same && i < a->u.object.len; i++) {
            _cleanup_free_ char *sub = xasprintf("%s.%s", path, a->u.object.keys[i]);
            same = !strcmp(a->u.object.keys[i], b->u.object.keys[i]) &&
                   same_value(a->u.object.values[i], b->u.object.values[i], sub, where);
            if (!same && !*where)
                *where = xstrdup(sub);
        }
    } else if (same && YAJL_IS_ARRAY(a)) {
        same = a->u.array.len == b->u.array.len;
        for (size_t i = 0; same && i < a->u.array.len; i++)
            same = same_value(a->u.array.values[i], b->u.array.values[i], path, where);
    }
    if (!same && !*where)
        *where = xstrdup(path);
    return same;
}

/* The same fields and order as docker's object, the same values but for the sizes (docker
 * counts links' targets too) and the graph driver's dirs. */
static void assert_as_docker(yajl_val mine, yajl_val theirs)
{
    yajl_val a = mine->u.array.values[0], b = theirs->u.array.values[0];
    _cleanup_free_ char *ka = xstrdup(""), *kb = xstrdup("");
    for (size_t i = 0; i < a->u.object.len; i++) {
        char *next = xasprintf("%s %s", ka, a->u.object.keys[i]);
        free(ka);
        ka = next;
    }
    for (size_t i = 0; i < b->u.object.len; i++) {
        char *next = xasprintf("%s %s", kb, b->u.object.keys[i]);
        free(kb);
        kb = next;
    }
    cr_assert_str_eq(ka, kb, "field sets differ");
    static const char *const compared[] = {
        "Id",        "RepoTags",        "RepoDigests",   "Parent", "Comment", "Created",
        "Container", "ContainerConfig", "DockerVersion", "Author", "Config",  "Architecture",
        "Os",        "RootFS",          "Metadata"};
    for (size_t i = 0; i < ARRAY_SIZE(compared); i++) {
        char *where = NULL;
        bool same =
            same_value(json_get(a, compared[i]), json_get(b, compared[i]), compared[i], &where);
        cr_assert(same, "%s differs from docker's", where ? where : compared[i]);
        free(where);
    }
    cr_assert(json_get(a, "Size") && YAJL_IS_INTEGER(json_get(a, "Size")));
}

Test(image_inspect, fields_and_values_are_dockers_for_the_same_archive, .timeout = 300)
{
    if (!h_dockerd_available())
        h_skip("docker.io is not installed (make deps installs it)");
    _cleanup_free_ char *src = h_path("src"), *dst = h_path("dst"), *out = h_path("out.tar");
    h_layered_image(src, ONE, TWO);
    struct h_opts os = {.root = src}, od = {.root = dst};
    struct h_result r;
    h_berth(&r, &os, "save", "-o", out, ONE, TWO, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &od, "load", "-i", out, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &od, "image", "inspect", ONE, NULL);
    h_assert_status(&r, 0);
    yajl_val mine = parse_single(r.out);
    h_dockerd_start();
    h_docker(&r, "load", "-i", out, NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "image", "inspect", ONE, NULL);
    h_assert_status(&r, 0);
    yajl_val theirs = parse_single(r.out);
    h_dockerd_stop();
    assert_as_docker(mine, theirs);
    yajl_tree_free(mine);
    yajl_tree_free(theirs);
}

/* An image docker committed has what a loaded one lacks: Container, ContainerConfig,
 * DockerVersion, a Config with Hostname and Image, a Created with nanoseconds. */
Test(image_inspect, a_docker_committed_image_inspects_as_docker_shows_it, .timeout = 300)
{
    if (!h_dockerd_available())
        h_skip("docker.io is not installed (make deps installs it)");
    _cleanup_free_ char *dst = h_path("dst"), *dsave = h_path("docker.tar");
    _cleanup_free_ char *base = xasprintf("%s/probe-image.tar", getenv("BERTH_IT_DATA"));
    h_dockerd_start();
    struct h_result r;
    h_docker(&r, "import", "--change", "ENV SAVED=yes", "--change", "LABEL it=1", base, "it/base:1",
             NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "run", "--name", "mk", "--network=none", "it/base:1", "sh", "-c",
             "echo made > /etc/made", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "commit", "--author", "it <it@example>", "--message", "made", "--change",
             "CMD [\"cat\", \"/etc/made\"]", "mk", "it/made:1", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "save", "-o", dsave, "it/made:1", NULL);
    h_assert_status(&r, 0);
    /* as docker shows it after loading the archive: its Parent is the committing daemon's */
    h_docker(&r, "rm", "mk", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "rmi", "it/made:1", "it/base:1", NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "load", "-i", dsave, NULL);
    h_assert_status(&r, 0);
    h_docker(&r, "image", "inspect", "it/made:1", NULL);
    h_assert_status(&r, 0);
    yajl_val theirs = parse_single(r.out);
    h_dockerd_stop();
    struct h_opts od = {.root = dst};
    h_berth(&r, &od, "load", "-i", dsave, NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &od, "image", "inspect", "it/made:1", NULL);
    h_assert_status(&r, 0);
    yajl_val mine = parse_single(r.out);
    assert_as_docker(mine, theirs);
    yajl_val a = mine->u.array.values[0];
    cr_assert_str_eq(json_get_str(a, "Author"), "it <it@example>");
    cr_assert(*json_get_str(a, "DockerVersion") && *json_get_str(a, "Container"));
    yajl_tree_free(mine);
    yajl_tree_free(theirs);
}

Test(image_inspect, inspect_looks_for_a_container_first_then_an_image)
{
    _cleanup_free_ char *src = h_path("src");
    h_layered_image(src, ONE, "itsame:latest");
    struct h_opts o = {.root = src};
    struct h_result r;
    h_berth(&r, &o, "image", "inspect", "-f", "{{.Id}}", "itsame", NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *image_id = xstrdup(r.out);
    cr_assert(str_has_prefix(image_id, "sha256:") && strlen(image_id) == 7 + 64 + 1, "%s",
              image_id);
    h_berth(&r, &o, "inspect", "-f", "{{.Id}}", "itsame", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, image_id);

    h_berth(&r, &o, "run", "--name", "itsame", ONE, "/probe", "pid", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "inspect", "-f", "{{.Id}} {{.Image}}", "itsame", NULL);
    h_assert_status(&r, 0);
    cr_assert(!str_has_prefix(r.out, "sha256:") && strlen(r.out) > 65 && r.out[64] == ' ',
              "container expected: %s", r.out);
    cr_assert_str_eq(r.out + 65, image_id);
    h_berth(&r, &o, "inspect", "--type", "image", "-f", "{{.Id}}", "itsame", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, image_id);
    h_berth(&r, &o, "inspect", "--type", "container", "-f", "{{.Name}}", "itsame", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "/itsame\n");
    h_berth(&r, &o, "rm", "itsame", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, &o, "inspect", "-f", "{{.Id}}", "itsame", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, image_id);
}

Test(image_inspect, unknown_names_give_dockers_errors)
{
    _cleanup_free_ char *src = h_path("src");
    h_layered_image(src, ONE, NULL);
    struct h_opts o = {.root = src};
    struct h_result r;
    h_berth(&r, &o, "inspect", "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "[]\n");
    cr_assert_str_eq(r.err, "Error: No such object: nosuch\n");
    h_berth(&r, &o, "inspect", "--type", "image", "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error: No such image: nosuch\n");
    h_berth(&r, &o, "inspect", "--type", "container", ONE, NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.err, "Error: No such container: " ONE "\n");
    h_berth(&r, &o, "image", "inspect", "-f", "{{json .RepoTags}}", ONE, "nosuch", NULL);
    h_assert_status(&r, 1);
    cr_assert_str_eq(r.out, "[\"" ONE "\"]\n");
    cr_assert_str_eq(r.err, "Error: No such image: nosuch\n");
}

/* The archive without docker's files: an OCI image layout alone. */
static void oci_only(const char *from, const char *to)
{
    struct archive *in = archive_read_new(), *out = archive_write_new();
    archive_read_support_format_tar(in);
    cr_assert_eq(archive_read_open_filename(in, from, 65536), ARCHIVE_OK);
    archive_write_set_format_pax_restricted(out);
    cr_assert_eq(archive_write_open_filename(out, to), ARCHIVE_OK);
    struct archive_entry *e;
    char buf[65536];
    while (archive_read_next_header(in, &e) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        if (!strcmp(name, "manifest.json") || !strcmp(name, "repositories"))
            continue;
        cr_assert_eq(archive_write_header(out, e), ARCHIVE_OK);
        la_ssize_t n;
        while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
            cr_assert_eq(archive_write_data(out, buf, (size_t)n), n);
    }
    archive_read_free(in);
    cr_assert_eq(archive_write_close(out), ARCHIVE_OK);
    archive_write_free(out);
}

Test(image_inspect, repo_digests_name_the_manifest_of_an_oci_layout)
{
    _cleanup_free_ char *src = h_path("src"), *dst = h_path("dst");
    _cleanup_free_ char *saved = h_path("saved.tar"), *oci = h_path("oci.tar");
    h_layered_image(src, ONE, NULL);
    struct h_opts os = {.root = src}, od = {.root = dst};
    struct h_result r;
    h_berth(&r, &os, "save", "-o", saved, ONE, NULL);
    h_assert_status(&r, 0);
    oci_only(saved, oci);
    _cleanup_free_ char *index = h_tar_member(oci, "index.json", NULL);
    cr_assert(index);
    const char *d = strstr(index, "\"digest\":\"sha256:");
    cr_assert(d, "%s", index);
    _cleanup_free_ char *digest = strndup(d + strlen("\"digest\":\""), 7 + 64);
    h_berth(&r, &od, "load", "-i", oci, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "Loaded image: " ONE "\n");
    h_berth(&r, &od, "image", "inspect", "-f", "{{json .RepoDigests}}", ONE, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *want = xasprintf("[\"it/saved@%s\"]\n", digest);
    cr_assert_str_eq(r.out, want);
}
