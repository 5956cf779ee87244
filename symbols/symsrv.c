/* symsrv.c - downloads one file from an HTTP(S) symbol server with libcurl (sympath.h).
 *
 * A symbol server serves a store over HTTP: GET SERVER/NAME/KEY/NAME returns the file, 404 when
 * it has none (Microsoft, "HTTP Symbol Stores" and "Symbol Store Folder Tree"; PerfView
 * SymbolReader.cs builds the same URL). Servers may redirect (msdl.microsoft.com does, to blob
 * storage), so redirects are followed, over HTTP(S) only. The body goes to a temporary file
 * beside the destination, renamed into place once the server answered 200 and the transfer
 * completed: a cache never holds half a file. Compressed (NAME.pd_) and file.ptr answers are
 * not asked for. libcurl honours the usual proxy variables (http_proxy, https_proxy). */
#include "sympath.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 15
#define LOW_SPEED_BYTES   1024 /* a transfer slower than this ... */
#define LOW_SPEED_TIME_S  60   /* ... for this long is abandoned */

static bool curl_ready;

/* SERVER/NAME/KEY/NAME with NAME and KEY percent-encoded; NULL when out of memory. */
static char *file_url(CURL *c, const char *server, const char *name, const char *key) {
    char *ename = curl_easy_escape(c, name, 0), *ekey = curl_easy_escape(c, key, 0);
    hg_buf_t b;
    hg_buf_init(&b);
    size_t len = strlen(server);
    if (ename && ekey) {
        hg_buf_printf(&b, "%s%s%s/%s/%s", server, len && server[len - 1] == '/' ? "" : "/", ename,
                      ekey, ename);
    }
    curl_free(ename);
    curl_free(ekey);
    char *url = ename && ekey && !b.failed ? hg_buf_take(&b) : NULL;
    hg_buf_free(&b);
    return url;
}

static void set_options(CURL *c, const char *url, FILE *out) {
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_USERAGENT, "heapgate-symsrv/1");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, (long)LOW_SPEED_BYTES);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)LOW_SPEED_TIME_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static bool server_unreachable(CURLcode res) {
    return res == CURLE_COULDNT_RESOLVE_HOST || res == CURLE_COULDNT_RESOLVE_PROXY ||
           res == CURLE_COULDNT_CONNECT || res == CURLE_OPERATION_TIMEDOUT ||
           res == CURLE_SSL_CONNECT_ERROR;
}

/* Runs the transfer into tmp and classifies the outcome (see hg__symsrv_download). */
static int transfer(CURL *c, const char *url, const char *tmp, bool *unreachable, char *msg,
                    size_t cap) {
    FILE *out = fopen(tmp, "wb");
    if (!out) {
        snprintf(msg, cap, "cannot write %s", tmp);
        return HG_EIO;
    }
    set_options(c, url, out);
    CURLcode res = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    bool written = fclose(out) == 0;
    if (res != CURLE_OK) {
        *unreachable = server_unreachable(res);
        snprintf(msg, cap, "%s: %s", url, curl_easy_strerror(res));
        return HG_EIO;
    }
    if (status == 404 || status == 410) {
        return 1;
    }
    if (status != 200 || !written) {
        snprintf(msg, cap, "%s: %s %ld", url, written ? "HTTP status" : "write failed, status",
                 status);
        return HG_EIO;
    }
    return 0;
}

int hg__symsrv_download(const char *server, const char *name, const char *key, const char *dest,
                        bool *unreachable, char *msg, size_t cap) {
    *unreachable = false;
    if (!curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(msg, cap, "libcurl cannot start");
        return HG_EIO;
    }
    curl_ready = true;
    CURL *c = curl_easy_init();
    char *url = c ? file_url(c, server, name, key) : NULL;
    char suffix[64], tmp[4096];
    hg__sym_temp_suffix(suffix, sizeof suffix);
    snprintf(tmp, sizeof tmp, "%s%s", dest, suffix);
    int rc = url ? transfer(c, url, tmp, unreachable, msg, cap) : HG_ENOMEM;
    if (rc == 0 && rename(tmp, dest) != 0) {
        snprintf(msg, cap, "cannot rename %s to %s", tmp, dest);
        rc = HG_EIO;
    }
    if (rc != 0) {
        remove(tmp);
    }
    hg_free(url);
    if (c) {
        curl_easy_cleanup(c);
    }
    return rc;
}
