// libcurl, opened on first use (see include/shim.h for why).
//
// The functions are resolved once, under pthread_once, into one table of pointers;
// the wrappers call through it. Nothing here names a libcurl symbol at link time, so
// the binary has no DT_NEEDED entry for libcurl and the loader never maps it for a
// command that does not talk to a peer.
#define CURL_DISABLE_TYPECHECK 1
#include "shim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/// The SONAME of libcurl 7.16 and later (Debian's libcurl4).
static const char *const library = "libcurl.so.4";

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} curl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char failure[512];
static int loaded;

static int resolve(void *handle, void **slot, const char *name) {
    *slot = dlsym(handle, name);
    if (*slot == NULL) {
        snprintf(failure, sizeof failure, "%s has no %s", library, name);
        return 0;
    }
    return 1;
}

static void load(void) {
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why ? why : "dlopen failed");
        return;
    }
    loaded = resolve(handle, (void **)&curl.global_init, "curl_global_init")
        && resolve(handle, (void **)&curl.easy_init, "curl_easy_init")
        && resolve(handle, (void **)&curl.easy_cleanup, "curl_easy_cleanup")
        && resolve(handle, (void **)&curl.easy_perform, "curl_easy_perform")
        && resolve(handle, (void **)&curl.easy_strerror, "curl_easy_strerror")
        && resolve(handle, (void **)&curl.easy_setopt, "curl_easy_setopt")
        && resolve(handle, (void **)&curl.easy_getinfo, "curl_easy_getinfo")
        && resolve(handle, (void **)&curl.slist_append, "curl_slist_append")
        && resolve(handle, (void **)&curl.slist_free_all, "curl_slist_free_all");
}

const char *CCurl_load(void) {
    pthread_once(&once, load);
    return loaded ? NULL : failure;
}

CURLcode CCurl_global_init(long flags) { return curl.global_init(flags); }
CURL *CCurl_easy_init(void) { return curl.easy_init(); }
void CCurl_easy_cleanup(CURL *handle) { curl.easy_cleanup(handle); }
CURLcode CCurl_easy_perform(CURL *handle) { return curl.easy_perform(handle); }
const char *CCurl_easy_strerror(CURLcode code) { return curl.easy_strerror(code); }
struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *line) { return curl.slist_append(list, line); }
void CCurl_slist_free_all(struct curl_slist *list) { if (list != NULL) curl.slist_free_all(list); }

CURLcode CCurl_setopt_long(CURL *handle, CURLoption option, long value) { return curl.easy_setopt(handle, option, value); }
CURLcode CCurl_setopt_string(CURL *handle, CURLoption option, const char *value) { return curl.easy_setopt(handle, option, value); }
CURLcode CCurl_setopt_pointer(CURL *handle, CURLoption option, void *value) { return curl.easy_setopt(handle, option, value); }
CURLcode CCurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) { return curl.easy_setopt(handle, option, value); }
CURLcode CCurl_setopt_write_callback(CURL *handle, CURLoption option, CCurl_write_callback value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode CCurl_setopt_xferinfo_callback(CURL *handle, CURLoption option, CCurl_xferinfo_callback value) {
    return curl.easy_setopt(handle, option, value);
}
CURLcode CCurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) { return curl.easy_setopt(handle, option, value); }
CURLcode CCurl_getinfo_long(CURL *handle, CURLINFO info, long *value) { return curl.easy_getinfo(handle, info, value); }
CURLcode CCurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) { return curl.easy_getinfo(handle, info, value); }
long CCurl_global_all(void) { return CURL_GLOBAL_ALL; }
