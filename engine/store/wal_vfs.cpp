#include "store/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace flowgate::store_internal {
namespace {

constexpr char kName[] = "flowgate-wal";
// Gathered bytes are written out at this size even before a commit (a transaction larger than
// the page cache spills frames mid-way).
constexpr std::size_t kMaxGathered = std::size_t{4} << 20;
constexpr int kFrameHeaderBytes = 24;
// The most the unix VFS writes in one call: it never expects more than a page (64 KiB at most)
// and cuts longer writes short (it masks the length to 17 bits), reporting SQLITE_FULL. What is
// gathered is written out in pieces of this size.
constexpr std::size_t kMaxWrite = 65536;

sqlite3_vfs* g_base = nullptr;  // the default VFS, set once by coalescing_wal_vfs()

// The file SQLite holds: our header, then the base VFS's file in the same allocation.
struct File {
  sqlite3_file base;  // pMethods = kMethods
  sqlite3_file* real;
  std::string* gathered;  // a WAL file's pending bytes; null for other files
  sqlite3_int64 start;    // the file offset of gathered[0]
  bool commit_pending;    // the header of a commit frame is gathered, its page not yet
};

File* as_file(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
sqlite3_file* real_of(sqlite3_file* f) { return as_file(f)->real; }

// Writes out what was gathered, in writes of at most kMaxWrite bytes. On failure it is dropped
// all the same: SQLite rolls back the transaction those frames belong to and writes them again,
// if at all, as new writes.
int flush(File* f) {
  if (f->gathered == nullptr || f->gathered->empty()) return SQLITE_OK;
  int rc = SQLITE_OK;
  const std::string& g = *f->gathered;
  for (std::size_t at = 0; at < g.size() && rc == SQLITE_OK; at += kMaxWrite) {
    const std::size_t n = std::min(kMaxWrite, g.size() - at);
    rc = f->real->pMethods->xWrite(f->real, g.data() + at, static_cast<int>(n),
                                   f->start + static_cast<sqlite3_int64>(at));
  }
  f->gathered->clear();
  f->commit_pending = false;
  return rc;
}

// A frame header's second field, big-endian: the database size in pages for the frame that
// commits a transaction, 0 for every other frame.
bool commits(const void* header) {
  const auto* b = static_cast<const unsigned char*>(header);
  return (b[4] | b[5] | b[6] | b[7]) != 0;
}

int x_close(sqlite3_file* file) {
  File* f = as_file(file);
  int rc = flush(f);
  const int closed = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  delete f->gathered;
  f->gathered = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (int rc = flush(as_file(file)); rc != SQLITE_OK) return rc;
  return real_of(file)->pMethods->xRead(real_of(file), out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* f = as_file(file);
  if (f->gathered == nullptr || amount <= 0) {
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  std::string& g = *f->gathered;
  if (!g.empty() && offset != f->start + static_cast<sqlite3_int64>(g.size())) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (g.empty()) f->start = offset;
  try {
    g.append(static_cast<const char*>(data), static_cast<std::size_t>(amount));
  } catch (const std::bad_alloc&) {
    // No exception may cross into SQLite: write out what was gathered, then this write as is.
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  if (amount == kFrameHeaderBytes) {
    f->commit_pending = commits(data);
  } else if (f->commit_pending || g.size() >= kMaxGathered) {
    return flush(f);  // the commit frame is complete (or enough is gathered)
  }
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (int rc = flush(as_file(file)); rc != SQLITE_OK) return rc;
  return real_of(file)->pMethods->xTruncate(real_of(file), size);
}

int x_sync(sqlite3_file* file, int flags) {
  if (int rc = flush(as_file(file)); rc != SQLITE_OK) return rc;
  return real_of(file)->pMethods->xSync(real_of(file), flags);
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  if (int rc = flush(as_file(file)); rc != SQLITE_OK) return rc;
  return real_of(file)->pMethods->xFileSize(real_of(file), size);
}

int x_lock(sqlite3_file* file, int level) {
  return real_of(file)->pMethods->xLock(real_of(file), level);
}

int x_unlock(sqlite3_file* file, int level) {
  return real_of(file)->pMethods->xUnlock(real_of(file), level);
}

int x_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_of(file)->pMethods->xCheckReservedLock(real_of(file), out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  if (int rc = flush(as_file(file)); rc != SQLITE_OK) return rc;
  if (op == SQLITE_FCNTL_VFSNAME) {
    // Report ours over the base VFS's, as SQLite's own shims do.
    int rc = real_of(file)->pMethods->xFileControl(real_of(file), op, arg);
    if (rc == SQLITE_OK) {
      char** name = static_cast<char**>(arg);
      char* ours = sqlite3_mprintf("%s/%z", kName, *name);
      if (ours == nullptr) return SQLITE_NOMEM;
      *name = ours;
    }
    return rc;
  }
  return real_of(file)->pMethods->xFileControl(real_of(file), op, arg);
}

int x_sector_size(sqlite3_file* file) {
  return real_of(file)->pMethods->xSectorSize(real_of(file));
}

int x_device_characteristics(sqlite3_file* file) {
  return real_of(file)->pMethods->xDeviceCharacteristics(real_of(file));
}

int x_shm_map(sqlite3_file* file, int page, int size, int extend, void volatile** out) {
  return real_of(file)->pMethods->xShmMap(real_of(file), page, size, extend, out);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  return real_of(file)->pMethods->xShmLock(real_of(file), offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) { real_of(file)->pMethods->xShmBarrier(real_of(file)); }

int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  return real_of(file)->pMethods->xShmUnmap(real_of(file), delete_flag);
}

int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return real_of(file)->pMethods->xFetch(real_of(file), offset, amount, out);
}

int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return real_of(file)->pMethods->xUnfetch(real_of(file), offset, page);
}

// The base file's methods decide which calls exist (iVersion); ours forward to them. One set per
// version, since SQLite reads iVersion to know which of the later methods it may call.
sqlite3_io_methods make_methods(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = x_close;
  m.xRead = x_read;
  m.xWrite = x_write;
  m.xTruncate = x_truncate;
  m.xSync = x_sync;
  m.xFileSize = x_file_size;
  m.xLock = x_lock;
  m.xUnlock = x_unlock;
  m.xCheckReservedLock = x_check_reserved_lock;
  m.xFileControl = x_file_control;
  m.xSectorSize = x_sector_size;
  m.xDeviceCharacteristics = x_device_characteristics;
  if (version >= 2) {
    m.xShmMap = x_shm_map;
    m.xShmLock = x_shm_lock;
    m.xShmBarrier = x_shm_barrier;
    m.xShmUnmap = x_shm_unmap;
  }
  if (version >= 3) {
    m.xFetch = x_fetch;
    m.xUnfetch = x_unfetch;
  }
  return m;
}

const sqlite3_io_methods kMethods[] = {make_methods(1), make_methods(2), make_methods(3)};

// Ours for a base file's methods: the same version.
const sqlite3_io_methods* methods_like(const sqlite3_io_methods* real) {
  return &kMethods[std::clamp(real->iVersion, 1, 3) - 1];
}

int x_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = as_file(file);
  std::memset(f, 0, sizeof(File));
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  const int rc = g_base->xOpen(g_base, name, f->real, flags, out_flags);
  // SQLite closes a file whose pMethods is set even when xOpen failed: ours is set as the base
  // file's is.
  if (f->real->pMethods != nullptr) f->base.pMethods = methods_like(f->real->pMethods);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) return rc;
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    f->gathered = new (std::nothrow) std::string();
    if (f->gathered == nullptr) {
      f->real->pMethods->xClose(f->real);
      f->base.pMethods = nullptr;
      return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

// The rest is the base VFS's.
int x_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return g_base->xDelete(g_base, name, sync_dir);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return g_base->xAccess(g_base, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return g_base->xFullPathname(g_base, name, size, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) { return g_base->xDlOpen(g_base, name); }
void x_dl_error(sqlite3_vfs*, int size, char* out) { g_base->xDlError(g_base, size, out); }
void (*x_dl_sym(sqlite3_vfs*, void* lib, const char* sym))(void) {
  return g_base->xDlSym(g_base, lib, sym);
}
void x_dl_close(sqlite3_vfs*, void* lib) { g_base->xDlClose(g_base, lib); }
int x_randomness(sqlite3_vfs*, int size, char* out) {
  return g_base->xRandomness(g_base, size, out);
}
int x_sleep(sqlite3_vfs*, int micros) { return g_base->xSleep(g_base, micros); }
int x_current_time(sqlite3_vfs*, double* out) { return g_base->xCurrentTime(g_base, out); }
int x_get_last_error(sqlite3_vfs*, int size, char* out) {
  return g_base->xGetLastError(g_base, size, out);
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return g_base->xCurrentTimeInt64(g_base, out);
}

sqlite3_vfs g_vfs{};

}  // namespace

const char* coalescing_wal_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_base = sqlite3_vfs_find(nullptr);
    g_vfs.iVersion = 2;
    g_vfs.szOsFile = static_cast<int>(sizeof(File)) + g_base->szOsFile;
    g_vfs.mxPathname = g_base->mxPathname;
    g_vfs.zName = kName;
    g_vfs.xOpen = x_open;
    g_vfs.xDelete = x_delete;
    g_vfs.xAccess = x_access;
    g_vfs.xFullPathname = x_full_pathname;
    g_vfs.xDlOpen = x_dl_open;
    g_vfs.xDlError = x_dl_error;
    g_vfs.xDlSym = x_dl_sym;
    g_vfs.xDlClose = x_dl_close;
    g_vfs.xRandomness = x_randomness;
    g_vfs.xSleep = x_sleep;
    g_vfs.xCurrentTime = x_current_time;
    g_vfs.xGetLastError = x_get_last_error;
    g_vfs.xCurrentTimeInt64 = x_current_time_int64;
    sqlite3_vfs_register(&g_vfs, 0);
  });
  return kName;
}

}  // namespace flowgate::store_internal
