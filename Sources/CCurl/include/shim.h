// The C side of c4csr's HTTPS client: libcurl, seen from Swift, loaded when first used.
//
// libcurl is opened with dlopen on the first transfer, not linked: with the ~30
// libraries it pulls (TLS, Kerberos, LDAP, …) it cost about 9 ms of every command's
// start, and most commands never talk to a peer (issue 14). `CCurl_load` opens it once
// per process; every other function here may be called only after it succeeded.
//
// Swift cannot call C variadic functions, and curl_easy_setopt / curl_easy_getinfo
// are variadic. Each wrapper below fixes one argument kind, in the manner of GRDB's
// GRDBSQLite/shim.h and swift-corelibs-foundation's CFURLSession_easy_setopt_*.
// Every wrapper returns libcurl's own CURLcode: the Swift side checks each one in
// a single place (CurlEasy.check) and adds the CURLOPT_ERRORBUFFER text.
#ifndef C4CSR_CCURL_SHIM_H
#define C4CSR_CCURL_SHIM_H

#include <curl/curl.h>

/// Opens libcurl (libcurl.so.4) and resolves its functions, once per process; safe
/// from any thread. Returns NULL when libcurl is ready, else the loader's message.
const char *CCurl_load(void);

/// curl_global_init, curl_easy_init, curl_easy_cleanup, curl_easy_perform,
/// curl_easy_strerror, curl_slist_append and curl_slist_free_all, through the loaded library.
CURLcode CCurl_global_init(long flags);
CURL *CCurl_easy_init(void);
void CCurl_easy_cleanup(CURL *handle);
CURLcode CCurl_easy_perform(CURL *handle);
const char *CCurl_easy_strerror(CURLcode code);
struct curl_slist *CCurl_slist_append(struct curl_slist *list, const char *line);
void CCurl_slist_free_all(struct curl_slist *list);

/// setopt for options taking a `long` (timeouts, flags, sizes below 2 GiB).
CURLcode CCurl_setopt_long(CURL *handle, CURLoption option, long value);

/// setopt for options taking a NUL-terminated string. libcurl copies strings
/// (since 7.17.0), so the Swift string may be freed after the call.
CURLcode CCurl_setopt_string(CURL *handle, CURLoption option, const char *value);

/// setopt for options taking an opaque pointer (WRITEDATA, ERRORBUFFER, …).
/// The pointee must outlive the transfer: the Swift side keeps it as a stored property.
CURLcode CCurl_setopt_pointer(CURL *handle, CURLoption option, void *value);

/// setopt for options taking a header list (HTTPHEADER). The list must outlive the transfer.
CURLcode CCurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

/// The signature of CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*CCurl_write_callback)(char *data, size_t size, size_t count, void *userdata);

/// setopt for WRITEFUNCTION and HEADERFUNCTION.
CURLcode CCurl_setopt_write_callback(CURL *handle, CURLoption option, CCurl_write_callback value);

/// The signature of CURLOPT_XFERINFOFUNCTION callbacks; a non-zero return aborts the transfer.
typedef int (*CCurl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/// setopt for XFERINFOFUNCTION (with CURLOPT_NOPROGRESS set to 0).
CURLcode CCurl_setopt_xferinfo_callback(CURL *handle, CURLoption option, CCurl_xferinfo_callback value);

/// setopt for options taking a `curl_off_t` (POSTFIELDSIZE_LARGE, MAXFILESIZE_LARGE).
CURLcode CCurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// getinfo for `long` results (RESPONSE_CODE, HEADER_SIZE, REQUEST_SIZE, NUM_CONNECTS).
CURLcode CCurl_getinfo_long(CURL *handle, CURLINFO info, long *value);

/// getinfo for `curl_off_t` results (SIZE_DOWNLOAD_T, SIZE_UPLOAD_T, TOTAL_TIME_T).
CURLcode CCurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);

/// CURL_GLOBAL_ALL is a compound macro, which Swift does not import.
long CCurl_global_all(void);

#endif
