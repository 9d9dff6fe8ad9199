// The C side of c4csr's HTTPS client: libcurl, seen from Swift.
//
// Swift cannot call C variadic functions, and curl_easy_setopt / curl_easy_getinfo
// are variadic. Each wrapper below fixes one argument kind, in the manner of GRDB's
// GRDBSQLite/shim.h and swift-corelibs-foundation's CFURLSession_easy_setopt_*.
// Every wrapper returns libcurl's own CURLcode: the Swift side checks each one in
// a single place (CurlEasy.check) and adds the CURLOPT_ERRORBUFFER text.
#ifndef C4CSR_CCURL_SHIM_H
#define C4CSR_CCURL_SHIM_H

#include <curl/curl.h>

/// setopt for options taking a `long` (timeouts, flags, sizes below 2 GiB).
static inline CURLcode CCurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

/// setopt for options taking a NUL-terminated string. libcurl copies strings
/// (since 7.17.0), so the Swift string may be freed after the call.
static inline CURLcode CCurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

/// setopt for options taking an opaque pointer (WRITEDATA, ERRORBUFFER, …).
/// The pointee must outlive the transfer: the Swift side keeps it as a stored property.
static inline CURLcode CCurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// setopt for options taking a header list (HTTPHEADER). The list must outlive the transfer.
static inline CURLcode CCurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// The signature of CURLOPT_WRITEFUNCTION / CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*CCurl_write_callback)(char *data, size_t size, size_t count, void *userdata);

/// setopt for WRITEFUNCTION and HEADERFUNCTION.
static inline CURLcode CCurl_setopt_write_callback(CURL *handle, CURLoption option, CCurl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// The signature of CURLOPT_XFERINFOFUNCTION callbacks; a non-zero return aborts the transfer.
typedef int (*CCurl_xferinfo_callback)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/// setopt for XFERINFOFUNCTION (with CURLOPT_NOPROGRESS set to 0).
static inline CURLcode CCurl_setopt_xferinfo_callback(CURL *handle, CURLoption option, CCurl_xferinfo_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// setopt for options taking a `curl_off_t` (POSTFIELDSIZE_LARGE, MAXFILESIZE_LARGE).
static inline CURLcode CCurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

/// getinfo for `long` results (RESPONSE_CODE, HEADER_SIZE, REQUEST_SIZE, NUM_CONNECTS).
static inline CURLcode CCurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// getinfo for `curl_off_t` results (SIZE_DOWNLOAD_T, SIZE_UPLOAD_T, TOTAL_TIME_T).
static inline CURLcode CCurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

/// CURL_GLOBAL_ALL is a compound macro, which Swift does not import.
static inline long CCurl_global_all(void) {
    return CURL_GLOBAL_ALL;
}

#endif
