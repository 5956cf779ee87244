/* etl_kernel.c - the kernel events a heap trace is merged with: processes (docs/etw-format.md
 * §3.5), image loads and rundowns (§3.3), KernelTraceControl ImageID and DbgID_RSDS (§3.4), and
 * the SysConfig volume mappings that turn NT device paths into drive letters.
 *
 * Processes go through the pending queue (so they keep their place among heap events): Start
 * and End become PROCESS_START / PROCESS_END events with the process information before them;
 * DCStart (running before the trace) and DCEnd (still running at its end) give information only.
 *
 * Images are joined with the ImageID / DbgID records that describe them: those carry the same
 * timestamp as the image event and come before or after it, so records are gathered while the
 * timestamp stays the same and joined by image base when a later event arrives (flush). An image
 * then becomes an hg_module_info_t with the PDB name, GUID and age, and the PE TimeDateStamp
 * (from ImageID when the image event's is 0). Rundowns before the trace (DCStart) load at time
 * 0; DCEnd only adds images not already known. Images of the kernel (process 0, kernel
 * addresses) are kept and lent to every process with heap events, since heap stacks begin with
 * kernel frames. */
#include "etl_priv.h"

#include <string.h>
#include <strings.h>

#define HOOK_PROCESS_START   0x0301
#define HOOK_PROCESS_END     0x0302
#define HOOK_PROCESS_DCSTART 0x0303
#define HOOK_PROCESS_DCEND   0x0304
#define HOOK_PROCESS_DEFUNCT 0x0327
#define HOOK_IMAGE_LOAD      0x030A
#define HOOK_IMAGE_UNLOAD    0x1402
#define HOOK_IMAGE_DCSTART   0x1403
#define HOOK_IMAGE_DCEND     0x1404

enum { OP_UNLOAD = 2, OP_DCSTART = 3, OP_DCEND = 4, OP_LOAD = 10 };
enum { KTC_IMAGE_ID = 0x00, KTC_DBGID_RSDS = 0x24 };
enum { SYSCONFIGEX_SYSTEM_PATHS = 33, SYSCONFIGEX_VOLUME_MAPPING = 35 };
enum { REC_IMAGE = 1, REC_IMAGE_ID = 2, REC_DBG_ID = 3 };

/* KernelTraceControl ImageID task {b3e675d7-2554-4f18-830b-2762732560de}, Windows layout. */
static const uint8_t ktc_guid[16] = {0xd7, 0x75, 0xe6, 0xb3, 0x54, 0x25, 0x18, 0x4f,
                                     0x83, 0x0b, 0x27, 0x62, 0x73, 0x25, 0x60, 0xde};
/* SysConfigEx {9b79ee91-b5fd-41c0-a243-4248e266e9d0} (PerfView KernelTraceEventParser.cs,
 * SysConfigExTaskGuid; seen in net.4.5.2.x64.etl as FULL_HEADER64 events). */
static const uint8_t sysconfigex_guid[16] = {0x91, 0xee, 0x79, 0x9b, 0xfd, 0xb5, 0xc0, 0x41,
                                             0xa2, 0x43, 0x42, 0x48, 0xe2, 0x66, 0xe9, 0xd0};

struct hg__etl_image {
    uint8_t rec, opcode;
    uint32_t pid, tds, age;
    uint64_t base, size, ts_ns;
    bool kernel;
    char *path, *pdb;
    uint8_t guid[16];
};

struct hg__etl_volume {
    char *nt, *dos;
};

void hg__etl_kernel_free(hg__etl_kernel_t *k) {
    for (size_t i = 0; i < k->ngroup; i++) {
        hg_free(k->group[i].path);
        hg_free(k->group[i].pdb);
    }
    for (size_t i = 0; i < k->nvolumes; i++) {
        hg_free(k->volumes[i].nt);
        hg_free(k->volumes[i].dos);
    }
    for (size_t i = 0; i < k->nkmods; i++) {
        hg_free((char *)k->kmods[i].path);
        hg_free((char *)k->kmods[i].pdb_name);
    }
    hg_free(k->group);
    hg_free(k->volumes);
    hg_free(k->windows_dir);
    hg_free(k->kmods);
    hg__map_free(&k->loaded);
    memset(k, 0, sizeof *k);
}

static void observe(hg__etl_reader_t *r, hg__etl_record_t *rec, const hg__etl_event_t *e) {
    if (r->obs && r->obs->record) {
        rec->version = e->version;
        rec->header_type = e->type;
        rec->ts_ns = hg__etl_ts_ns(&r->hdr, e->ts);
        rec->hdr_pid = e->has_ids ? e->pid : UINT32_MAX;
        rec->hdr_tid = e->has_ids ? e->tid : UINT32_MAX;
        r->obs->record(r->obs->ud, rec);
    }
}

/* A UTF-16 string at d[off..len) as a new UTF-8 string (NULL when out of memory). */
static char *utf16_dup(const uint8_t *d, uint32_t off, uint32_t len, uint32_t *used) {
    size_t max = off < len ? len - off : 0, cap = max / 2 * 3 + 1;
    char *s = hg_malloc(cap);
    size_t n = s ? hg__utf16_to_utf8(d + off, max, s, cap) : 0;
    if (used) {
        *used = (uint32_t)n;
    }
    return s;
}

/* An 8-bit NUL-terminated string at d[off..len). */
static char *ansi_dup(const uint8_t *d, uint32_t off, uint32_t len, uint32_t *used) {
    uint32_t n = 0;
    while (off + n < len && d[off + n]) {
        n++;
    }
    if (used) {
        *used = n + (off + n < len);
    }
    return hg_strndup((const char *)d + off, n);
}

/* ---- volume names -------------------------------------------------------------------------- */

/* VolumeMapping: NtPath and DosPath, UTF-16, one after the other (SysConfigEx opcode 35;
 * PerfView's VolumeMappingTraceData, and net.4.5.2.x64.etl: "\Device\HarddiskVolume2\" ->
 * "C:\"). */
static int on_volume(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_kernel_t *k = &r->kernel;
    uint32_t used = 0;
    char *nt = utf16_dup(e->data, 0, e->data_len, &used);
    char *dos = utf16_dup(e->data, used, e->data_len, NULL);
    hg__etl_volume_t *v = hg_realloc(k->volumes, (k->nvolumes + 1) * sizeof *v);
    if (!nt || !dos || !v) {
        hg_free(nt);
        hg_free(dos);
        return HG_ENOMEM;
    }
    k->volumes = v;
    v[k->nvolumes++] = (hg__etl_volume_t){nt, dos};
    return 0;
}

/* SystemPaths: SystemDirectory, then SystemWindowsDirectory ("C:\\Windows\\"), UTF-16. Paths
 * of images loaded later may start at the Windows directory without a device ("\\Windows\\
 * System32\\mscoree.dll" in net.4.5.2.x64.etl, which PerfView shows on drive C:). */
static int on_system_paths(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_kernel_t *k = &r->kernel;
    uint32_t used = 0;
    char *sys = utf16_dup(e->data, 0, e->data_len, &used);
    char *win = utf16_dup(e->data, used, e->data_len, NULL);
    hg_free(sys);
    if (!win) {
        return HG_ENOMEM;
    }
    hg_free(k->windows_dir);
    k->windows_dir = win;
    return 0;
}

/* "\\Windows\\..." on the drive of the Windows directory ("C:\\Windows\\"), or NULL. */
static char *windows_path(const hg__etl_kernel_t *k, const char *path) {
    const char *w = k->windows_dir;
    if (!w || strlen(w) < 4 || w[1] != ':' || strncasecmp(path, w + 2, strlen(w + 2)) != 0) {
        return NULL;
    }
    hg_buf_t b;
    hg_buf_init(&b);
    hg_buf_append(&b, w, 2);
    hg_buf_puts(&b, path);
    return b.failed ? (hg_buf_free(&b), NULL) : hg_buf_take(&b);
}

/* path with its NT device prefix replaced by the drive it is mapped to (a new string). */
static char *dos_path(const hg__etl_kernel_t *k, const char *path) {
    char *win = windows_path(k, path);
    if (win) {
        return win;
    }
    for (size_t i = 0; i < k->nvolumes; i++) {
        const char *nt = k->volumes[i].nt, *dos = k->volumes[i].dos;
        size_t n = strlen(nt);
        if (n > 1 && *dos && strncasecmp(path, nt, n) == 0) {
            size_t dl = strlen(dos);
            const char *rest = path + n;
            bool join = dl && dos[dl - 1] == '\\' && *rest == '\\';
            hg_buf_t b;
            hg_buf_init(&b);
            hg_buf_puts(&b, dos);
            hg_buf_puts(&b, rest + join);
            return b.failed ? (hg_buf_free(&b), NULL) : hg_buf_take(&b);
        }
    }
    return hg_strdup(path);
}

/* ---- processes ----------------------------------------------------------------------------- */

/* Offset after the UserSID (TOKEN_USER then SID), or 0 when short. An empty one is 4 zero
 * bytes: §3.5 says "if the first P bytes are 0 the SID is only 4 bytes"; like PerfView's
 * SkipSID, only those 4 bytes are read, since with P = 8 the next 4 belong to the name. */
static uint32_t skip_sid(const uint8_t *d, uint32_t len, uint32_t off, unsigned p) {
    if (off + 4 > len) {
        return 0;
    }
    if (hg__get_u32(d + off) == 0) {
        return off + 4;
    }
    if (off + 2 * p + 8 > len) {
        return 0;
    }
    uint32_t end = off + 2 * p + 8 + 4u * d[off + 2 * p + 1];
    return end <= len ? end : 0;
}

/* Process payload v3+ (§3.5); returns the offset of ImageFileName, or 0 when too short. */
static uint32_t decode_process(const hg__etl_event_t *e, hg__etl_record_t *rec) {
    const uint8_t *d = e->data;
    unsigned p = e->ptr;
    uint32_t sid = e->version >= 4 ? 2 * p + 20 : 2 * p + 16;
    if (e->data_len < sid) {
        return 0;
    }
    rec->unique_key = hg__get_ptr(d, p);
    rec->pid = hg__get_u32(d + p);
    rec->parent_pid = hg__get_u32(d + p + 4);
    rec->session_id = hg__get_u32(d + p + 8);
    rec->exit_status = (int32_t)hg__get_u32(d + p + 12);
    rec->dir_base = hg__get_ptr(d + p + 16, p);
    rec->flags = e->version >= 4 ? hg__get_u32(d + 2 * p + 16) : 0;
    return skip_sid(d, e->data_len, sid, p);
}

static hg_process_info_t *process_info(const hg__etl_record_t *rec) {
    size_t nl = strlen(rec->name) + 1, cl = strlen(rec->cmdline) + 1;
    hg_process_info_t *info = hg_malloc(sizeof *info + nl + cl);
    if (info) {
        char *s = (char *)(info + 1);
        memcpy(s, rec->name, nl);
        memcpy(s + nl, rec->cmdline, cl);
        *info = (hg_process_info_t){.pid = rec->pid, .parent_pid = rec->parent_pid};
        info->name = *s ? s : NULL;
        info->cmdline = s[nl] ? s + nl : NULL;
    }
    return info;
}

/* Start/End: information and an event; DCStart/DCEnd: information; Defunct: nothing. */
static int queue_process(hg__etl_reader_t *r, const hg__etl_event_t *e,
                         const hg__etl_record_t *rec) {
    if (rec->opcode == 39) {
        return 0;
    }
    hg_event_t ev = {.pid = rec->pid, .tid = e->tid, .ts_ns = hg__etl_ts_ns(&r->hdr, e->ts)};
    ev.kind = rec->opcode == 1 ? HG_EV_PROCESS_START : rec->opcode == 2 ? HG_EV_PROCESS_END : 0;
    hg_process_info_t *info = process_info(rec);
    if (!info) {
        return HG_ENOMEM;
    }
    r->stats.processes++;
    return hg__pending_push(&r->pending, &ev, e->ts, false, info, NULL);
}

static int on_process(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_record_t rec = {.kind = ETL_REC_PROCESS, .opcode = (uint8_t)(e->hook & 0xff)};
    if (e->version < 3) {
        r->stats.unsupported_versions++;
        return 0;
    }
    uint32_t used, off = decode_process(e, &rec);
    if (off == 0) {
        return hg__etl_fail(r, "process event payload shorter than its layout (§3.5)");
    }
    char *name = ansi_dup(e->data, off, e->data_len, &used);
    char *cmd = name ? utf16_dup(e->data, off + used, e->data_len, NULL) : NULL;
    int rc = cmd ? 0 : HG_ENOMEM;
    if (rc == 0) {
        rec.name = name;
        rec.cmdline = cmd;
        observe(r, &rec, e);
        rc = queue_process(r, e, &rec);
    }
    hg_free(name);
    hg_free(cmd);
    return rc;
}

/* ---- images and their identities ----------------------------------------------------------- */

static hg__etl_image_t *group_add(hg__etl_reader_t *r, uint64_t ts) {
    hg__etl_kernel_t *k = &r->kernel;
    if (k->ngroup == k->capgroup) {
        size_t cap = k->capgroup ? k->capgroup * 2 : 8;
        hg__etl_image_t *v = hg_realloc(k->group, cap * sizeof *v);
        if (!v) {
            return NULL;
        }
        k->group = v;
        k->capgroup = cap;
    }
    k->group_ts = ts;
    hg__etl_image_t *im = &k->group[k->ngroup++];
    memset(im, 0, sizeof *im);
    return im;
}

/* Image payload (§3.3): v2+ FileName @3P+32, v1 @2P+4, v0 @2P. Returns FileName's offset. */
static uint32_t decode_image(const hg__etl_event_t *e, hg__etl_record_t *rec) {
    const uint8_t *d = e->data;
    unsigned p = e->ptr;
    uint32_t name = e->version >= 2 ? 3 * p + 32 : e->version == 1 ? 2 * p + 4 : 2 * p;
    if (e->data_len < name) {
        return 0;
    }
    rec->base = hg__get_ptr(d, p);
    rec->size = hg__get_ptr(d + p, p);
    rec->pid = hg__get_u32(d + 2 * p);
    rec->checksum = e->version >= 1 ? hg__get_u32(d + 2 * p + 4) : 0;
    rec->time_date_stamp = e->version >= 2 ? hg__get_u32(d + 2 * p + 8) : 0;
    rec->default_base = e->version >= 2 ? hg__get_ptr(d + 2 * p + 16, p) : 0;
    return name;
}

static int on_image(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_record_t rec = {.kind = ETL_REC_IMAGE, .opcode = (uint8_t)(e->hook & 0xff)};
    uint32_t off = decode_image(e, &rec);
    if (off == 0) {
        return hg__etl_fail(r, "image event payload shorter than its layout (§3.3)");
    }
    char *nt = utf16_dup(e->data, off, e->data_len, NULL);
    char *path = nt ? dos_path(&r->kernel, nt) : NULL;
    hg__etl_image_t *im = path ? group_add(r, e->ts) : NULL;
    hg_free(nt);
    if (!im) {
        hg_free(path);
        return HG_ENOMEM;
    }
    rec.path = path;
    observe(r, &rec, e);
    *im = (hg__etl_image_t){.rec = REC_IMAGE,
                            .opcode = rec.opcode,
                            .pid = rec.pid,
                            .tds = rec.time_date_stamp,
                            .base = rec.base,
                            .size = rec.size,
                            .ts_ns = hg__etl_ts_ns(&r->hdr, e->ts),
                            .path = path};
    im->kernel = rec.pid == 0 && hg__is_kernel_addr(rec.base, e->ptr);
    return 0;
}

/* ImageID: ImageBase, ImageSize, ProcessId, TimeDateStamp, OriginalFileName (UTF-16). */
static int on_image_id(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_record_t rec = {.kind = ETL_REC_IMAGE_ID, .opcode = e->opcode};
    unsigned p = e->ptr;
    if (e->data_len < 2 * p + 8) {
        return hg__etl_fail(r, "ImageID payload shorter than its layout (§3.4)");
    }
    rec.base = hg__get_ptr(e->data, p);
    rec.size = hg__get_ptr(e->data + p, p);
    rec.pid = hg__get_u32(e->data + 2 * p);
    rec.time_date_stamp = hg__get_u32(e->data + 2 * p + 4);
    char *name = utf16_dup(e->data, 2 * p + 8, e->data_len, NULL);
    hg__etl_image_t *im = name ? group_add(r, e->ts) : NULL;
    if (!im) {
        hg_free(name);
        return HG_ENOMEM;
    }
    rec.path = name;
    observe(r, &rec, e);
    hg_free(name);
    *im = (hg__etl_image_t){.rec = REC_IMAGE_ID, .base = rec.base, .tds = rec.time_date_stamp};
    return 0;
}

/* DbgID_RSDS: ImageBase, ProcessId, GUID, Age, PdbFileName (8-bit). */
static int on_dbg_id(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    hg__etl_record_t rec = {.kind = ETL_REC_DBG_ID, .opcode = e->opcode};
    unsigned p = e->ptr;
    if (e->data_len < p + 24) {
        return hg__etl_fail(r, "DbgID_RSDS payload shorter than its layout (§3.4)");
    }
    rec.base = hg__get_ptr(e->data, p);
    rec.pid = hg__get_u32(e->data + p);
    memcpy(rec.guid, e->data + p + 4, 16);
    rec.age = hg__get_u32(e->data + p + 20);
    char *pdb = ansi_dup(e->data, p + 24, e->data_len, NULL);
    hg__etl_image_t *im = pdb ? group_add(r, e->ts) : NULL;
    if (!im) {
        hg_free(pdb);
        return HG_ENOMEM;
    }
    rec.pdb = pdb;
    observe(r, &rec, e);
    *im = (hg__etl_image_t){.rec = REC_DBG_ID, .base = rec.base, .age = rec.age, .pdb = pdb};
    memcpy(im->guid, rec.guid, 16);
    return 0;
}

static int on_ktc(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    if (e->opcode == KTC_IMAGE_ID) {
        return on_image_id(r, e);
    }
    if (e->opcode == KTC_DBGID_RSDS) {
        return on_dbg_id(r, e);
    }
    hg__etl_record_t rec = {.kind = ETL_REC_OTHER_ID, .opcode = e->opcode};
    observe(r, &rec, e);
    return 0;
}

int hg__etl_kernel_event(hg__etl_reader_t *r, const hg__etl_event_t *e) {
    if (e->cls == ETL_CLASS_GUID) {
        if (memcmp(e->guid, sysconfigex_guid, 16) == 0) {
            return e->opcode == SYSCONFIGEX_VOLUME_MAPPING ? on_volume(r, e)
                   : e->opcode == SYSCONFIGEX_SYSTEM_PATHS ? on_system_paths(r, e)
                                                           : 0;
        }
        return memcmp(e->guid, ktc_guid, 16) == 0 ? on_ktc(r, e) : 0;
    }
    switch (e->hook) {
    case HOOK_PROCESS_START:
    case HOOK_PROCESS_END:
    case HOOK_PROCESS_DCSTART:
    case HOOK_PROCESS_DCEND:
    case HOOK_PROCESS_DEFUNCT:
        return on_process(r, e);
    case HOOK_IMAGE_LOAD:
    case HOOK_IMAGE_UNLOAD:
    case HOOK_IMAGE_DCSTART:
    case HOOK_IMAGE_DCEND:
        return on_image(r, e);
    default:
        return 0;
    }
}

/* ---- delivering modules -------------------------------------------------------------------- */

static int keep_kernel_module(hg__etl_kernel_t *k, const hg_module_info_t *m) {
    if (k->nkmods == k->capkmods) {
        size_t cap = k->capkmods ? k->capkmods * 2 : 64;
        hg_module_info_t *v = hg_realloc(k->kmods, cap * sizeof *v);
        if (!v) {
            return HG_ENOMEM;
        }
        k->kmods = v;
        k->capkmods = cap;
    }
    hg_module_info_t *c = &k->kmods[k->nkmods];
    *c = *m;
    c->path = hg_strdup(m->path);
    c->pdb_name = m->pdb_name ? hg_strdup(m->pdb_name) : NULL;
    if (!c->path || (m->pdb_name && !c->pdb_name)) {
        hg_free((char *)c->path);
        return HG_ENOMEM;
    }
    k->nkmods++;
    return 0;
}

/* The identity records of the group for the image at base. */
static void join_ids(const hg__etl_kernel_t *k, const hg__etl_image_t *im, hg_module_info_t *m) {
    for (size_t i = 0; i < k->ngroup; i++) {
        const hg__etl_image_t *id = &k->group[i];
        if (id->base != im->base) {
            continue;
        }
        if (id->rec == REC_IMAGE_ID && !m->pe_timestamp) {
            m->pe_timestamp = id->tds;
        } else if (id->rec == REC_DBG_ID && !m->pdb_name) {
            m->pdb_name = id->pdb;
            memcpy(m->pdb_guid, id->guid, 16);
            m->pdb_age = id->age;
        }
    }
}

/* Whether an image event makes a module record, keeping the set of loaded images. */
static int track_loaded(hg__etl_kernel_t *k, const hg__etl_image_t *im, bool *send) {
    uint64_t key = hg__map_hash(im->base) ^ im->pid, v;
    bool known = hg__map_get(&k->loaded, key, &v);
    *send = im->opcode != OP_DCEND || !known;
    if (im->opcode == OP_UNLOAD) {
        hg__map_del(&k->loaded, key);
        return 0;
    }
    return known ? 0 : hg__map_put(&k->loaded, key, 1);
}

static int send_image(hg__etl_reader_t *r, const hg__etl_image_t *im) {
    hg__etl_kernel_t *k = &r->kernel;
    hg_module_info_t m = {.pid = im->pid,
                          .unload = im->opcode == OP_UNLOAD,
                          .base = im->base,
                          .size = im->size,
                          .path = im->path,
                          .pe_timestamp = im->tds};
    bool before_trace = im->opcode == OP_DCSTART || im->opcode == OP_DCEND;
    m.ts_ns = before_trace ? 0 : im->ts_ns;
    join_ids(k, im, &m);
    bool send;
    int rc = track_loaded(k, im, &send);
    if (rc != 0 || !send) {
        return rc;
    }
    if (im->kernel && !m.unload && (rc = keep_kernel_module(k, &m)) != 0) {
        return rc;
    }
    r->stats.modules++;
    const hg_sink_ops_t *ops = r->sink.ops;
    return ops->module ? ops->module(r->sink.ctx, &m) : 0;
}

int hg__etl_kernel_flush(hg__etl_reader_t *r) {
    hg__etl_kernel_t *k = &r->kernel;
    int rc = 0;
    for (size_t i = 0; i < k->ngroup && rc == 0; i++) {
        if (k->group[i].rec == REC_IMAGE) {
            rc = send_image(r, &k->group[i]);
        }
    }
    for (size_t i = 0; i < k->ngroup; i++) {
        hg_free(k->group[i].path);
        hg_free(k->group[i].pdb);
    }
    k->ngroup = 0;
    return rc;
}

int hg__etl_kernel_lend(hg__etl_reader_t *r, uint32_t pid, uint32_t *sent) {
    hg__etl_kernel_t *k = &r->kernel;
    const hg_sink_ops_t *ops = r->sink.ops;
    for (; *sent < k->nkmods; ++*sent) {
        hg_module_info_t m = k->kmods[*sent];
        m.pid = pid;
        int rc = pid != 0 && ops->module ? ops->module(r->sink.ctx, &m) : 0;
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
