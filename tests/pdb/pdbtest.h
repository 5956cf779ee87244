/* pdbtest.h - helpers of the PDB tests: the fixtures build_fixtures.sh made (images, PDBs,
 * llvm-symbolizer's answers), files, a loopback HTTP server, and a minimal MSF walker of
 * their own to damage PDBs on purpose (written apart from the reader: it shares no code). */
#ifndef HG_TESTS_PDBTEST_H
#define HG_TESTS_PDBTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Skips the test when the fixtures were not built (a tool is missing), or fails it under
 * CI=true (the project's scripts install the tools there). */
void require_fixtures(void);
/* fixtures/<name> (malloc'd). */
char *fixture(const char *name);

/* A whole file (malloc'd) or NULL. */
uint8_t *slurp(const char *path, size_t *len);
void spit(const char *path, const void *data, size_t len);
/* The CodeView RSDS record of a PE image: GUID and age. */
void read_rsds(const char *exe, uint8_t guid[16], uint32_t *age);
/* "A1B2..." store key text of GUID+age, as the store layout spells it. */
void key_of(const uint8_t guid[16], uint32_t age, char key[41]);
/* mkdir -p. */
void make_dirs(const char *dir);

/* llvm-symbolizer's answer for one rva: frames innermost first. */
typedef struct oracle_frame {
    char *function, *file; /* file: base name; "??" when unknown */
    unsigned line;
} oracle_frame_t;

typedef struct oracle_entry {
    uint64_t rva;
    size_t nframes;
    oracle_frame_t frames[16];
} oracle_entry_t;

/* Reads fixtures/<name>.tsv; sets *n. */
oracle_entry_t *oracle_load(const char *name, size_t *n);
void oracle_free(oracle_entry_t *e, size_t n);
const char *base_name(const char *path);

/* A python3 http.server on 127.0.0.1 serving dir; requests are logged to log. */
typedef struct http_server {
    pid_t pid;
    int port;
} http_server_t;

http_server_t http_start(const char *dir, const char *log);
void http_stop(http_server_t *s);
/* How many times log holds text. */
int count_in_file(const char *path, const char *text);

/* The file offset of byte off of stream index (MSF layout read by this walker). */
size_t msf_stream_offset(const uint8_t *pdb, size_t len, uint32_t index, size_t off);
/* The file offset of byte off of the stream directory. */
size_t msf_dir_offset(const uint8_t *pdb, size_t len, size_t off);
uint32_t rd32(const uint8_t *p);
void wr32(uint8_t *p, uint32_t v);

#endif
