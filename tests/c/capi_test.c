/* The C API from C, against a real hub and a real peer agent, driven by
 * tests/integration/capi_test.sh:
 *
 *   skap_capi_test DATA_DIR CONFIG BUNDLE PEER OUT IN OUT2
 *
 * enrols DATA_DIR from BUNDLE, opens the endpoint, waits until the hub
 * answers (the script admits the device meanwhile), agrees a key with PEER,
 * writes "KEY_ID HEX" of its next key to OUT for the script to check at the
 * peer, then waits for a key id of the peer's in IN, fetches it by id and
 * writes its hex to OUT2. Bad input and error codes are checked on the way;
 * any failed check exits 1 naming it. */
#include <skap/c/skap.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond, what)                                                        \
  do {                                                                           \
    if (cond) {                                                                  \
      printf("ok - %s\n", what);                                                 \
    } else {                                                                     \
      printf("not ok - %s (last error: %s)\n", what, skap_last_error_message()); \
      failures++;                                                                \
    }                                                                            \
  } while (0)

static void write_hex(FILE* f, const unsigned char* key) {
  for (int i = 0; i < SKAP_KEY_SIZE; i++) fprintf(f, "%02x", key[i]);
}

static int read_line(const char* path, char* out, size_t size, int seconds) {
  for (int i = 0; i < seconds * 10; i++) {
    FILE* f = fopen(path, "r");
    if (f != NULL) {
      const int got = fgets(out, (int)size, f) != NULL;
      fclose(f);
      if (got) {
        out[strcspn(out, "\n")] = '\0';
        return 1;
      }
    }
    usleep(100000);
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s DATA_DIR CONFIG BUNDLE PEER OUT IN OUT2\n", argv[0]);
    return 2;
  }
  const char *data = argv[1], *config = argv[2], *bundle = argv[3], *peer = argv[4];

  CHECK(strcmp(skap_error_string(SKAP_OK), "ok") == 0, "SKAP_OK is named ok");
  CHECK(strcmp(skap_error_string(SKAP_E_NOT_FOUND), "not-found") == 0, "codes are named");
  CHECK(strcmp(skap_error_string(SKAP_E_BUFFER_TOO_SMALL), "buffer-too-small") == 0,
        "the C API's own codes are named");
  CHECK(strcmp(skap_error_string(4242), "unknown-error-code") == 0, "an unknown code too");

  CHECK(skap_enroll(NULL, NULL, 0) == SKAP_E_INVALID_ARGUMENT, "enrol without arguments");
  const char* missing[] = {"/nonexistent/bundle"};
  CHECK(skap_enroll(data, missing, 1) != SKAP_OK && skap_last_error_message()[0] != '\0',
        "enrol from a missing bundle fails with a message");
  const char* bundles[] = {bundle};
  CHECK(skap_enroll(data, bundles, 1) == SKAP_OK, "enrol from the bundle");

  skap_endpoint* ep = NULL;
  CHECK(skap_open(NULL, &ep) == SKAP_E_INVALID_ARGUMENT, "open without a configuration");
  CHECK(skap_open("/nonexistent.toml", &ep) != SKAP_OK && ep == NULL,
        "open with a missing configuration fails");
  if (skap_open(config, &ep) != SKAP_OK) {
    printf("not ok - open: %s\n", skap_last_error_message());
    return 1;
  }
  printf("ok - the endpoint runs\n");
  CHECK(skap_connect(ep, 5, 100) == SKAP_E_INVALID_ARGUMENT,
        "more hubs asked for than enrolled at");
  CHECK(skap_connect(ep, 0, 60000) == SKAP_OK, "admitted: the hub answers");

  skap_status st;
  CHECK(skap_get_status(ep, &st) == SKAP_OK && st.hubs_enrolled == 1 && st.hubs_up == 1 &&
            st.threshold == 1 && st.entropy_ok == 1 && st.sessions == 0,
        "status: 1 of 1 hubs up, k = 1, entropy healthy, no session");

  uint64_t epoch = 0;
  CHECK(skap_agree(ep, "no-such-device", 0, &epoch) == SKAP_E_NOT_FOUND,
        "agreeing with an unknown peer: not-found");
  CHECK(skap_agree(ep, peer, 0, &epoch) == SKAP_OK && epoch == 1, "agreed: session epoch 1");

  char id[SKAP_KEY_ID_SIZE];
  unsigned char key[SKAP_KEY_SIZE];
  unsigned char small[16];
  CHECK(skap_next_key(ep, peer, id, small, sizeof small) == SKAP_E_BUFFER_TOO_SMALL,
        "a key buffer too small");
  CHECK(skap_next_key(ep, "a/b", id, key, sizeof key) == SKAP_E_INVALID_ARGUMENT,
        "a peer name that is no name");
  CHECK(skap_next_key(ep, peer, id, key, sizeof key) == SKAP_OK && strlen(id) == 36,
        "the next key and its id");
  FILE* out = fopen(argv[5], "w");
  if (out == NULL) return 1;
  fprintf(out, "%s ", id);
  write_hex(out, key);
  fprintf(out, "\n");
  fclose(out);
  skap_wipe(key, sizeof key);
  CHECK(skap_key_by_id(ep, peer, id, key, sizeof key) == SKAP_E_NOT_FOUND,
        "this side's own key is not fetched by id here");

  char peer_id[64];
  CHECK(read_line(argv[6], peer_id, sizeof peer_id, 60), "the peer's key id arrives");
  CHECK(skap_key_by_id(ep, peer, peer_id, key, sizeof key) == SKAP_OK, "the peer's key by its id");
  FILE* out2 = fopen(argv[7], "w");
  if (out2 == NULL) return 1;
  write_hex(out2, key);
  fprintf(out2, "\n");
  fclose(out2);
  CHECK(skap_key_by_id(ep, peer, peer_id, key, sizeof key) == SKAP_E_NOT_FOUND,
        "a key is handed out once");
  skap_wipe(key, sizeof key);
  skap_close(ep);
  skap_close(NULL);
  printf("%s\n", failures == 0 ? "all C API checks passed" : "C API checks failed");
  return failures == 0 ? 0 : 1;
}
