/* SKAP's C API: the device endpoint embedded in an application.
 *
 * An endpoint is what `skap-agent run` is, on a thread of the calling
 * process: channels to the device's hubs, pairwise agreements, the session
 * keys, and the control socket (so `skap-agent status --data DIR` still
 * works beside it). Keys are 256-bit session keys (docs/protocol.md).
 *
 *   skap_enroll("dir", bundles, n);        once, from the secure room's bundles
 *   skap_open("agent.toml", &ep);           docs/skap-agent.toml
 *   skap_connect(ep, 0, 30000);             until k hubs answer
 *   skap_agree(ep, "sensor-b", 0, &epoch);
 *   skap_next_key(ep, "sensor-b", id, key, sizeof key);   this side's next key
 *   skap_key_by_id(ep, "sensor-a", id, key, sizeof key);  at the peer, by its id
 *   skap_close(ep);
 *
 * Every function returns SKAP_OK or an error code (skap_error_string names
 * it; skap_last_error_message says more, for this thread's last call).
 * Buffers are the caller's; no C++ exception crosses this boundary. Wipe
 * keys after use (skap_wipe). Calls on one endpoint may come from any
 * threads but the endpoint's own. Every call first looks the handle up among
 * the open ones: a pointer skap_open did not return, or one skap_close has
 * closed, is refused (SKAP_E_INVALID_ARGUMENT; skap_close ignores it) without
 * being followed. A handle closed while another thread still uses it is the
 * caller's error all the same.
 *
 * The calls are thin forms of the typed C++ endpoint API
 * (skap/endpoint.h). */
#ifndef SKAP_C_SKAP_H
#define SKAP_C_SKAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKAP_KEY_SIZE 32    /* bytes of each key */
#define SKAP_KEY_ID_SIZE 37 /* a key id: a UUID's 36 characters and a NUL */

enum skap_error_code {
  SKAP_OK = 0,
  /* The codes of SKAP's own errors (src/common/error.h). */
  SKAP_E_INVALID_ARGUMENT = 1,
  SKAP_E_MALFORMED_INPUT = 2,
  SKAP_E_AUTHENTICATION_FAILED = 3,
  SKAP_E_INCONSISTENT_SHARES = 4,
  SKAP_E_LIMIT_EXCEEDED = 5,
  SKAP_E_ENTROPY_UNAVAILABLE = 6,
  SKAP_E_UNAVAILABLE = 7,
  SKAP_E_IO = 8,
  SKAP_E_CRYPTO = 9,
  SKAP_E_FAILED_PRECONDITION = 10,
  SKAP_E_NOT_FOUND = 11,
  SKAP_E_PERMISSION_DENIED = 12,
  SKAP_E_DEADLINE_EXCEEDED = 13,
  /* The C API's own. */
  SKAP_E_BUFFER_TOO_SMALL = 100,
  SKAP_E_TIMEOUT = 101,
  SKAP_E_INTERNAL = 102
};

/* skap_error_string names a code ("not-found"); never NULL. */
const char* skap_error_string(int code);
/* skap_last_error_message describes this thread's last failed call (no
 * secret is ever in it); "" after a success. Valid until the next call. */
const char* skap_last_error_message(void);

/* skap_enroll makes (or adds to) the data directory DATA_DIR from COUNT
 * bootstrap bundle files, one per hub, as `skap-agent enroll` does. */
int skap_enroll(const char* data_dir, const char* const* bundle_files, size_t count);

typedef struct skap_endpoint skap_endpoint;

/* skap_open starts the endpoint of the configuration file CONFIG_FILE
 * (docs/skap-agent.toml) on a thread of its own. */
int skap_open(const char* config_file, skap_endpoint** endpoint);
/* skap_close stops it and frees it; NULL is allowed. */
void skap_close(skap_endpoint* endpoint);

/* skap_connect waits up to TIMEOUT_MS until MIN_HUBS of the device's hubs
 * answer (0: the network's threshold k). Until the device is admitted
 * there, none answer. */
int skap_connect(skap_endpoint* endpoint, unsigned min_hubs, unsigned timeout_ms);

/* skap_agree agrees a key with PEER (a device id or name of the network)
 * through the hubs, re-seeding the session; HYBRID non-zero adds the X25519
 * step. On success *SESSION_EPOCH (if not NULL) is the session's new epoch.
 * An agreement that ends without a key is SKAP_E_FAILED_PRECONDITION, its
 * reason in skap_last_error_message. */
int skap_agree(skap_endpoint* endpoint, const char* peer, int hybrid, uint64_t* session_epoch);

/* skap_next_key hands out the next key of this side's chain of the session
 * with PEER: its id into KEY_ID and SKAP_KEY_SIZE bytes into KEY
 * (KEY_CAPACITY at least SKAP_KEY_SIZE). The peer fetches it by the id. */
int skap_next_key(skap_endpoint* endpoint, const char* peer, char key_id[SKAP_KEY_ID_SIZE],
                  unsigned char* key, size_t key_capacity);
/* skap_key_by_id hands out the key of the peer's chain that KEY_ID names.
 * Each key is handed out once on each side. With a peer channel (docs/peer.md)
 * only a key the peer's control socket or C API handed out comes out here:
 * SKAP_E_PERMISSION_DENIED for one an ETSI SAE took, SKAP_E_UNAVAILABLE until
 * the peer's notice for it arrives (ask again). */
int skap_key_by_id(skap_endpoint* endpoint, const char* peer, const char* key_id,
                   unsigned char* key, size_t key_capacity);

typedef struct skap_status {
  unsigned hubs_enrolled; /* n of the network */
  unsigned hubs_up;       /* hubs answering now */
  unsigned threshold;     /* k */
  int entropy_ok;         /* the local entropy sources pass their health tests */
  unsigned sessions;      /* pairwise sessions held */
} skap_status;
/* skap_get_status fills STATUS. */
int skap_get_status(skap_endpoint* endpoint, skap_status* status);

/* skap_wipe overwrites SIZE bytes at P with zeros in a way the compiler
 * keeps (OPENSSL_cleanse). */
void skap_wipe(void* p, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SKAP_C_SKAP_H */
