/* An application embedding the SKAP endpoint through the C API: agree a key
 * with a peer device (unless a session exists) and take the next key.
 *
 *   skap_key CONFIG PEER      CONFIG: the agent's configuration (docs/skap-agent.toml)
 *
 * Prints the key id, which the peer's application passes to skap_key_by_id
 * (or `skap-agent key ME --id ID`) to get the same key. The key itself stays
 * in memory and is wiped. */
#include <skap/c/skap.h>
#include <stdio.h>

static int fail(const char* what, int rc) {
  fprintf(stderr, "skap_key: %s: %s: %s\n", what, skap_error_string(rc), skap_last_error_message());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CONFIG PEER\n", argv[0]);
    return 2;
  }
  skap_endpoint* ep = NULL;
  int rc = skap_open(argv[1], &ep);
  if (rc != SKAP_OK) return fail("open", rc);
  rc = skap_connect(ep, 0, 30000);
  if (rc != SKAP_OK) {
    skap_close(ep);
    return fail("connect", rc);
  }
  skap_status status;
  rc = skap_get_status(ep, &status);
  if (rc == SKAP_OK && status.sessions == 0) rc = skap_agree(ep, argv[2], 0, NULL);
  char id[SKAP_KEY_ID_SIZE];
  unsigned char key[SKAP_KEY_SIZE];
  if (rc == SKAP_OK) rc = skap_next_key(ep, argv[2], id, key, sizeof key);
  skap_close(ep);
  if (rc != SKAP_OK) return fail("key", rc);
  printf("key %s: %d bytes, ready for use\n", id, SKAP_KEY_SIZE);
  skap_wipe(key, sizeof key);
  return 0;
}
