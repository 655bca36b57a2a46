// A VFS over SQLite's default one that hands each transaction's WAL frames to the kernel in one
// run of large writes. SQLite writes every frame of the log as two writes (its 24-byte header, then
// the page), so a group commit that changes 75 pages costs 150 system calls; through this VFS, a
// few writes of up to 64 KiB (figures: docs/engine.md, "Figures", session 8).
//
// What it changes is only when the bytes reach the kernel, never which bytes or where:
//   - writes to a WAL file that continue the one before are gathered in memory; any other write
//     first writes out what was gathered, so the file sees the same writes in the same order;
//   - what was gathered is written out when the frame that commits a transaction is complete
//     (its header's "database size" field is non-zero, docs/store.md), before that write call
//     returns: so before SQLite publishes the commit to other connections and before the engine
//     answers anyone; a process killed at any moment loses only frames of a transaction that
//     never committed, which SQLite ignores;
//   - and before any read, sync, truncation, size query, file control or close of the file, so
//     SQLite (or a checkpoint on this connection) never reads back a stale log;
//   - a failed write of what was gathered is reported by the call that triggered it (SQLITE_FULL
//     on a full disk), and SQLite rolls the transaction back.
// The database file, its journal and temporary files pass through untouched.
// Thread-safety: SQLite serializes calls on one file; the registration is thread-safe.
#pragma once

namespace flowgate::store_internal {

// The name to open a connection with (registered on the first call, not as the default VFS).
const char* coalescing_wal_vfs();

}  // namespace flowgate::store_internal
