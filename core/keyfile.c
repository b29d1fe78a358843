/*
 * keyfile.c — secret keys in files of their own (keyfile.h).
 */
#include "keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cairn_keyfile_read(const char *path, uint8_t sk[CAIRN_SECRET_BYTES], cairn_error_t *err) {
  struct stat st;
  int fd, rc = 0;
  if (stat(path, &st) != 0)
    return cairn__error(err, errno == ENOENT ? CAIRN_ENOENT : CAIRN_EIO, "cannot read %s: %s",
                        path, strerror(errno));
  if ((st.st_mode & 077) != 0)
    return cairn__error(err, CAIRN_EKEYPERM,
                        "key file %s is accessible by others (mode %03o): run chmod 600 %s",
                        path, (unsigned)(st.st_mode & 0777), path);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return cairn__error(err, CAIRN_EIO, "cannot read key file %s: %s", path, strerror(errno));
  if (read(fd, sk, CAIRN_SECRET_BYTES) != CAIRN_SECRET_BYTES)
    rc = cairn__error(err, CAIRN_EIO, "key file %s is not a whole key", path);
  close(fd);
  return rc;
}

int cairn_keyfile_write(const char *path, const uint8_t sk[CAIRN_SECRET_BYTES],
                        cairn_error_t *err) {
  int rc = 0, fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return cairn__error(err, errno == EEXIST ? CAIRN_EEXIST : CAIRN_EIO,
                        "cannot create key file %s: %s", path, strerror(errno));
  if (write(fd, sk, CAIRN_SECRET_BYTES) != CAIRN_SECRET_BYTES || fsync(fd) != 0)
    rc = cairn__error(err, CAIRN_EIO, "cannot write key file %s", path);
  if (close(fd) != 0 && rc == 0)
    rc = cairn__error(err, CAIRN_EIO, "cannot write key file %s", path);
  if (rc != 0)
    unlink(path);
  return rc;
}
