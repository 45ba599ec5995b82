/* Just enough ELF to know what a host binary needs to run elsewhere: its program interpreter
 * (PT_INTERP) and the libraries it names (DT_NEEDED). 64-bit, host byte order. */
#include "image/internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

struct elf_file {
    const unsigned char *data;
    size_t size;
    const Elf64_Phdr *ph;
    size_t phnum;
};

static bool in_bounds(const struct elf_file *f, uint64_t off, uint64_t len)
{
    return off <= f->size && len <= f->size - off;
}

/* A NUL-terminated string at off, within [off, limit). */
static const char *string_at(const struct elf_file *f, uint64_t off, uint64_t limit)
{
    if (limit > f->size)
        limit = f->size;
    if (off >= limit)
        return NULL;
    const char *s = (const char *)f->data + off;
    return memchr(s, '\0', limit - off) ? s : NULL;
}

/* File offset of a virtual address, through the PT_LOAD segments. */
static bool vaddr_to_offset(const struct elf_file *f, uint64_t vaddr, uint64_t *off)
{
    for (size_t i = 0; i < f->phnum; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type == PT_LOAD && vaddr >= p->p_vaddr && vaddr - p->p_vaddr < p->p_filesz) {
            *off = p->p_offset + (vaddr - p->p_vaddr);
            return true;
        }
    }
    return false;
}

static int parse_header(struct elf_file *f, struct berr *err)
{
    if (f->size < sizeof(Elf64_Ehdr) || memcmp(f->data, ELFMAG, SELFMAG) != 0)
        return berr_set(err, BERR_FAILED, "not an ELF file");
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)f->data;
    if (eh->e_ident[EI_CLASS] != ELFCLASS64)
        return berr_set(err, BERR_FAILED, "not a 64-bit ELF file");
    if (eh->e_ident[EI_DATA] !=
        (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB))
        return berr_set(err, BERR_FAILED, "ELF file of the other byte order");
    if (eh->e_phnum && eh->e_phentsize != sizeof(Elf64_Phdr))
        return berr_set(err, BERR_FAILED, "unexpected ELF program header size");
    if (!in_bounds(f, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)) ||
        eh->e_phoff % _Alignof(Elf64_Phdr) != 0)
        return berr_set(err, BERR_FAILED, "ELF program headers out of bounds");
    f->ph = (const Elf64_Phdr *)(f->data + eh->e_phoff);
    f->phnum = eh->e_phnum;
    return 0;
}

static int read_interp(const struct elf_file *f, char **interp, struct berr *err)
{
    for (size_t i = 0; i < f->phnum; i++) {
        const Elf64_Phdr *p = &f->ph[i];
        if (p->p_type != PT_INTERP)
            continue;
        if (!in_bounds(f, p->p_offset, p->p_filesz))
            return berr_set(err, BERR_FAILED, "PT_INTERP out of bounds");
        const char *s = string_at(f, p->p_offset, p->p_offset + p->p_filesz);
        if (!s || !*s)
            return berr_set(err, BERR_FAILED, "PT_INTERP is not a string");
        *interp = xstrdup(s);
        return 0;
    }
    return 0;
}

static int read_needed(const struct elf_file *f, struct strv *needed, struct berr *err)
{
    const Elf64_Phdr *dyn = NULL;
    for (size_t i = 0; i < f->phnum; i++) {
        if (f->ph[i].p_type == PT_DYNAMIC)
            dyn = &f->ph[i];
    }
    if (!dyn)
        return 0;
    if (!in_bounds(f, dyn->p_offset, dyn->p_filesz) || dyn->p_offset % _Alignof(Elf64_Dyn))
        return berr_set(err, BERR_FAILED, "PT_DYNAMIC out of bounds");
    const Elf64_Dyn *d = (const Elf64_Dyn *)(f->data + dyn->p_offset);
    size_t n = dyn->p_filesz / sizeof(Elf64_Dyn);
    uint64_t strtab = 0, strsz = 0;
    bool have_strtab = false;
    for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
        if (d[i].d_tag == DT_STRTAB) {
            strtab = d[i].d_un.d_ptr;
            have_strtab = true;
        } else if (d[i].d_tag == DT_STRSZ) {
            strsz = d[i].d_un.d_val;
        }
    }
    size_t nneeded = 0;
    for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++)
        nneeded += d[i].d_tag == DT_NEEDED;
    if (nneeded == 0)
        return 0;
    uint64_t stroff;
    if (!have_strtab || !vaddr_to_offset(f, strtab, &stroff) || !in_bounds(f, stroff, strsz))
        return berr_set(err, BERR_FAILED, "DT_STRTAB out of bounds");
    for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
        if (d[i].d_tag != DT_NEEDED)
            continue;
        const char *s =
            d[i].d_un.d_val < strsz ? string_at(f, stroff + d[i].d_un.d_val, stroff + strsz) : NULL;
        if (!s || !*s)
            return berr_set(err, BERR_FAILED, "DT_NEEDED out of bounds");
        strv_push(needed, s);
    }
    return 0;
}

int image_elf_deps(const char *path, char **interp, struct strv *needed, struct berr *err)
{
    *interp = NULL;
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "stat %s", path);
    if (!S_ISREG(st.st_mode) || st.st_size == 0)
        return berr_set(err, BERR_FAILED, "%s: not an ELF file", path);
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return berr_errno(err, "map %s", path);
    struct elf_file f = {.data = map, .size = (size_t)st.st_size};
    int rc = parse_header(&f, err);
    if (rc == 0)
        rc = read_interp(&f, interp, err);
    if (rc == 0)
        rc = read_needed(&f, needed, err);
    munmap(map, (size_t)st.st_size);
    if (rc < 0) {
        free(*interp);
        *interp = NULL;
        return berr_wrap(err, "%s", path);
    }
    return 0;
}
